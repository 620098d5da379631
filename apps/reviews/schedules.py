"""Review housekeeping on Celery beat (rows created once, then editable): reminders before
the due date, and non-responses handled at it. Scheduled campaigns have their own rows, one
per ``ReviewSchedule`` (see ``services.review_schedule_create``)."""

from typing import Any

from apps.core.schedules import ensure_interval_tasks

SCHEDULES = {
    # name: (task, every, period)
    "reviews: remind reviewers": ("apps.reviews.tasks.campaigns_remind_task", 1, "hours"),
    "reviews: close campaigns at their due date": (
        "apps.reviews.tasks.campaigns_close_due_task",
        5,
        "minutes",
    ),
}


def ensure_schedules(**kwargs: Any) -> None:
    """post_migrate: add missing schedules; never overwrite one an admin has changed."""
    ensure_interval_tasks(SCHEDULES)
