"""Background work on data sources: schema sync and PII scan, queued by the request services."""

from celery import shared_task

from apps.catalog.models import DataSource
from apps.catalog.services.sync import source_sync
from apps.core.errors import SourceUnavailable

_RETRY = {
    "acks_late": True,
    "autoretry_for": (SourceUnavailable,),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "max_retries": 3,
}


@shared_task(**_RETRY)
def source_sync_task(source_id: int) -> None:
    """Sync one source as the system; a source deleted since queueing is skipped."""
    source = DataSource.objects.filter(pk=source_id).first()
    if source is None:
        return
    source_sync(actor=None, source=source)
