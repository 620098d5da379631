"""Access's periodic tasks, as django-celery-beat rows (created once, then editable)."""

from typing import Any

from apps.core.schedules import ensure_interval_tasks

SCHEDULES = {
    # name: (task, every, period)
    "access: close expired grants": ("apps.access.tasks.grants_close_expired_task", 30, "seconds"),
    "access: expire unanswered requests": ("apps.access.tasks.requests_expire_task", 5, "minutes"),
    "access: escalate unreviewed break-glass use": (
        "apps.access.tasks.break_glass_escalate_task",
        15,
        "minutes",
    ),
}


def ensure_schedules(**kwargs: Any) -> None:
    """post_migrate: add missing schedules; never overwrite one an admin has changed."""
    ensure_interval_tasks(SCHEDULES)
