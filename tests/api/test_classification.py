"""/api/v1/sensitivity-levels/, /categories/, /tags/: everyone reads, taxonomy admins write."""

import pytest

from apps.audit.models import AuditEvent
from apps.classification.models import DataCategory, SensitivityLevel, Tag
from tests.api.helpers import audit_count, error_code, grant
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ENDPOINTS = {
    "sensitivity-levels": {"key": "secret", "name": "Secret", "rank": 50},
    "categories": {"key": "genetic", "name": "Genetic data", "parent": "personal"},
    "tags": {"key": "gold"},
}


def _count() -> tuple[int, int, int]:
    return SensitivityLevel.objects.count(), DataCategory.objects.count(), Tag.objects.count()


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_anonymous_gets_401(anon, name):
    before = _count()
    assert anon.get(f"/api/v1/{name}/").status_code == 401
    assert anon.post(f"/api/v1/{name}/", ENDPOINTS[name], format="json").status_code == 401
    assert _count() == before


def test_anyone_signed_in_reads_the_taxonomy(client_for, stranger):
    client = client_for(stranger)

    levels = client.get("/api/v1/sensitivity-levels/").json()["results"]
    categories = client.get("/api/v1/categories/").json()["results"]

    assert [lvl["key"] for lvl in levels] == ["public", "internal", "confidential", "restricted"]
    contact = next(c for c in categories if c["key"] == "contact")
    assert contact["parent"] == "personal"
    assert contact["default_sensitivity"] == "confidential"
    assert client.get("/api/v1/tags/").json()["results"] == []


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_without_the_permission_nothing_is_created(client_for, stranger, name):
    before, events = _count(), audit_count()

    response = client_for(stranger).post(f"/api/v1/{name}/", ENDPOINTS[name], format="json")

    assert response.status_code == 403
    assert error_code(response) == "permission_denied"
    assert _count() == before
    assert audit_count() == events


def test_a_taxonomy_admin_adds_a_level_and_a_category(client_for):
    curator = grant(UserFactory(), "classification.change_sensitivitylevel")
    client = client_for(curator)

    level = client.post(
        "/api/v1/sensitivity-levels/", ENDPOINTS["sensitivity-levels"], format="json"
    )
    category = client.post(
        "/api/v1/categories/",
        {**ENDPOINTS["categories"], "default_sensitivity": "secret"},
        format="json",
    )

    assert level.status_code == 201, level.content
    assert level.json() == {
        "key": "secret",
        "name": "Secret",
        "rank": 50,
        "description": "",
        "color": "#6b7280",
    }
    assert category.status_code == 201, category.content
    assert category.json()["default_sensitivity"] == "secret"
    assert AuditEvent.objects.filter(action__startswith="classification.").count() == 2
    # Tags are a separate permission.
    assert client.post("/api/v1/tags/", {"key": "gold"}, format="json").status_code == 403


def test_a_tag_manager_adds_tags(client_for):
    tagger = grant(UserFactory(), "classification.add_tag")
    client = client_for(tagger)

    response = client.post(
        "/api/v1/tags/", {"key": "gold", "description": "curated"}, format="json"
    )

    assert response.status_code == 201
    assert client.get("/api/v1/tags/?q=gol").json()["results"] == [
        {"key": "gold", "description": "curated"}
    ]
    assert AuditEvent.objects.get(action="classification.tag.create").actor == tagger


@pytest.mark.parametrize(
    ("name", "body", "status", "code"),
    [
        pytest.param(
            "sensitivity-levels",
            {"key": "public", "name": "P", "rank": 99},
            409,
            "duplicate_key",
            id="level-key",
        ),
        pytest.param(
            "sensitivity-levels",
            {"key": "pub2", "name": "P", "rank": 10},
            409,
            "duplicate_rank",
            id="level-rank",
        ),
        pytest.param(
            "sensitivity-levels",
            {"key": "Bad Key", "name": "P", "rank": 99},
            400,
            "invalid",
            id="level-key-format",
        ),
        pytest.param(
            "sensitivity-levels",
            {"key": "x", "name": "P", "rank": "high"},
            400,
            "invalid",
            id="level-rank-type",
        ),
        pytest.param(
            "sensitivity-levels",
            {"key": "x", "name": "P", "rank": 9, "color": "red"},
            400,
            "invalid",
            id="level-color",
        ),
        pytest.param(
            "categories", {"key": "contact", "name": "C"}, 409, "duplicate_key", id="category-key"
        ),
        pytest.param(
            "categories",
            {"key": "x", "name": "X", "parent": "nope"},
            400,
            "unknown_category",
            id="category-parent",
        ),
        pytest.param(
            "categories",
            {"key": "x", "name": "X", "default_sensitivity": "nope"},
            400,
            "unknown_sensitivity",
            id="category-level",
        ),
        pytest.param("tags", {"key": "-leading-dash"}, 400, "invalid", id="tag-key-format"),
        pytest.param(
            "tags", {"key": "ok", "colour": "red"}, 400, "unknown_field", id="tag-unknown-field"
        ),
    ],
)
def test_bad_taxonomy_input_changes_nothing(client_for, admin, name, body, status, code):
    Tag.objects.create(key="existing")
    before, events = _count(), audit_count()

    response = client_for(admin).post(f"/api/v1/{name}/", body, format="json")

    assert response.status_code == status, response.content
    assert error_code(response) == code
    assert _count() == before
    assert audit_count() == events


def test_duplicate_tag_is_a_conflict(client_for, admin):
    Tag.objects.create(key="gold")
    response = client_for(admin).post("/api/v1/tags/", {"key": "gold"}, format="json")
    assert response.status_code == 409
    assert error_code(response) == "duplicate_key"
