"""A worker killed in the middle of generating a campaign, and a fresh one started: the
campaign ends up with exactly one item per grant, opens once, and loses nothing.

Real ``celery worker`` processes (tests/workers.py); the generation task is ``acks_late``, so
the broker redelivers it to the second worker after the visibility timeout.
"""

import datetime as dt

import pytest
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.reviews.models import Campaign, ReviewItem
from apps.reviews.tasks import campaign_generate_task
from tests.factories import grants_bulk
from tests.waiting import wait_until
from tests.workers import broker_unacked

pytestmark = pytest.mark.django_db(transaction=True)

GRANTS = 3000
BATCH = 20  # items per transaction, so the kill lands after the first and before the last


def _items() -> int:
    return ReviewItem.objects.count()


def test_a_worker_killed_mid_generation_leaves_one_item_per_grant(worker_processes, admin):
    ids = grants_bulk(GRANTS, expires_in=dt.timedelta(days=30))
    now = timezone.now()
    campaign = Campaign.objects.create(
        name="Q4", created_by=admin, created_at=now, due_at=now + dt.timedelta(days=14)
    )
    first = worker_processes.start()

    campaign_generate_task.delay(campaign.pk, batch=BATCH)
    assert wait_until(lambda: _items() >= 2 * BATCH, seconds=30), first.log_tail()
    first.kill()

    # Killed mid-task: whole batches inserted, the campaign not yet open, the message unacked.
    made_by_first = dict(ReviewItem.objects.values_list("ref_id", "pk"))
    assert 0 < len(made_by_first) < GRANTS
    assert len(made_by_first) % BATCH == 0
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.GENERATING
    assert broker_unacked() == 1

    second = worker_processes.start()
    assert wait_until(
        lambda: (
            Campaign.objects.filter(pk=campaign.pk, status="open").exists()
            and broker_unacked() == 0
        ),
        seconds=45,
    ), second.log_tail()

    items = dict(ReviewItem.objects.filter(kind="grant").values_list("ref_id", "pk"))
    assert set(items) == ids  # one per grant: none missing (and the constraint forbids twins)
    assert ReviewItem.objects.count() == GRANTS
    assert {ref: items[ref] for ref in made_by_first} == made_by_first  # the first run's stand
    opened = AuditEvent.objects.filter(action="reviews.campaign.open", target_id=str(campaign.pk))
    assert opened.count() == 1
    assert f'"items":{GRANTS}' in opened.get().body.replace(" ", "")
