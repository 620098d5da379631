"""The API's shared contract: authentication, the error envelope, bad bodies."""

import pytest
from django.test import override_settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from apps.catalog.models import Column
from tests.api.helpers import audit_count, error_code, make_columns
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_unauthenticated_is_401_with_a_challenge(anon):
    response = anon.get("/api/v1/datasets/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")
    assert response.json() == {
        "error": {
            "code": "not_authenticated",
            "message": "Authentication credentials were not provided.",
        }
    }


def test_token_authentication_for_automation(owner, dataset):
    token = Token.objects.create(user=owner)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    response = client.get("/api/v1/datasets/")

    assert response.status_code == 200
    assert [d["fqn"] for d in response.json()["results"]] == ["crm.public.customers"]


def test_a_bad_token_is_401(dataset):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    response = client.get("/api/v1/datasets/")

    assert response.status_code == 401
    assert error_code(response) == "authentication_failed"


def test_session_authentication_for_the_ui_needs_csrf_on_writes(owner, dataset):
    client = APIClient(enforce_csrf_checks=True)
    assert client.login(username=owner.username, password=PASSWORD)

    read = client.get(f"/api/v1/datasets/{dataset.pk}/")
    write = client.patch(f"/api/v1/datasets/{dataset.pk}/", {"description": "x"}, format="json")

    assert read.status_code == 200
    assert write.status_code == 403
    dataset.refresh_from_db()
    assert dataset.description == ""


def test_an_inactive_user_is_refused(client_for, owner, dataset):
    token = Token.objects.create(user=owner)
    owner.is_active = False
    owner.save()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    assert client.get("/api/v1/datasets/").status_code == 401


@pytest.fixture
def email(dataset):
    return make_columns(dataset, "email")[0]


def test_malformed_json_is_400_and_writes_nothing(client_for, owner, email):
    events = audit_count()

    response = client_for(owner).generic(
        "PATCH",
        f"/api/v1/columns/{email.pk}/",
        '{"sensitivity": "restricted",',
        content_type="application/json",
    )

    assert response.status_code == 400
    assert error_code(response) == "malformed_request"
    email.refresh_from_db()
    assert email.sensitivity is None
    assert audit_count() == events


def test_a_json_body_that_is_not_an_object_is_invalid(client_for, owner, email):
    response = client_for(owner).patch(
        f"/api/v1/columns/{email.pk}/", ["restricted"], format="json"
    )

    assert response.status_code == 400
    assert error_code(response) == "invalid"


def test_unsupported_media_type(client_for, owner, email):
    response = client_for(owner).generic(
        "PATCH", f"/api/v1/columns/{email.pk}/", "sensitivity=restricted", content_type="text/csv"
    )

    assert response.status_code == 415
    assert error_code(response) == "unsupported_media_type"


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024)
def test_an_oversize_body_is_413_before_parsing(client_for, owner, email):
    events = audit_count()

    response = client_for(owner).post(
        "/api/v1/columns/bulk-classify",
        {"column_ids": [email.pk] * 500, "sensitivity": "restricted"},
        format="json",
    )

    assert response.status_code == 413
    assert error_code(response) == "payload_too_large"
    assert not Column.objects.filter(sensitivity__isnull=False).exists()
    assert audit_count() == events


def test_unknown_fields_are_refused_by_name(client_for, owner, email):
    response = client_for(owner).patch(
        f"/api/v1/columns/{email.pk}/",
        {"sensitivity": "restricted", "classified_by": "someone", "colour": "red"},
        format="json",
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "unknown_field"
    assert "'classified_by'" in error["message"]
    assert set(error["fields"]) == {"classified_by", "colour"}
    email.refresh_from_db()
    assert email.sensitivity is None


def test_wrong_types_name_the_field(client_for, owner, email):
    response = client_for(owner).patch(
        f"/api/v1/columns/{email.pk}/", {"categories": {"contact": True}}, format="json"
    )

    error = response.json()["error"]
    assert response.status_code == 400
    assert error["code"] == "invalid"
    assert error["message"].startswith("categories: ")
    assert "categories" in error["fields"]


def test_method_not_allowed(client_for, owner, dataset):
    response = client_for(owner).delete(f"/api/v1/datasets/{dataset.pk}/")

    assert response.status_code == 405
    assert error_code(response) == "method_not_allowed"
    assert response.json()["error"]["message"]


def test_an_error_quoting_half_a_surrogate_pair_is_still_answered(client_for, admin):
    """A JSON escape can carry half a surrogate pair; DRF's choice error quotes the input, and
    text with no UTF-8 form cannot be written: it is answered with U+FFFD in its place."""
    from apps.catalog.models import DataSource

    response = client_for(admin).post(
        "/api/v1/sources/",
        data=b'{"name": "warehouse", "kind": "pg\\ud800", "database": "dw"}',
        content_type="application/json",
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["message"] == 'kind: "pg\ufffd" is not a valid choice.'
    assert not DataSource.objects.exists()


def test_a_body_nested_deeper_than_python_parses_is_400(client_for, admin):
    from apps.catalog.models import DataSource

    deep = b"[" * 5000 + b"]" * 5000
    response = client_for(admin).post(
        "/api/v1/sources/",
        data=b'{"name": "warehouse", "kind": "postgres", "description": ' + deep + b"}",
        content_type="application/json",
    )

    assert response.status_code == 400
    assert error_code(response) == "malformed_request"
    assert not DataSource.objects.exists()


def _form(n: int) -> str:
    return "&".join(f"f{i}=1" for i in range(n))


def test_a_form_body_with_more_fields_than_django_parses_is_400(client_for, admin):
    from apps.catalog.models import DataSource

    events = audit_count()
    response = client_for(admin).generic(
        "POST",
        "/api/v1/sources/",
        _form(1001) + "&name=warehouse&kind=postgres",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "malformed_request",
        "message": "The request carries more than 1000 fields; send the data as a JSON body.",
    }
    assert not DataSource.objects.exists()
    assert audit_count() == events


def test_a_query_string_with_more_parameters_than_django_parses_is_400(client_for, admin):
    response = client_for(admin).get(f"/api/v1/datasets/?{_form(1001)}")

    assert response.status_code == 400
    assert error_code(response) == "malformed_request"
