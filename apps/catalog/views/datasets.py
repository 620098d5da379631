"""Catalog browser, dataset page, dataset edit and column classification."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.catalog import permissions, selectors, services
from apps.catalog.forms import (
    ColumnClassifyForm,
    ColumnsBulkClassifyForm,
    DatasetEditForm,
    DatasetFilterForm,
)
from apps.catalog.models import Column, Dataset
from apps.catalog.services.usage import row_filter_named
from apps.catalog.views.common import PAGE_SIZE, get_or_404, taxonomy_for
from apps.catalog.views.lineage_svg import lineage_layout
from apps.classification import selectors as taxonomy
from apps.core.errors import ApplicationError


def _column_counts(dataset_ids: list[int]) -> dict[int, int]:
    """Live column counts for one page of datasets the selector already narrowed: one query."""
    rows = (
        Column.objects.filter(dataset_id__in=dataset_ids, removed_at__isnull=True)
        .values("dataset_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["dataset_id"]: row["n"] for row in rows}


@login_required
@require_GET
def dataset_list_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    tax = taxonomy_for(user)
    form = DatasetFilterForm(
        request.GET or None,
        sources=selectors.source_visible(actor=user).values_list("name", flat=True),
        levels=tax["levels"],
        categories=tax["categories"],
        tags=taxonomy.tag_list(actor=user),
    )
    data = form.cleaned_data if form.is_valid() else {}
    filters = selectors.DatasetFilters(
        q=(data.get("q") or "").strip(),
        source=data.get("source") or "",
        sensitivity=data.get("sensitivity") or "",
        category=data.get("category") or "",
        owner=(data.get("owner") or "").strip(),
        tag=data.get("tag") or "",
        unclassified=bool(data.get("unclassified")),
    )
    page = Paginator(selectors.dataset_list(actor=user, filters=filters), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    datasets = list(page.object_list)
    counts = _column_counts([d.pk for d in datasets])
    for dataset in datasets:
        dataset.column_count = counts.get(dataset.pk, 0)  # type: ignore[attr-defined]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "catalog/dataset_list.html",
        {
            "form": form,
            "page": page,
            "datasets": datasets,
            "query": query.urlencode(),
            "filtered": any(v for k, v in request.GET.items() if k != "page"),
        },
    )


def _dataset_page(
    request: HttpRequest,
    dataset: Dataset,
    *,
    status: int = 200,
    bulk_form: ColumnsBulkClassifyForm | None = None,
) -> HttpResponse:
    user = request.user
    tax = taxonomy_for(user)
    can_change = permissions.can_change_dataset(user, dataset)
    columns = list(selectors.column_list(dataset=dataset))
    rows = []
    for column in columns:
        form = None
        if can_change:
            form = ColumnClassifyForm(
                prefix=f"col{column.pk}",
                initial={
                    "sensitivity": column.sensitivity.key if column.sensitivity else "",
                    "categories": [c.key for c in column.categories.all()],
                },
                **tax,
            )
        rows.append({"column": column, "form": form, "pending": column.pending})  # type: ignore[attr-defined]
    if bulk_form is None and can_change:
        bulk_form = ColumnsBulkClassifyForm(column_ids=[c.pk for c in columns], **tax)
    neighbours = selectors.lineage_neighbours(actor=user, dataset=dataset)
    history = selectors.dataset_history(actor=user, dataset=dataset)
    return render(
        request,
        "catalog/dataset_detail.html",
        {
            "dataset": dataset,
            "rows": rows,
            "can_change": can_change,
            "bulk_form": bulk_form,
            "lineage": lineage_layout(
                dataset=dataset,
                upstream=neighbours["upstream"],
                downstream=neighbours["downstream"],
            ),
            "history": history,
            "pending_total": sum(len(r["pending"]) for r in rows),
            "row_filter": row_filter_named(dataset),
        },
        status=status,
    )


@login_required
@require_GET
def dataset_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    dataset = get_or_404(selectors.dataset_get, actor=request.user, pk=pk)
    return _dataset_page(request, dataset)


@login_required
@require_http_methods(["GET", "POST"])
def dataset_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    dataset = get_or_404(selectors.dataset_get, actor=user, pk=pk)
    if not permissions.can_change_dataset(user, dataset):
        messages.error(request, "You may view this dataset but not change it.")
        return _dataset_page(request, dataset, status=403)
    choices = {
        **taxonomy_for(user),
        "tags": list(taxonomy.tag_list(actor=user)),
        "columns": list(
            dataset.columns.filter(removed_at__isnull=True)
            .order_by("ordinal", "name")
            .values_list("name", flat=True)
        ),
    }
    status = 200
    if request.method == "POST":
        form = DatasetEditForm(request.POST, **choices)
        if form.is_valid():
            try:
                services.dataset_update(actor=user, dataset=dataset, **form.cleaned_data)
            except ApplicationError as err:
                form.add_service_error(err)
                status = 403 if err.status == 403 else 400
            else:
                messages.success(request, f"Saved {dataset.fqn}.")
                return redirect("catalog:dataset-detail", pk=dataset.pk)
        else:
            status = 400
    else:
        form = DatasetEditForm(initial=DatasetEditForm.initial_for(dataset), **choices)
    return render(
        request, "catalog/dataset_edit.html", {"dataset": dataset, "form": form}, status=status
    )


def _refused(request: HttpRequest, dataset: Dataset, err: ApplicationError) -> HttpResponse:
    """Show a service's refusal on the dataset page with its 4xx status."""
    messages.error(request, err.message)
    return _dataset_page(request, dataset, status=err.status if err.status < 500 else 400)


