"""The database itself refuses to rewrite the audit log."""

from pathlib import Path

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from apps.audit.models import AuditArchive, AuditBatch, AuditCheckpoint, AuditEvent
from apps.audit.services import audit_checkpoint_create, audit_seal_pending
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
    _refused("UPDATE audit_auditevent SET seq = 99 WHERE id = %s", [ids[0]], "append-only")
    _refused("DELETE FROM audit_auditevent WHERE id = %s", [ids[1]], "not archived")
    audit_checkpoint_create()
    _refused("UPDATE audit_auditbatch SET root = %s", [bytes(32)], "append-only")
    _refused("DELETE FROM audit_auditcheckpoint", None, "append-only")
    assert AuditEvent.objects.filter(action="test.write").count() == 3
    assert verify_log().ok


def test_sealing_is_the_one_update_allowed_and_only_once(admin):
    (entry_id,) = record(admin, 1)
    _refused(  # sealing must not change anything else on the row
        "UPDATE audit_auditevent SET seq = 1, leaf_hash = %s, target_repr = 'x' WHERE id = %s",
        [bytes(32), entry_id],
        "append-only",
    )
    audit_seal_pending()
    assert AuditEvent.objects.get(pk=entry_id).seq == 1
    _refused("UPDATE audit_auditevent SET seq = 2 WHERE id = %s", [entry_id], "append-only")


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
    _refused("DELETE FROM audit_auditevent WHERE id = %s", [ids[2]], "not archived")
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True)) == [3, 4]


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
    # ... while its normal work goes on: record, seal, checkpoint.
    record(admin, 1)
    assert sum(b.size for b in audit_seal_pending()) == 3
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


def test_sealing_refuses_a_change_to_any_other_column(admin):
    """Every column of the table but seq, leaf_hash and columns_md5 (read from the database,
    so a column added later is checked too) is frozen by the sealing exception."""
    (entry_id,) = record(admin, 1)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT column_name, data_type FROM information_schema.columns"
            " WHERE table_name = 'audit_auditevent' AND column_name NOT IN"
            " ('seq', 'leaf_hash', 'columns_md5') ORDER BY column_name"
        )
        columns = cur.fetchall()
    assert len(columns) >= 14
    for column, data_type in columns:
        assert data_type in _OTHER, f"no test value for {column} ({data_type})"
        _refused(
            f"UPDATE audit_auditevent SET seq = 1, leaf_hash = %s,"  # noqa: S608 - test SQL
            f" {column} = {_OTHER[data_type].format(c=column)} WHERE id = %s",
            [bytes(32), entry_id],
            "append-only",
        )
    audit_seal_pending()  # the sealer's own update still passes
    assert AuditEvent.objects.get(pk=entry_id).seq == 1
