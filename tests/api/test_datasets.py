"""/api/v1/datasets/: list with filters, create, detail, edit, by-fqn, columns, lineage,
history, viewers."""

import json

import pytest

from apps.catalog import services
from apps.catalog.models import Dataset
from tests.api.helpers import audit_count, error_code, make_columns, make_suggestion
from tests.factories import DatasetFactory, GroupFactory, TagFactory, UserFactory

pytestmark = pytest.mark.django_db


def _urls(pk: int) -> list[str]:
    return [
        f"/api/v1/datasets/{pk}/",
        f"/api/v1/datasets/{pk}/columns/",
        f"/api/v1/datasets/{pk}/lineage/",
        f"/api/v1/datasets/{pk}/history/",
        "/api/v1/datasets/by-fqn/crm.public.customers/",
    ]


def test_anonymous_gets_401(anon, dataset):
    responses = [anon.get("/api/v1/datasets/")] + [anon.get(u) for u in _urls(dataset.pk)]
    responses.append(anon.patch(f"/api/v1/datasets/{dataset.pk}/", {}, format="json"))
    responses.append(anon.post("/api/v1/datasets/", {}, format="json"))
    responses.append(anon.post(f"/api/v1/datasets/{dataset.pk}/viewers/", {}, format="json"))
    assert {r.status_code for r in responses} == {401}


def test_a_stranger_sees_nothing_and_every_id_is_404(client_for, stranger, dataset):
    client = client_for(stranger)
    events = audit_count()

    assert client.get("/api/v1/datasets/").json() == {
        "count": 0,
        "next": None,
        "previous": None,
        "results": [],
    }
    assert [client.get(u).status_code for u in _urls(dataset.pk)] == [404] * 5
    patch = client.patch(
        f"/api/v1/datasets/{dataset.pk}/", {"description": "mine now"}, format="json"
    )
    add_viewer = client.post(
        f"/api/v1/datasets/{dataset.pk}/viewers/", {"user": stranger.username}, format="json"
    )

    assert (patch.status_code, add_viewer.status_code) == (404, 404)
    dataset.refresh_from_db()
    assert dataset.description == ""
    assert audit_count() == events


def test_the_owner_of_another_dataset_cannot_reach_this_one(client_for, dataset, other_dataset):
    other_owner = UserFactory()
    services.dataset_update(
        actor=UserFactory(is_superuser=True), dataset=other_dataset, owner=other_owner.username
    )
    client = client_for(other_owner)
    events = audit_count()

    listed = client.get("/api/v1/datasets/").json()["results"]
    patch = client.patch(f"/api/v1/datasets/{dataset.pk}/", {"description": "x"}, format="json")

    assert [d["fqn"] for d in listed] == ["billing.public.invoices"]
    assert patch.status_code == 404
    assert audit_count() == events


def test_a_viewer_reads_but_cannot_edit(client_for, viewer, dataset):
    client = client_for(viewer)
    events = audit_count()

    detail = client.get(f"/api/v1/datasets/{dataset.pk}/")
    patch = client.patch(
        f"/api/v1/datasets/{dataset.pk}/", {"sensitivity": "public"}, format="json"
    )

    assert detail.status_code == 200
    assert detail.json()["fqn"] == "crm.public.customers"
    assert patch.status_code == 403
    assert error_code(patch) == "permission_denied"
    dataset.refresh_from_db()
    assert dataset.sensitivity is None
    assert audit_count() == events


