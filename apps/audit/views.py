"""The audit viewer. Reading the log needs ``audit.view_auditevent`` (exporting it,
``audit.export_auditevent``); without it the pages do not exist (404), as elsewhere in the UI.
Every read is itself recorded: the filters used, never the entries' contents.
"""

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from apps.audit import exports, signing
from apps.audit.forms import AuditFilterForm
from apps.audit.models import AuditCheckpoint
from apps.audit.proofs import inclusion_proof
from apps.audit.selectors import (
    AuditFilters,
    audit_chain_position,
    audit_event_get,
    audit_event_list,
)
from apps.audit.services import Target, audit_checkpoint_create, audit_record_alone
from apps.audit.verify import entry_columns_match_body
from apps.core.errors import ApplicationError, NotFound
from apps.core.redirects import redirect_back

PAGE_SIZE = 50


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise Http404("No such page.")


def _record_read(request: HttpRequest, action: str, target: Target, **changes: Any) -> None:
    audit_record_alone(actor=request.user, action=action, target=target, changes=changes)


def _filtered(request: HttpRequest) -> tuple[AuditFilterForm, AuditFilters | None]:
    form = AuditFilterForm(request.GET or None)
    if not request.GET:
        return form, AuditFilters()
    return form, (form.filters() if form.is_valid() else None)


@login_required
@require_GET
def event_list(request: HttpRequest) -> HttpResponse:
    _require(request, "audit.view_auditevent")
    form, filters = _filtered(request)
    events: list[Any] = []
    next_before = None
    if filters is not None:
        qs = audit_event_list(filters=filters)
        before = request.GET.get("before", "")
        if before.isdigit():
            qs = qs.filter(pk__lt=int(before))
        events = list(qs[: PAGE_SIZE + 1])
        if len(events) > PAGE_SIZE:
            events = events[:PAGE_SIZE]
            next_before = events[-1].pk
        _record_read(
            request,
            "audit.read",
            Target("audit.log", "query", "audit log query"),
            filters=filters.as_dict(),
            before=before or None,
        )
    query = request.GET.copy()
    query.pop("before", None)
    return render(
        request,
        "audit/event_list.html",
        {
            "form": form,
            "events": events,
            "next_before": next_before,
            "query": query.urlencode(),
            "can_export": request.user.has_perm("audit.export_auditevent"),
        },
    )


@login_required
@require_GET
def event_detail(request: HttpRequest, entry_id: int) -> HttpResponse:
    _require(request, "audit.view_auditevent")
    try:
        event = audit_event_get(entry_id=entry_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    _record_read(
        request, "audit.read", Target("audit.event", str(event.pk), f"audit entry {event.pk}")
    )
    return render(
        request,
        "audit/event_detail.html",
        {
            "event": event,
            "position": audit_chain_position(event=event),
            "changes_json": json.dumps(event.changes, indent=2, sort_keys=True, ensure_ascii=False),
            "columns_match": entry_columns_match_body(event),
            "can_checkpoint": _can_checkpoint(request),
        },
    )


@login_required
@require_GET
def event_proof(request: HttpRequest, entry_id: int) -> HttpResponse:
    _require(request, "audit.view_auditevent")
    try:
        proof = inclusion_proof(entry_id=entry_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except ApplicationError as exc:
        return JsonResponse(
            {"error": {"code": exc.code, "message": exc.message}}, status=exc.status
        )
    _record_read(
        request, "audit.proof", Target("audit.event", str(entry_id), f"audit entry {entry_id}")
    )
    response = JsonResponse(proof, json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="audit-proof-{entry_id}.json"'
    return response


@login_required
@require_GET
def export(request: HttpRequest, fmt: str) -> HttpResponseBase:
    _require(request, "audit.view_auditevent")
    _require(request, "audit.export_auditevent")
    form, filters = _filtered(request)
    if filters is None:
        return render(request, "audit/event_list.html", {"form": form, "events": []}, status=400)
    qs = audit_event_list(filters=filters)
    _record_read(
        request, "audit.export", Target("audit.log", "export", f"audit export ({fmt})"),
        filters=filters.as_dict(), format=fmt,
    )  # fmt: skip
    if fmt == "csv":
        response = StreamingHttpResponse(
            exports.csv_rows(qs), content_type="text/csv; charset=utf-8"
        )
    else:
        response = StreamingHttpResponse(
            exports.jsonl_rows(qs), content_type="application/x-ndjson"
        )
    response["Content-Disposition"] = f'attachment; filename="audit-log.{fmt}"'
    return response


def _can_checkpoint(request: HttpRequest) -> bool:
    return request.user.has_perm("audit.add_auditcheckpoint")


@login_required
@require_http_methods(["GET", "POST"])
def checkpoint_list(request: HttpRequest) -> HttpResponse:
    _require(request, "audit.view_auditevent")
    if request.method == "POST":
        if not _can_checkpoint(request):
            raise Http404("No such page.")
        checkpoint = audit_checkpoint_create(actor=request.user)
        if checkpoint is None:
            messages.info(request, "The audit log is empty: nothing to sign yet.")
        else:
            messages.success(
                request,
                f"Checkpoint {checkpoint.pk} signs the log up to entry seq {checkpoint.last_seq}.",
            )
        return redirect_back(request, "audit:checkpoint-list")
    _record_read(request, "audit.read", Target("audit.checkpoints", "list", "audit checkpoints"))
    return render(
        request,
        "audit/checkpoint_list.html",
        {
            "checkpoints": AuditCheckpoint.objects.order_by("-id")[:100],
            "key_id": signing.current_key_id(),
            "can_checkpoint": _can_checkpoint(request),
        },
    )


@login_required
@require_GET
def public_key(request: HttpRequest) -> HttpResponse:
    _require(request, "audit.view_auditevent")
    response = HttpResponse(signing.public_key_pem(), content_type="application/x-pem-file")
    response["Content-Disposition"] = (
        f'attachment; filename="steward-audit-{signing.current_key_id()}.pem"'
    )
    return response
