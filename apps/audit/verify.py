"""Walk the audit log and name the first broken link.

What is checked, in chain order:
- every checkpoint's Ed25519 signature, by a trusted key, over a head that is in the chain;
- every batch header: numbered without gaps, chained to the previous hash, hash recomputed;
- every entry still held (pruned ones are covered by an archive record): sequence numbers
  without gaps, its body's leaf hash matches the one sealed, entries in sealing order, the
  batch's Merkle root recomputed from the bodies;
- the query columns of every entry still say what its body says.
"""

import datetime as dt
import hashlib
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from apps.audit import merkle, signing
from apps.audit.models import AuditArchive, AuditBatch, AuditCheckpoint, AuditEvent, AuditSeal
from apps.audit.services import COLUMNS_TEXT_SQL, format_ts

UNSEALED_GRACE_SECONDS = 60


@dataclass
class Problem:
    kind: str  # entry_changed, entry_deleted, entries_reordered, batch_*, checkpoint_*
    message: str
    seq: int | None = None
    entry_id: int | None = None
    batch: int | None = None
    checkpoint: int | None = None


@dataclass
class VerifyReport:
    entries: int = 0
    batches: int = 0
    checkpoints: int = 0
    pruned_through_seq: int = 0
    unsealed: int = 0
    stale_unsealed: int = 0
    seconds: float = 0.0
    problem: Problem | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.problem is None

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


def _position(problem: Problem, by_id: dict[int, AuditBatch]) -> int:
    """Where a problem sits in chain order: its entry's seq, else its batch's first seq."""
    if problem.seq is not None:
        return problem.seq
    batch = by_id.get(problem.batch) if problem.batch is not None else None
    return batch.first_seq if batch is not None else 0


def _check_batches(batches: list[AuditBatch]) -> Problem | None:
    prev_hash, prev_last = merkle.GENESIS_HASH, 0
    for expected_id, batch in enumerate(batches, start=1):
        if batch.id != expected_id:
            return Problem("batch_deleted", f"batch {expected_id} is missing", batch=expected_id)
        if bytes(batch.prev_hash) != prev_hash or batch.first_seq != prev_last + 1:
            return Problem(
                "batch_chain_broken",
                f"batch {batch.id} does not follow batch {batch.id - 1}",
                batch=batch.id,
            )
        recomputed = merkle.batch_hash(
            prev_hash, batch.first_seq, batch.last_seq, bytes(batch.root), bytes(batch.columns_root)
        )
        if recomputed != bytes(batch.hash):
            return Problem(
                "batch_changed", f"batch {batch.id}'s header was altered", batch=batch.id
            )
        prev_hash, prev_last = recomputed, batch.last_seq
    return None


def _check_checkpoints(by_id: dict[int, AuditBatch]) -> tuple[int, Problem | None]:
    keys = signing.trusted_public_keys()
    count = 0
    for cp in AuditCheckpoint.objects.order_by("id"):
        count += 1
        key = keys.get(cp.key_id)
        message = merkle.checkpoint_message(
            batch=cp.batch,
            last_seq=cp.last_seq,
            head_hash=bytes(cp.head_hash),
            created_at=format_ts(cp.created_at),
        )
        if key is None or not signing.signature_valid(key, bytes(cp.signature), message):
            return count, Problem(
                "checkpoint_forged",
                f"checkpoint {cp.pk} is not signed by a trusted key"
                + ("" if key else f" (unknown key id {cp.key_id})"),
                checkpoint=cp.pk,
                batch=cp.batch,
            )
        batch = by_id.get(cp.batch)
        if (
            batch is None
            or bytes(batch.hash) != bytes(cp.head_hash)
            or batch.last_seq != cp.last_seq
        ):
            return count, Problem(
                "checkpoint_mismatch",
                f"checkpoint {cp.pk} pins a head (batch {cp.batch}) the chain does not have",
                checkpoint=cp.pk,
                batch=cp.batch,
            )
    return count, None


