"""Inclusion proofs: show that an entry is covered by a signed checkpoint."""

from typing import Any

from apps.audit import merkle, signing
from apps.audit.models import AuditBatch, AuditCheckpoint, AuditEvent, AuditSeal
from apps.audit.services import format_ts
from apps.core.errors import Conflict, NotFound


def inclusion_proof(*, entry_id: int) -> dict[str, Any]:
    """Everything ``apps.audit.offline.verify_inclusion_proof`` needs, as JSON-ready values."""
    event = AuditEvent.objects.filter(pk=entry_id).select_related("seal").first()
    if event is None:
        raise NotFound("No audit entry with that id.")
    if event.seq is None:
        raise Conflict(
            "This entry is not sealed into a batch yet; try again in a few seconds.",
            code="audit_entry_unsealed",
        )
    batch = AuditBatch.objects.filter(first_seq__lte=event.seq, last_seq__gte=event.seq).first()
    if batch is None:
        raise Conflict("No batch covers this entry: run audit_verify.", code="audit_chain_broken")
    checkpoint = AuditCheckpoint.objects.filter(batch__gte=batch.id).order_by("batch", "id").first()
    if checkpoint is None:
        raise Conflict(
            "No signed checkpoint covers this entry yet; create one (audit_checkpoint) or wait for"
            " the scheduled one.",
            code="audit_entry_not_checkpointed",
        )
    bodies = AuditSeal.objects.filter(seq__range=(batch.first_seq, batch.last_seq)).order_by("seq")
    leaves = [merkle.leaf_hash(body) for body in bodies.values_list("entry__body", flat=True)]
    later = AuditBatch.objects.filter(id__gt=batch.id, id__lte=checkpoint.batch).order_by("id")
    return {
        "entry": {"id": event.pk, "seq": event.seq, "body": event.body},
        "batch": batch_json(batch),
        "audit_path": [h.hex() for h in merkle.audit_path(event.seq - batch.first_seq, leaves)],
        "later_batches": [batch_json(b, header_only=True) for b in later],
        "checkpoint": checkpoint_json(checkpoint),
        "public_key": signing.public_key_pem(),
    }


def batch_json(batch: AuditBatch, *, header_only: bool = False) -> dict[str, Any]:
    """A batch header as proofs and archived segments carry it (hashes in hex)."""
    out: dict[str, Any] = {
        "id": batch.id,
        "first_seq": batch.first_seq,
        "last_seq": batch.last_seq,
        "root": bytes(batch.root).hex(),
        "columns_root": bytes(batch.columns_root).hex(),
    }
    if not header_only:
        out.update(prev_hash=bytes(batch.prev_hash).hex(), hash=bytes(batch.hash).hex())
    return out


def checkpoint_json(checkpoint: AuditCheckpoint) -> dict[str, Any]:
    return {
        "id": checkpoint.pk,
        "batch": checkpoint.batch,
        "last_seq": checkpoint.last_seq,
        "head_hash": bytes(checkpoint.head_hash).hex(),
        "created_at": format_ts(checkpoint.created_at),
        "key_id": checkpoint.key_id,
        "signature": bytes(checkpoint.signature).hex(),
    }
