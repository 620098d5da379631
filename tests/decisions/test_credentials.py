"""Service credentials: hashed, scoped, expiring, rotatable, revocable, audited; the commands
print the token once."""

import datetime as dt
import io
import subprocess
import sys
import time

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.core.errors import Conflict, ValidationFailed
from apps.decisions.credentials import (
    credential_authenticate,
    credential_create,
    credential_revoke,
    credential_rotate,
)
from apps.decisions.models import ServiceCredential
from tests.workers import ROOT, celery_env

pytestmark = pytest.mark.django_db


def test_the_secret_is_stored_only_as_a_hash(admin):
    credential, token = credential_create(actor=admin, name="etl", scopes=["decisions:evaluate"])
    secret = token.split("_", 2)[2]
    assert secret not in credential.secret_sha256
    assert credential_authenticate(token) == credential
    assert credential_authenticate(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert AuditEvent.objects.filter(
        action="decisions.credential.create", target_id=str(credential.pk)
    ).exists()
    assert secret not in AuditEvent.objects.get(action="decisions.credential.create").body


def test_bad_requests_are_refused_and_create_nothing(admin):
    for kwargs, code in [
        ({"name": "", "scopes": ["decisions:evaluate"]}, "invalid"),
        ({"name": "x", "scopes": ["root"]}, "unknown_scope"),
        ({"name": "x", "scopes": []}, "unknown_scope"),
        ({"name": "x", "scopes": ["decisions:evaluate"], "days": 9999}, "invalid"),
    ]:
        with pytest.raises(ValidationFailed) as err:
            credential_create(actor=admin, **kwargs)
        assert err.value.code == code
    credential_create(actor=admin, name="x", scopes=["decisions:evaluate"])
    with pytest.raises(Conflict):
        credential_create(actor=admin, name="x", scopes=["decisions:evaluate"])
    assert ServiceCredential.objects.count() == 1


def test_revocation_is_immediate_and_audited(admin):
    credential, token = credential_create(actor=admin, name="etl", scopes=["decisions:evaluate"])
    assert credential_authenticate(token) == credential  # now remembered by this process
    credential_revoke(actor=admin, credential=credential)
    assert credential_authenticate(token) is None
    assert AuditEvent.objects.filter(action="decisions.credential.revoke").count() == 1


def test_the_command_prints_the_token_once():
    out, err = io.StringIO(), io.StringIO()
    call_command("credential_create", "reporting", stdout=out, stderr=err)
    token = out.getvalue().strip()
    assert credential_authenticate(token).name == "reporting"
    assert "shown this once" in err.getvalue()


def test_a_revocation_made_elsewhere_is_honoured_within_the_cache_time(admin, settings):
    """Another process (or SQL) revokes: this process's remembered row expires and is re-read."""
    settings.DECISION_CREDENTIAL_CACHE_SECONDS = 1.0
    credential, token = credential_create(actor=admin, name="etl", scopes=["decisions:evaluate"])
    assert credential_authenticate(token) == credential
    ServiceCredential.objects.filter(pk=credential.pk).update(revoked_at=timezone.now())
    assert credential_authenticate(token) == credential  # still within the cache time
    time.sleep(1.05)
    assert credential_authenticate(token) is None


def test_a_rotation_gives_a_new_token_while_the_old_one_works_through_the_overlap(admin, settings):
    settings.DECISION_CREDENTIAL_CACHE_SECONDS = 0  # each authentication reads the row
    credential, old = credential_create(
        actor=admin, name="etl", scopes=["decisions:evaluate"], days=30
    )
    before = timezone.now()
    rotated, new = credential_rotate(actor=admin, credential=credential, overlap_hours=2)
    assert new != old
    assert new.split("_")[1] == old.split("_")[1]  # the same prefix, a new secret
    assert credential_authenticate(new) == credential
    assert credential_authenticate(old) == credential
    # The credential's own lifetime again, and the old secret until the overlap ends.
    assert dt.timedelta(days=30) <= rotated.expires_at - before <= dt.timedelta(days=30, seconds=5)
    assert rotated.previous_expires_at - before <= dt.timedelta(hours=2, seconds=5)
    record = AuditEvent.objects.get(action="decisions.credential.rotate")
    assert record.changes["previous_secret_valid_until"] == rotated.previous_expires_at.isoformat()
    assert new.split("_", 2)[2] not in record.body
    assert old.split("_", 2)[2] not in record.body

    ServiceCredential.objects.filter(pk=credential.pk).update(
        previous_expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert credential_authenticate(old) is None
    assert credential_authenticate(new) == credential


def test_each_rotation_keeps_the_lifetime_its_secret_was_issued_for(admin):
    """Created 120 days ago, its secret last issued 80 days ago for 90: a rotation now issues 90
    days again (not 130, what creation to the current expiry would say)."""
    credential, _ = credential_create(
        actor=admin, name="etl", scopes=["decisions:evaluate"], days=90
    )
    now = timezone.now()
    ServiceCredential.objects.filter(pk=credential.pk).update(
        created_at=now - dt.timedelta(days=120),
        rotated_at=now - dt.timedelta(days=80),
        expires_at=now + dt.timedelta(days=10),
    )
    rotated, _ = credential_rotate(actor=admin, credential=credential)
    assert rotated.expires_at - rotated.rotated_at == dt.timedelta(days=90)
    credential_rotate(actor=admin, credential=credential, days=7)
    again, _ = credential_rotate(actor=admin, credential=credential)
    assert again.expires_at - again.rotated_at == dt.timedelta(days=7)


def test_rotating_again_ends_the_earlier_overlap_and_none_cuts_at_once(admin):
    credential, first = credential_create(actor=admin, name="etl", scopes=["decisions:evaluate"])
    _, second = credential_rotate(actor=admin, credential=credential)
    _, third = credential_rotate(actor=admin, credential=credential)
    assert [credential_authenticate(t) is not None for t in (first, second, third)] == [
        False,
        True,
        True,
    ]
    _, fourth = credential_rotate(actor=admin, credential=credential, overlap_hours=0)
    assert credential_authenticate(third) is None
    assert credential_authenticate(fourth) == credential


def test_an_old_secret_never_outlives_the_credential_it_belonged_to(admin):
    credential, _ = credential_create(actor=admin, name="etl", scopes=["decisions:evaluate"])
    ending = timezone.now() + dt.timedelta(minutes=30)
    ServiceCredential.objects.filter(pk=credential.pk).update(expires_at=ending)
    credential.refresh_from_db()
    rotated, _ = credential_rotate(actor=admin, credential=credential, overlap_hours=24)
    assert rotated.previous_expires_at == ending


def test_a_revoked_credential_is_not_rotated_and_bad_input_changes_nothing(admin):
    credential, _ = credential_create(actor=admin, name="etl", scopes=["decisions:evaluate"])
    for kwargs in [{"overlap_hours": -1}, {"overlap_hours": 169}, {"days": 0}, {"days": 9999}]:
        with pytest.raises(ValidationFailed):
            credential_rotate(actor=admin, credential=credential, **kwargs)
    credential_revoke(actor=admin, credential=credential)
    with pytest.raises(Conflict) as err:
        credential_rotate(actor=admin, credential=credential)
    assert err.value.code == "credential_revoked"
    stored = ServiceCredential.objects.get(pk=credential.pk)
    assert (stored.secret_sha256, stored.rotated_at) == (credential.secret_sha256, None)
    assert not AuditEvent.objects.filter(action="decisions.credential.rotate").exists()


@pytest.mark.django_db(transaction=True)
def test_a_rotation_made_by_another_process_is_honoured_at_once(admin, settings):
    """This process remembers the row (for a minute here); the command, another process, gives
    the credential a new secret: the new token is accepted at once, the row read again."""
    settings.DECISION_CREDENTIAL_CACHE_SECONDS = 60
    credential, old = credential_create(actor=admin, name="etl", scopes=["decisions:evaluate"])
    assert credential_authenticate(old) == credential
    done = subprocess.run(
        [sys.executable, "manage.py", "credential_rotate", "etl", "--overlap-hours", "1"],
        cwd=ROOT,
        env=celery_env("credential-rotate"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "shown this once" in done.stderr
    new = done.stdout.strip()
    assert credential_authenticate(new) == credential
    assert credential_authenticate(old) == credential  # within the hour's overlap


def test_the_rotate_command_names_a_missing_credential():
    with pytest.raises(CommandError, match="No credential is named 'nope'"):
        call_command("credential_rotate", "nope")
