"""The queue of pending classification suggestions, and accepting / rejecting one."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from apps.catalog import permissions, selectors, services
from apps.catalog.views.common import PAGE_SIZE, get_or_404
from apps.core.errors import ApplicationError
from apps.core.redirects import redirect_back

DECISIONS = {"accept": services.suggestion_accept, "reject": services.suggestion_reject}


def _queue_page(request: HttpRequest, *, status: int = 200) -> HttpResponse:
    page = Paginator(selectors.suggestion_list(actor=request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    suggestions = list(page.object_list)
    # Datasets on one page are few; decide editability once per dataset, not per row.
    editable: dict[int, bool] = {}
    for suggestion in suggestions:
        dataset = suggestion.column.dataset
        if dataset.pk not in editable:
            editable[dataset.pk] = permissions.can_change_dataset(request.user, dataset)
        suggestion.can_decide = editable[dataset.pk]  # type: ignore[attr-defined]
    return render(
        request,
        "catalog/suggestion_list.html",
        {"page": page, "suggestions": suggestions},
        status=status,
    )


@login_required
@require_GET
def suggestion_queue_view(request: HttpRequest) -> HttpResponse:
    return _queue_page(request)


@login_required
@require_POST
def suggestion_decide_view(request: HttpRequest, pk: int, decision: str) -> HttpResponse:
    decide = DECISIONS.get(decision)
    if decide is None:
        raise Http404("No such decision.")
    suggestion = get_or_404(selectors.suggestion_get, actor=request.user, pk=pk)
    label = f"{suggestion.category.name} for {suggestion.column.name}"
    try:
        decide(actor=request.user, suggestion=suggestion, note=request.POST.get("note", ""))
    except ApplicationError as err:
        messages.error(request, err.message)
        return _queue_page(request, status=err.status if err.status < 500 else 400)
    verb = "Accepted" if decision == "accept" else "Rejected"
    messages.success(request, f"{verb} {label}.")
    return redirect_back(request, "catalog:suggestion-list")
