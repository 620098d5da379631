"""Column classification: one column, or many at once."""

from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.audit.services import audit_record, diff
from apps.catalog import permissions
from apps.catalog.models import Column, Dataset
from apps.catalog.services.common import column_snapshot, dataset_refresh_effective_sensitivity
from apps.catalog.services.datasets import UNSET, resolve_categories, resolve_sensitivity
from apps.core.errors import NotFound, PermissionDenied, ValidationFailed

BULK_LIMIT = 1000


def apply_column_classification(
    *,
    actor: Any,
    column: Column,
    sensitivity: Any,
    categories: Any,
    add_categories: Any,
    description: Any,
) -> bool:
    before = column_snapshot(column)
    if sensitivity is not UNSET:
        column.sensitivity = sensitivity
    if description is not UNSET:
        column.description = description or ""
    column.classified_by = actor
    column.classified_at = timezone.now()
    column.save()
    if categories is not UNSET:
        column.categories.set(categories)
    elif add_categories:
        column.categories.add(*add_categories)
    changes = diff(before, column_snapshot(column))
    if changes:
        audit_record(
            actor=actor,
            action="catalog.column.classify",
            target=column,
            changes=changes,
            scope=column.dataset,
        )
    return bool(changes)


@transaction.atomic
def column_classify(
    *,
    actor: Any,
    column: Column,
    sensitivity: Any = UNSET,
    categories: Any = UNSET,
    description: Any = UNSET,
) -> Column:
    """Set a column's sensitivity (key or None) and/or categories (keys, replacing the set).

    Marks the column as classified by a person, so scanners never overwrite the decision.
    """
    dataset = Dataset.objects.select_for_update().get(pk=column.dataset_id)
    if not permissions.can_change_dataset(actor, dataset):
        raise PermissionDenied("You may view this dataset but not classify its columns.")
    level = resolve_sensitivity(sensitivity) if sensitivity is not UNSET else UNSET
    cats = resolve_categories(categories) if categories is not UNSET else UNSET
    locked = Column.objects.select_for_update().get(pk=column.pk)
    locked.dataset = dataset
    apply_column_classification(
        actor=actor,
        column=locked,
        sensitivity=level,
        categories=cats,
        add_categories=None,
        description=description,
    )
    if dataset_refresh_effective_sensitivity(dataset=dataset, actor=actor, record=True):
        dataset.refresh_from_db()
    return locked


@transaction.atomic
def columns_bulk_classify(
    *,
    actor: Any,
    column_ids: list[int],
    sensitivity: Any = UNSET,
    add_categories: list[str] | None = None,
) -> int:
    """Classify many columns at once: all or nothing. Returns how many columns changed.

    Every column must exist, be visible and editable by ``actor``; otherwise nothing changes.
    """
    ids = sorted(set(column_ids))
    if not ids:
        raise ValidationFailed("Select at least one column.", code="no_columns")
    if len(ids) > BULK_LIMIT:
        raise ValidationFailed(f"At most {BULK_LIMIT} columns at a time.", code="too_many_columns")
    if sensitivity is UNSET and not add_categories:
        raise ValidationFailed(
            "Choose a sensitivity or categories to apply.", code="nothing_to_apply"
        )
    level = resolve_sensitivity(sensitivity) if sensitivity is not UNSET else UNSET
    cats = resolve_categories(add_categories or [])
    columns = list(
        Column.objects.select_for_update().filter(pk__in=ids).prefetch_related("categories")
    )
    if len(columns) != len(ids):
        raise NotFound("One or more of the selected columns do not exist.")
    dataset_ids = sorted({c.dataset_id for c in columns})
    datasets = {d.pk: d for d in Dataset.objects.select_for_update().filter(pk__in=dataset_ids)}
    for dataset in datasets.values():
        if not permissions.can_view_dataset(actor, dataset):
            raise NotFound("One or more of the selected columns do not exist.")
        if not permissions.can_change_dataset(actor, dataset):
            raise PermissionDenied(f"You may not classify columns of {dataset.fqn}.")
    changed = 0
    for column in columns:
        column.dataset = datasets[column.dataset_id]
        changed += apply_column_classification(
            actor=actor,
            column=column,
            sensitivity=level,
            categories=UNSET,
            add_categories=cats,
            description=UNSET,
        )
    for dataset in datasets.values():
        dataset_refresh_effective_sensitivity(dataset=dataset, actor=actor, record=True)
    return changed
