"""PII scan: sample a bounded number of values per column and suggest data categories.

The scanner only ever writes ``ClassificationSuggestion`` rows; a column's sensitivity and
categories are a steward's decision (``suggestion_accept`` applies one). It never raises a
category the column already carries, keeps one pending suggestion per column and category
(refreshing it), and raises a rejected one again only once the sampled content has changed.
"""

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import psycopg
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from psycopg import sql

from apps.audit.services import audit_record
from apps.catalog import permissions, pii
from apps.catalog.models import ClassificationSuggestion, Column, Dataset, DataSource
from apps.catalog.services.sync import source_check_runnable, source_connection
from apps.classification.models import DataCategory
from apps.core.errors import PermissionDenied

Status = ClassificationSuggestion.Status

# Longer values are cut before they leave the source: detectors need no more than this.
MAX_VALUE_CHARS = 256
MAX_REPORTED_ERRORS = 20
BATCH_SIZE = 1000


@dataclass(frozen=True)
class ColumnResult:
    findings: list[pii.Finding]
    digest: str


def _sample_query(dataset: Dataset, names: list[str], limit: int) -> sql.Composed:
    """``SELECT left(col::text, N), ... FROM schema.table LIMIT n``: bounded, identifiers quoted.

    No ORDER BY (that would read the whole table); the session turns synchronized scans off, so
    an unchanged table yields the same rows, and the same digest, every time.
    """
    return sql.SQL("SELECT {columns} FROM {table} LIMIT {limit}").format(
        columns=sql.SQL(", ").join(
            sql.SQL("left({}::text, {})").format(sql.Identifier(n), sql.Literal(MAX_VALUE_CHARS))
            for n in names
        ),
        table=sql.Identifier(dataset.schema_name, dataset.table_name),
        limit=sql.Literal(limit),
    )


def _sample_source(
    source: DataSource, columns_by_dataset: dict[Dataset, list[Column]], errors: list[dict]
) -> dict[int, ColumnResult]:
    """Sample every dataset and run the detectors; raw values are dropped table by table."""
    limit = int(settings.PII_SAMPLE_ROWS)
    results: dict[int, ColumnResult] = {}
    with source_connection(source=source) as conn:
        for dataset, columns in columns_by_dataset.items():
            names = [c.name for c in columns]
            try:
                rows = conn.execute(_sample_query(dataset, names, limit)).fetchall()
            except psycopg.Error as exc:
                if conn.broken or conn.closed:
                    raise  # the connection is gone: the whole scan is SourceUnavailable
                # One table failing (dropped since the last sync, timeout, no privilege) does
                # not stop the others. The driver's message names objects, not values.
                errors.append({"dataset": dataset.fqn, "error": type(exc).__name__})
                continue
            for index, column in enumerate(columns):
                values = [row[index] for row in rows]
                results[column.pk] = ColumnResult(
                    findings=pii.detect_column(column.name, values),
                    digest=pii.content_digest(values),
                )
    return results


def _plan_columns(source: DataSource) -> dict[Dataset, list[Column]]:
    columns = (
        Column.objects.filter(
            dataset__source=source, dataset__removed_at__isnull=True, removed_at__isnull=True
        )
        .select_related("dataset")
        .only(
            "id",
            "name",
            "ordinal",
            "dataset__id",
            "dataset__fqn",
            "dataset__schema_name",
            "dataset__table_name",
        )
        .order_by("dataset_id", "ordinal", "name")
    )
    plan: dict[Dataset, list[Column]] = defaultdict(list)
    for column in columns:
        plan[column.dataset].append(column)
    return plan


