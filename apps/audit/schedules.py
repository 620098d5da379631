"""The audit log's periodic tasks, as django-celery-beat rows (created once, then editable)."""

from typing import Any

from django.conf import settings

SCHEDULES = {
    # name: (task, every, period)
    "audit: seal pending entries": ("apps.audit.tasks.audit_seal_task", 1, "seconds"),
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
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    for name, (task, every, period) in SCHEDULES.items():
        if PeriodicTask.objects.filter(name=name).exists():
            continue
        interval, _ = IntervalSchedule.objects.get_or_create(every=every, period=period)
        PeriodicTask.objects.create(name=name, task=task, interval=interval)
