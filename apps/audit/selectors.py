"""Reading the audit log: history of one object, filtered queries, an entry's chain position."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from apps.audit.models import AuditBatch, AuditCheckpoint, AuditEvent
from apps.core.errors import NotFound


def audit_history_for(
    *, scope_label: str, scope_id: int | str, limit: int = 100
) -> QuerySet[AuditEvent]:
    """Most recent events recorded against one object (and the objects scoped to it)."""
    return AuditEvent.objects.filter(scope=f"{scope_label}:{scope_id}").select_related("actor")[
        :limit
    ]


@dataclass(frozen=True)
class AuditFilters:
    """What the audit viewer, the export and the API filter by (all optional, combined)."""

    actor: str = ""  # actor name: exact, or a prefix ending in "*"
    action: str = ""  # exact, or a prefix ending in "." or "*" ("catalog." = every catalog action)
    target_type: str = ""
    target_id: str = ""
    outcome: str = ""
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        """The filters that are set, JSON-ready (what a read of the log records about itself)."""
        out: dict[str, Any] = {}
        for key, value in self.__dict__.items():
            if value:
                out[key] = value.isoformat() if isinstance(value, dt.datetime) else value
        return out


def _prefix_or_exact(qs: QuerySet[AuditEvent], field: str, value: str) -> QuerySet[AuditEvent]:
    if value.endswith("*"):
        return qs.filter(**{f"{field}__startswith": value[:-1]})
    if value.endswith("."):
        return qs.filter(**{f"{field}__startswith": value})
    return qs.filter(**{field: value})


def audit_event_list(*, filters: AuditFilters) -> QuerySet[AuditEvent]:
    """Matching entries, newest first (ordered by id: keyset pagination with ``id__lt``)."""
    qs = AuditEvent.objects.select_related("seal").order_by("-id")
    if filters.actor:
        qs = _prefix_or_exact(qs, "actor_repr", filters.actor)
    if filters.action:
        qs = _prefix_or_exact(qs, "action", filters.action)
    if filters.target_type:
        qs = qs.filter(target_type=filters.target_type)
    if filters.target_id:
        qs = qs.filter(target_id=filters.target_id)
    if filters.outcome:
        qs = qs.filter(outcome=filters.outcome)
    if filters.since:
        qs = qs.filter(created_at__gte=filters.since)
    if filters.until:
        qs = qs.filter(created_at__lt=filters.until)
    return qs


def audit_event_get(*, entry_id: int) -> AuditEvent:
    event = AuditEvent.objects.filter(pk=entry_id).select_related("seal").first()
    if event is None:
        raise NotFound("No audit entry with that id.")
    return event


@dataclass(frozen=True)
class ChainPosition:
    seq: int | None
    batch: AuditBatch | None
    checkpoint: AuditCheckpoint | None


def audit_chain_position(*, event: AuditEvent) -> ChainPosition:
    """Where an entry sits: its seq, the batch that sealed it, the first checkpoint covering it."""
    if event.seq is None:
        return ChainPosition(None, None, None)
    batch = AuditBatch.objects.filter(first_seq__lte=event.seq, last_seq__gte=event.seq).first()
    checkpoint = None
    if batch is not None:
        checkpoint = (
            AuditCheckpoint.objects.filter(batch__gte=batch.id).order_by("batch", "id").first()
        )
    return ChainPosition(event.seq, batch, checkpoint)
