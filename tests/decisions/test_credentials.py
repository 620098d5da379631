"""Service credentials: hashed, scoped, expiring, revocable, audited; the command prints once."""

import io
import time

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.core.errors import Conflict, ValidationFailed
from apps.decisions.credentials import credential_authenticate, credential_create, credential_revoke
from apps.decisions.models import ServiceCredential

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