def test_the_owner_classifies_and_reassigns_a_dataset(client_for, owner, dataset):
    team = GroupFactory(name="data-platform")
    TagFactory(key="gold")

    response = client_for(owner).patch(
        f"/api/v1/datasets/{dataset.pk}/",
        {
            "description": "Every customer",
            "sensitivity": "confidential",
            "categories": ["contact", "name"],
            "tags": ["gold"],
            "steward_group": team.name,
        },
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["sensitivity"] == "confidential"
    assert body["effective_sensitivity"] == "confidential"
    assert body["categories"] == ["contact", "name"]
    assert body["tags"] == ["gold"]
    assert body["steward_group"] == "data-platform"
    assert body["owner"] == "olivia"
    history = client_for(owner).get(f"/api/v1/datasets/{dataset.pk}/history/").json()
    assert history[0]["action"] == "catalog.dataset.update"
    assert history[0]["actor"] == "olivia"
    assert history[0]["changes"]["sensitivity"] == {"before": None, "after": "confidential"}


@pytest.mark.parametrize(
    ("body", "code"),
    [
        pytest.param({"sensitivity": "secretish"}, "unknown_sensitivity", id="sensitivity"),
        pytest.param({"categories": ["contact", "gossip"]}, "unknown_category", id="category"),
        pytest.param({"tags": ["nope"]}, "unknown_tag", id="tag"),
        pytest.param({"owner": "nobody"}, "unknown_user", id="user"),
        pytest.param({"owner_group": "no-team"}, "unknown_group", id="group"),
        pytest.param({"kind": "spreadsheet"}, "invalid", id="kind"),
        pytest.param({"categories": "contact"}, "invalid", id="categories-not-a-list"),
        pytest.param({"fqn": "crm.x.y"}, "unknown_field", id="read-only-field"),
    ],
)
def test_bad_dataset_edits_change_nothing(client_for, owner, dataset, body, code):
    events = audit_count()

    response = client_for(owner).patch(
        f"/api/v1/datasets/{dataset.pk}/", {"description": "changed", **body}, format="json"
    )

    assert response.status_code == 400
    assert error_code(response) == code
    assert response.json()["error"]["message"]
    dataset.refresh_from_db()
    assert dataset.description == ""
    assert dataset.categories.count() == 0
    assert audit_count() == events


def test_dataset_by_fqn(client_for, viewer, dataset):
    response = client_for(viewer).get("/api/v1/datasets/by-fqn/crm.public.customers/")

    assert response.status_code == 200
    assert response.json()["id"] == dataset.pk
    missing = client_for(viewer).get("/api/v1/datasets/by-fqn/crm.public.nothing/")
    assert missing.status_code == 404


class TestListFilters:
    @pytest.fixture
    def catalog(self, admin):
        gold = TagFactory(key="gold")
        team = GroupFactory(name="finance")
        customers = DatasetFactory(source__name="crm", table_name="customers")
        orders = DatasetFactory(source=customers.source, table_name="orders")
        ledger = DatasetFactory(source__name="erp", table_name="ledger", description="GL")
        gone = DatasetFactory(source=ledger.source, table_name="old_ledger")
        (email,) = make_columns(customers, "email")
        services.column_classify(
            actor=admin, column=email, sensitivity="restricted", categories=["contact"]
        )
        services.dataset_update(
            actor=admin,
            dataset=ledger,
            sensitivity="internal",
            tags=["gold"],
            owner_group="finance",
        )
        Dataset.objects.filter(pk=gone.pk).update(removed_at="2026-01-01T00:00:00Z")
        return {
            "customers": customers,
            "orders": orders,
            "ledger": ledger,
            "gone": gone,
            "gold": gold,
            "team": team,
        }

    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            pytest.param(
                "",
                ["crm.public.customers", "crm.public.orders", "erp.public.ledger"],
                id="all-live",
            ),
            pytest.param("q=ord", ["crm.public.orders"], id="q-fqn"),
            pytest.param("q=gl", ["erp.public.ledger"], id="q-description"),
            pytest.param("source=erp", ["erp.public.ledger"], id="source"),
            pytest.param("sensitivity=restricted", ["crm.public.customers"], id="sensitivity"),
            pytest.param("category=contact", ["crm.public.customers"], id="category-of-a-column"),
            pytest.param("owner=finance", ["erp.public.ledger"], id="owner-group"),
            pytest.param("tag=gold", ["erp.public.ledger"], id="tag"),
            pytest.param("unclassified=true", ["crm.public.orders"], id="unclassified"),
            pytest.param(
                "source=erp&include_removed=true",
                ["erp.public.ledger", "erp.public.old_ledger"],
                id="include-removed",
            ),
            pytest.param("sensitivity=nonexistent", [], id="unknown-key-matches-nothing"),
        ],
    )
    def test_filters(self, client_for, admin, catalog, query, expected):
        response = client_for(admin).get(f"/api/v1/datasets/?{query}")

        assert response.status_code == 200
        assert [d["fqn"] for d in response.json()["results"]] == expected

    def test_list_items_carry_keys_and_names(self, client_for, admin, catalog):
        results = client_for(admin).get("/api/v1/datasets/?source=erp").json()["results"]

        assert results[0] | {"id": 0, "updated_at": ""} == {
            "id": 0,
            "fqn": "erp.public.ledger",
            "source": "erp",
            "schema_name": "public",
            "table_name": "ledger",
            "kind": "table",
            "description": "GL",
            "owner": None,
            "owner_group": "finance",
            "steward": None,
            "steward_group": None,
            "effective_sensitivity": "internal",
            "tags": ["gold"],
            "removed_at": None,
            "updated_at": "",
        }

    def test_bad_boolean_filter_is_400(self, client_for, admin, catalog):
        response = client_for(admin).get("/api/v1/datasets/?unclassified=perhaps")

        assert response.status_code == 400
        assert error_code(response) == "invalid"

    def test_pagination(self, client_for, admin, catalog):
        page = client_for(admin).get("/api/v1/datasets/?page_size=2&page=2").json()

        assert page["count"] == 3
        assert [d["fqn"] for d in page["results"]] == ["erp.public.ledger"]
        assert page["next"] is None
        assert page["previous"]


