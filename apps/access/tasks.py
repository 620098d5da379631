"""Access housekeeping on Celery beat: close expired grants, expire unanswered requests,
escalate unreviewed break-glass use.

Both are idempotent (each row is claimed with ``SKIP LOCKED`` and changed once) and
``acks_late``: a worker killed mid-run leaves the rest for the next run, never a duplicate.
"""

from celery import shared_task

from apps.access.services import break_glass_escalate, grants_close_expired, requests_expire


@shared_task(acks_late=True)
def grants_close_expired_task() -> int:
    return grants_close_expired()


@shared_task(acks_late=True)
def requests_expire_task() -> int:
    return requests_expire()


@shared_task(acks_late=True)
def break_glass_escalate_task() -> int:
    return break_glass_escalate()
