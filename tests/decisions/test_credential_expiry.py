"""Warnings before a service credential expires: once per expiry, to ADMINS and its creator,
by a real worker on beat's schedule."""

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from apps.audit.models import AuditEvent
from apps.decisions.credentials import (
    credential_create,
    credential_revoke,
    credential_rotate,
    credentials_warn_expiring,
)
from apps.decisions.models import ServiceCredential
from apps.decisions.schedules import SCHEDULES
from apps.decisions.tasks import credentials_warn_expiring_task
from tests.waiting import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def _expiring_in(admin, name: str, delta: dt.timedelta) -> ServiceCredential:
    credential, _ = credential_create(actor=admin, name=name, scopes=["decisions:evaluate"])
    ServiceCredential.objects.filter(pk=credential.pk).update(expires_at=timezone.now() + delta)
    return ServiceCredential.objects.get(pk=credential.pk)


@pytest.fixture
def admins(settings):
    settings.ADMINS = [("Platform", "platform@example.com")]
    settings.DECISION_CREDENTIAL_WARN_DAYS = 14


def test_credentials_expiring_soon_are_warned_about_once(
    admin, admins, django_capture_on_commit_callbacks
):
    admin.email = "admin@example.com"
    admin.save()
    soon = _expiring_in(admin, "etl", dt.timedelta(days=3))
    _expiring_in(admin, "later", dt.timedelta(days=30))
    _expiring_in(admin, "lapsed", -dt.timedelta(minutes=1))
    credential_revoke(actor=admin, credential=_expiring_in(admin, "gone", dt.timedelta(days=2)))

    with django_capture_on_commit_callbacks(execute=True):
        assert credentials_warn_expiring() == 1
    assert credentials_warn_expiring() == 0  # once per expiry
    [sent] = mail.outbox
    assert sorted(sent.to) == ["admin@example.com", "platform@example.com"]
    assert "etl (decisions:evaluate), expires" in sent.body
    assert "later" not in sent.body
    assert "/decisions/credentials/" in sent.body
    warned = AuditEvent.objects.get(action="decisions.credential.expiry_warn")
    assert warned.target_id == str(soon.pk)

    # A rotation gives it a new expiry: nothing to warn about until that nears.
    credential_rotate(actor=admin, credential=soon, days=90)
    assert ServiceCredential.objects.get(pk=soon.pk).expiry_warned_at is None
    assert credentials_warn_expiring() == 0
    ServiceCredential.objects.filter(pk=soon.pk).update(
        expires_at=timezone.now() + dt.timedelta(days=1)
    )
    assert credentials_warn_expiring() == 1


def test_a_real_worker_warns_on_the_schedule_beat_runs(real_worker, admin, admins):
    soon = _expiring_in(admin, "etl", dt.timedelta(days=1))
    task = PeriodicTask.objects.get(name="decisions: warn of expiring service credentials")
    assert task.task == SCHEDULES[task.name][0]
    assert task.interval.every == 1
    assert task.interval.period == "hours"
    credentials_warn_expiring_task.delay()
    assert wait_until(
        lambda: ServiceCredential.objects.get(pk=soon.pk).expiry_warned_at is not None
    )
    assert AuditEvent.objects.filter(action="decisions.credential.expiry_warn").count() == 1


def test_the_credentials_page_says_which_expire_soon(client, admin, admins):
    _expiring_in(admin, "etl", dt.timedelta(days=3))
    _expiring_in(admin, "later", dt.timedelta(days=30))
    client.force_login(admin)
    page = client.get("/decisions/credentials/").content.decode()
    assert "expires soon" in page.split("<td>etl</td>")[1].split("</tr>")[0]
    assert "expires soon" not in page.split("<td>later</td>")[1].split("</tr>")[0]
