"""Data sources: list (with the register form for catalog admins), detail, sync and scan."""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.catalog import permissions, selectors, services
from apps.catalog.forms import SourceCreateForm
from apps.catalog.models import DataSource
from apps.catalog.views.common import get_or_404
from apps.core.errors import ApplicationError


def source_operations() -> dict[str, tuple[str, Callable[..., Any]]]:
    """The operations an admin can queue on a source: schema sync and PII scan."""
    return {
        "sync": ("Schema sync", services.source_sync_request),
        "scan": ("PII scan", services.source_scan_request),
    }


@login_required
@require_http_methods(["GET", "POST"])
def source_list_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    can_manage = permissions.can_manage_sources(user)
    form = SourceCreateForm(request.POST or None) if can_manage else None
    status = 200
    if request.method == "POST":
        if form is None:
            messages.error(request, "Registering data sources needs the catalog admin role.")
            status = 403
        elif form.is_valid():
            try:
                source = services.source_create(actor=user, **form.cleaned_data)
            except ApplicationError as err:
                form.add_service_error(err)
                status = err.status if err.status < 500 else 400
            else:
                messages.success(request, f"Registered source {source.name}.")
                return redirect("catalog:source-detail", pk=source.pk)
        else:
            status = 400
    return render(
        request,
        "catalog/source_list.html",
        {
            "sources": selectors.source_list(actor=user),
            "form": form,
            "can_manage": can_manage,
        },
        status=status,
    )


def _source_page(request: HttpRequest, source: DataSource, *, status: int = 200) -> HttpResponse:
    user = request.user
    can_manage = permissions.can_manage_sources(user)
    return render(
        request,
        "catalog/source_detail.html",
        {
            "source": source,
            "dataset_count": selectors.dataset_list(
                actor=user, filters=selectors.DatasetFilters(source=source.name)
            ).count(),
            "can_manage": can_manage,
            # Sync and scan read live PostgreSQL sources only; other kinds get no buttons.
            "operations": (
                source_operations()
                if can_manage and source.kind == DataSource.Kind.POSTGRES
                else {}
            ),
            "operations_unsupported": can_manage and source.kind != DataSource.Kind.POSTGRES,
        },
        status=status,
    )


@login_required
@require_GET
def source_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    source = get_or_404(selectors.source_get, actor=request.user, pk=pk)
    return _source_page(request, source)


@login_required
@require_POST
def source_operation_view(request: HttpRequest, pk: int, operation: str) -> HttpResponse:
    source = get_or_404(selectors.source_get, actor=request.user, pk=pk)
    found = source_operations().get(operation)
    if found is None:
        raise Http404("No such operation.")
    label, request_fn = found
    try:
        request_fn(actor=request.user, source=source)
    except ApplicationError as err:
        messages.error(request, err.message)
        return _source_page(request, source, status=err.status if err.status < 500 else 400)
    messages.success(request, f"{label} of {source.name} queued; refresh to see the result.")
    return redirect("catalog:source-detail", pk=source.pk)
