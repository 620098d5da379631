"""The audit log's periodic tasks, as django-celery-beat rows (created once, then editable)."""

from typing import Any

from django.conf import settings

from apps.core.schedules import ensure_interval_tasks

SCHEDULES = {
    # name: (task, every, period)
    "audit: seal pending entries": (
        "apps.audit.tasks.audit_seal_task",
        getattr(settings, "AUDIT_SEAL_MILLISECONDS", 200) * 1000,
        "microseconds",
    ),
    "audit: sign a checkpoint": (
        "apps.audit.tasks.audit_checkpoint_task",
        getattr(settings, "AUDIT_CHECKPOINT_MINUTES", 5),
        "minutes",
    ),
    "audit: verify the log": ("apps.audit.tasks.audit_verify_task", 1, "hours"),
    "audit: archive and prune past retention": ("apps.audit.tasks.audit_retention_task", 1, "days"),
}


def ensure_schedules(**kwargs: Any) -> None:
    """post_migrate: add missing schedules; never overwrite one an admin has changed."""
    ensure_interval_tasks(SCHEDULES)
