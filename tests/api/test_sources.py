"""/api/v1/sources/: catalog admins manage sources; others see only sources of their datasets."""

import pytest

from apps.catalog.models import DataSource
from tests.api.helpers import audit_count, error_code, grant
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NEW_SOURCE = {
    "name": "warehouse",
    "kind": "postgres",
    "host": "db.internal",
    "port": 5432,
    "database": "dwh",
    "username": "steward",
    "password": "s3cret-pa55",
}


def test_anonymous_gets_401_everywhere(anon, dataset):
    source = dataset.source
    responses = [
        anon.get("/api/v1/sources/"),
        anon.post("/api/v1/sources/", NEW_SOURCE, format="json"),
        anon.get(f"/api/v1/sources/{source.pk}/"),
        anon.patch(f"/api/v1/sources/{source.pk}/", {"host": "x"}, format="json"),
    ]
    assert [r.status_code for r in responses] == [401] * 4
    assert {error_code(r) for r in responses} == {"not_authenticated"}
    assert not DataSource.objects.filter(name="warehouse").exists()


def test_a_stranger_sees_no_sources_and_cannot_probe_ids(client_for, stranger, dataset):
    client = client_for(stranger)
    events = audit_count()

    assert client.get("/api/v1/sources/").json()["results"] == []
    assert client.get(f"/api/v1/sources/{dataset.source.pk}/").status_code == 404
    response = client.patch(
        f"/api/v1/sources/{dataset.source.pk}/", {"host": "evil"}, format="json"
    )

    assert response.status_code == 404
    assert error_code(response) == "not_found"
    dataset.source.refresh_from_db()
    assert dataset.source.host == ""
    assert audit_count() == events


def test_a_dataset_owner_sees_only_the_source_of_their_dataset(
    client_for, owner, dataset, other_dataset
):
    client = client_for(owner)

    listed = client.get("/api/v1/sources/").json()["results"]

    assert [s["name"] for s in listed] == ["crm"]
    assert listed[0]["dataset_count"] == 1
    assert client.get(f"/api/v1/sources/{other_dataset.source.pk}/").status_code == 404


def test_a_dataset_owner_cannot_edit_the_source(client_for, owner, dataset):
    events = audit_count()

    response = client_for(owner).patch(
        f"/api/v1/sources/{dataset.source.pk}/", {"host": "elsewhere"}, format="json"
    )

    assert response.status_code == 403
    assert error_code(response) == "permission_denied"
    dataset.source.refresh_from_db()
    assert dataset.source.host == ""
    assert audit_count() == events


def test_only_catalog_admins_register_sources(client_for, owner):
    events = audit_count()

    response = client_for(owner).post("/api/v1/sources/", NEW_SOURCE, format="json")

    assert response.status_code == 403
    assert not DataSource.objects.exists()
    assert audit_count() == events


def test_admin_registers_a_source_and_the_password_never_comes_back(client_for, admin):
    client = client_for(admin)

    created = client.post("/api/v1/sources/", NEW_SOURCE, format="json")

    assert created.status_code == 201, created.content
    body = created.json()
    assert body["has_password"] is True
    assert body["owner"] == "admin"
    assert "password" not in body
    assert "password_ciphertext" not in body
    assert b"s3cret-pa55" not in created.content
    source = DataSource.objects.get(name="warehouse")
    assert source.has_password
    for url in ("/api/v1/sources/", f"/api/v1/sources/{source.pk}/"):
        response = client.get(url)
        assert b"s3cret-pa55" not in response.content
        assert b"password_ciphertext" not in response.content


def test_a_source_manager_without_superuser_may_register(client_for):
    manager = grant(
        UserFactory(),
        "catalog.add_datasource",
        "catalog.change_datasource",
        "catalog.view_datasource",
    )

    response = client_for(manager).post("/api/v1/sources/", NEW_SOURCE, format="json")

    assert response.status_code == 201


@pytest.mark.parametrize(
    ("password", "has_password"),
    [pytest.param(None, True, id="absent-keeps"), pytest.param("", False, id="empty-clears")],
)
def test_patch_password_semantics(client_for, admin, password, has_password):
    client = client_for(admin)
    source_id = client.post("/api/v1/sources/", NEW_SOURCE, format="json").json()["id"]
    body = {"description": "the warehouse"}
    if password is not None:
        body["password"] = password

    response = client.patch(f"/api/v1/sources/{source_id}/", body, format="json")

    assert response.status_code == 200
    assert response.json()["has_password"] is has_password
    assert response.json()["description"] == "the warehouse"


def test_duplicate_source_name_is_a_conflict(client_for, admin, dataset):
    events = audit_count()

    response = client_for(admin).post(
        "/api/v1/sources/", {**NEW_SOURCE, "name": "crm"}, format="json"
    )

    assert response.status_code == 409
    assert error_code(response) == "duplicate_source"
    assert DataSource.objects.filter(name="crm").count() == 1
    assert audit_count() == events


def test_a_source_with_datasets_keeps_its_name(client_for, admin, dataset):
    response = client_for(admin).patch(
        f"/api/v1/sources/{dataset.source.pk}/", {"name": "renamed"}, format="json"
    )

    assert response.status_code == 409
    assert error_code(response) == "source_name_locked"
    dataset.source.refresh_from_db()
    assert dataset.source.name == "crm"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({**NEW_SOURCE, "kind": "oracle"}, "kind", id="unknown-kind"),
        pytest.param({**NEW_SOURCE, "port": "many"}, "port", id="port-not-a-number"),
        pytest.param({**NEW_SOURCE, "name": "Not A Key"}, "name", id="name-not-a-key"),
    ],
)
def test_invalid_source_input_is_refused(client_for, admin, body, field):
    response = client_for(admin).post("/api/v1/sources/", body, format="json")

    assert response.status_code == 400
    assert error_code(response) == "invalid"
    assert field in response.json()["error"]["fields"]
    assert not DataSource.objects.exists()
