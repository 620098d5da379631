"""The one place every recorded action goes through, and the sealer that chains it."""

import datetime as dt
import enum
import functools
import ipaddress
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, connection, models, transaction
from django.utils import timezone

from apps.audit import merkle, signing
from apps.audit.models import AuditBatch, AuditCheckpoint, AuditEvent, AuditPending, AuditSeal
from apps.core import context
from apps.core.errors import ServiceUnavailable
from apps.core.jsontext import canonical_json_if_plain

log = logging.getLogger(__name__)

REDACTED = "[redacted]"
# Sealers (the beat task, the command, a checkpoint on demand) and the archiver take this
# Postgres advisory lock (see ``hold_seal_lock``).
_SEAL_LOCK = 0x5EA1_A0D1
SEAL_BATCH_MAX = 10_000


def hold_seal_lock() -> None:
    """Serialise with every other sealer/archiver until the current transaction ends.

    (SQLite serialises writers on its own.)"""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", [_SEAL_LOCK])


def _jsonable(value: Any) -> Any:
    kind = type(value)  # the JSON scalars themselves first: most values are (a decision's all)
    if kind is str or kind is int or kind is bool or kind is float or value is None:
        return value
    if isinstance(value, enum.Enum) and not isinstance(value, str | int):
        return _jsonable(value.value)  # as orjson writes one (str/int enums are their values)
    if isinstance(value, dict):
        return {k if type(k) is str else str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        items = [_jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set) else items
    if isinstance(value, str | int | float | bool):  # subclasses: enums, choices
        return value
    return str(value)  # model instances and anything else


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``{field: {"before": x, "after": y}}`` for the fields that changed."""
    out: dict[str, dict[str, Any]] = {}
    for key in sorted(set(before) | set(after)):
        b, a = _jsonable(before.get(key)), _jsonable(after.get(key))
        if b != a:
            out[key] = {"before": b, "after": a}
    return out


@dataclass(frozen=True)
class Target:
    """A target that is not a model instance (a page of the audit log, a decision request)."""

    type: str
    id: str
    repr: str = ""


def format_ts(value: dt.datetime) -> str:
    """UTC, millisecond precision, ``Z``: the timestamp form inside an entry's body."""
    utc = value.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


@functools.lru_cache(maxsize=1024)
def _normal_ip(ip: str | None) -> str | None:
    """The address as Postgres prints an ``inet`` (so the stored column and the body agree)."""
    if not ip:
        return None
    try:
        return str(ipaddress.ip_address(ip))
    except ValueError:
        return None


def _actor_fields(actor: Any) -> tuple[str, int | None, str]:
    if (
        actor is not None
        and getattr(actor, "is_authenticated", False)
        and hasattr(actor, "get_username")
    ):
        return AuditEvent.ActorType.USER, actor.pk, actor.get_username()[:200]
    identity = getattr(actor, "audit_identity", None)
    if callable(identity):  # service credentials: ("service", "etl-runner")
        kind, name = identity()
        return kind, None, str(name)[:200]
    if actor is None or isinstance(actor, str):
        return AuditEvent.ActorType.SYSTEM, None, (actor or "system")[:200]
    return AuditEvent.ActorType.ANONYMOUS, None, "anonymous"


def _common_fields(actor: Any) -> dict[str, Any]:
    """What entries recorded together share: time, actor, address, request id."""
    ctx = context.current()
    now = timezone.now()
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)
    actor_type, actor_id, actor_repr = _actor_fields(actor)
    return {
        "created_at": now,
        "ts": format_ts(now),
        "actor_type": str(actor_type),
        "actor_id": actor_id,
        "actor_repr": actor_repr,
        "ip": _normal_ip(ctx.ip),
        "request_id": ctx.request_id,
    }


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _column_text(value: str, limit: int) -> str:
    """``value`` as a query column can hold it: at most ``limit`` characters, with NUL and
    unpaired surrogates (which Postgres text cannot hold) as U+FFFD. Columns index the body;
    ``changes`` keeps what was given exactly (escaped in the JSON)."""
    value = value[:limit]
    if "\x00" not in value and value.isascii():
        return value
    return _UNSTORABLE.sub("\ufffd", value)


