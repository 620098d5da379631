"""/api/v1/suggestions/: stewards review the scanner's proposals."""

import pytest

from apps.catalog.models import ClassificationSuggestion
from tests.api.helpers import audit_count, error_code, make_columns, make_suggestion
from tests.factories import ColumnFactory

pytestmark = pytest.mark.django_db

Status = ClassificationSuggestion.Status


@pytest.fixture
def suggestion(dataset):
    (email,) = make_columns(dataset, "email")
    return make_suggestion(email, category="contact", sensitivity="confidential")


@pytest.fixture
def foreign_suggestion(other_dataset):
    return make_suggestion(ColumnFactory(dataset=other_dataset), category="financial")


def test_anonymous_gets_401(anon, suggestion):
    responses = [
        anon.get("/api/v1/suggestions/"),
        anon.post(f"/api/v1/suggestions/{suggestion.pk}/accept", {}, format="json"),
        anon.post(f"/api/v1/suggestions/{suggestion.pk}/reject", {}, format="json"),
    ]
    assert {r.status_code for r in responses} == {401}


def test_each_person_lists_the_suggestions_of_datasets_they_see(
    client_for, owner, stranger, suggestion, foreign_suggestion
):
    mine = client_for(owner).get("/api/v1/suggestions/").json()["results"]
    none = client_for(stranger).get("/api/v1/suggestions/").json()["results"]

    assert [s["id"] for s in mine] == [suggestion.pk]
    assert mine[0]["column"]["dataset"]["fqn"] == "crm.public.customers"
    assert mine[0]["category"] == "contact"
    assert mine[0]["evidence"]["examples"] == ["j***@example.com"]
    assert none == []


def test_filters_by_status_and_dataset(client_for, admin, dataset, suggestion, foreign_suggestion):
    client = client_for(admin)
    ClassificationSuggestion.objects.filter(pk=foreign_suggestion.pk).update(status=Status.REJECTED)

    pending = client.get("/api/v1/suggestions/").json()["results"]
    rejected = client.get("/api/v1/suggestions/?status=rejected").json()["results"]
    every = client.get("/api/v1/suggestions/?status=all").json()["results"]
    of_dataset = client.get(f"/api/v1/suggestions/?status=all&dataset={dataset.pk}").json()

    assert [s["id"] for s in pending] == [suggestion.pk]
    assert [s["id"] for s in rejected] == [foreign_suggestion.pk]
    assert len(every) == 2
    assert [s["id"] for s in of_dataset["results"]] == [suggestion.pk]
    assert client.get("/api/v1/suggestions/?status=maybe").status_code == 400


def test_filtering_by_an_invisible_dataset_is_404(client_for, owner, other_dataset):
    response = client_for(owner).get(f"/api/v1/suggestions/?dataset={other_dataset.pk}")
    assert response.status_code == 404


def test_the_owner_accepts_a_suggestion(client_for, owner, dataset, suggestion):
    client = client_for(owner)

    response = client.post(
        f"/api/v1/suggestions/{suggestion.pk}/accept", {"note": "yes, e-mails"}, format="json"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["decided_by"], body["note"]) == (
        "accepted",
        "olivia",
        "yes, e-mails",
    )
    column = client.get(f"/api/v1/datasets/{dataset.pk}/columns/").json()["results"][0]
    assert column["categories"] == ["contact"]
    assert column["sensitivity"] == "confidential"
    assert column["pending_suggestions"] == []

    again = client.post(f"/api/v1/suggestions/{suggestion.pk}/reject", {}, format="json")
    assert again.status_code == 409
    assert error_code(again) == "suggestion_decided"


def test_the_owner_rejects_a_suggestion(client_for, owner, suggestion):
    response = client_for(owner).post(
        f"/api/v1/suggestions/{suggestion.pk}/reject", {"note": "test data"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["status"] == "rejected"
    assert suggestion.column.categories.count() == 0


@pytest.mark.parametrize("action", ["accept", "reject"])
def test_a_viewer_cannot_decide(client_for, viewer, suggestion, action):
    events = audit_count()

    response = client_for(viewer).post(
        f"/api/v1/suggestions/{suggestion.pk}/{action}", {}, format="json"
    )

    assert response.status_code == 403
    suggestion.refresh_from_db()
    assert suggestion.status == Status.PENDING
    assert audit_count() == events


@pytest.mark.parametrize("action", ["accept", "reject"])
def test_others_get_404(client_for, owner, stranger, suggestion, foreign_suggestion, action):
    events = audit_count()

    by_stranger = client_for(stranger).post(
        f"/api/v1/suggestions/{suggestion.pk}/{action}", {}, format="json"
    )
    other_object = client_for(owner).post(
        f"/api/v1/suggestions/{foreign_suggestion.pk}/{action}", {}, format="json"
    )

    assert (by_stranger.status_code, other_object.status_code) == (404, 404)
    assert set(ClassificationSuggestion.objects.values_list("status", flat=True)) == {"pending"}
    assert audit_count() == events


def test_a_too_long_note_is_invalid(client_for, owner, suggestion):
    response = client_for(owner).post(
        f"/api/v1/suggestions/{suggestion.pk}/accept", {"note": "x" * 401}, format="json"
    )

    assert response.status_code == 400
    suggestion.refresh_from_db()
    assert suggestion.status == Status.PENDING
