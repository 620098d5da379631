import json
from functools import cached_property
from typing import Any

from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    """One recorded action: who did what to which object, with what outcome, when.

    Written only by ``apps.audit.services.audit_record`` inside the caller's transaction, so an
    action and its record commit or roll back together. ``body`` is the entry's canonical JSON
    and is what the hash chain covers; the other columns are an index over it for queries
    (verification checks they still match the body); ``changes`` lives only in the body.
    Nothing in an entry changes after it is written: its place in the chain is an ``AuditSeal``
    row beside it. Database triggers refuse every UPDATE and any DELETE not covered by an
    archive (migrations 0003 and 0008).
    """

    class Outcome(models.TextChoices):
        SUCCESS = "success"
        DENIED = "denied"
        ERROR = "error"

    class ActorType(models.TextChoices):
        USER = "user"
        SERVICE = "service"
        SYSTEM = "system"
        ANONYMOUS = "anonymous"

    created_at = models.DateTimeField(db_index=True)
    actor_type = models.CharField(max_length=16, choices=ActorType.choices)
    # No database constraint and no cascade: deleting a user must never touch its audit trail.
    # Not indexed: nothing looks entries up by user id (the viewer filters by actor_repr).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    actor_repr = models.CharField(max_length=200)
    ip = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=64)
    action = models.CharField(max_length=80)
    target_type = models.CharField(max_length=80)
    target_id = models.CharField(max_length=64)
    target_repr = models.CharField(max_length=400)
    # "catalog.dataset:42": the object whose history this event belongs to (a column's change
    # shows in its dataset's history).
    scope = models.CharField(max_length=120)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.SUCCESS)
    # The canonical JSON of the whole entry, ``changes`` (the before/after digest) included.
    body = models.TextField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="audit_target_idx"),
            models.Index(fields=["actor_repr", "created_at"], name="audit_actor_idx"),
            # One index per filter: every index is paid for by every append.
            # ``action`` is matched exactly or by prefix ("catalog."): a pattern_ops index
            # serves both; ``scope`` only exactly.
            models.Index(
                fields=["action"], name="audit_action_idx", opclasses=["varchar_pattern_ops"]
            ),
            models.Index(fields=["scope"], name="audit_scope_idx"),
        ]
        permissions = [("export_auditevent", "Can export audit events")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_repr} {self.action} {self.target_repr}"

    @cached_property
    def payload(self) -> dict[str, Any]:
        """The parsed body: what the chain vouches for."""
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed

    @property
    def changes(self) -> Any:
        """The before/after digest, read from the body (it has no column of its own)."""
        return self.payload.get("changes", {})

    @property
    def sealed(self) -> "AuditSeal | None":
        """The entry's place in the chain; ``None`` while it waits for the sealer. (Lists
        ``select_related("seal")`` so this costs no query per entry.)"""
        seal: AuditSeal | None = getattr(self, "seal", None)
        return seal

    @property
    def seq(self) -> int | None:
        return self.sealed.seq if self.sealed is not None else None

    @property
    def leaf_hash(self) -> bytes | None:
        return bytes(self.sealed.leaf_hash) if self.sealed is not None else None


class AuditSeal(models.Model):
    """Where the sealer put an entry: its sequence number, the leaf hash of its body, and (on
    Postgres) the MD5 of its query columns as the database renders them, which the batch header
    binds so verify can check every row's columns in one cheap scan.

    Written once, beside the entry rather than into it: an UPDATE of the entry would rewrite
    the whole row and all its index entries and leave a dead copy behind, for every entry.
    Triggers refuse UPDATE and any DELETE not covered by an archive, as for the entries.
    """

    seq = models.BigIntegerField(primary_key=True)
    # No database constraint: entries and their seals are pruned together, and verify (not a
    # foreign key) is what reports a seal whose entry is gone.
    entry = models.OneToOneField(
        AuditEvent, on_delete=models.DO_NOTHING, db_constraint=False, related_name="seal"
    )
    leaf_hash = models.BinaryField(max_length=32)
    columns_md5 = models.BinaryField(max_length=16, null=True, blank=True)

    class Meta:
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"seq {self.seq}: entry {self.entry_id}"


class AuditPending(models.Model):
    """The sealer's queue: one row per entry not sealed yet, added by a database trigger on
    every insert into the log (whoever writes it) and deleted when the entry is sealed."""

    entry_id = models.BigIntegerField(primary_key=True)

    def __str__(self) -> str:
        return f"entry {self.entry_id} (pending)"


class AuditBatch(models.Model):
    """A sealed run of entries ``first_seq..last_seq``: their Merkle root, chained to the last."""

    id = models.BigIntegerField(primary_key=True)  # 1, 2, 3, ... in chain order
    first_seq = models.BigIntegerField(unique=True)
    last_seq = models.BigIntegerField(unique=True)
    root = models.BinaryField(max_length=32)
    columns_root = models.BinaryField(max_length=32)
    prev_hash = models.BinaryField(max_length=32)
    hash = models.BinaryField(max_length=32)
    sealed_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"batch {self.id} (seq {self.first_seq}-{self.last_seq})"

    @property
    def size(self) -> int:
        return self.last_seq - self.first_seq + 1


class AuditCheckpoint(models.Model):
    """An Ed25519 signature over the chain head at ``batch``."""

    created_at = models.DateTimeField()
    batch = models.BigIntegerField()
    last_seq = models.BigIntegerField()
    head_hash = models.BinaryField(max_length=32)
    key_id = models.CharField(max_length=16)
    signature = models.BinaryField(max_length=64)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"checkpoint {self.pk} at batch {self.batch}"


class AuditArchive(models.Model):
    """A verifiable segment exported to a file before its entries were pruned."""

    created_at = models.DateTimeField()
    first_seq = models.BigIntegerField()
    last_seq = models.BigIntegerField()
    last_batch = models.BigIntegerField()
    entries = models.BigIntegerField()
    path = models.CharField(max_length=500)
    sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["-last_seq"]

    def __str__(self) -> str:
        return f"archive of seq {self.first_seq}-{self.last_seq}"
