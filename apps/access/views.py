"""Access in the web UI: ask for access, the approver's inbox, grants, roles and bindings."""

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import Group
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from apps.access import permissions, selectors, services
from apps.access.models import AccessLevel, AccessRequest, Approval, Role, RoleBinding
from apps.catalog.models import Dataset, DataSource
from apps.core.errors import ApplicationError, or_404
from apps.core.forms import comma_separated
from apps.core.redirects import redirect_back
from apps.decisions.models import ServiceCredential

DURATIONS = [
    (3600, "1 hour"),
    (4 * 3600, "4 hours"),
    (86400, "1 day"),
    (7 * 86400, "7 days"),
    (30 * 86400, "30 days"),
    (90 * 86400, "90 days"),
]


def _rows_field(help_text: str) -> forms.CharField:
    """Row filter values, comma-separated (see ``services._checked_rows``)."""
    return forms.CharField(
        max_length=4000,
        required=False,
        label="Rows (optional, comma-separated)",
        help_text=help_text,
    )


class RequestForm(forms.Form):
    dataset = forms.CharField(max_length=800, label="Dataset (source.schema.table)")
    access = forms.ChoiceField(choices=AccessLevel.choices)
    duration_seconds = forms.TypedChoiceField(
        choices=DURATIONS, coerce=int, initial=86400, label="For"
    )
    columns = forms.CharField(
        max_length=4000,
        required=False,
        label="Columns to see in clear (optional, comma-separated)",
        help_text="Sensitive columns stay masked unless you name them here.",
    )
    rows = _rows_field(
        "On a dataset that filters rows: the values of its filter column whose rows you need "
        "(one customer's, say), beyond those you already see."
    )
    purpose = forms.CharField(
        max_length=services.PURPOSE_MAX, widget=forms.Textarea(attrs={"rows": 2})
    )

    def column_list(self) -> list[str]:
        return comma_separated(self.cleaned_data.get("columns", ""))

    def row_list(self) -> list[str]:
        return comma_separated(self.cleaned_data.get("rows", ""))


class BreakGlassForm(forms.Form):
    dataset = forms.CharField(max_length=800, label="Dataset for emergency access")
    access = forms.ChoiceField(choices=AccessLevel.choices, label="Emergency access")
    duration_seconds = forms.TypedChoiceField(
        choices=[(900, "15 minutes"), (3600, "1 hour"), (4 * 3600, "4 hours")],
        coerce=int,
        initial=3600,
        label="Emergency access for",
    )
    justification = forms.CharField(
        max_length=2000, widget=forms.Textarea(attrs={"rows": 2}), label="Justification"
    )
    rows = _rows_field(
        "On a dataset that filters rows: the filter column's values whose rows you need; "
        "emergency access is filtered like any grant."
    )

    def row_list(self) -> list[str]:
        return comma_separated(self.cleaned_data.get("rows", ""))


def _apply_error(form: forms.Form, exc: ApplicationError) -> None:
    field = {
        "unknown_column": "columns",
        "no_row_filter": "rows",
        "invalid_rows": "rows",
        "duration_too_long": "duration_seconds",
        "justification_required": "justification",
        "purpose_required": "purpose",
        "purpose_too_long": "purpose",
        "unknown_dataset": "dataset",
    }.get(exc.code)
    form.add_error(field, exc.message)


