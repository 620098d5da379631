"""Schema sync: read a live Postgres source's catalog and mirror it as datasets and columns.

The remote read happens first, outside our transaction (it may be slow); the catalog is then
updated in one transaction, in bulk, with the source row locked so two syncs cannot interleave.
Only structural fields are written (kind, type, nullability, ordinal, ``removed_at``); what
stewards set (descriptions, owners, classifications) is never touched.
"""

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from psycopg import sql

from apps.audit.services import audit_record
from apps.catalog import permissions
from apps.catalog.models import Column, Dataset, DataSource
from apps.catalog.services.common import dataset_refresh_effective_sensitivity
from apps.catalog.services.sources import source_password
from apps.core.errors import PermissionDenied, SourceUnavailable, ValidationFailed

CONNECT_TIMEOUT_S = 10
BATCH_SIZE = 1000

# pg_class.relkind -> Dataset.Kind. Partitions are skipped: their parent is the dataset.
_RELKINDS = {
    "r": Dataset.Kind.TABLE,
    "p": Dataset.Kind.TABLE,
    "f": Dataset.Kind.TABLE,
    "v": Dataset.Kind.VIEW,
    "m": Dataset.Kind.MATERIALIZED_VIEW,
}

# Constant SQL (no interpolation): system schemas and partitions are left out.
_RELATIONS_SQL = sql.SQL(
    "SELECT n.nspname, c.relname, c.relkind FROM pg_catalog.pg_class c "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm') AND NOT c.relispartition "
    "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
    "AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'"
)

_COLUMNS_SQL = sql.SQL(
    "SELECT n.nspname, c.relname, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), "
    "NOT a.attnotnull, a.attnum FROM pg_catalog.pg_attribute a "
    "JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "WHERE a.attnum > 0 AND NOT a.attisdropped "
    "AND c.relkind IN ('r', 'p', 'f', 'v', 'm') AND NOT c.relispartition "
    "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
    "AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'"
)


def _describe(source: DataSource) -> str:
    return f"{source.name} ({source.host or 'localhost'}:{source.port or 5432}/{source.database})"


def _reason(exc: BaseException, secret: str) -> str:
    """The first line of a driver error, with the password scrubbed should it ever appear."""
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    if secret:
        text = text.replace(secret, "[redacted]")
    return text[:300]


@contextmanager
def source_connection(*, source: DataSource) -> Iterator[psycopg.Connection[Any]]:
    """A read-only, autocommit psycopg connection to a Postgres source, with a statement timeout.

    Any driver error (connect or query) leaves as ``SourceUnavailable``, without the password.
    """
    if source.kind != DataSource.Kind.POSTGRES:
        raise ValidationFailed(
            f"Sync and scan support PostgreSQL sources only; {source.name} is {source.kind}.",
            code="sync_not_supported",
        )
    password = source_password(source=source)
    try:
        conn = psycopg.connect(
            host=source.host or None,
            port=source.port or 5432,
            dbname=source.database or None,
            user=source.username or None,
            password=password or None,
            connect_timeout=CONNECT_TIMEOUT_S,
            application_name="steward",
            autocommit=True,
        )
    except psycopg.Error as exc:
        raise SourceUnavailable(
            f"Could not connect to {_describe(source)}: {_reason(exc, password)}"
        ) from None
    try:
        with conn:
            conn.execute("SET default_transaction_read_only = on")
            timeout = int(settings.SOURCE_QUERY_TIMEOUT_MS)
            conn.execute(sql.SQL("SET statement_timeout = {}").format(sql.Literal(timeout)))
            # Plain LIMIT reads then start at the same block every time, so samples (and their
            # digests) stay the same while the data does.
            conn.execute("SET synchronize_seqscans = off")
            conn.execute("SET DateStyle = 'ISO, YMD'")
            yield conn
    except psycopg.Error as exc:
        raise SourceUnavailable(
            f"Query against {_describe(source)} failed: {_reason(exc, password)}"
        ) from None


@dataclass(frozen=True)
class RemoteColumn:
    data_type: str
    is_nullable: bool
    ordinal: int


RemoteSchema = dict[tuple[str, str], tuple[str, dict[str, RemoteColumn]]]


