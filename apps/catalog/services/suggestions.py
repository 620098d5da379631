"""Stewards accept or reject the scanner's classification suggestions."""

from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.audit.services import audit_record
from apps.catalog import permissions
from apps.catalog.models import ClassificationSuggestion, Column, Dataset
from apps.catalog.services.columns import apply_column_classification
from apps.catalog.services.common import dataset_refresh_effective_sensitivity
from apps.catalog.services.datasets import UNSET
from apps.core.errors import Conflict, PermissionDenied

Status = ClassificationSuggestion.Status


def _lock(
    actor: Any, suggestion: ClassificationSuggestion
) -> tuple[ClassificationSuggestion, Dataset]:
    locked = (
        ClassificationSuggestion.objects.select_for_update(of=("self",))
        .select_related("category", "sensitivity")
        .get(pk=suggestion.pk)
    )
    column = Column.objects.select_for_update().get(pk=locked.column_id)
    dataset = Dataset.objects.select_for_update().get(pk=column.dataset_id)
    if not permissions.can_change_dataset(actor, dataset):
        raise PermissionDenied("You may view this dataset but not decide its suggestions.")
    if locked.status != Status.PENDING:
        raise Conflict(f"This suggestion was already {locked.status}.", code="suggestion_decided")
    column.dataset = dataset
    locked.column = column
    return locked, dataset


@transaction.atomic
def suggestion_accept(
    *, actor: Any, suggestion: ClassificationSuggestion, note: str = ""
) -> ClassificationSuggestion:
    """Apply the suggested category (and raise the column's sensitivity if the suggestion's is
    higher; never lower it) as the actor's own classification decision."""
    locked, dataset = _lock(actor, suggestion)
    column = locked.column
    raise_to = locked.sensitivity
    current = column.sensitivity
    new_level = (
        raise_to if raise_to and (current is None or raise_to.rank > current.rank) else UNSET
    )
    apply_column_classification(
        actor=actor,
        column=column,
        sensitivity=new_level,
        categories=UNSET,
        add_categories=[locked.category],
        description=UNSET,
    )
    dataset_refresh_effective_sensitivity(dataset=dataset, actor=actor, record=True)
    locked.status = Status.ACCEPTED
    locked.decided_by = actor
    locked.decided_at = timezone.now()
    locked.note = note[:400]
    locked.save(update_fields=["status", "decided_by", "decided_at", "note"])
    audit_record(
        actor=actor,
        action="catalog.suggestion.accept",
        target=locked,
        scope=dataset,
        changes={
            "status": {"before": Status.PENDING, "after": Status.ACCEPTED},
            "column": str(column),
            "category": locked.category.key,
        },
    )
    return locked


@transaction.atomic
def suggestion_reject(
    *, actor: Any, suggestion: ClassificationSuggestion, note: str = ""
) -> ClassificationSuggestion:
    """Reject: the scanner will not raise the same category again unless the content changes."""
    locked, dataset = _lock(actor, suggestion)
    locked.status = Status.REJECTED
    locked.decided_by = actor
    locked.decided_at = timezone.now()
    locked.note = note[:400]
    locked.save(update_fields=["status", "decided_by", "decided_at", "note"])
    audit_record(
        actor=actor,
        action="catalog.suggestion.reject",
        target=locked,
        scope=dataset,
        changes={
            "status": {"before": Status.PENDING, "after": Status.REJECTED},
            "column": str(locked.column),
            "category": locked.category.key,
        },
    )
    return locked
