"""The sealer: every committed entry lands in exactly one batch, in a chain, whatever the order."""

import contextlib
import json
import threading

import pytest
from django.db import connection, transaction

from apps.audit import merkle
from apps.audit.models import AuditBatch, AuditEvent
from apps.audit.services import Target, audit_record, audit_seal_pending
from apps.audit.verify import verify_log
from tests.audit.conftest import record, tampering


@pytest.mark.django_db
def test_entries_are_sealed_in_batches_that_chain(admin):
    ids = record(admin, 7)
    assert AuditEvent.objects.filter(pk__in=ids, seal__isnull=True).count() == 7
    batches = audit_seal_pending(limit=3)
    assert [(b.id, b.first_seq, b.last_seq) for b in batches] == [(1, 1, 3), (2, 4, 6), (3, 7, 7)]
    assert bytes(batches[0].prev_hash) == merkle.GENESIS_HASH
    assert bytes(batches[1].prev_hash) == bytes(batches[0].hash)
    events = list(AuditEvent.objects.select_related("seal").order_by("seal__seq"))
    assert [e.pk for e in events] == ids  # sealed in id order
    assert all(bytes(e.leaf_hash) == merkle.leaf_hash(e.body) for e in events)
    assert audit_seal_pending() == []  # idempotent: nothing left
    assert verify_log().ok


@pytest.mark.django_db
def test_an_entry_records_who_what_where_in_its_body(admin):
    from apps.core import context

    token = context.set_current(context.RequestContext(request_id="req-123", ip="10.1.2.3"))
    try:
        (entry_id,) = record(admin, 1)
    finally:
        context.reset(token)
    event = AuditEvent.objects.get(pk=entry_id)
    body = json.loads(event.body)
    assert body["actor_type"] == "user"
    assert body["actor_repr"] == "admin"
    assert (body["ip"], body["request_id"]) == ("10.1.2.3", "req-123")
    assert body["ts"].endswith("Z")
    assert len(body["ts"]) == len("2026-01-01T00:00:00.000Z")
    assert event.created_at.microsecond % 1000 == 0


@pytest.mark.django_db(transaction=True)
def test_recording_outside_a_transaction_is_refused(admin):
    with pytest.raises(RuntimeError, match="inside the transaction"):
        audit_record(actor=admin, action="x", target=Target("t", "1"))


@pytest.mark.django_db(transaction=True)
def test_an_entry_that_commits_late_is_sealed_in_a_later_batch(admin):
    """A long transaction holds a lower id than entries committed and sealed before it."""
    started, release = threading.Event(), threading.Event()
    late: list[int] = []

    def slow_writer() -> None:
        try:
            with transaction.atomic():
                event = audit_record(actor=None, action="test.late", target=Target("t", "late"))
                late.append(event.pk)
                started.set()
                release.wait(10)
        finally:
            connection.close()

    before = record(admin, 1)
    thread = threading.Thread(target=slow_writer)
    thread.start()
    assert started.wait(10)
    early = record(admin, 2)
    assert before[0] < late[0] < early[0]
    first = audit_seal_pending()
    assert sum(b.size for b in first) == 3  # the uncommitted entry is not visible, not skipped
    release.set()
    thread.join(10)
    second = audit_seal_pending()
    assert [b.size for b in second] == [1]
    assert AuditEvent.objects.get(pk=late[0]).seq == 4
    assert AuditBatch.objects.count() == 2
    # The first batch's ids are no longer one run (the late entry sits among them): verify
    # still reads each batch's own entries, and still checks them.
    assert verify_log().ok
    with tampering() as cur:
        cur.execute("UPDATE audit_auditevent SET target_repr = 'x' WHERE id = %s", [early[1]])
    problem = verify_log().problem
    assert (problem.kind, problem.entry_id, problem.seq) == ("entry_changed", early[1], 3)


@pytest.mark.django_db
def test_a_batch_whose_ids_lie_far_apart_is_read_and_checked(admin):
    """Ids that rolled-back transactions took leave gaps: a batch's ids can span far more than
    its size (verify then reads its entries by id, not as one id range)."""
    (first,) = record(admin, 1)
    for _ in range(5):
        with contextlib.suppress(RuntimeError), transaction.atomic():
            audit_record(actor=admin, action="test.undone", target=Target("t", "undone"))
            raise RuntimeError("roll back")
    (last,) = record(admin, 1)
    (batch,) = audit_seal_pending()
    assert (batch.size, last - first) == (2, 6)
    assert verify_log().ok
    with tampering() as cur:
        cur.execute("UPDATE audit_auditevent SET body = body || ' ' WHERE id = %s", [last])
    problem = verify_log().problem
    assert (problem.kind, problem.entry_id, problem.seq) == ("entry_changed", last, 2)


@pytest.mark.django_db(transaction=True)
def test_concurrent_sealers_never_seal_an_entry_twice(admin):
    record(admin, 40)
    errors: list[Exception] = []

    def seal() -> None:
        try:
            audit_seal_pending(limit=7)
        except Exception as exc:  # pragma: no cover - the assertion below reports it
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=seal) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert sorted(AuditEvent.objects.values_list("seal__seq", flat=True)) == list(range(1, 41))
    assert verify_log().ok