class TestCreate:
    BODY = {"source": "crm", "schema_name": "sales", "table_name": "orders", "owner": "olivia"}

    def test_admin_registers_a_dataset(self, client_for, admin, dataset):
        response = client_for(admin).post("/api/v1/datasets/", self.BODY, format="json")

        assert response.status_code == 201, response.content
        assert response.json()["fqn"] == "crm.sales.orders"
        assert response.json()["owner"] == "olivia"

    def test_duplicate_fqn_is_409_and_changes_nothing(self, client_for, admin, dataset):
        events = audit_count()
        body = {**self.BODY, "schema_name": "public", "table_name": "customers"}

        response = client_for(admin).post("/api/v1/datasets/", body, format="json")

        assert response.status_code == 409
        assert error_code(response) == "duplicate_fqn"
        assert Dataset.objects.count() == 1
        assert audit_count() == events

    def test_an_owner_without_the_admin_role_is_refused(self, client_for, owner, dataset):
        response = client_for(owner).post("/api/v1/datasets/", self.BODY, format="json")

        assert response.status_code == 403
        assert Dataset.objects.count() == 1

    def test_a_stranger_cannot_name_a_source_it_cannot_see(self, client_for, stranger, dataset):
        response = client_for(stranger).post("/api/v1/datasets/", self.BODY, format="json")

        assert response.status_code == 404
        assert Dataset.objects.count() == 1

    def test_unknown_owner(self, client_for, admin, dataset):
        body = {**self.BODY, "owner": "ghost"}

        response = client_for(admin).post("/api/v1/datasets/", body, format="json")

        assert response.status_code == 400
        assert error_code(response) == "unknown_user"
        assert Dataset.objects.count() == 1


def test_columns_with_pending_suggestions(client_for, viewer, dataset):
    email, _name = make_columns(dataset, "email", "name")
    suggestion = make_suggestion(email)

    response = client_for(viewer).get(f"/api/v1/datasets/{dataset.pk}/columns/")

    assert response.status_code == 200
    columns = response.json()["results"]
    assert [c["name"] for c in columns] == ["email", "name"]
    assert columns[0]["pending_suggestions"] == [
        {
            "id": suggestion.pk,
            "category": "contact",
            "sensitivity": "confidential",
            "detector": "regex.email",
            "confidence": 0.93,
        }
    ]
    assert columns[1]["pending_suggestions"] == []


def test_history_is_scoped_to_the_dataset(client_for, admin, owner, dataset, other_dataset):
    services.dataset_update(actor=admin, dataset=other_dataset, description="elsewhere")
    (email,) = make_columns(dataset, "email")
    services.column_classify(actor=owner, column=email, sensitivity="restricted")

    history = client_for(owner).get(f"/api/v1/datasets/{dataset.pk}/history/?limit=5").json()

    assert [e["action"] for e in history] == [
        "catalog.dataset.effective_sensitivity",
        "catalog.column.classify",
        "catalog.dataset.viewer_add",
    ]
    assert history[1]["target"] == "crm.public.customers.email"


