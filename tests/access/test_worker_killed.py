"""A worker killed in the middle of closing expired grants, and a fresh one started: every grant
is closed exactly once, with exactly one audit entry each, and the audit chain still verifies.

Real ``celery worker`` processes (tests/workers.py) on this run's Redis broker and Postgres test
database; the first is SIGKILLed part-way through the task, which is ``acks_late``, so the broker
redelivers it to the second after the visibility timeout.
"""

import datetime as dt
from collections import Counter

import pytest

from apps.access.models import Grant
from apps.access.tasks import grants_close_expired_task
from apps.audit.models import AuditEvent
from apps.audit.services import audit_seal_pending
from apps.audit.verify import verify_log
from tests.factories import grants_bulk
from tests.waiting import wait_until
from tests.workers import broker_unacked

pytestmark = pytest.mark.django_db(transaction=True)

GRANTS = 3000
BATCH = 20  # one transaction each, so the kill lands after the first and before the last


def _closed() -> dict[int, dt.datetime]:
    return dict(Grant.objects.filter(closed_at__isnull=False).values_list("pk", "closed_at"))


def _closed_count() -> int:
    return Grant.objects.filter(closed_at__isnull=False).count()


def test_a_worker_killed_mid_expiry_closes_every_grant_once_and_loses_none(worker_processes):
    ids = grants_bulk(GRANTS, expires_in=-dt.timedelta(hours=1))
    first = worker_processes.start()

    grants_close_expired_task.delay(batch=BATCH)
    assert wait_until(lambda: _closed_count() >= 2 * BATCH, seconds=30), first.log_tail()
    first.kill()

    # Killed mid-task: some batches committed (whole ones only, each with its audit entries),
    # the rest still open, and the task's message taken but never acknowledged.
    closed_by_first = _closed()
    assert 0 < len(closed_by_first) < GRANTS
    assert len(closed_by_first) % BATCH == 0
    assert AuditEvent.objects.filter(action="access.grant.expire").count() == len(closed_by_first)
    assert broker_unacked() == 1

    second = worker_processes.start()

    assert wait_until(lambda: _closed_count() == GRANTS and broker_unacked() == 0, seconds=45), (
        second.log_tail()
    )
    closed = _closed()
    assert set(closed) == ids
    # Closed once: what the first worker closed kept its time; the second closed only the rest.
    assert {pk: closed[pk] for pk in closed_by_first} == closed_by_first
    assert len({at for pk, at in closed.items() if pk not in closed_by_first}) == 1
    expiries = Counter(
        AuditEvent.objects.filter(
            action="access.grant.expire", target_type="access.grant"
        ).values_list("target_id", flat=True)
    )
    assert set(expiries) == {str(pk) for pk in ids}  # none missing
    assert set(expiries.values()) == {1}  # none twice
    audit_seal_pending()
    report = verify_log()
    assert report.ok, report.problem
    assert report.unsealed == 0
