"""Access-review work on Celery: generating a campaign's items, reminders, the due date.

Every task is ``acks_late`` and idempotent (items are unique per campaign and inserted with
ON CONFLICT DO NOTHING; verdicts claim rows with SKIP LOCKED), so a worker killed mid-task
leaves a redelivered message to finish the job without a duplicate.
"""

from celery import shared_task

from apps.reviews import services


@shared_task(acks_late=True)
def campaign_generate_task(campaign_id: int, batch: int = services.GENERATE_BATCH) -> int:
    return services.campaign_generate(campaign_id=campaign_id, batch=batch)


@shared_task(acks_late=True)
def campaign_start_scheduled_task(schedule_id: int) -> int | None:
    campaign = services.campaign_start_scheduled(schedule_id=schedule_id)
    return campaign.pk if campaign else None


@shared_task(acks_late=True)
def campaigns_remind_task() -> int:
    return services.campaigns_remind()


@shared_task(acks_late=True)
def campaigns_close_due_task() -> int:
    return services.campaigns_close_due()