@login_required
@require_POST
def column_classify_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    column = get_or_404(selectors.column_get, actor=user, pk=pk)
    dataset = get_or_404(selectors.dataset_get, actor=user, pk=column.dataset_id)
    form = ColumnClassifyForm(request.POST, prefix=f"col{column.pk}", **taxonomy_for(user))
    if not form.is_valid():
        messages.error(request, f"Could not classify {column.name}: choose from the lists.")
        return _dataset_page(request, dataset, status=400)
    try:
        services.column_classify(
            actor=user,
            column=column,
            sensitivity=form.cleaned_data["sensitivity"] or None,
            categories=form.cleaned_data["categories"],
        )
    except ApplicationError as err:
        return _refused(request, dataset, err)
    messages.success(request, f"Classified {column.name}.")
    return redirect(reverse("catalog:dataset-detail", args=[dataset.pk]) + f"#col-{column.pk}")


@login_required
@require_POST
def columns_bulk_classify_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    dataset = get_or_404(selectors.dataset_get, actor=user, pk=pk)
    column_ids = list(selectors.column_list(dataset=dataset).values_list("pk", flat=True))
    form = ColumnsBulkClassifyForm(request.POST, column_ids=column_ids, **taxonomy_for(user))
    if not form.is_valid():
        messages.error(request, "Could not classify: choose columns and values from the lists.")
        return _dataset_page(request, dataset, status=400, bulk_form=form)
    sensitivity = form.cleaned_data["sensitivity"]
    try:
        changed = services.columns_bulk_classify(
            actor=user,
            column_ids=form.cleaned_data["column_ids"],
            sensitivity=sensitivity if sensitivity else services.UNSET,
            add_categories=form.cleaned_data["add_categories"],
        )
    except ApplicationError as err:
        messages.error(request, err.message)
        return _dataset_page(
            request, dataset, status=err.status if err.status < 500 else 400, bulk_form=form
        )
    selected = len(form.cleaned_data["column_ids"])
    messages.success(request, f"Classified {selected} column(s); {changed} changed.")
    return redirect("catalog:dataset-detail", pk=dataset.pk)
