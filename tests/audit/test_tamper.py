"""Each kind of tampering, done to the rows in Postgres as a superuser would, is named by verify."""

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.audit import merkle
from apps.audit.models import AuditBatch, AuditCheckpoint, AuditEvent
from apps.audit.services import format_ts
from apps.audit.verify import verify_log
from tests.audit.conftest import tampering

pytestmark = pytest.mark.django_db


def test_an_untouched_log_verifies(sealed_log):
    report = verify_log()
    assert report.ok, report.problem
    assert (report.entries, report.batches, report.checkpoints) == (25, 3, 1)
    call_command("audit_verify")  # exits 0


def test_a_changed_body_is_named(sealed_log):
    ids, _ = sealed_log
    victim = AuditEvent.objects.get(pk=ids[12])
    with tampering() as cur:
        cur.execute(
            "UPDATE audit_auditevent SET body = replace(body, 'new 12', 'new 99') WHERE id = %s",
            [victim.pk],
        )
    report = verify_log()
    assert report.problem.kind == "entry_changed"
    assert (report.problem.entry_id, report.problem.seq) == (victim.pk, victim.seq)


def test_a_changed_column_is_named_even_when_the_body_is_intact(sealed_log):
    ids, _ = sealed_log
    with tampering() as cur:
        cur.execute("UPDATE audit_auditevent SET actor_repr = 'mallory' WHERE id = %s", [ids[3]])
    report = verify_log()
    assert report.problem.kind == "entry_changed"
    assert report.problem.entry_id == ids[3]
    assert "columns" in report.problem.message


def test_a_body_rewritten_with_its_leaf_hash_breaks_the_batch_root(sealed_log):
    ids, _ = sealed_log
    event = AuditEvent.objects.get(pk=ids[15])
    forged = event.body.replace("new 15", "new 77")
    with tampering() as cur, tampering("audit_auditseal") as scur:
        cur.execute("UPDATE audit_auditevent SET body = %s WHERE id = %s", [forged, event.pk])
        scur.execute(
            "UPDATE audit_auditseal SET leaf_hash = %s WHERE entry_id = %s",
            [merkle.leaf_hash(forged), event.pk],
        )
    report = verify_log()
    assert report.problem.kind == "batch_root_mismatch"
    assert report.problem.batch == 2


def test_a_deleted_entry_is_named(sealed_log):
    ids, _ = sealed_log
    victim = AuditEvent.objects.get(pk=ids[7])
    with tampering() as cur:
        cur.execute("DELETE FROM audit_auditevent WHERE id = %s", [victim.pk])
    report = verify_log()
    assert report.problem.kind == "entry_deleted"
    assert report.problem.seq == victim.seq


def test_a_deleted_seal_is_named(sealed_log):
    ids, _ = sealed_log
    victim = AuditEvent.objects.get(pk=ids[4])
    with tampering("audit_auditseal") as cur:
        cur.execute("DELETE FROM audit_auditseal WHERE entry_id = %s", [victim.pk])
    report = verify_log()
    assert report.problem.kind == "entry_deleted"
    assert report.problem.seq == 5


def test_reordered_entries_are_named(sealed_log):
    ids, _ = sealed_log
    a, b = AuditEvent.objects.get(pk=ids[20]), AuditEvent.objects.get(pk=ids[21])
    with tampering("audit_auditseal") as cur:  # swap their seals' seq; unique: go through -1
        cur.execute("UPDATE audit_auditseal SET seq = -1 WHERE seq = %s", [a.seq])
        cur.execute("UPDATE audit_auditseal SET seq = %s WHERE seq = %s", [a.seq, b.seq])
        cur.execute("UPDATE audit_auditseal SET seq = %s WHERE seq = -1", [b.seq])
    report = verify_log()
    assert report.problem.kind == "entries_reordered"
    assert report.problem.seq == b.seq


def test_a_changed_batch_header_is_named(sealed_log):
    with tampering("audit_auditbatch") as cur:
        cur.execute("UPDATE audit_auditbatch SET root = %s WHERE id = 2", [bytes(32)])
    report = verify_log()
    assert report.problem.kind == "batch_changed"
    assert report.problem.batch == 2


