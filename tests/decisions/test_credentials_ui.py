"""The credentials page: create shows the token once, revoke takes effect, admins only."""

import pytest

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
