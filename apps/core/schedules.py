"""Periodic tasks as django-celery-beat rows, created once by each app's post_migrate hook."""

from collections.abc import Mapping


def ensure_interval_tasks(schedules: Mapping[str, tuple[str, int, str]]) -> None:
    """Add the missing ``{name: (task, every, period)}`` rows; never overwrite one an admin
    has changed."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    for name, (task, every, period) in schedules.items():
        if PeriodicTask.objects.filter(name=name).exists():
            continue
        interval, _ = IntervalSchedule.objects.get_or_create(every=every, period=period)
        PeriodicTask.objects.create(name=name, task=task, interval=interval)
