"""The scheduled audit work: a real worker seals, verification alerts, beat rows exist."""

import datetime as dt

import pytest
from django.conf import settings
from django.core import mail
from django_celery_beat.models import PeriodicTask

from apps.audit.models import AuditBatch, AuditCheckpoint, AuditEvent
from apps.audit.schedules import SCHEDULES
from apps.audit.tasks import audit_checkpoint_task, audit_seal_task, audit_verify_task
from tests.audit.conftest import record, tampering
from tests.waiting import wait_until
from tests.workers import beat_process


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_seals_what_was_recorded(real_worker, admin):
    ids = record(admin, 5)
    audit_seal_task.delay()
    assert wait_until(lambda: not AuditEvent.objects.filter(pk__in=ids, seal__isnull=True).exists())
    assert AuditBatch.objects.count() >= 1


@pytest.mark.django_db
def test_the_checkpoint_task_signs_only_a_moved_head(admin):
    record(admin, 2)
    first = audit_checkpoint_task()
    assert first is not None
    assert audit_checkpoint_task() is None  # nothing new since
    record(admin, 1)
    assert audit_checkpoint_task() not in (None, first)
    assert AuditCheckpoint.objects.count() == 2


@pytest.mark.django_db
def test_verification_alerts_and_records_a_break(settings, admin):
    settings.ADMINS = [("Security", "security@example.com")]
    ids = record(admin, 3)
    assert audit_seal_task() == 3
    assert audit_verify_task() is True
    assert mail.outbox == []
    with tampering() as cur:
        cur.execute("DELETE FROM audit_auditevent WHERE id = %s", [ids[1]])

    assert audit_verify_task() is False

    assert len(mail.outbox) == 1
    assert "entry at seq 2 is missing" in mail.outbox[0].body
    recorded = AuditEvent.objects.filter(action="audit.verify").order_by("-id").first()
    assert recorded.outcome == "error"
    assert recorded.changes["kind"] == "entry_deleted"


@pytest.mark.django_db
def test_the_schedules_are_in_the_database_for_beat():
    names = set(PeriodicTask.objects.values_list("name", flat=True))
    assert set(SCHEDULES) <= names
    seal = PeriodicTask.objects.get(name="audit: seal pending entries")
    assert seal.interval.schedule.run_every == dt.timedelta(
        milliseconds=settings.AUDIT_SEAL_MILLISECONDS
    )


@pytest.mark.django_db(transaction=True)
def test_beat_and_a_real_worker_seal_entries_with_nobody_asking(real_worker, tmp_path, admin):
    """The sub-second seal schedule as deployed: a real beat process (database scheduler)
    sends the task, the worker seals; no test code calls the sealer."""
    from apps.audit.schedules import ensure_schedules

    ensure_schedules()  # the rows the migration made are gone after a transactional test's flush
    with beat_process(log_dir=tmp_path) as beat:
        ids = record(admin, 3)
        sealed = wait_until(
            lambda: not AuditEvent.objects.filter(pk__in=ids, seal__isnull=True).exists(),
            seconds=60,
        )
        assert beat.poll() is None, (tmp_path / "beat.log").read_text()
    assert sealed, (tmp_path / "beat.log").read_text()[-3000:]
