from contextlib import contextmanager

import pytest
from django.db import connection, transaction

from apps.audit.services import Target, audit_record, audit_seal_pending


def record(actor, n: int, *, action: str = "test.write") -> list[int]:
    """Record ``n`` entries, each in its own transaction; returns their ids."""
    ids = []
    for i in range(n):
        with transaction.atomic():
            event = audit_record(
                actor=actor,
                action=action,
                target=Target("test.thing", str(i), f"thing {i}"),
                changes={"name": {"before": f"old {i}", "after": f"new {i}"}},
            )
        ids.append(event.pk)
    return ids


@contextmanager
def tampering(table: str = "audit_auditevent"):
    """What a superuser can do: switch the append-only triggers off, change rows, switch back."""
    with connection.cursor() as cur:
        cur.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        try:
            yield cur
        finally:
            cur.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")


@pytest.fixture
def sealed_log(admin):
    """25 entries in three batches (10, 10, 5), with a checkpoint over the head."""
    from apps.audit.services import audit_checkpoint_create

    ids = record(admin, 25)
    audit_seal_pending(limit=10)
    checkpoint = audit_checkpoint_create()
    return ids, checkpoint
