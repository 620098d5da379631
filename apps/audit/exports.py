"""Streaming exports of a filtered audit query: CSV and JSON Lines, a row at a time.

Each row carries the entry's canonical ``body`` and ``leaf_hash``, so anyone can re-hash an
exported entry (``apps.audit.merkle.leaf_hash``) and check it against a proof or a segment.
In the CSV, text a spreadsheet would run as a formula gets a leading ``'`` (``body`` is JSON,
so it never does; JSON Lines is exact).
"""

import json
from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet

from apps.audit.models import AuditEvent
from apps.audit.services import format_ts
from apps.core.spreadsheet import csv_lines

COLUMNS = [
    "id",
    "seq",
    "created_at",
    "actor_type",
    "actor_repr",
    "ip",
    "request_id",
    "action",
    "target_type",
    "target_id",
    "target_repr",
    "scope",
    "outcome",
    "changes",
    "body",
    "leaf_hash",
]
CHUNK = 5000


def _row(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.pk,
        "seq": event.seq,
        "created_at": format_ts(event.created_at),
        "actor_type": event.actor_type,
        "actor_repr": event.actor_repr,
        "ip": event.ip,
        "request_id": event.request_id,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "target_repr": event.target_repr,
        "scope": event.scope,
        "outcome": event.outcome,
        "changes": event.changes,
        "body": event.body,
        "leaf_hash": event.leaf_hash.hex() if event.leaf_hash is not None else None,
    }


def csv_rows(events: QuerySet[AuditEvent]) -> Iterator[str]:
    def rows() -> Iterator[list[Any]]:
        yield COLUMNS
        for event in events.iterator(chunk_size=CHUNK):
            row = _row(event)
            row["changes"] = json.dumps(row["changes"], sort_keys=True, ensure_ascii=False)
            yield [row[c] for c in COLUMNS]

    return csv_lines(rows())


def jsonl_rows(events: QuerySet[AuditEvent]) -> Iterator[str]:
    for event in events.iterator(chunk_size=CHUNK):
        yield json.dumps(_row(event), ensure_ascii=False) + "\n"
