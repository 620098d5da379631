"""The decisions app's periodic tasks, as django-celery-beat rows (created once, then editable)."""

from typing import Any

from apps.core.schedules import ensure_interval_tasks

SCHEDULES = {
    # name: (task, every, period)
    "decisions: warn of expiring service credentials": (
        "apps.decisions.tasks.credentials_warn_expiring_task",
        1,
        "hours",
    ),
}


def ensure_schedules(**kwargs: Any) -> None:
    """post_migrate: add missing schedules; never overwrite one an admin has changed."""
    ensure_interval_tasks(SCHEDULES)