def test_a_truncated_tail_is_caught_by_the_checkpoint(sealed_log):
    with (
        tampering() as cur,
        tampering("audit_auditseal") as scur,
        tampering("audit_auditbatch") as bcur,
    ):
        cur.execute(
            "DELETE FROM audit_auditevent WHERE id IN"
            " (SELECT entry_id FROM audit_auditseal WHERE seq > 20)"
        )
        scur.execute("DELETE FROM audit_auditseal WHERE seq > 20")
        bcur.execute("DELETE FROM audit_auditbatch WHERE id = 3")
    report = verify_log()
    assert report.problem.kind == "checkpoint_mismatch"


def test_a_checkpoint_with_a_forged_signature_is_named(sealed_log):
    _, real = sealed_log
    AuditCheckpoint.objects.create(
        created_at=real.created_at,
        batch=real.batch,
        last_seq=real.last_seq,
        head_hash=bytes(real.head_hash),
        key_id=real.key_id,
        signature=bytes(64),
    )
    report = verify_log()
    assert report.problem.kind == "checkpoint_forged"


def test_a_checkpoint_signed_by_a_foreign_key_is_named(sealed_log):
    _, real = sealed_log
    head = AuditBatch.objects.get(pk=real.batch)
    message = merkle.checkpoint_message(
        batch=head.id,
        last_seq=head.last_seq,
        head_hash=bytes(head.hash),
        created_at=format_ts(real.created_at),
    )
    AuditCheckpoint.objects.create(
        created_at=real.created_at,
        batch=head.id,
        last_seq=head.last_seq,
        head_hash=bytes(head.hash),
        key_id=real.key_id,  # claims our key id, but signed with another key
        signature=Ed25519PrivateKey.generate().sign(message),
    )
    report = verify_log()
    assert report.problem.kind == "checkpoint_forged"


def test_the_verify_command_fails_and_names_the_break(sealed_log, capsys):
    ids, _ = sealed_log
    with tampering() as cur:
        cur.execute("DELETE FROM audit_auditevent WHERE id = %s", [ids[0]])
    with pytest.raises(CommandError, match="entry at seq 1 is missing"):
        call_command("audit_verify")


def test_the_first_break_in_chain_order_is_reported(sealed_log):
    ids, _ = sealed_log
    with tampering() as cur:
        cur.execute("UPDATE audit_auditevent SET actor_repr = 'x' WHERE id = %s", [ids[18]])
        cur.execute("DELETE FROM audit_auditevent WHERE id = %s", [ids[4]])
    report = verify_log()
    assert report.problem.kind == "entry_deleted"
    assert report.problem.seq == 5


def test_awkward_text_and_addresses_verify_without_false_alarms(admin):
    """The column check rebuilds bodies in SQL: escaping must agree with Python's encoder."""
    from django.db import transaction

    from apps.audit.services import Target, audit_checkpoint_create, audit_record
    from apps.core import context

    awkward = 'quote " backslash \\ newline \n tab \t bell \x07 del \x7f é € 😀 \u2028'
    for ip in ("2001:0db8:0000:0000:0000:0000:0000:0001", "::1", "192.0.2.7", None):
        token = context.set_current(context.RequestContext(request_id=f"r-{ip}", ip=ip))
        try:
            with transaction.atomic():
                audit_record(
                    actor=admin,
                    action="test.awkward",
                    target=Target("t", awkward[:60], awkward),
                    changes={awkward: {"before": awkward, "after": None}},
                )
        finally:
            context.reset(token)
    audit_checkpoint_create()
    report = verify_log()
    assert report.ok, report.problem
    assert report.entries == 4


def test_a_changed_column_with_its_digest_recomputed_breaks_the_batch(sealed_log):
    from apps.audit.services import COLUMNS_TEXT_SQL

    ids, _ = sealed_log
    with tampering() as cur, tampering("audit_auditseal") as scur:
        cur.execute("UPDATE audit_auditevent SET actor_repr = 'mallory' WHERE id = %s", [ids[11]])
        scur.execute("SET LOCAL timezone = 'UTC'")
        scur.execute(
            "UPDATE audit_auditseal s"  # noqa: S608 - test SQL
            f" SET columns_md5 = decode(md5({COLUMNS_TEXT_SQL}), 'hex')"
            " FROM audit_auditevent e WHERE e.id = s.entry_id AND e.id = %s",
            [ids[11]],
        )
    report = verify_log()
    assert report.problem.kind == "batch_root_mismatch"
    assert report.problem.batch == 2
    assert "column digests" in report.problem.message
