"""Helpers the catalog services share: snapshots for the audit diff, effective sensitivity."""

from typing import Any

from django.db.models import Max

from apps.audit.services import audit_record
from apps.catalog.models import Column, Dataset
from apps.catalog.services.usage import row_filter_named
from apps.classification.models import SensitivityLevel


def _name(obj: Any) -> str | None:
    if obj is None:
        return None
    return (
        getattr(obj, "key", None)
        or getattr(obj, "username", None)
        or getattr(obj, "name", None)
        or str(obj)
    )


def dataset_snapshot(dataset: Dataset) -> dict[str, Any]:
    """The audited fields of a dataset (metadata only: no data values, no secrets)."""
    return {
        "description": dataset.description,
        "provenance": dataset.provenance,
        "kind": dataset.kind,
        "owner": _name(dataset.owner),
        "owner_group": _name(dataset.owner_group),
        "steward": _name(dataset.steward),
        "steward_group": _name(dataset.steward_group),
        "sensitivity": _name(dataset.sensitivity),
        "effective_sensitivity": _name(dataset.effective_sensitivity),
        "categories": sorted(c.key for c in dataset.categories.all()) if dataset.pk else [],
        "tags": sorted(t.key for t in dataset.tags.all()) if dataset.pk else [],
        "purposes": list(dataset.purposes),
        "row_filter": row_filter_named(dataset),
        "removed": dataset.removed_at is not None,
    }


def column_snapshot(column: Column) -> dict[str, Any]:
    return {
        "name": column.name,
        "data_type": column.data_type,
        "is_nullable": column.is_nullable,
        "description": column.description,
        "sensitivity": _name(column.sensitivity),
        "categories": sorted(c.key for c in column.categories.all()) if column.pk else [],
        "removed": column.removed_at is not None,
    }


def dataset_refresh_effective_sensitivity(
    *, dataset: Dataset, actor: Any = None, record: bool = False
) -> bool:
    """Set ``effective_sensitivity`` = max(declared, most sensitive live column). True if it changed.

    Callers hold the dataset row (inside their transaction). With ``record``, a change is
    recorded in the dataset's own history (a column's classification moved it); callers whose
    own entry already carries it (``dataset_update``) leave ``record`` off.
    """
    top_rank = Column.objects.filter(dataset=dataset, removed_at__isnull=True).aggregate(
        top=Max("sensitivity__rank")
    )["top"]
    candidates = [lvl for lvl in (dataset.sensitivity,) if lvl is not None]
    if top_rank is not None:
        candidates.append(SensitivityLevel.objects.get(rank=top_rank))
    effective = max(candidates, key=lambda lvl: lvl.rank) if candidates else None
    if effective != dataset.effective_sensitivity:
        before = _name(dataset.effective_sensitivity)
        dataset.effective_sensitivity = effective
        Dataset.objects.filter(pk=dataset.pk).update(effective_sensitivity=effective)
        if record:
            audit_record(
                actor=actor,
                action="catalog.dataset.effective_sensitivity",
                target=dataset,
                changes={"effective_sensitivity": {"before": before, "after": _name(effective)}},
            )
        return True
    return False
