"""The audit API: permission, filters, keyset pages, proofs, checkpoints, public key."""

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from apps.audit import merkle
from apps.audit.models import AuditCheckpoint, AuditEvent, AuditSeal
from apps.audit.offline import verify_inclusion_proof
from apps.audit.services import audit_checkpoint_create, audit_seal_pending
from tests.audit.conftest import record

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    def make(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


@pytest.fixture
def auditor(user_factory):
    user = user_factory(username="audrey")
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="audit", codename="view_auditevent")
    )
    return user


def test_reading_needs_the_permission(api, viewer):
    response = api(viewer).get("/api/v1/audit/events/")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert APIClient().get("/api/v1/audit/events/").status_code == 401


def test_filters_and_keyset_pages(api, auditor, admin):
    record(admin, 7, action="catalog.dataset.update")
    record(admin, 3, action="auth.sign_in")
    client = api(auditor)

    first = client.get("/api/v1/audit/events/", {"action": "catalog.", "limit": 5}).json()
    assert [e["action"] for e in first["results"]] == ["catalog.dataset.update"] * 5
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 2
    assert second["next"] is None
    ids = [e["id"] for e in first["results"] + second["results"]]
    assert ids == sorted(ids, reverse=True)
    assert all(merkle.leaf_hash(e["body"]) for e in second["results"])
    read = AuditEvent.objects.filter(action="audit.read", actor=auditor).order_by("-id").first()
    assert read.changes["filters"] == {"action": "catalog."}


def test_a_page_shows_each_entrys_seal_at_the_same_query_cost(
    api, auditor, admin, django_assert_max_num_queries
):
    client = api(auditor)
    record(admin, 3)
    audit_seal_pending()
    with django_assert_max_num_queries(12) as few:
        client.get("/api/v1/audit/events/", {"action": "test.write"})
    record(admin, 30)
    audit_seal_pending()
    record(admin, 2)  # not sealed yet
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get("/api/v1/audit/events/", {"action": "test.write"}).json()["results"]
    assert [e["seq"] for e in page[:2]] == [None, None]
    assert page[2]["seq"] == AuditSeal.objects.get(entry_id=page[2]["id"]).seq
    sealed = [e for e in page if e["seq"] is not None]
    assert all(e["leaf_hash"] == merkle.leaf_hash(e["body"]).hex() for e in sealed)
    assert all(e["leaf_hash"] is None for e in page if e["seq"] is None)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"outcome": "maybe"}, "outcome"),
        ({"since": "not-a-time"}, "since"),
        ({"since": "2026-11-02T00:00:00Z", "until": "2026-11-01T00:00:00Z"}, "until"),
        ({"limit": 0}, "limit"),
    ],
)
def test_bad_filters_are_clear_400s_and_record_nothing(api, auditor, params, field):
    before = AuditEvent.objects.count()
    response = api(auditor).get("/api/v1/audit/events/", params)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert field in response.json()["error"]["fields"]
    assert AuditEvent.objects.count() == before


def test_an_entry_its_proof_and_the_public_key(api, auditor, admin):
    (entry,) = record(admin, 1)
    client = api(auditor)
    assert client.get(f"/api/v1/audit/events/{entry}/").json()["seq"] is None
    pending = client.get(f"/api/v1/audit/events/{entry}/proof")
    assert (pending.status_code, pending.json()["error"]["code"]) == (409, "audit_entry_unsealed")
    audit_seal_pending()
    audit_checkpoint_create()
    proof = client.get(f"/api/v1/audit/events/{entry}/proof").json()
    key = client.get("/api/v1/audit/public-key").json()
    verify_inclusion_proof(proof, key["pem"])
    assert client.get("/api/v1/audit/events/999999/").status_code == 404


def test_checkpoints_on_demand_need_their_own_permission(api, auditor, admin):
    record(admin, 2)
    refused = api(auditor).post("/api/v1/audit/checkpoints/")
    assert refused.status_code == 403
    created = api(admin).post("/api/v1/audit/checkpoints/")
    assert created.status_code == 201
    assert created.json()["last_seq"] >= 2
    listed = api(auditor).get("/api/v1/audit/checkpoints/").json()
    assert [c["id"] for c in listed] == [created.json()["id"]]
    assert AuditCheckpoint.objects.count() == 1
