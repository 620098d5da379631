"""/api/v1/lineage/ and /api/v1/column-lineage/: edges between datasets (acyclic) and columns."""

import pytest

from apps.catalog import services
from apps.catalog.models import ColumnLineageEdge, LineageEdge
from tests.api.helpers import audit_count, error_code, make_columns
from tests.factories import DatasetFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def downstream(owner):
    """olivia also owns the mart fed by her customers table."""
    return DatasetFactory(
        source__name="dwh", schema_name="mart", table_name="customers", owner=owner
    )


def test_anonymous_gets_401(anon, dataset, downstream):
    edge = services.lineage_edge_create(
        actor=dataset.owner, upstream=dataset, downstream=downstream
    )
    responses = [
        anon.post("/api/v1/lineage/", {"upstream": 1, "downstream": 2}, format="json"),
        anon.delete(f"/api/v1/lineage/{edge.pk}/"),
        anon.post("/api/v1/column-lineage/", {"upstream": 1, "downstream": 2}, format="json"),
    ]
    assert {r.status_code for r in responses} == {401}
    assert LineageEdge.objects.count() == 1


def test_the_owner_links_datasets_by_id_and_fqn(client_for, owner, dataset, downstream):
    client = client_for(owner)

    response = client.post(
        "/api/v1/lineage/",
        {"upstream": dataset.pk, "downstream": "dwh.mart.customers", "description": "nightly ETL"},
        format="json",
    )

    assert response.status_code == 201, response.content
    edge = response.json()
    assert edge["upstream"] == {"id": dataset.pk, "fqn": "crm.public.customers"}
    assert edge["downstream"]["fqn"] == "dwh.mart.customers"
    lineage = client.get(f"/api/v1/datasets/{downstream.pk}/lineage/").json()
    assert lineage == {
        "upstream": [
            {
                "edge_id": edge["id"],
                "dataset": {"id": dataset.pk, "fqn": "crm.public.customers"},
                "effective_sensitivity": None,
                "description": "nightly ETL",
            }
        ],
        "downstream": [],
    }
    history = client.get(f"/api/v1/datasets/{dataset.pk}/history/").json()
    assert history[0]["action"] == "catalog.lineage.create"


def test_a_cycle_is_refused_and_nothing_is_written(client_for, owner, dataset, downstream):
    services.lineage_edge_create(actor=owner, upstream=dataset, downstream=downstream)
    events = audit_count()

    response = client_for(owner).post(
        "/api/v1/lineage/",
        {"upstream": "dwh.mart.customers", "downstream": "crm.public.customers"},
        format="json",
    )

    assert response.status_code == 400
    assert error_code(response) == "lineage_cycle"
    assert "cycle" in response.json()["error"]["message"]
    assert LineageEdge.objects.count() == 1
    assert audit_count() == events


def test_self_loop_is_a_cycle(client_for, owner, dataset):
    response = client_for(owner).post(
        "/api/v1/lineage/", {"upstream": dataset.pk, "downstream": dataset.pk}, format="json"
    )
    assert error_code(response) == "lineage_cycle"


def test_a_duplicate_edge_is_a_conflict(client_for, owner, dataset, downstream):
    services.lineage_edge_create(actor=owner, upstream=dataset, downstream=downstream)
    events = audit_count()

    response = client_for(owner).post(
        "/api/v1/lineage/", {"upstream": dataset.pk, "downstream": downstream.pk}, format="json"
    )

    assert response.status_code == 409
    assert error_code(response) == "duplicate_edge"
    assert audit_count() == events


def test_a_stranger_cannot_link_or_unlink(client_for, stranger, owner, dataset, downstream):
    edge = services.lineage_edge_create(actor=owner, upstream=dataset, downstream=downstream)
    events = audit_count()
    client = client_for(stranger)

    created = client.post(
        "/api/v1/lineage/", {"upstream": downstream.pk, "downstream": dataset.pk}, format="json"
    )
    deleted = client.delete(f"/api/v1/lineage/{edge.pk}/")

    assert (created.status_code, deleted.status_code) == (404, 404)
    assert LineageEdge.objects.count() == 1
    assert audit_count() == events


def test_seeing_one_end_is_not_enough(client_for, owner, dataset, other_dataset):
    """Permission on another object: olivia owns one end but cannot see the other."""
    response = client_for(owner).post(
        "/api/v1/lineage/",
        {"upstream": dataset.pk, "downstream": other_dataset.fqn},
        format="json",
    )

    assert response.status_code == 404
    assert not LineageEdge.objects.exists()


def test_a_viewer_of_both_ends_cannot_link_them(client_for, admin, viewer, dataset, downstream):
    services.dataset_viewer_add(actor=admin, dataset=downstream, user=viewer.username)
    edge = services.lineage_edge_create(actor=admin, upstream=dataset, downstream=downstream)
    events = audit_count()

    created = client_for(viewer).post(
        "/api/v1/lineage/", {"upstream": downstream.pk, "downstream": dataset.pk}, format="json"
    )
    deleted = client_for(viewer).delete(f"/api/v1/lineage/{edge.pk}/")

    assert (created.status_code, deleted.status_code) == (403, 403)
    assert LineageEdge.objects.count() == 1
    assert audit_count() == events


def test_the_owner_deletes_an_edge(client_for, owner, dataset, downstream):
    edge = services.lineage_edge_create(actor=owner, upstream=dataset, downstream=downstream)

    response = client_for(owner).delete(f"/api/v1/lineage/{edge.pk}/")

    assert response.status_code == 204
    assert not LineageEdge.objects.exists()
    assert client_for(owner).delete(f"/api/v1/lineage/{edge.pk}/").status_code == 404


def test_wrong_types_are_invalid(client_for, owner, dataset):
    response = client_for(owner).post(
        "/api/v1/lineage/", {"upstream": [dataset.pk], "downstream": None}, format="json"
    )

    assert response.status_code == 400
    assert error_code(response) == "invalid"
    assert set(response.json()["error"]["fields"]) == {"upstream", "downstream"}


class TestColumnLineage:
    def test_the_owner_links_columns(self, client_for, owner, dataset, downstream):
        (source_col,) = make_columns(dataset, "email")
        (target_col,) = make_columns(downstream, "contact_email")

        response = client_for(owner).post(
            "/api/v1/column-lineage/",
            {"upstream": source_col.pk, "downstream": target_col.pk},
            format="json",
        )

        assert response.status_code == 201, response.content
        body = response.json()
        assert body["upstream"]["name"] == "email"
        assert body["downstream"]["dataset"]["fqn"] == "dwh.mart.customers"

    def test_a_stranger_gets_404(self, client_for, stranger, dataset, downstream):
        (source_col,) = make_columns(dataset, "email")
        (target_col,) = make_columns(downstream, "contact_email")
        events = audit_count()

        response = client_for(stranger).post(
            "/api/v1/column-lineage/",
            {"upstream": source_col.pk, "downstream": target_col.pk},
            format="json",
        )

        assert response.status_code == 404
        assert not ColumnLineageEdge.objects.exists()
        assert audit_count() == events

    def test_a_viewer_gets_403(self, client_for, viewer, dataset):
        a, b = make_columns(dataset, "a", "b")

        response = client_for(viewer).post(
            "/api/v1/column-lineage/", {"upstream": a.pk, "downstream": b.pk}, format="json"
        )

        assert response.status_code == 403
        assert not ColumnLineageEdge.objects.exists()