def _diagnose(batch: AuditBatch) -> Problem:
    """A batch failed its root check: find and name what broke in it."""
    rows = (
        AuditSeal.objects.filter(seq__range=(batch.first_seq, batch.last_seq))
        .order_by("seq")
        .values_list("seq", "entry_id", "entry__body", "leaf_hash")
    )
    by_seq = {row[0]: row for row in rows}
    last_id = 0
    for seq in range(batch.first_seq, batch.last_seq + 1):
        row = by_seq.get(seq)
        if row is None:
            return Problem(
                "entry_deleted", f"entry at seq {seq} is missing (deleted)", seq=seq, batch=batch.id
            )
        _, entry_id, body, stored_leaf = row
        if merkle.leaf_hash(body) != bytes(stored_leaf):
            return Problem(
                "entry_changed",
                f"entry {entry_id} at seq {seq} was altered after it was sealed",
                seq=seq,
                entry_id=entry_id,
                batch=batch.id,
            )
        if entry_id < last_id:
            return Problem(
                "entries_reordered",
                f"entry {entry_id} at seq {seq} is out of order (sealed after entry {last_id})",
                seq=seq,
                entry_id=entry_id,
                batch=batch.id,
            )
        last_id = entry_id
    return Problem(
        "batch_root_mismatch",
        f"entries of batch {batch.id} no longer hash to its sealed root"
        " (leaf hashes rewritten or entries reordered)",
        batch=batch.id,
        seq=batch.first_seq,
    )


# A batch's seals in seq order, then its entries: nearly consecutive ids, so one index range
# scan reads them (14 ms for 10k entries here, where a join's 10k index lookups take 43 ms),
# unless an entry that committed late stretches the range well beyond the batch.
_SEALS = (
    "SELECT entry_id, columns_md5 FROM audit_auditseal WHERE seq BETWEEN %s AND %s ORDER BY seq"
)
_BODIES_IN_RANGE = "SELECT id, body FROM audit_auditevent WHERE id BETWEEN %s AND %s ORDER BY id"


def _batch_rows(batch: AuditBatch) -> list[tuple[str, bytes | None]]:
    """``(body, column digest)`` of each entry of ``batch`` in seq order; an entry that is gone
    is left out (the count then tells). Raw rows: the ORM's cost twice the time."""
    with connection.cursor() as cur:
        cur.execute(_SEALS, [batch.first_seq, batch.last_seq])
        seals = cur.fetchall()
        if not seals:
            return []
        ids = [entry_id for entry_id, _ in seals]
        lo, hi = min(ids), max(ids)
        if hi - lo < 2 * len(ids):
            cur.execute(_BODIES_IN_RANGE, [lo, hi])
            rows = cur.fetchall()
        else:
            by_id = AuditEvent.objects.filter(id__in=ids).order_by("id")
            rows = list(by_id.values_list("id", "body"))
    if [pk for pk, _ in rows] == ids:  # the usual batch: one run of ids, sealed in id order
        return [(body, md5) for (_, body), (_, md5) in zip(rows, seals, strict=True)]
    bodies = dict(rows)
    return [(bodies[pk], md5) for pk, md5 in seals if pk in bodies]


def _check_entries(batches: list[AuditBatch], after_seq: int) -> tuple[int, Problem | None]:
    """Recompute every held batch's root from its entries' bodies; diagnose any that differ."""
    count = 0
    sha = hashlib.sha256
    prefix = merkle.LEAF_PREFIX
    for batch in batches:
        if batch.last_seq <= after_seq:
            continue
        rows = _batch_rows(batch)
        if len(rows) == batch.size:
            leaves = [sha(prefix + body.encode()).digest() for body, _ in rows]
            if merkle.merkle_root(leaves) == bytes(batch.root):
                digests = [bytes(md5) if md5 is not None else None for _, md5 in rows]
                legacy = not bytes(batch.columns_root)  # sealed before column digests existed
                if legacy or merkle.columns_root(digests) == bytes(batch.columns_root):
                    count += batch.size
                    continue
                return count, Problem(
                    "batch_root_mismatch",
                    f"the column digests of batch {batch.id} were rewritten"
                    " (query columns changed and their digests recomputed)",
                    batch=batch.id,
                    seq=batch.first_seq,
                )
        return count, _diagnose(batch)
    last_sealed = batches[-1].last_seq if batches else 0
    stray = AuditSeal.objects.filter(seq__gt=max(last_sealed, after_seq)).order_by("seq").first()
    if stray is not None:
        return count, Problem(
            "entry_unbatched",
            f"entry {stray.entry_id} claims seq {stray.seq}, which no batch sealed",
            seq=stray.seq,
            entry_id=stray.entry_id,
        )
    return count, None