@login_required
@require_http_methods(["GET", "POST"])
def my_access(request: HttpRequest) -> HttpResponse:
    """Your grants and requests, and the form to ask for more."""
    initial = {"dataset": request.GET.get("dataset", "")}
    form = RequestForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            dataset = (
                Dataset.objects.filter(
                    fqn=form.cleaned_data["dataset"].strip(), removed_at__isnull=True
                )
                .select_related("effective_sensitivity")
                .first()
            )
            if dataset is None:
                form.add_error("dataset", "No such dataset in the catalog.")
                status = 404
            else:
                try:
                    req = services.access_request_create(
                        actor=request.user,
                        dataset=dataset,
                        access=form.cleaned_data["access"],
                        purpose=form.cleaned_data["purpose"],
                        duration_seconds=form.cleaned_data["duration_seconds"],
                        columns=form.column_list(),
                        rows=form.row_list(),
                    )
                except ApplicationError as exc:
                    _apply_error(form, exc)
                    status = exc.status
                else:
                    if req.status == AccessRequest.Status.APPROVED:
                        messages.success(
                            request,
                            f"Approved by policy ({', '.join(req.policy_reasons)}): "
                            f"you have {req.access} access to {dataset.fqn} now.",
                        )
                    else:
                        messages.success(
                            request,
                            f"Requested: {req.approvals_required} approval"
                            f"{'s' if req.approvals_required != 1 else ''} needed.",
                        )
                    return redirect("access:mine")
        else:
            status = 400
    me = Q(user_id=request.user.pk)
    grants = selectors.grant_list(actor=request.user).filter(me)
    managed = selectors.grant_list(actor=request.user).exclude(me).order_by("expires_at")
    return render(
        request,
        "access/mine.html",
        {
            "form": form,
            "grants": grants,
            "managed": managed[:200],
            "requests": selectors.request_mine(actor=request.user)[:50],
            "inbox_count": selectors.request_inbox(actor=request.user).count()
            + selectors.break_glass_open_reviews(actor=request.user).count(),
            "break_glass_form": BreakGlassForm(prefix="bg")
            if services.holds_anywhere(request.user, permissions.ACCESS_BREAK_GLASS)
            else None,
        },
        status=status,
    )