def test_history_never_names_a_lineage_neighbour_the_reader_cannot_see(
    client_for, admin, owner, viewer, dataset, other_dataset
):
    """vera reads crm.public.customers, not billing.public.invoices, which feeds it."""
    services.lineage_edge_create(actor=admin, upstream=other_dataset, downstream=dataset)
    (email,) = make_columns(dataset, "email")
    (amount,) = make_columns(other_dataset, "amount")
    services.column_lineage_edge_create(actor=admin, upstream=amount, downstream=email)

    seen_by_viewer = client_for(viewer).get(f"/api/v1/datasets/{dataset.pk}/history/").json()
    seen_by_admin = client_for(admin).get(f"/api/v1/datasets/{dataset.pk}/history/").json()

    assert "billing.public.invoices" not in json.dumps(seen_by_viewer)
    lineage = [e for e in seen_by_viewer if "lineage" in e["action"]]
    assert len(lineage) == 2
    assert all("(a dataset you cannot see) -> crm.public.customers" in e["target"] for e in lineage)
    assert "billing.public.invoices -> crm.public.customers" in json.dumps(seen_by_admin)
    page = client_for(viewer).get(f"/catalog/datasets/{dataset.pk}/").content.decode()
    assert "billing.public.invoices" not in page


class TestViewers:
    def test_the_owner_adds_and_removes_a_viewer(self, client_for, owner, dataset):
        reader = UserFactory(username="rita")
        assert client_for(reader).get(f"/api/v1/datasets/{dataset.pk}/").status_code == 404

        added = client_for(owner).post(
            f"/api/v1/datasets/{dataset.pk}/viewers/", {"user": "rita"}, format="json"
        )
        assert added.status_code == 204
        assert client_for(reader).get(f"/api/v1/datasets/{dataset.pk}/").status_code == 200

        removed = client_for(owner).delete(f"/api/v1/datasets/{dataset.pk}/viewers/users/rita/")
        assert removed.status_code == 204
        assert client_for(reader).get(f"/api/v1/datasets/{dataset.pk}/").status_code == 404

    def test_a_group_becomes_a_viewer(self, client_for, owner, dataset):
        team = GroupFactory(name="support team")
        member = UserFactory()
        member.groups.add(team)

        added = client_for(owner).post(
            f"/api/v1/datasets/{dataset.pk}/viewers/", {"group": "support team"}, format="json"
        )

        assert added.status_code == 204
        assert client_for(member).get(f"/api/v1/datasets/{dataset.pk}/").status_code == 200
        removed = client_for(owner).delete(
            f"/api/v1/datasets/{dataset.pk}/viewers/groups/support%20team/"
        )
        assert removed.status_code == 204
        assert client_for(member).get(f"/api/v1/datasets/{dataset.pk}/").status_code == 404

    @pytest.mark.parametrize(
        ("body", "code"),
        [
            pytest.param({}, "invalid_principal", id="neither"),
            pytest.param({"user": "vera", "group": "x"}, "invalid_principal", id="both"),
            pytest.param({"user": "ghost"}, "unknown_user", id="unknown-user"),
        ],
    )
    def test_bad_viewer_input(self, client_for, owner, dataset, body, code):
        events = audit_count()

        response = client_for(owner).post(
            f"/api/v1/datasets/{dataset.pk}/viewers/", body, format="json"
        )

        assert response.status_code == 400
        assert error_code(response) == code
        assert audit_count() == events

    def test_a_viewer_cannot_share_the_dataset(self, client_for, viewer, dataset):
        UserFactory(username="friend")
        events = audit_count()

        added = client_for(viewer).post(
            f"/api/v1/datasets/{dataset.pk}/viewers/", {"user": "friend"}, format="json"
        )
        removed = client_for(viewer).delete(f"/api/v1/datasets/{dataset.pk}/viewers/users/vera/")

        assert (added.status_code, removed.status_code) == (403, 403)
        assert audit_count() == events

    def test_unknown_principal_kind_is_404(self, client_for, owner, dataset):
        response = client_for(owner).delete(f"/api/v1/datasets/{dataset.pk}/viewers/robots/r2/")

        assert response.status_code == 404
