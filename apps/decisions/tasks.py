"""Decision-side housekeeping on Celery beat: warn before service credentials expire.

Idempotent (each credential is claimed with ``SKIP LOCKED`` and marked in the same transaction
as its audit entry) and ``acks_late``, like the other apps' tasks.
"""

from celery import shared_task

from apps.decisions.credentials import credentials_warn_expiring


@shared_task(acks_late=True)
def credentials_warn_expiring_task() -> int:
    return credentials_warn_expiring()
