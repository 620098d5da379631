"""Background work on data sources: schema sync and PII scan, queued by the request services.

Each task takes an id, returns early if the source is gone, and calls one service as the
system (``actor=None``). An unreachable source is retried with backoff, at most three times;
the services lock the source row themselves, so a retry never interleaves with another run.
"""

from celery import chain, shared_task

from apps.catalog.models import DataSource
from apps.catalog.services.scanning import source_scan
from apps.catalog.services.sync import source_sync, sources_due_for_refresh
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
    """Sync one source's schema; a source deleted since queueing is skipped."""
    source = DataSource.objects.filter(pk=source_id).first()
    if source is None:
        return
    source_sync(actor=None, source=source)


@shared_task(**_RETRY)
def source_scan_task(source_id: int) -> None:
    """Scan one source for personal data; a source deleted since queueing is skipped."""
    source = DataSource.objects.filter(pk=source_id).first()
    if source is None:
        return
    source_scan(actor=None, source=source)


@shared_task(acks_late=True)
def sources_refresh_task() -> int:
    """Beat: queue a sync then a scan of every source not synced within CATALOG_REFRESH_HOURS
    (a source still unreachable is simply due again next time)."""
    due = sources_due_for_refresh()
    for source_id in due:
        chain(source_sync_task.si(source_id), source_scan_task.si(source_id)).delay()
    return len(due)
