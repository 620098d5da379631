"""Standalone entries (decisions) through group commit: durable before the caller goes on."""

import threading

import pytest
from django.db import connection, transaction

from apps.audit.models import AuditEvent
from apps.audit.services import Target, audit_record_committed, audit_seal_pending
from apps.audit.verify import verify_log
from apps.core.errors import ServiceUnavailable
from tests.db_faults import audit_inserts_failing

pytestmark = pytest.mark.django_db(transaction=True)


def _decide(i: int) -> int:
    return audit_record_committed(
        actor="svc",
        action="decision.evaluate",
        target=Target("catalog.dataset", str(i)),
        changes={"decision": "allow"},
    )


def test_concurrent_callers_each_get_a_committed_entry():
    ids: list[int] = []
    barrier = threading.Barrier(40)

    def caller(i: int) -> None:
        barrier.wait()
        try:
            ids.append(_decide(i))
        finally:
            connection.close()

    threads = [threading.Thread(target=caller, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(set(ids)) == 40
    stored = AuditEvent.objects.filter(pk__in=ids)
    assert sorted(int(e.target_id) for e in stored) == list(range(40))
    audit_seal_pending()
    assert verify_log().ok


def test_an_entry_that_cannot_be_committed_fails_the_caller():
    with audit_inserts_failing(), pytest.raises(ServiceUnavailable) as err:
        _decide(1)
    assert err.value.code == "audit_unavailable"
    assert not AuditEvent.objects.filter(action="decision.evaluate").exists()
    assert _decide(2) > 0  # and the appender recovers


def test_it_refuses_to_run_inside_a_transaction():
    with pytest.raises(RuntimeError, match="outside a transaction"), transaction.atomic():
        _decide(3)


def test_a_caller_that_times_out_behind_a_stuck_write_leaves_no_entry():
    """While one caller's write waits on a lock, a second caller gives up after its timeout:
    it is told so, and its entry is never written afterwards (it would claim a decision that
    was answered as a failure)."""
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    locker = psycopg.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=connection.settings_dict["NAME"]
    )
    locker.execute("LOCK TABLE audit_auditevent IN EXCLUSIVE MODE")  # inserts now wait
    first: list[int] = []

    def leader() -> None:
        try:
            first.append(_decide(10))
        finally:
            connection.close()

    thread = threading.Thread(target=leader)
    thread.start()
    try:
        _wait_for_lock_waiter(locker)
        with pytest.raises(ServiceUnavailable):
            audit_record_committed(
                actor="svc",
                action="decision.evaluate",
                target=Target("catalog.dataset", "11"),
                timeout=0.3,
            )
    finally:
        locker.rollback()  # releases the lock: the first write goes through
        locker.close()
        thread.join(10)
    _decide(12)  # the next write takes whatever is still queued
    assert first
    assert AuditEvent.objects.filter(pk=first[0], target_id="10").exists()
    assert not AuditEvent.objects.filter(target_id="11").exists()


def _wait_for_lock_waiter(locker) -> None:
    import time

    for _ in range(200):
        waiting = locker.execute(
            "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'audit_auditevent'::regclass"
        ).fetchone()
        if waiting and waiting[0]:
            return
        time.sleep(0.02)
    raise AssertionError("the first write never reached the lock")


def test_a_caller_writing_on_its_own_connection_takes_the_queued_entries_along():
    """Entries queued by callers with no connection (here: with the writer thread stopped) are
    committed by the next caller that writes on its own connection, in the same write."""
    import time

    from apps.audit.appender import GroupCommitAppender
    from apps.audit.services import Target, _common_fields, _entry_columns

    def entry(target_id: str) -> dict:
        return _entry_columns(
            _common_fields("svc"), "decision.evaluate", Target("t", target_id), {}, None, "success"
        )

    appender = GroupCommitAppender()
    appender.stop()  # no writer thread: only a caller can write what is queued
    queued: list[int] = []

    def without_connection() -> None:
        queued.extend(appender.append_many([entry("queued")], timeout=10))

    thread = threading.Thread(target=without_connection)
    thread.start()
    for _ in range(200):
        if appender._queue.qsize():
            break
        time.sleep(0.01)
    connection.ensure_connection()
    (own,) = appender.append_many([entry("own")], timeout=10)
    thread.join(10)
    assert len(queued) == 1
    assert AuditEvent.objects.get(pk=queued[0]).target_id == "queued"
    assert AuditEvent.objects.get(pk=own).target_id == "own"


def test_entries_recorded_without_reading_their_ids_are_all_stored_and_sealed():
    """A batch of decisions does not need its entries' ids: one round trip fewer, same rows."""
    from apps.audit.services import Entry, audit_record_committed_many

    def entries(prefix: str) -> list[Entry]:
        return [
            Entry(action="decision.evaluate", target=Target("t", f"{prefix}{i}"), changes={"i": i})
            for i in range(3)
        ]

    connection.ensure_connection()  # as on the decision path: written on this connection
    assert audit_record_committed_many(actor="svc", entries=entries("plain"), read_ids=False) == []
    ids = audit_record_committed_many(actor="svc", entries=entries("ided"))
    assert len(ids) == 3
    stored = AuditEvent.objects.filter(action="decision.evaluate")
    assert sorted(stored.values_list("target_id", flat=True)) == sorted(
        [f"plain{i}" for i in range(3)] + [f"ided{i}" for i in range(3)]
    )
    assert set(ids) == set(stored.filter(target_id__startswith="ided").values_list("pk", flat=True))
    audit_seal_pending()
    assert verify_log().ok


@pytest.mark.parametrize("ip", ["203.0.113.7", "2001:db8::1", None])
@pytest.mark.parametrize("read_ids", [True, False])
def test_a_batch_stores_every_column_as_the_entry_body_says(ip, read_ids, django_user_model):
    """Batches go in by binary COPY: the address, the actor's id, the time and non-ASCII text
    land in their columns exactly as the body records them, and the log verifies."""
    import json

    from apps.audit.services import Entry, audit_record_committed_many
    from apps.core import context

    user = django_user_model.objects.create(username="zoë")
    entries = [
        Entry(action="decision.evaluate", target=Target("t", f"é{i}", "ünïcode"), changes={"i": i})
        for i in range(3)
    ]
    token = context.set_current(context.RequestContext(request_id="req-binary", ip=ip))
    try:
        connection.ensure_connection()
        audit_record_committed_many(actor=user, entries=entries, read_ids=read_ids)
    finally:
        context.reset(token)
    stored = list(AuditEvent.objects.filter(request_id="req-binary").order_by("id"))
    assert [e.target_id for e in stored] == ["é0", "é1", "é2"]
    for event in stored:
        body = json.loads(event.body)
        assert (event.ip, body["ip"]) == (ip, ip)
        assert (event.actor_id, body["actor_id"]) == (user.pk, user.pk)
        assert (event.actor_repr, event.target_repr) == ("zoë", "ünïcode")
        assert event.created_at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z" == body["ts"]
    audit_seal_pending()
    assert verify_log().ok