def _entry_columns(
    common: dict[str, Any],
    action: str,
    target: models.Model | Target,
    changes: dict[str, Any] | None,
    scope: models.Model | Target | None,
    outcome: str,
) -> dict[str, Any]:
    """An entry's column values: the query columns and the canonical body, from the same values."""
    if isinstance(target, Target):
        target_type, target_id, target_repr = target.type, target.id, target.repr or target.id
    else:
        target_type, target_id, target_repr = target._meta.label_lower, str(target.pk), str(target)
    scope_obj = scope if scope is not None else target
    scope_key = (
        f"{scope_obj.type}:{scope_obj.id}"
        if isinstance(scope_obj, Target)
        else f"{scope_obj._meta.label_lower}:{scope_obj.pk}"
    )
    columns: dict[str, Any] = {
        "actor_type": common["actor_type"],
        "actor_id": common["actor_id"],
        "actor_repr": common["actor_repr"],
        "ip": common["ip"],
        "request_id": common["request_id"],
        "action": action,
        "target_type": _column_text(target_type, 80),
        "target_id": _column_text(target_id, 64),
        "target_repr": _column_text(target_repr, 400),
        "scope": _column_text(scope_key, 120),
        "outcome": str(outcome),
    }
    body = {"v": 1, "ts": common["ts"], **columns, "changes": changes or {}}
    # Plain JSON values (a decision's all) are written as they are; anything else is converted.
    text = canonical_json_if_plain(body)
    if text is None:
        text = merkle.canonical_body({**body, "changes": _jsonable(body["changes"])})
    return {"created_at": common["created_at"], "body": text, **columns}


_UNAVAILABLE = (
    "The action was not performed because it could not be recorded in the audit log."
    " Try again; if it persists, check the database."
)


def audit_record(
    *,
    actor: Any,
    action: str,
    target: models.Model | Target,
    changes: dict[str, Any] | None = None,
    scope: models.Model | Target | None = None,
    outcome: str = AuditEvent.Outcome.SUCCESS,
) -> AuditEvent:
    """Record ``actor`` doing ``action`` to ``target``. Must run inside the action's transaction.

    If this insert fails, the caller's transaction fails with it: an action is never committed
    without its record. ``changes`` must never carry secrets or raw personal data values;
    callers pass field-level diffs of metadata, with secret fields replaced by ``REDACTED``.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the change it records")
    event = AuditEvent(
        **_entry_columns(_common_fields(actor), action, target, changes, scope, outcome)
    )
    try:
        event.save(force_insert=True)
    except DatabaseError as exc:
        # The caller's transaction is now unusable and rolls back: the action does not happen.
        log.error("audit entry not written (%s refused): %s", action, exc, exc_info=exc)
        raise ServiceUnavailable(_UNAVAILABLE, code="audit_unavailable") from exc
    return event


def audit_record_alone(
    *,
    actor: Any,
    action: str,
    target: models.Model | Target,
    changes: dict[str, Any] | None = None,
    outcome: str = AuditEvent.Outcome.SUCCESS,
) -> AuditEvent:
    """``audit_record`` in a transaction of its own, for an action that changes nothing else
    (a sign-in, a read of the audit log, a verification run)."""
    with transaction.atomic():
        return audit_record(
            actor=actor, action=action, target=target, changes=changes, outcome=outcome
        )


def audit_record_committed(
    *,
    actor: Any,
    action: str,
    target: models.Model | Target,
    changes: dict[str, Any] | None = None,
    scope: models.Model | Target | None = None,
    outcome: str = AuditEvent.Outcome.SUCCESS,
    timeout: float = 5.0,
) -> int:
    """Record an entry that belongs to no database change (a decision, an uploaded decision
    log) and return its id once it is durably committed.

    Entries from concurrent callers in this process share one transaction and one commit
    (group commit, see ``apps.audit.appender``), so throughput is not bound by one fsync per
    entry. Raises ``ServiceUnavailable`` if the entry could not be committed in ``timeout``
    seconds: the caller must then fail closed (a decision is not returned as allow).
    """
    entry = Entry(action=action, target=target, changes=changes, scope=scope, outcome=outcome)
    return audit_record_committed_many(actor=actor, entries=[entry], timeout=timeout)[0]


@dataclass(frozen=True)
class Entry:
    """One entry for ``audit_record_committed_many``."""

    action: str
    target: models.Model | Target
    changes: dict[str, Any] | None = None
    scope: models.Model | Target | None = None
    outcome: str = AuditEvent.Outcome.SUCCESS


def audit_record_committed_many(
    *, actor: Any, entries: list[Entry], timeout: float = 5.0, read_ids: bool = True
) -> list[int]:
    """``audit_record_committed`` for several entries at once (a batch of decisions): all are
    durable when it returns, or it raises ``ServiceUnavailable``. With ``read_ids=False`` the
    entries' ids may go unread (one database round trip fewer) and ``[]`` is returned."""
    from apps.audit.appender import appender

    if transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit entries recorded on their own commit: call outside a transaction")
    common = _common_fields(actor)
    columns = [
        _entry_columns(common, e.action, e.target, e.changes, e.scope, e.outcome) for e in entries
    ]
    try:
        return appender().append_many(columns, timeout=timeout, read_ids=read_ids)
    except Exception as exc:
        log.error(
            "%d audit entries not written (their actions refused): %s",
            len(columns),
            exc,
            exc_info=exc,
        )
        raise ServiceUnavailable(_UNAVAILABLE, code="audit_unavailable") from exc


