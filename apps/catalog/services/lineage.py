"""Lineage edges between datasets (and columns). The dataset graph stays acyclic."""

from typing import Any

from django.db import IntegrityError, transaction

from apps.audit.services import audit_record
from apps.catalog import permissions
from apps.catalog.models import Column, ColumnLineageEdge, Dataset, LineageEdge
from apps.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed

MAX_WALK = 100_000
LINEAGE_LOCK_KEY = 0x5745_4C49_4E45  # arbitrary, constant: "lineage" graph writes


def _reaches(*, start: int, goal: int) -> bool:
    """Is ``goal`` reachable from ``start`` following edges downstream? (BFS, level by level.)"""
    frontier, seen = {start}, {start}
    while frontier:
        if goal in frontier:
            return True
        nxt = set(
            LineageEdge.objects.filter(upstream_id__in=frontier).values_list(
                "downstream_id", flat=True
            )
        )
        frontier = nxt - seen
        seen |= frontier
        if len(seen) > MAX_WALK:
            raise ValidationFailed(
                "Lineage graph too large to check for cycles.", code="lineage_too_large"
            )
    return False


def _lock_lineage_graph() -> None:
    """Serialize edge creation, so two concurrent inserts cannot close a cycle together."""
    conn = transaction.get_connection()
    if conn.vendor == "postgresql":
        with conn.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LINEAGE_LOCK_KEY])
    # SQLite (the embedded default) allows one writer at a time already.


def _check_may_edit(actor: Any, *datasets: Dataset) -> None:
    for dataset in datasets:
        if not permissions.can_view_dataset(actor, dataset):
            raise NotFound("No dataset with that id.")
    if not any(permissions.can_change_dataset(actor, d) for d in datasets):
        raise PermissionDenied("You must be able to edit the upstream or the downstream dataset.")


def lineage_edge_create(
    *, actor: Any, upstream: Dataset, downstream: Dataset, description: str = ""
) -> LineageEdge:
    """Record that data flows from ``upstream`` into ``downstream``. Refuses cycles."""
    _check_may_edit(actor, upstream, downstream)
    if upstream.pk == downstream.pk:
        raise ValidationFailed("A dataset cannot feed itself.", code="lineage_cycle")
    try:
        with transaction.atomic():
            _lock_lineage_graph()
            if _reaches(start=downstream.pk, goal=upstream.pk):
                raise ValidationFailed(
                    f"{downstream.fqn} already feeds {upstream.fqn}; this edge would make a cycle.",
                    code="lineage_cycle",
                )
            edge = LineageEdge.objects.create(
                upstream=upstream, downstream=downstream, description=description, created_by=actor
            )
            change = {"edge": {"before": None, "after": f"{upstream.fqn} -> {downstream.fqn}"}}
            audit_record(
                actor=actor,
                action="catalog.lineage.create",
                target=edge,
                changes=change,
                scope=downstream,
            )
            audit_record(
                actor=actor,
                action="catalog.lineage.create",
                target=edge,
                changes=change,
                scope=upstream,
            )
    except IntegrityError as exc:
        raise Conflict("That lineage edge already exists.", code="duplicate_edge") from exc
    return edge


@transaction.atomic
def lineage_edge_delete(*, actor: Any, edge: LineageEdge) -> None:
    _check_may_edit(actor, edge.upstream, edge.downstream)
    change = {"edge": {"before": str(edge), "after": None}}
    audit_record(
        actor=actor,
        action="catalog.lineage.delete",
        target=edge,
        changes=change,
        scope=edge.downstream,
    )
    audit_record(
        actor=actor,
        action="catalog.lineage.delete",
        target=edge,
        changes=change,
        scope=edge.upstream,
    )
    edge.delete()


def column_lineage_edge_create(
    *, actor: Any, upstream: Column, downstream: Column, description: str = ""
) -> ColumnLineageEdge:
    """Column-level lineage between two columns (of the same or different datasets)."""
    _check_may_edit(actor, upstream.dataset, downstream.dataset)
    if upstream.pk == downstream.pk:
        raise ValidationFailed("A column cannot feed itself.", code="lineage_cycle")
    try:
        with transaction.atomic():
            edge = ColumnLineageEdge.objects.create(
                upstream=upstream, downstream=downstream, description=description, created_by=actor
            )
            audit_record(
                actor=actor,
                action="catalog.column_lineage.create",
                target=edge,
                changes={"edge": {"before": None, "after": str(edge)}},
                scope=downstream.dataset,
            )
    except IntegrityError as exc:
        raise Conflict("That column lineage edge already exists.", code="duplicate_edge") from exc
    return edge
