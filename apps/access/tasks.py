"""Access housekeeping on Celery beat: close expired grants, expire unanswered requests,
escalate unreviewed break-glass use.

All are idempotent (each row is claimed with ``SKIP LOCKED`` and changed once, in the same
transaction as its audit entry) and ``acks_late``: a worker killed mid-run leaves its message
unacknowledged, the broker hands it to another worker after the visibility timeout, and that
run does the rest, never anything twice (tests/access/test_worker_killed.py).
"""

from celery import shared_task

from apps.access.services import break_glass_escalate, grants_close_expired, requests_expire


@shared_task(acks_late=True)
def grants_close_expired_task(batch: int = 500) -> int:
    return grants_close_expired(batch=batch)


@shared_task(acks_late=True)
def requests_expire_task() -> int:
    return requests_expire()


@shared_task(acks_late=True)
def break_glass_escalate_task() -> int:
    return break_glass_escalate()