# The query columns, rendered by Postgres in UTC: what a seal's ``columns_md5`` digests and
# what verify digests again. Nullable values get a marker so no value can shift into another.
COLUMNS_TEXT_SQL = (
    "concat_ws(chr(31), e.created_at, e.actor_type, coalesce(e.actor_id::text, '-'), e.actor_repr,"
    " coalesce(e.ip::text, '-'), e.request_id, e.action, e.target_type, e.target_id,"
    " e.target_repr, e.scope, e.outcome)"
)


# Postgres: the queue's first ``limit`` entries taken off it in one statement (the ARRAY()
# subquery runs once, then index lookups by id: a plan that does not depend on statistics a
# queue emptied several times a second never has), then those entries by id.
_PG_TAKE = (
    "DELETE FROM audit_auditpending WHERE entry_id = ANY(ARRAY("
    "SELECT entry_id FROM audit_auditpending ORDER BY entry_id LIMIT %s)) RETURNING entry_id"
)
_PG_UNSEALED = (
    "SELECT e.id, e.body FROM audit_auditevent e WHERE e.id = ANY(%s)"
    " AND NOT EXISTS (SELECT 1 FROM audit_auditseal s WHERE s.entry_id = e.id) ORDER BY e.id"
)


def _take_pending(limit: int) -> list[tuple[int, str]]:
    """Take up to ``limit`` entries off the queue, oldest first: ``(id, body)``. An entry
    already sealed is dropped: the queue is not guarded, and sealing an entry twice would wedge
    the sealer."""
    while True:
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute(_PG_TAKE, [limit])
                ids = [pk for (pk,) in cur.fetchall()]
                if not ids:
                    return []
                cur.execute(_PG_UNSEALED, [ids])
                rows: list[tuple[int, str]] = cur.fetchall()
        else:
            queued = AuditPending.objects.order_by("entry_id")
            ids = list(queued.values_list("entry_id", flat=True)[:limit])
            if not ids:
                return []
            AuditPending.objects.filter(entry_id__in=ids).delete()
            rows = list(
                AuditEvent.objects.filter(id__in=ids, seal__isnull=True)
                .order_by("id")
                .values_list("id", "body")
            )
        if rows:
            return rows


