"""A dataset's usage policy over the API: the purposes it may be read for and its row filter,
validated whole (a bad value changes nothing), audited, shown with names."""

import pytest
from django.contrib.auth.models import Group

from apps.audit.models import AuditEvent
from apps.catalog.models import Dataset
from tests.api.helpers import audit_count, error_code, make_columns
from tests.factories import GroupFactory

pytestmark = pytest.mark.django_db

FILTER = {
    "column": "region",
    "rules": [
        {"group": "emea", "values": ["UK", "EU", "EU"]},
        {"user": "vera", "values": ["US"]},
    ],
}


@pytest.fixture
def regions(dataset):
    make_columns(dataset, "id", "region")
    GroupFactory(name="emea")
    return dataset


def _patch(client, dataset, body):
    return client.patch(f"/api/v1/datasets/{dataset.pk}/", body, format="json")


def test_purposes_and_a_row_filter_are_set_shown_and_audited(client_for, owner, regions):
    response = _patch(
        client_for(owner), regions, {"purposes": ["support", "analytics"], "row_filter": FILTER}
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["purposes"] == ["analytics", "support"]
    assert body["row_filter"] == {
        "column": "region",
        "rules": [{"group": "emea", "values": ["EU", "UK"]}, {"user": "vera", "values": ["US"]}],
    }
    stored = Dataset.objects.get(pk=regions.pk).row_filter
    assert {tuple(sorted(r)) for r in stored["rules"]} == {
        ("group_id", "values"),
        ("user_id", "values"),
    }
    entry = AuditEvent.objects.filter(action="catalog.dataset.update").latest("id")
    assert entry.changes["purposes"] == {"before": [], "after": ["analytics", "support"]}
    assert entry.changes["row_filter"]["after"] == body["row_filter"]


def test_a_rename_keeps_the_rule_and_null_removes_the_filter(client_for, owner, regions):
    client = client_for(owner)
    _patch(client, regions, {"row_filter": FILTER})
    Group.objects.filter(name="emea").update(name="europe")

    shown = client.get(f"/api/v1/datasets/{regions.pk}/").json()["row_filter"]
    assert shown["rules"][0] == {"group": "europe", "values": ["EU", "UK"]}

    response = _patch(client, regions, {"row_filter": None, "purposes": []})
    assert response.status_code == 200
    assert (response.json()["row_filter"], response.json()["purposes"]) == (None, [])


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"purposes": "support"}, "invalid_purposes"),
        ({"purposes": ["Support!"]}, "invalid_purposes"),
        ({"purposes": [f"p{i}" for i in range(21)]}, "invalid_purposes"),
        ({"row_filter": {"column": "region"}}, "invalid_row_filter"),
        ({"row_filter": {**FILTER, "column": "country"}}, "unknown_column"),
        ({"row_filter": {**FILTER, "rules": []}}, "invalid_row_filter"),
        (
            {"row_filter": {**FILTER, "rules": [{"group": "nobody", "values": ["EU"]}]}},
            "unknown_group",
        ),
        (
            {"row_filter": {**FILTER, "rules": [{"user": "ghost", "values": ["EU"]}]}},
            "unknown_user",
        ),
        (
            {"row_filter": {**FILTER, "rules": [{"group": ["emea"], "values": ["EU"]}]}},
            "unknown_group",
        ),
        (
            {
                "row_filter": {
                    **FILTER,
                    "rules": [{"group": "emea", "user": "vera", "values": ["EU"]}],
                }
            },
            "invalid_row_filter",
        ),
        (
            {"row_filter": {**FILTER, "rules": [{"group": "emea", "values": []}]}},
            "invalid_row_filter",
        ),
        (
            {"row_filter": {**FILTER, "rules": [{"group": "emea", "values": [1]}]}},
            "invalid_row_filter",
        ),
        (
            {"row_filter": {**FILTER, "rules": [{"group": "emea", "values": ["a\x00"]}]}},
            "invalid_row_filter",
        ),
        (
            {"row_filter": {**FILTER, "rules": [{"group": "emea", "values": ["EU"]}] * 2}},
            "invalid_row_filter",
        ),
        # The purposes are fine but the filter is not: neither is written.
        ({"purposes": ["support"], "row_filter": {**FILTER, "column": "nope"}}, "unknown_column"),
    ],
    ids=[
        "purposes-not-a-list",
        "purpose-not-a-key",
        "too-many-purposes",
        "filter-without-rules",
        "column-not-in-the-dataset",
        "no-rules",
        "unknown-group",
        "unknown-user",
        "group-name-not-text",
        "group-and-user-in-one-rule",
        "no-values",
        "value-not-text",
        "value-with-nul",
        "two-rules-for-one-group",
        "one-bad-part-changes-nothing",
    ],
)
def test_a_bad_usage_policy_is_400_and_changes_nothing(client_for, owner, regions, body, code):
    before = audit_count()

    response = _patch(client_for(owner), regions, body)

    assert response.status_code == 400
    assert error_code(response) == code
    assert response.json()["error"]["message"]
    dataset = Dataset.objects.get(pk=regions.pk)
    assert (dataset.purposes, dataset.row_filter) == ([], None)
    assert audit_count() == before


def test_a_viewer_may_not_set_the_usage_policy(client_for, viewer, regions):
    response = _patch(client_for(viewer), regions, {"row_filter": FILTER})
    assert response.status_code == 403
    assert Dataset.objects.get(pk=regions.pk).row_filter is None
