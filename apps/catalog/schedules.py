"""The catalog's periodic task, as a django-celery-beat row (created once, then editable)."""

from typing import Any

from apps.core.schedules import ensure_interval_tasks

SCHEDULES = {
    # name: (task, every, period); what is due is decided by CATALOG_REFRESH_HOURS
    "catalog: sync and scan sources": ("apps.catalog.tasks.sources_refresh_task", 1, "hours"),
}


def ensure_schedules(**kwargs: Any) -> None:
    """post_migrate: add missing schedules; never overwrite one an admin has changed."""
    ensure_interval_tasks(SCHEDULES)
