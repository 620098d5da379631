"""The credentials page: create shows the token once, revoke takes effect, admins only."""

import pytest
from django.utils import timezone

from apps.decisions.credentials import credential_authenticate
from apps.decisions.models import ServiceCredential

pytestmark = pytest.mark.django_db


def test_only_those_who_may_create_credentials_see_the_page(client, viewer):
    client.force_login(viewer)
    assert client.get("/decisions/credentials/").status_code == 404


def test_create_shows_the_token_once_then_revoke(client, admin):
    client.force_login(admin)
    created = client.post(
        "/decisions/credentials/", {"name": "etl", "scopes": ["decisions:evaluate"], "days": 30}
    )
    assert created.status_code == 200
    token = created.context["token"]
    assert credential_authenticate(token).name == "etl"
    assert token in created.content.decode()
    assert token not in client.get("/decisions/credentials/").content.decode()

    credential = ServiceCredential.objects.get(name="etl")
    revoked = client.post("/decisions/credentials/", {"revoke": credential.pk}, follow=True)
    assert "is revoked" in revoked.content.decode()
    assert credential_authenticate(token) is None


def test_bad_input_is_a_form_error_and_creates_nothing(client, admin):
    client.force_login(admin)
    response = client.post("/decisions/credentials/", {"name": "x", "days": 9999})
    assert response.status_code == 400
    assert ServiceCredential.objects.count() == 0
    client.post(
        "/decisions/credentials/", {"name": "x", "scopes": ["decisions:evaluate"], "days": 1}
    )
    duplicate = client.post(
        "/decisions/credentials/", {"name": "x", "scopes": ["decisions:evaluate"], "days": 1}
    )
    assert duplicate.status_code == 409
    assert "exists already" in duplicate.content.decode()
    assert ServiceCredential.objects.count() == 1


def test_rotate_shows_the_new_token_once_and_says_until_when_the_old_one_works(client, admin):
    client.force_login(admin)
    client.post(
        "/decisions/credentials/", {"name": "etl", "scopes": ["decisions:evaluate"], "days": 30}
    )
    credential = ServiceCredential.objects.get(name="etl")
    rotated = client.post("/decisions/credentials/", {"rotate": credential.pk})
    assert rotated.status_code == 200
    new = rotated.context["token"]
    assert credential_authenticate(new).name == "etl"
    page = rotated.content.decode()
    assert new in page
    assert "previous token keeps working until" in page
    listing = client.get("/decisions/credentials/").content.decode()
    assert new not in listing
    assert "rotated; the previous token works until" in listing

    client.post("/decisions/credentials/", {"revoke": credential.pk})
    refused = client.post("/decisions/credentials/", {"rotate": credential.pk})
    assert refused.status_code == 409
    assert "is revoked" in refused.content.decode()
    assert client.post("/decisions/credentials/", {"rotate": "999999"}).status_code == 404


def test_an_expired_credential_is_listed_as_expired(client, admin):
    client.force_login(admin)
    client.post(
        "/decisions/credentials/", {"name": "etl", "scopes": ["decisions:evaluate"], "days": 1}
    )
    ServiceCredential.objects.filter(name="etl").update(expires_at=timezone.now())
    row = client.get("/decisions/credentials/").content.decode().split("<td>etl</td>")[1]
    assert "expired" in row.split("</tr>")[0]