def source_read_schema(*, source: DataSource) -> RemoteSchema:
    """``{(schema, table): (kind, {column: RemoteColumn})}`` read from the live source."""
    found: RemoteSchema = {}
    with source_connection(source=source) as conn:
        for schema, table, relkind in conn.execute(_RELATIONS_SQL):
            found[(schema, table)] = (_RELKINDS[relkind], {})
        for schema, table, name, data_type, nullable, attnum in conn.execute(_COLUMNS_SQL):
            entry = found.get((schema, table))
            if entry is not None:
                entry[1][name] = RemoteColumn(
                    data_type=(data_type or "")[:255], is_nullable=bool(nullable), ordinal=attnum
                )
    return found


def _counts() -> dict[str, int]:
    return {"created": 0, "updated": 0, "removed": 0, "restored": 0, "unchanged": 0}


def _apply_datasets(
    source: DataSource, remote: RemoteSchema, now: datetime, counts: dict[str, int]
) -> dict[tuple[str, str], Dataset]:
    existing = {
        (d.schema_name, d.table_name): d
        for d in Dataset.objects.filter(source=source).only(
            "id", "source_id", "schema_name", "table_name", "kind", "removed_at"
        )
    }
    to_create: list[Dataset] = []
    to_update: list[Dataset] = []
    for key, (kind, _columns) in remote.items():
        dataset = existing.get(key)
        if dataset is None:
            to_create.append(
                Dataset(
                    source=source,
                    schema_name=key[0],
                    table_name=key[1],
                    fqn=Dataset.make_fqn(source.name, *key),
                    kind=kind,
                )
            )
            counts["created"] += 1
            continue
        restored = dataset.removed_at is not None
        changed = dataset.kind != kind
        if restored or changed:
            dataset.removed_at = None
            dataset.kind = kind
            dataset.updated_at = now
            to_update.append(dataset)
            counts["restored" if restored else "updated"] += 1
        else:
            counts["unchanged"] += 1
    for key, dataset in existing.items():
        if key not in remote and dataset.removed_at is None:
            dataset.removed_at = now
            dataset.updated_at = now
            to_update.append(dataset)
            counts["removed"] += 1
    Dataset.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
    Dataset.objects.bulk_update(
        to_update, ["kind", "removed_at", "updated_at"], batch_size=BATCH_SIZE
    )
    existing.update({(d.schema_name, d.table_name): d for d in to_create})
    return existing


def _apply_columns(
    source: DataSource,
    datasets: dict[tuple[str, str], Dataset],
    remote: RemoteSchema,
    now: datetime,
    counts: dict[str, int],
) -> set[int]:
    """Mirror columns; returns ids of datasets whose classified columns came or went."""
    # By source, not by a list of thousands of dataset ids: one indexed join.
    existing: dict[tuple[int, str], Column] = {
        (c.dataset_id, c.name): c
        for c in Column.objects.filter(dataset__source=source).only(
            "id",
            "dataset_id",
            "name",
            "data_type",
            "is_nullable",
            "ordinal",
            "removed_at",
            "sensitivity_id",
        )
    }
    to_create: list[Column] = []
    to_update: list[Column] = []
    touched: set[int] = set()
    seen: set[tuple[int, str]] = set()
    for key, (_kind, columns) in remote.items():
        dataset_id = datasets[key].pk
        for name, spec in columns.items():
            seen.add((dataset_id, name))
            column = existing.get((dataset_id, name))
            if column is None:
                to_create.append(
                    Column(
                        dataset_id=dataset_id,
                        name=name,
                        data_type=spec.data_type,
                        is_nullable=spec.is_nullable,
                        ordinal=spec.ordinal,
                    )
                )
                counts["created"] += 1
                continue
            restored = column.removed_at is not None
            changed = (column.data_type, column.is_nullable, column.ordinal) != (
                spec.data_type,
                spec.is_nullable,
                spec.ordinal,
            )
            if not (restored or changed):
                counts["unchanged"] += 1
                continue
            column.data_type, column.is_nullable, column.ordinal = (
                spec.data_type,
                spec.is_nullable,
                spec.ordinal,
            )
            column.removed_at = None
            column.updated_at = now
            to_update.append(column)
            counts["restored" if restored else "updated"] += 1
            if restored and column.sensitivity_id is not None:
                touched.add(dataset_id)
    for column_key, column in existing.items():
        if column_key not in seen and column.removed_at is None:
            column.removed_at = now
            column.updated_at = now
            to_update.append(column)
            counts["removed"] += 1
            # Only a classified column can move the dataset's effective sensitivity.
            if column.sensitivity_id is not None:
                touched.add(column.dataset_id)
    Column.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
    Column.objects.bulk_update(
        to_update,
        ["data_type", "is_nullable", "ordinal", "removed_at", "updated_at"],
        batch_size=BATCH_SIZE,
    )
    return touched