def _apply(source: DataSource, results: dict[int, ColumnResult], now: Any) -> dict[str, int]:
    counts = dict.fromkeys(
        ("created", "refreshed", "unchanged", "already_classified", "suppressed", "superseded"), 0
    )
    live_ids = (
        set(
            Column.objects.filter(
                dataset__source=source, removed_at__isnull=True, pk__in=list(results)
            ).values_list("id", flat=True)
        )
        if results
        else set()
    )
    keys = {f.category for cid in live_ids for f in results[cid].findings}
    categories = {
        c.key: c
        for c in DataCategory.objects.filter(key__in=keys).select_related("default_sensitivity")
    }
    carried: dict[int, set[int]] = defaultdict(set)
    for column_id, category_id in Column.categories.through.objects.filter(
        column__dataset__source=source, column__removed_at__isnull=True
    ).values_list("column_id", "datacategory_id"):
        carried[column_id].add(category_id)
    pending: dict[tuple[int, int], ClassificationSuggestion] = {}
    pending_by_column: dict[int, list[ClassificationSuggestion]] = defaultdict(list)
    decided: dict[tuple[int, int], ClassificationSuggestion] = {}
    for suggestion in ClassificationSuggestion.objects.filter(
        column__dataset__source=source,
        column__removed_at__isnull=True,
        status__in=[Status.PENDING, Status.ACCEPTED, Status.REJECTED],
    ).order_by("created_at", "id"):
        key = (suggestion.column_id, suggestion.category_id)
        if suggestion.status == Status.PENDING:
            pending[key] = suggestion
            pending_by_column[suggestion.column_id].append(suggestion)
        else:
            decided[key] = suggestion  # the latest decision wins

    to_create: list[ClassificationSuggestion] = []
    to_refresh: list[ClassificationSuggestion] = []
    to_supersede: list[ClassificationSuggestion] = []
    for column_id in live_ids:
        result = results[column_id]
        found: set[int] = set()
        for finding in result.findings:
            category = categories.get(finding.category)
            if category is None:  # taxonomy edited: that category no longer exists
                continue
            key = (column_id, category.pk)
            if category.pk in carried[column_id]:
                counts["already_classified"] += 1
                continue
            found.add(category.pk)
            fields = {
                "sensitivity_id": category.default_sensitivity_id,
                "detector": finding.detector[:63],
                "confidence": finding.confidence,
                "evidence": finding.evidence,
                "content_digest": result.digest,
            }
            current = pending.get(key)
            if current is not None:
                if all(getattr(current, k) == v for k, v in fields.items()):
                    counts["unchanged"] += 1
                else:
                    for name, value in fields.items():
                        setattr(current, name, value)
                    to_refresh.append(current)
                    counts["refreshed"] += 1
                continue
            previous = decided.get(key)
            if previous is not None and previous.content_digest == result.digest:
                counts["suppressed"] += 1
                continue
            to_create.append(
                ClassificationSuggestion(column_id=column_id, category_id=category.pk, **fields)
            )
            counts["created"] += 1
        # Pending suggestions this scan no longer supports (or a steward settled by hand).
        for suggestion in pending_by_column[column_id]:
            if suggestion.category_id not in found:
                suggestion.status = Status.SUPERSEDED
                suggestion.decided_at = now
                to_supersede.append(suggestion)
                counts["superseded"] += 1
    ClassificationSuggestion.objects.bulk_update(
        to_supersede, ["status", "decided_at"], batch_size=BATCH_SIZE
    )
    ClassificationSuggestion.objects.bulk_update(
        to_refresh,
        ["sensitivity", "detector", "confidence", "evidence", "content_digest"],
        batch_size=BATCH_SIZE,
    )
    ClassificationSuggestion.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
    return counts


def source_scan(*, actor: Any, source: DataSource) -> dict[str, Any]:
    """Sample every live column of ``source`` (``PII_SAMPLE_ROWS`` rows per table at most) and
    write classification suggestions; returns (and stores) a summary of counts.

    Raises ``SourceUnavailable`` when the source cannot be reached (then nothing is written).
    """
    source_check_runnable(actor, source)
    started_at = timezone.now()
    plan = _plan_columns(source)
    errors: list[dict[str, str]] = []
    results = _sample_source(source, plan, errors)
    with transaction.atomic():
        locked = DataSource.objects.select_for_update().get(pk=source.pk)
        suggestion_counts = _apply(locked, results, timezone.now())
        finished_at = timezone.now()
        counts = {
            "tables": {"scanned": len(plan) - len(errors), "failed": len(errors)},
            "columns": {"scanned": len(results)},
            "suggestions": suggestion_counts,
        }
        summary: dict[str, Any] = {
            **counts,
            "errors": errors[:MAX_REPORTED_ERRORS],
            "sample_rows": int(settings.PII_SAMPLE_ROWS),
            "started_at": started_at.isoformat(),
            "finished_at": finished_at.isoformat(),
        }
        locked.last_scanned_at = finished_at
        locked.last_scan_summary = summary
        locked.save(update_fields=["last_scanned_at", "last_scan_summary"])
        audit_record(actor=actor, action="catalog.source.scan", target=locked, changes=counts)
    source.last_scanned_at, source.last_scan_summary = finished_at, summary
    return summary


def source_scan_request(*, actor: Any, source: DataSource) -> None:
    """Queue a PII scan of ``source`` (runs in a worker after this transaction commits)."""
    from apps.catalog.tasks import source_scan_task  # tasks import the services

    if not permissions.can_manage_sources(actor):
        raise PermissionDenied("Scanning data sources needs the catalog admin role.")
    source_check_runnable(actor, source)
    with transaction.atomic():
        audit_record(actor=actor, action="catalog.source.scan_requested", target=source)
        source_id = source.pk
        transaction.on_commit(lambda: source_scan_task.delay(source_id))
