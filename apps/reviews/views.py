"""Access reviews in the web UI: items to review (bulk certify/revoke), campaigns with their
progress chart and evidence export, starting campaigns and scheduling them."""

from collections.abc import Iterator
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from apps.audit.services import audit_record_alone, format_ts
from apps.catalog.models import DataSource
from apps.classification.models import SensitivityLevel
from apps.core.errors import ApplicationError, or_404
from apps.core.redirects import redirect_back
from apps.core.spreadsheet import csv_lines
from apps.reviews import selectors, services
from apps.reviews.models import Campaign, NonResponse, ReviewItem, ReviewSchedule

PAGE = 100


class ScopeForm(forms.Form):
    name = forms.CharField(max_length=services.NAME_MAX)
    min_sensitivity = forms.ChoiceField(required=False, label="Datasets at or above")
    source = forms.ChoiceField(required=False, label="In source")
    team = forms.CharField(
        required=False, max_length=150, label="Team (group)", help_text="Access its members hold."
    )
    include_grants = forms.BooleanField(required=False, initial=True, label="Grants")
    include_bindings = forms.BooleanField(required=False, initial=True, label="Role bindings")
    non_response = forms.ChoiceField(
        choices=NonResponse.choices, initial=NonResponse.AUTO, label="If nobody answers"
    )
    fallback_reviewer = forms.CharField(
        required=False,
        max_length=150,
        label="Fallback reviewer",
        help_text="Reviews items whose dataset has no owner (default: you).",
    )
    duration_days = forms.IntegerField(
        min_value=1, max_value=services.DURATION_DAYS_MAX, initial=14, label="Days to respond"
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        levels = SensitivityLevel.objects.values_list("key", "name")
        sources = DataSource.objects.values_list("name", flat=True)
        self.fields["min_sensitivity"].choices = [("", "any sensitivity"), *levels]  # type: ignore[attr-defined]
        self.fields["source"].choices = [("", "every source"), *((n, n) for n in sources)]  # type: ignore[attr-defined]

    def scope(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "min_sensitivity": data["min_sensitivity"] or None,
            "source": data["source"] or None,
            "team": data["team"].strip() or None,
            "include_grants": data["include_grants"],
            "include_bindings": data["include_bindings"],
            "non_response": data["non_response"],
            "fallback_reviewer": data["fallback_reviewer"].strip() or None,
            "duration_days": data["duration_days"],
        }


class ScheduleForm(ScopeForm):
    crontab = forms.CharField(
        max_length=100,
        initial="quarterly",
        label="Runs",
        help_text="monthly, quarterly, yearly, or five crontab fields (UTC).",
    )


FIELD_FOR_CODE = {
    "unknown_sensitivity": "min_sensitivity",
    "unknown_source": "source",
    "unknown_team": "team",
    "unknown_user": "fallback_reviewer",
    "invalid_duration": "duration_days",
    "name_required": "name",
    "name_too_long": "name",
    "duplicate_schedule": "name",
    "invalid_crontab": "crontab",
}


def _apply_error(form: forms.Form, exc: ApplicationError) -> None:
    field = FIELD_FOR_CODE.get(exc.code)
    form.add_error(field if field in form.fields else None, exc.message)


@login_required
@require_http_methods(["GET", "POST"])
def home(request: HttpRequest) -> HttpResponse:
    """What waits on you, the campaigns you can see, and (for managers) starting one."""
    manager = selectors.is_manager(request.user)
    form = ScopeForm(request.POST or None) if manager else None
    status = 200
    if request.method == "POST":
        if form is None:
            raise Http404("No such page.")
        if form.is_valid():
            try:
                campaign = services.campaign_start(actor=request.user, **form.scope())
            except ApplicationError as exc:
                _apply_error(form, exc)
                status = exc.status
            else:
                messages.success(
                    request, f"Campaign {campaign.name!r} started; its items are being generated."
                )
                return redirect("reviews:campaign", pk=campaign.pk)
        else:
            status = 400
    todo = selectors.items_to_review(actor=request.user)
    page = Paginator(todo, PAGE).get_page(request.GET.get("page"))
    campaigns = list(selectors.campaign_list(actor=request.user)[:50])
    progress = selectors.progress(campaigns)
    return render(
        request,
        "reviews/home.html",
        {
            "page": page,
            "campaigns": [(c, progress[c.pk]) for c in campaigns],
            "form": form,
            "manager": manager,
        },
        status=status,
    )


@login_required
def campaign(request: HttpRequest, pk: int) -> HttpResponse:
    obj = or_404(lambda: selectors.campaign_get(actor=request.user, pk=pk))
    outcome = request.GET.get("outcome", "")
    if outcome not in selectors.OUTCOMES:
        outcome = ""
    items = selectors.campaign_items(actor=request.user, campaign=obj, outcome=outcome or None)
    page = Paginator(items, PAGE).get_page(request.GET.get("page"))
    reviewer = services.Reviewer(request.user)
    rows = [(item, item.outcome == "pending" and reviewer.may_decide(item)) for item in page]
    counts = selectors.progress([obj])[obj.pk]
    return render(
        request,
        "reviews/campaign.html",
        {
            "campaign": obj,
            "page": page,
            "rows": rows,
            "counts": counts,
            "chart": _chart(counts),
            "outcome": outcome,
            "outcomes": selectors.OUTCOMES,
            "decidable": obj.status == Campaign.Status.OPEN and any(d for _, d in rows),
        },
    )


COLORS = {
    "certified": "#16a34a",
    "revoked": "#dc2626",
    "flagged": "#d97706",
    "pending": "#cbd5e1",
}


def _chart(counts: dict[str, int]) -> list[dict[str, Any]]:
    """Segments of a 100%-wide stacked bar (done first, pending last)."""
    total = counts["total"] or 1
    segments, x = [], 0.0
    for outcome in ("certified", "revoked", "flagged", "pending"):
        width = 100.0 * counts[outcome] / total
        segments.append(
            {
                "outcome": outcome,
                "n": counts[outcome],
                "x": round(x, 3),
                "width": round(width, 3),
                "percent": round(width),
                "color": COLORS[outcome],
            }
        )
        x += width
    return segments


@login_required
@require_POST
def decide(request: HttpRequest) -> HttpResponse:
    """Bulk certify or revoke the selected items (all or none)."""
    ids = request.POST.getlist("item")
    verdict = request.POST.get("verdict", "")
    try:
        items = services.items_decide(
            actor=request.user, item_ids=ids, verdict=verdict, note=request.POST.get("note", "")
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        done = "certified" if verdict == ReviewItem.Verdict.CERTIFY else "revoked"
        messages.success(request, f"{len(items)} item{'s' if len(items) != 1 else ''} {done}.")
    return redirect_back(request, "reviews:home")


EVIDENCE_HEADER = [
    "campaign",
    "item",
    "kind",
    "principal",
    "access",
    "dataset",
    "sensitivity",
    "reviewer",
    "if_no_response",
    "outcome",
    "decided_by",
    "decided_at_utc",
    "note",
]


def _evidence_rows(campaign: Campaign, items: Any) -> Iterator[list[str]]:
    yield EVIDENCE_HEADER
    for item in items.iterator(chunk_size=2000):
        reviewer = item.reviewer.get_username() if item.reviewer else ""
        if item.reviewer_group:
            reviewer = f"group:{item.reviewer_group.name}"
        decided_by = ""
        if item.decided_at:
            decided_by = item.decided_by.get_username() if item.decided_by else "system (due date)"
        yield [
            campaign.name,
            str(item.pk),
            item.kind,
            item.principal,
            item.access_label,
            item.dataset_fqn,
            item.sensitivity,
            reviewer,
            item.on_no_response,
            item.outcome,
            decided_by,
            format_ts(item.decided_at) if item.decided_at else "",
            item.note,
        ]


@login_required
def evidence(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    """Who decided what and when, for auditors (CSV). The export itself is recorded."""
    obj = or_404(lambda: selectors.campaign_get(actor=request.user, pk=pk))
    if not selectors.sees_all(request.user):
        raise Http404("No such review campaign.")
    items = selectors.campaign_items(actor=request.user, campaign=obj)
    audit_record_alone(
        actor=request.user,
        action="reviews.evidence.export",
        target=obj,
        changes={"format": "csv"},
    )
    response = StreamingHttpResponse(csv_lines(_evidence_rows(obj, items)), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="review-{obj.pk}-evidence.csv"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def schedules(request: HttpRequest) -> HttpResponse:
    if not selectors.is_manager(request.user):
        raise Http404("No such page.")
    form = ScheduleForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                schedule = services.review_schedule_create(
                    actor=request.user, crontab=form.cleaned_data["crontab"], **form.scope()
                )
            except ApplicationError as exc:
                _apply_error(form, exc)
                status = exc.status
            else:
                messages.success(request, f"Schedule {schedule.name!r} created.")
                return redirect("reviews:schedules")
        else:
            status = 400
    return render(
        request,
        "reviews/schedules.html",
        {"form": form, "schedules": selectors.schedule_list()},
        status=status,
    )


@login_required
@require_POST
def schedule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    schedule = ReviewSchedule.objects.filter(pk=pk).first()
    if schedule is None or not selectors.is_manager(request.user):
        raise Http404("No such schedule.")
    try:
        services.review_schedule_delete(actor=request.user, schedule=schedule)
        messages.success(request, f"Schedule {schedule.name!r} deleted.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("reviews:schedules")
