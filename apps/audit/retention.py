"""Retention: export a verifiable segment to a file, then prune the entries it holds.

A segment is JSON Lines: a header, the batch headers from its first batch up to the first
checkpoint that covers its last one, its entries (bodies and leaf hashes), and that signed
checkpoint. ``python -m apps.audit.offline segment FILE KEY.pem`` checks it with no database.
Only whole batches older than the cutoff and under a checkpoint are archived. Batch headers
are never pruned, so ``verify_log`` still walks the whole chain across the pruned boundary;
the database triggers let DELETE through only for entries (and seals) an archive row covers.
"""

import datetime as dt
import hashlib
import json
import os
from pathlib import Path

from django.db import transaction
from django.db.models import Max, Min
from django.utils import timezone

from apps.audit import signing
from apps.audit.models import AuditArchive, AuditBatch, AuditCheckpoint, AuditEvent, AuditSeal
from apps.audit.proofs import batch_json, checkpoint_json
from apps.audit.services import (
    Target,
    audit_checkpoint_create,
    audit_record,
    format_ts,
    hold_seal_lock,
)


def _archivable_through(cutoff: dt.datetime, after_seq: int) -> AuditBatch | None:
    """The last batch whose entries are all older than ``cutoff`` and under a checkpoint."""
    young = AuditSeal.objects.filter(seq__gt=after_seq, entry__created_at__gte=cutoff).aggregate(
        s=Min("seq")
    )["s"]
    signed = AuditCheckpoint.objects.aggregate(b=Max("batch"))["b"] or 0
    batches = AuditBatch.objects.filter(last_seq__gt=after_seq, id__lte=signed)
    if young is not None:
        batches = batches.filter(last_seq__lt=young)
    return batches.order_by("-id").first()


def _write_segment(
    path: Path, first: AuditBatch, last: AuditBatch, checkpoint: AuditCheckpoint
) -> tuple[int, str]:
    digest = hashlib.sha256()
    tmp = path.with_suffix(".tmp")
    count = 0
    with tmp.open("w", encoding="utf-8") as out:

        def emit(obj: dict) -> None:
            line = json.dumps(obj, separators=(",", ":"), ensure_ascii=False) + "\n"
            out.write(line)
            digest.update(line.encode())

        emit(
            {
                "type": "segment",
                "version": 1,
                "first_seq": first.first_seq,
                "last_seq": last.last_seq,
                "first_batch": first.id,
                "last_batch": last.id,
                "public_key": signing.public_key_pem(),
            }
        )
        for batch in AuditBatch.objects.filter(id__gte=first.id, id__lte=checkpoint.batch).order_by(
            "id"
        ):
            emit({"type": "batch", **batch_json(batch)})
        entries = (
            AuditSeal.objects.filter(seq__gte=first.first_seq, seq__lte=last.last_seq)
            .order_by("seq")
            .values_list("seq", "entry_id", "entry__body", "leaf_hash")
        )
        for seq, entry_id, body, leaf in entries.iterator(chunk_size=10_000):
            emit(
                {
                    "type": "entry",
                    "seq": seq,
                    "id": entry_id,
                    "body": body,
                    "leaf_hash": bytes(leaf).hex(),
                }
            )
            count += 1
        emit({"type": "checkpoint", **checkpoint_json(checkpoint)})
        out.flush()
        os.fsync(out.fileno())
    tmp.rename(path)
    return count, digest.hexdigest()


def audit_archive_and_prune(
    *, older_than_days: int, directory: str | Path, now: dt.datetime | None = None
) -> AuditArchive | None:
    """Archive and prune whole batches older than ``older_than_days``; None if nothing is due."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=older_than_days)
    audit_checkpoint_create(only_if_new=True)  # so the batches due are under a signature
    with transaction.atomic():
        hold_seal_lock()
        after_seq = AuditArchive.objects.aggregate(m=Max("last_seq"))["m"] or 0
        last = _archivable_through(cutoff, after_seq)
        if last is None:
            return None
        first = AuditBatch.objects.get(first_seq=after_seq + 1)
        checkpoint = (
            AuditCheckpoint.objects.filter(batch__gte=last.id).order_by("batch", "id").first()
        )
        if checkpoint is None:  # _archivable_through only offers signed batches
            raise RuntimeError("no checkpoint covers the batches being archived")
        target_dir = Path(directory)
        target_dir.mkdir(parents=True, exist_ok=True)
        path = target_dir / f"audit-seq-{first.first_seq:012d}-{last.last_seq:012d}.jsonl"
        entries, sha = _write_segment(path, first, last, checkpoint)
        archive = AuditArchive.objects.create(
            created_at=timezone.now(),
            first_seq=first.first_seq,
            last_seq=last.last_seq,
            last_batch=last.id,
            entries=entries,
            path=str(path),
            sha256=sha,
        )
        # Entries first: the trigger lets an entry go only while its seal shows it archived.
        AuditEvent.objects.filter(seal__seq__lte=last.last_seq).delete()
        AuditSeal.objects.filter(seq__lte=last.last_seq).delete()
        audit_record(
            actor="audit retention",
            action="audit.archive",
            target=archive,
            scope=Target("audit.log", "chain", "audit log"),
            changes={
                "first_seq": first.first_seq,
                "last_seq": last.last_seq,
                "entries": entries,
                "sha256": sha,
                "cutoff": format_ts(cutoff),
            },
        )
        return archive