def _seal_rows(rows: Sequence[tuple[int, int, bytes]]) -> dict[int, bytes | None]:
    """Write a seal for each ``(entry id, seq, leaf hash)`` (on Postgres with the entry's column
    digest, in one statement); each digest by seq."""
    if connection.vendor == "postgresql":
        ids, seqs, leaves = (list(column) for column in zip(*rows, strict=True))
        with connection.cursor() as cur:
            cur.execute("SET LOCAL timezone = 'UTC'")
            cur.execute(
                "INSERT INTO audit_auditseal (seq, entry_id, leaf_hash, columns_md5)"  # noqa: S608 - constant SQL
                f" SELECT v.seq, v.id, v.leaf, decode(md5({COLUMNS_TEXT_SQL}), 'hex')"
                " FROM unnest(%s::bigint[], %s::bigint[], %s::bytea[]) AS v(id, seq, leaf)"
                " JOIN audit_auditevent e ON e.id = v.id RETURNING seq, columns_md5",
                [ids, seqs, leaves],
            )
            return {seq: bytes(md5) for seq, md5 in cur.fetchall()}
    AuditSeal.objects.bulk_create(
        [AuditSeal(seq=s, entry_id=i, leaf_hash=leaf) for i, s, leaf in rows], batch_size=500
    )
    return {}


def _seal_one(limit: int) -> AuditBatch | None:
    with transaction.atomic():
        hold_seal_lock()
        pending = _take_pending(limit)
        if not pending:
            return None
        head = AuditBatch.objects.order_by("-id").first()
        prev_hash = bytes(head.hash) if head else merkle.GENESIS_HASH
        first_seq = head.last_seq + 1 if head else 1
        leaves = [merkle.leaf_hash(body) for _, body in pending]
        digests = _seal_rows(
            [
                (pk, first_seq + i, leaf)
                for i, ((pk, _), leaf) in enumerate(zip(pending, leaves, strict=True))
            ]
        )
        last_seq = first_seq + len(pending) - 1
        root = merkle.merkle_root(leaves)
        cols = merkle.columns_root([digests.get(seq) for seq in range(first_seq, last_seq + 1)])
        return AuditBatch.objects.create(
            id=(head.id + 1) if head else 1,
            first_seq=first_seq,
            last_seq=last_seq,
            root=root,
            columns_root=cols,
            prev_hash=prev_hash,
            hash=merkle.batch_hash(prev_hash, first_seq, last_seq, root, cols),
            sealed_at=timezone.now(),
        )


def audit_seal_pending(*, limit: int = SEAL_BATCH_MAX) -> list[AuditBatch]:
    """Seal every committed, unsealed entry into batches of at most ``limit`` (idempotent)."""
    sealed: list[AuditBatch] = []
    while (batch := _seal_one(limit)) is not None:
        sealed.append(batch)
        if batch.size < limit:
            break
    return sealed


def audit_checkpoint_create(
    *, actor: Any = None, only_if_new: bool = False
) -> AuditCheckpoint | None:
    """Seal what is pending, then sign the chain head. ``only_if_new``: skip an unchanged head."""
    audit_seal_pending()
    with transaction.atomic():
        head = AuditBatch.objects.order_by("-id").first()
        if head is None:
            return None
        last = AuditCheckpoint.objects.order_by("-id").first()
        if only_if_new and last is not None and last.batch == head.id:
            return None
        created_at = timezone.now()
        message = merkle.checkpoint_message(
            batch=head.id,
            last_seq=head.last_seq,
            head_hash=bytes(head.hash),
            created_at=format_ts(created_at),
        )
        key, signature = signing.sign(message)
        checkpoint = AuditCheckpoint.objects.create(
            created_at=created_at.replace(microsecond=created_at.microsecond // 1000 * 1000),
            batch=head.id,
            last_seq=head.last_seq,
            head_hash=bytes(head.hash),
            key_id=key,
            signature=signature,
        )
        if actor is not None:
            audit_record(
                actor=actor,
                action="audit.checkpoint.create",
                target=checkpoint,
                changes={"batch": head.id, "last_seq": head.last_seq},
            )
        return checkpoint
