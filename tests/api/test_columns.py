"""/api/v1/columns/: classify one column, or many at once (all or nothing)."""

import pytest

from apps.catalog.models import Column
from tests.api.helpers import audit_count, error_code, make_columns
from tests.factories import ColumnFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def email(dataset):
    return make_columns(dataset, "email")[0]


def test_anonymous_gets_401(anon, email):
    patch = anon.patch(f"/api/v1/columns/{email.pk}/", {"sensitivity": None}, format="json")
    bulk = anon.post("/api/v1/columns/bulk-classify", {"column_ids": [email.pk]}, format="json")
    assert (patch.status_code, bulk.status_code) == (401, 401)


def test_a_stranger_gets_404_and_nothing_changes(client_for, stranger, email):
    events = audit_count()

    patch = client_for(stranger).patch(
        f"/api/v1/columns/{email.pk}/", {"sensitivity": "public"}, format="json"
    )
    bulk = client_for(stranger).post(
        "/api/v1/columns/bulk-classify",
        {"column_ids": [email.pk], "sensitivity": "public"},
        format="json",
    )

    assert (patch.status_code, bulk.status_code) == (404, 404)
    email.refresh_from_db()
    assert email.sensitivity is None
    assert email.classified_by is None
    assert audit_count() == events


def test_a_viewer_cannot_classify(client_for, viewer, email):
    events = audit_count()

    response = client_for(viewer).patch(
        f"/api/v1/columns/{email.pk}/", {"sensitivity": "public"}, format="json"
    )

    assert response.status_code == 403
    email.refresh_from_db()
    assert email.sensitivity is None
    assert audit_count() == events


def test_the_owner_classifies_a_column(client_for, owner, dataset, email):
    client = client_for(owner)

    response = client.patch(
        f"/api/v1/columns/{email.pk}/",
        {"sensitivity": "restricted", "categories": ["contact"], "description": "login e-mail"},
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["sensitivity"] == "restricted"
    assert body["categories"] == ["contact"]
    assert body["classified_by"] == "olivia"
    assert client.get(f"/api/v1/datasets/{dataset.pk}/").json()["effective_sensitivity"] == (
        "restricted"
    )

    declassified = client.patch(
        f"/api/v1/columns/{email.pk}/", {"sensitivity": None}, format="json"
    )

    assert declassified.json()["sensitivity"] is None
    assert client.get(f"/api/v1/datasets/{dataset.pk}/").json()["effective_sensitivity"] is None


@pytest.mark.parametrize(
    ("body", "code"),
    [
        pytest.param({"sensitivity": "ultra"}, "unknown_sensitivity", id="sensitivity"),
        pytest.param({"categories": ["contact", "gossip"]}, "unknown_category", id="category"),
        pytest.param({}, "invalid", id="empty"),
        pytest.param({"sensitivity": 3}, "unknown_sensitivity", id="number-is-not-a-key"),
        pytest.param({"categories": [["contact"]]}, "invalid", id="nested-list"),
        pytest.param({"senstivity": "public"}, "unknown_field", id="typo"),
    ],
)
def test_bad_column_input_changes_nothing(client_for, owner, email, body, code):
    events = audit_count()

    response = client_for(owner).patch(f"/api/v1/columns/{email.pk}/", body, format="json")

    assert response.status_code == 400
    assert error_code(response) == code
    email.refresh_from_db()
    assert email.sensitivity is None
    assert email.classified_by is None
    assert audit_count() == events


def test_bulk_classify_applies_to_every_column(client_for, owner, dataset):
    columns = make_columns(dataset, "email", "phone", "city")

    response = client_for(owner).post(
        "/api/v1/columns/bulk-classify",
        {
            "column_ids": [c.pk for c in columns],
            "sensitivity": "confidential",
            "add_categories": ["contact"],
        },
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json() == {"changed": 3}
    assert set(Column.objects.values_list("sensitivity__key", flat=True)) == {"confidential"}


def test_bulk_classify_is_all_or_nothing_across_datasets(client_for, owner, email, other_dataset):
    theirs = ColumnFactory(dataset=other_dataset)
    events = audit_count()

    response = client_for(owner).post(
        "/api/v1/columns/bulk-classify",
        {"column_ids": [email.pk, theirs.pk], "sensitivity": "restricted"},
        format="json",
    )

    assert response.status_code == 404
    assert not Column.objects.filter(sensitivity__isnull=False).exists()
    assert audit_count() == events


def test_bulk_classify_a_viewer_may_not(client_for, viewer, email):
    response = client_for(viewer).post(
        "/api/v1/columns/bulk-classify",
        {"column_ids": [email.pk], "add_categories": ["contact"]},
        format="json",
    )

    assert response.status_code == 403
    assert email.categories.count() == 0


@pytest.mark.parametrize(
    ("body", "code"),
    [
        pytest.param({"column_ids": [], "sensitivity": "public"}, "invalid", id="no-columns"),
        pytest.param({"column_ids": "1,2", "sensitivity": "public"}, "invalid", id="ids-not-list"),
        pytest.param({"column_ids": ["x"], "sensitivity": "public"}, "invalid", id="id-not-int"),
        pytest.param({"column_ids": list(range(1, 1002))}, "invalid", id="too-many"),
        pytest.param({"column_ids": [1]}, "nothing_to_apply", id="nothing-to-apply"),
        pytest.param(
            {"column_ids": [1], "add_categories": ["gossip"]}, "unknown_category", id="category"
        ),
    ],
)
def test_bulk_classify_bad_input(client_for, owner, email, body, code):
    body = {**body, "column_ids": [email.pk] if body["column_ids"] == [1] else body["column_ids"]}
    events = audit_count()

    response = client_for(owner).post("/api/v1/columns/bulk-classify", body, format="json")

    assert response.status_code == 400
    assert error_code(response) == code
    assert audit_count() == events
