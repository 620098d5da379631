"""The database itself refuses to rewrite the audit log."""

from pathlib import Path

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from apps.audit import merkle
from apps.audit.models import (
    AuditArchive,
    AuditBatch,
    AuditCheckpoint,
    AuditEvent,
    AuditPending,
    AuditSeal,
)
from apps.audit.services import (
    Entry,
    Target,
    audit_checkpoint_create,
    audit_record_committed_many,
    audit_seal_pending,
)
from apps.audit.verify import verify_log
from tests.audit.conftest import record

pytestmark = pytest.mark.django_db

APP_ROLE_SQL = Path(settings.BASE_DIR) / "deploy" / "postgres" / "app-role.sql"


def _refused(sql: str, params=None, match: str = "") -> None:
    with (
        pytest.raises(DatabaseError, match=match),
        transaction.atomic(),
        connection.cursor() as cur,
    ):
        cur.execute(sql, params)


def test_update_and_delete_are_refused_even_for_the_owner(admin):
    ids = record(admin, 3)
    audit_seal_pending()
    _refused("UPDATE audit_auditevent SET action = 'x' WHERE id = %s", [ids[0]], "append-only")
    _refused("DELETE FROM audit_auditevent WHERE id = %s", [ids[1]], "not archived")
    _refused("UPDATE audit_auditseal SET seq = 99 WHERE entry_id = %s", [ids[0]], "append-only")
    _refused("UPDATE audit_auditseal SET leaf_hash = %s", [bytes(32)], "append-only")
    _refused("DELETE FROM audit_auditseal WHERE entry_id = %s", [ids[2]], "append-only")
    audit_checkpoint_create()
    _refused("UPDATE audit_auditbatch SET root = %s", [bytes(32)], "append-only")
    _refused("DELETE FROM audit_auditcheckpoint", None, "append-only")
    assert AuditEvent.objects.filter(action="test.write").count() == 3
    assert AuditSeal.objects.count() == 3
    assert verify_log().ok


def test_no_update_of_an_entry_is_allowed_sealed_or_not(admin):
    """Sealing writes a seal row beside the entry; the entry itself never changes."""
    (entry_id,) = record(admin, 1)
    assert AuditPending.objects.filter(entry_id=entry_id).exists()  # queued by the trigger
    _refused("UPDATE audit_auditevent SET body = body WHERE id = %s", [entry_id], "append-only")
    audit_seal_pending()
    event = AuditEvent.objects.select_related("seal").get(pk=entry_id)
    assert (event.seq, event.leaf_hash) == (1, merkle.leaf_hash(event.body))
    assert not AuditPending.objects.exists()
    _refused("UPDATE audit_auditevent SET body = body WHERE id = %s", [entry_id], "append-only")


@pytest.mark.django_db(transaction=True)
def test_every_insert_is_queued_for_the_sealer_whoever_writes_it(admin):
    """The queue is filled by the database: an ORM save, a many-row INSERT and a COPY alike."""
    record(admin, 2)  # ORM
    audit_record_committed_many(  # the group-commit appender: COPY
        actor=admin,
        entries=[Entry("test.copy", Target("t", str(i))) for i in range(3)],
        read_ids=False,
    )
    assert AuditPending.objects.count() == 5
    assert sorted(AuditPending.objects.values_list("entry_id", flat=True)) == sorted(
        AuditEvent.objects.values_list("id", flat=True)
    )
    assert sum(b.size for b in audit_seal_pending()) == 5
    assert not AuditPending.objects.exists()
    assert verify_log().ok


def test_a_queued_entry_already_sealed_is_not_sealed_twice(admin):
    """The queue is not guarded: an entry put back on it must not wedge the sealer."""
    first, _ = record(admin, 2)
    audit_seal_pending()
    AuditPending.objects.create(entry_id=first)
    record(admin, 1)
    (batch,) = audit_seal_pending()
    assert (batch.first_seq, batch.last_seq) == (3, 3)
    assert not AuditPending.objects.exists()
    assert verify_log().ok


def test_only_archived_entries_can_be_deleted(admin):
    ids = record(admin, 4)
    audit_seal_pending(limit=2)
    AuditArchive.objects.create(
        created_at=timezone.now(),
        first_seq=1,
        last_seq=2,
        last_batch=1,
        entries=2,
        path="x",
        sha256="0" * 64,
    )
    with connection.cursor() as cur:
        cur.execute("DELETE FROM audit_auditevent WHERE id = ANY(%s)", [ids[:2]])
        cur.execute("DELETE FROM audit_auditseal WHERE seq <= 2")
    _refused("DELETE FROM audit_auditevent WHERE id = %s", [ids[2]], "not archived")
    _refused("DELETE FROM audit_auditseal WHERE seq = 3", None, "append-only")
    assert list(AuditSeal.objects.values_list("seq", flat=True)) == [3, 4]
    assert AuditEvent.objects.count() == 2


def test_the_application_role_cannot_rewrite_or_unguard_the_log(admin):
    """As deploy/postgres/app-role.sql sets it up: append and seal, nothing else."""
    ids = record(admin, 2)
    with connection.cursor() as cur:
        cur.execute(APP_ROLE_SQL.read_text())
        cur.execute("SET LOCAL ROLE steward_app")
    _refused("UPDATE audit_auditevent SET body = 'x' WHERE id = %s", [ids[0]], "permission denied")
    _refused("DELETE FROM audit_auditevent WHERE id = %s", [ids[0]], "not archived")
    _refused("TRUNCATE audit_auditevent", None, "permission denied")
    _refused("ALTER TABLE audit_auditevent DISABLE TRIGGER USER", None, "must be owner")
    _refused("SET session_replication_role = replica", None, "permission denied")
    _refused("UPDATE audit_auditbatch SET root = root", None, "permission denied")
    _refused("UPDATE audit_auditseal SET seq = seq", None, "permission denied")
    # ... while its normal work goes on: record, seal, checkpoint.
    record(admin, 1)
    assert sum(b.size for b in audit_seal_pending()) == 3
    _refused("DELETE FROM audit_auditseal", None, "append-only")
    assert audit_checkpoint_create() is not None
    assert AuditBatch.objects.count() == 1
    assert AuditCheckpoint.objects.count() == 1
    assert verify_log().ok


# A value of each column's type that differs from any value an entry holds.
_OTHER = {
    "bigint": "{c} + 1000000",
    "integer": "coalesce({c}, 0) + 1000000",
    "timestamp with time zone": "{c} + interval '1 second'",
    "inet": "'192.0.2.99'",
    "character varying": "{c} || 'x'",
    "text": "{c} || ' '",
}


def test_a_change_to_any_column_of_an_entry_is_refused(admin):
    """Every column (read from the database, so a column added later is checked too), before
    and after sealing."""
    (entry_id,) = record(admin, 1)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT column_name, data_type FROM information_schema.columns"
            " WHERE table_name = 'audit_auditevent' ORDER BY column_name"
        )
        columns = cur.fetchall()
    assert len(columns) >= 14
    for sealed in (False, True):
        if sealed:
            audit_seal_pending()
        for column, data_type in columns:
            assert data_type in _OTHER, f"no test value for {column} ({data_type})"
            _refused(
                f"UPDATE audit_auditevent SET {column} = {_OTHER[data_type].format(c=column)}"  # noqa: S608 - test SQL
                " WHERE id = %s",
                [entry_id],
                "append-only",
            )
    assert AuditEvent.objects.select_related("seal").get(pk=entry_id).seq == 1