@login_required
@require_POST
def break_glass(request: HttpRequest) -> HttpResponse:
    """Open break-glass access (the page shows the form only to holders of the role)."""
    form = BreakGlassForm(request.POST, prefix="bg")
    if form.is_valid():
        dataset = Dataset.objects.filter(
            fqn=form.cleaned_data["dataset"].strip(), removed_at__isnull=True
        ).first()
        if dataset is None:
            messages.error(request, "No such dataset in the catalog.")
            return redirect("access:mine")
        try:
            grant = services.break_glass_open(
                actor=request.user,
                dataset=dataset,
                justification=form.cleaned_data["justification"],
                access=form.cleaned_data["access"],
                duration_seconds=form.cleaned_data["duration_seconds"],
                rows=form.row_list(),
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.warning(
                request,
                f"Break-glass access to {dataset.fqn} is open until "
                f"{grant.expires_at:%H:%M} UTC. Its owners have been alerted.",
            )
    else:
        messages.error(
            request,
            "; ".join(f"{f}: {' '.join(map(str, e))}" for f, e in form.errors.items()),
        )
    return redirect("access:mine")


@login_required
@require_POST
def break_glass_review(request: HttpRequest, pk: int) -> HttpResponse:
    review = or_404(lambda: selectors.break_glass_review_get(actor=request.user, pk=pk))
    try:
        services.break_glass_review(
            actor=request.user,
            review=review,
            outcome=request.POST.get("outcome", ""),
            note=request.POST.get("note", ""),
        )
        messages.success(request, "Break-glass use reviewed.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("access:inbox")


@login_required
@require_POST
def request_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    req = or_404(lambda: selectors.request_get(actor=request.user, pk=pk))
    try:
        services.access_request_cancel(actor=request.user, request=req)
        messages.success(request, "Request cancelled.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("access:mine")


@login_required
@require_POST
def grant_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    grant = or_404(lambda: selectors.grant_get(actor=request.user, pk=pk))
    try:
        services.grant_revoke(
            actor=request.user, grant=grant, reason=request.POST.get("reason", "")
        )
        messages.success(
            request, f"Revoked {grant.user.get_username()}'s access to {grant.dataset.fqn}."
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect_back(request, "access:mine")


@login_required
@require_http_methods(["GET", "POST"])
def inbox(request: HttpRequest) -> HttpResponse:
    """Pending requests you may decide on: approve or deny, with a note."""
    status = 200
    if request.method == "POST":
        pk = request.POST.get("request", "")
        verdict = request.POST.get("verdict", "")
        req = or_404(
            lambda: selectors.request_get(actor=request.user, pk=int(pk)) if pk.isdigit() else None
        )
        if req is None:
            raise Http404("No such request.")
        try:
            req = services.access_request_decide(
                actor=request.user, request=req, verdict=verdict, note=request.POST.get("note", "")
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
            status = exc.status
        else:
            if req.status == AccessRequest.Status.PENDING:
                messages.success(request, "Approved; the request waits for another approver.")
            else:
                messages.success(request, f"Request {req.status}.")
            return redirect("access:inbox")
    pending = selectors.request_inbox(actor=request.user).prefetch_related("approvals__approver")
    return render(
        request,
        "access/inbox.html",
        {
            "pending": pending[:200],
            "verdicts": Approval.Verdict.choices,
            "break_glass": selectors.break_glass_open_reviews(actor=request.user)[:200],
        },
        status=status,
    )


class BindingForm(forms.Form):
    role = forms.ModelChoiceField(queryset=Role.objects.all(), to_field_name="key")
    principal_kind = forms.ChoiceField(
        choices=[("user", "user"), ("group", "group"), ("credential", "service credential")],
        label="To a",
    )
    principal = forms.CharField(max_length=150, label="Name")
    scope_kind = forms.ChoiceField(
        choices=[("", "everywhere"), ("source", "one source"), ("dataset", "one dataset")],
        required=False,
        label="Scope",
    )
    scope = forms.CharField(max_length=800, required=False, label="Source name or dataset FQN")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind, name = data.get("principal_kind"), (data.get("principal") or "").strip()
        lookups: dict[str, tuple[Any, dict[str, str]]] = {
            "user": (get_user_model(), {"username": name}),
            "group": (Group, {"name": name}),
            "credential": (ServiceCredential, {"name": name}),
        }
        if kind in lookups:
            model, lookup = lookups[kind]
            data["principal_obj"] = model.objects.filter(**lookup).first()
            if data["principal_obj"] is None:
                self.add_error("principal", f"No {kind} named {name!r}.")
        scope_kind, scope = data.get("scope_kind"), (data.get("scope") or "").strip()
        data["source_obj"] = data["dataset_obj"] = None
        if scope_kind == "source":
            data["source_obj"] = DataSource.objects.filter(name=scope).first()
            if data["source_obj"] is None:
                self.add_error("scope", f"No source named {scope!r}.")
        elif scope_kind == "dataset":
            data["dataset_obj"] = Dataset.objects.filter(fqn=scope, removed_at__isnull=True).first()
            if data["dataset_obj"] is None:
                self.add_error("scope", f"No dataset {scope!r}.")
        return data


@login_required
@require_http_methods(["GET", "POST"])
def roles(request: HttpRequest) -> HttpResponse:
    """Roles and their bindings, for holders of ``roles.manage`` (404 for everyone else)."""
    if not services.has_permission(request.user, permissions.ROLES_MANAGE):
        raise Http404("No such page.")
    form = BindingForm(request.POST or None) if "delete" not in request.POST else BindingForm()
    status = 200
    if request.method == "POST" and "delete" in request.POST:
        pk = request.POST["delete"]
        binding = RoleBinding.objects.filter(pk=int(pk)).first() if pk.isdigit() else None
        if binding is None:
            raise Http404("No such binding.")
        services.role_binding_delete(actor=request.user, binding=binding)
        messages.success(request, f"Removed {binding.role.key} from {binding.principal_id}.")
        return redirect("access:roles")
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            kind = data["principal_kind"]
            try:
                binding = services.role_binding_create(
                    actor=request.user,
                    role=data["role"],
                    source=data["source_obj"],
                    dataset=data["dataset_obj"],
                    **{kind: data["principal_obj"]},
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
                status = exc.status
            else:
                messages.success(
                    request,
                    f"{binding.principal_id} now has {binding.role.key} {binding.scope_label}.",
                )
                return redirect("access:roles")
        else:
            status = 400
    bindings = RoleBinding.objects.select_related(
        "role", "user", "group", "credential", "source", "dataset"
    ).order_by("role__key", "id")
    return render(
        request,
        "access/roles.html",
        {
            "form": form,
            "roles": Role.objects.all(),
            "bindings": bindings,
            "permission_names": permissions.ALL,
        },
        status=status,
    )