def source_check_runnable(actor: Any, source: DataSource) -> None:
    """``actor=None`` is the system (scheduled runs); people need the catalog admin role."""
    if actor is not None and not permissions.can_manage_sources(actor):
        raise PermissionDenied("Syncing and scanning data sources needs the catalog admin role.")
    if source.kind != DataSource.Kind.POSTGRES:
        raise ValidationFailed(
            f"Sync and scan support PostgreSQL sources only; {source.name} is {source.kind}.",
            code="sync_not_supported",
        )


def source_sync(*, actor: Any, source: DataSource) -> dict[str, Any]:
    """Mirror the live schema of ``source`` into the catalog; returns (and stores) a summary.

    Creates, updates, restores and marks removed datasets and columns in bulk; a second run
    with nothing changed at the source reports only ``unchanged``. Raises ``SourceUnavailable``
    when the source cannot be read (and then writes nothing).
    """
    source_check_runnable(actor, source)
    started_at = timezone.now()
    remote = source_read_schema(source=source)
    with transaction.atomic():
        locked = DataSource.objects.select_for_update().get(pk=source.pk)
        now = timezone.now()
        dataset_counts, column_counts = _counts(), _counts()
        datasets = _apply_datasets(locked, remote, now, dataset_counts)
        touched = _apply_columns(locked, datasets, remote, now, column_counts)
        for dataset in Dataset.objects.filter(pk__in=touched).select_related("sensitivity"):
            dataset_refresh_effective_sensitivity(dataset=dataset, actor=actor, record=True)
        finished_at = timezone.now()
        summary: dict[str, Any] = {
            "datasets": dataset_counts,
            "columns": column_counts,
            "started_at": started_at.isoformat(),
            "finished_at": finished_at.isoformat(),
        }
        locked.last_synced_at = finished_at
        locked.last_sync_summary = summary
        locked.save(update_fields=["last_synced_at", "last_sync_summary"])
        audit_record(
            actor=actor,
            action="catalog.source.sync",
            target=locked,
            changes={"datasets": dataset_counts, "columns": column_counts},
        )
    source.last_synced_at, source.last_sync_summary = locked.last_synced_at, summary
    return summary


def source_sync_request(*, actor: Any, source: DataSource) -> None:
    """Queue a schema sync of ``source`` (runs in a worker after this transaction commits)."""
    from apps.catalog.tasks import source_sync_task  # tasks import the services

    if not permissions.can_manage_sources(actor):
        raise PermissionDenied("Syncing data sources needs the catalog admin role.")
    source_check_runnable(actor, source)
    with transaction.atomic():
        audit_record(actor=actor, action="catalog.source.sync_requested", target=source)
        source_id = source.pk
        transaction.on_commit(lambda: source_sync_task.delay(source_id))


def sources_due_for_refresh(*, now: dt.datetime | None = None) -> list[int]:
    """PostgreSQL sources (with a host to reach) not synced within ``CATALOG_REFRESH_HOURS``:
    the periodic refresh syncs, then scans, each of them. Empty when the setting is 0."""
    hours = settings.CATALOG_REFRESH_HOURS
    if hours <= 0:
        return []
    cutoff = (now or timezone.now()) - dt.timedelta(hours=hours)
    return list(
        DataSource.objects.filter(kind=DataSource.Kind.POSTGRES)
        .exclude(host="")
        .filter(Q(last_synced_at__isnull=True) | Q(last_synced_at__lte=cutoff))
        .order_by("last_synced_at", "pk")
        .values_list("pk", flat=True)
    )