# Postgres: digest every sealed entry's query columns again and compare with the digest taken
# at sealing (which its batch header binds). One hash join of seals and entries, no JSON
# parsing; MATERIALIZED keeps the planner from serving ``ORDER BY seq LIMIT 1`` with a million
# index lookups instead (2.1 s against 4.6 s for 1M entries).
_PG_COLUMN_CHECK = (
    "WITH changed AS MATERIALIZED (SELECT s.seq, e.id FROM audit_auditseal s"  # noqa: S608 - constant SQL, no input
    " JOIN audit_auditevent e ON e.id = s.entry_id"
    " WHERE s.seq > %s AND s.columns_md5 IS NOT NULL"
    f" AND decode(md5({COLUMNS_TEXT_SQL}), 'hex') <> s.columns_md5)"
    " SELECT seq, id FROM changed ORDER BY seq LIMIT 1"
)


def _column_fields(event: AuditEvent) -> dict[str, Any]:
    return {
        "ts": format_ts(event.created_at),
        "actor_type": event.actor_type,
        "actor_id": event.actor_id,
        "actor_repr": event.actor_repr,
        "ip": event.ip,
        "request_id": event.request_id,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "target_repr": event.target_repr,
        "scope": event.scope,
        "outcome": event.outcome,
    }


def entry_columns_match_body(event: AuditEvent) -> bool:
    """Whether an entry's query columns still say what its (hashed) body says."""
    body = event.payload
    return all(body.get(k) == v for k, v in _column_fields(event).items())


def _check_columns(after_seq: int) -> Problem | None:
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("SET LOCAL timezone = 'UTC'")
            # One core: this process hashes on the other (parallel workers made the whole
            # verify slower here, 6.9-7.5 s against 5.7-6.2 s for 1M entries).
            cur.execute("SET LOCAL max_parallel_workers_per_gather = 0")
            cur.execute(_PG_COLUMN_CHECK, [after_seq])
            found = cur.fetchone()
    else:
        found = None
        events = AuditEvent.objects.filter(seal__seq__gt=after_seq).select_related("seal")
        for event in events.order_by("seal__seq").iterator():
            if not entry_columns_match_body(event):
                found = (event.seq, event.pk)
                break
    if found is None:
        return None
    return Problem(
        "entry_changed",
        f"entry {found[1]} at seq {found[0]}: its columns no longer match its sealed body",
        seq=found[0],
        entry_id=found[1],
    )


def _check_columns_in_thread(after_seq: int, out: list[Problem | None]) -> None:
    try:
        out.append(_check_columns(after_seq))
    finally:
        connection.close()


def verify_log() -> VerifyReport:
    """Check everything; ``report.problem`` is the first broken link in chain order, if any."""
    started = time.perf_counter()
    report = VerifyReport()
    batches = list(AuditBatch.objects.order_by("id"))
    by_id = {b.id: b for b in batches}
    report.batches = len(batches)
    report.pruned_through_seq = AuditArchive.objects.aggregate(m=Max("last_seq"))["m"] or 0
    problems: list[Problem] = []
    if (p := _check_batches(batches)) is not None:
        problems.append(p)
    report.checkpoints, p = _check_checkpoints(by_id)
    if p is not None:
        problems.append(p)
    column_problem: list[Problem | None] = []
    worker = None
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        # Postgres checks the columns while this process hashes: two cores, half the time.
        # (Inside a transaction a second connection could not see its rows: run in turn.)
        worker = threading.Thread(
            target=_check_columns_in_thread, args=(report.pruned_through_seq, column_problem)
        )
        worker.start()
    report.entries, p = _check_entries(batches, report.pruned_through_seq)
    if p is not None:
        problems.append(p)
    if worker is not None:
        worker.join()
    else:
        column_problem.append(_check_columns(report.pruned_through_seq))
    if column_problem and column_problem[0] is not None:
        problems.append(column_problem[0])
    if problems:
        report.problem = min(problems, key=lambda q: _position(q, by_id))
    unsealed = AuditEvent.objects.filter(seal__isnull=True)
    report.unsealed = unsealed.count()
    grace = timezone.now() - dt.timedelta(seconds=UNSEALED_GRACE_SECONDS)
    report.stale_unsealed = unsealed.filter(created_at__lt=grace).count()
    if report.stale_unsealed:
        report.notes.append(
            f"{report.stale_unsealed} entries older than {UNSEALED_GRACE_SECONDS}s are not sealed:"
            " is the audit sealer (Celery beat) running?"
        )
    if report.pruned_through_seq:
        report.notes.append(
            f"entries up to seq {report.pruned_through_seq} were archived and pruned; batch headers"
            " still chain across the boundary"
        )
    report.seconds = time.perf_counter() - started
    return report
