"""The access REST API: the request → approve → grant → revoke path, and bad input as 4xx with
stable codes and nothing written."""

import importlib

import pytest
from rest_framework.test import APIClient

from apps.access import permissions
from apps.access.models import AccessRequest, Approval, Grant, Role, RoleBinding
from apps.audit.models import AuditEvent
from tests.access.conftest import filter_rows_by_region


def _client(user=None):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def _counts():
    return (
        AccessRequest.objects.count(),
        Approval.objects.count(),
        Grant.objects.count(),
        RoleBinding.objects.count(),
        AuditEvent.objects.filter(action__startswith="access.").count(),
    )


def test_request_approve_grant_revoke(customers, rick, owner, sam):
    created = _client(rick).post(
        "/api/v1/access/requests/",
        {
            "dataset": customers.fqn,
            "access": "read",
            "purpose": "fraud case 12",
            "duration_seconds": 3600,
            "columns": ["email"],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["status"], body["approvals_required"]) == ("pending", 2)

    inbox = _client(owner).get("/api/v1/access/requests/?box=inbox").json()
    assert [r["id"] for r in inbox["results"]] == [body["id"]]
    assert _client(rick).get("/api/v1/access/requests/?box=inbox").json()["count"] == 0

    url = f"/api/v1/access/requests/{body['id']}/decision/"
    self_approval = _client(rick).post(url, {"verdict": "approve"}, format="json")
    assert self_approval.status_code == 403
    assert self_approval.json()["error"]["code"] == "self_approval"

    assert _client(owner).post(url, {"verdict": "approve"}, format="json").status_code == 200
    done = _client(sam).post(url, {"verdict": "approve", "note": "ok"}, format="json").json()
    assert done["status"] == "approved"
    assert done["grant_id"]

    grants = _client(rick).get("/api/v1/access/grants/").json()["results"]
    assert [(g["dataset"], g["columns"]) for g in grants] == [(customers.fqn, ["email"])]
    assert _client(owner).get("/api/v1/access/grants/").json()["count"] == 1  # owns the dataset

    revoked = _client(owner).post(
        f"/api/v1/access/grants/{done['grant_id']}/revoke/", {}, format="json"
    )
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"]
    again = _client(owner).post(
        f"/api/v1/access/grants/{done['grant_id']}/revoke/", {}, format="json"
    )
    assert (again.status_code, again.json()["error"]["code"]) == (409, "grant_not_active")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"access": "read", "purpose": "x", "duration_seconds": 3600}, 400, "invalid"),
        ({"dataset": "no.such.table", "access": "read", "purpose": "x", "duration_seconds": 60}, 404, "unknown_dataset"),
        ({"dataset": "crm.public.customers", "access": "read", "purpose": "x", "duration_seconds": 172800}, 400, "duration_too_long"),
        ({"dataset": "crm.public.customers", "access": "export", "purpose": "x", "duration_seconds": 60}, 403, "request_refused"),
        ({"dataset": "crm.public.customers", "access": "read", "purpose": "x", "duration_seconds": 60, "colums": []}, 400, "unknown_field"),
        ({"dataset": "crm.public.customers", "access": "read", "purpose": "x", "duration_seconds": -5}, 400, "invalid"),
        ({"dataset": "crm.public.customers", "access": "read", "purpose": "x", "duration_seconds": 60, "rows": ["ACME"]}, 400, "no_row_filter"),
    ],
)  # fmt: skip
def test_bad_requests_answer_4xx_and_write_nothing(customers, rick, body, status, code):
    before = _counts()
    response = _client(rick).post("/api/v1/access/requests/", body, format="json")
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    assert _counts() == before


def test_malformed_json_is_a_400(customers, rick):
    response = _client(rick).post(
        "/api/v1/access/requests/", b"{nope", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"]


def test_anonymous_is_401(customers):
    assert _client().get("/api/v1/access/requests/").status_code == 401


def test_a_request_is_invisible_to_unrelated_people(events, rick, stranger):
    created = (
        _client(rick)
        .post(
            "/api/v1/access/requests/",
            {"dataset": events.fqn, "access": "read", "purpose": "x", "duration_seconds": 3600},
            format="json",
        )
        .json()
    )
    url = f"/api/v1/access/requests/{created['id']}/"
    assert _client(stranger).get(url).status_code == 404
    decide = _client(stranger).post(f"{url}decision/", {"verdict": "approve"}, format="json")
    assert decide.status_code == 404


def test_role_bindings_need_roles_manage(admin, rick, events):
    body = {"role": "analyst", "user": "rick", "source": events.source.name}
    assert _client(rick).post("/api/v1/access/bindings/", body, format="json").status_code == 403
    created = _client(admin).post("/api/v1/access/bindings/", body, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["principal"] == "user:rick"
    assert created.json()["scope"] == f"source {events.source.name}"
    dup = _client(admin).post("/api/v1/access/bindings/", body, format="json")
    assert (dup.status_code, dup.json()["error"]["code"]) == (409, "duplicate_binding")
    unknown = _client(admin).post(
        "/api/v1/access/bindings/", {**body, "role": "wizard"}, format="json"
    )
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (400, "unknown_role")
    # a binding to the admin role makes rick a manager too
    _client(admin).post(
        "/api/v1/access/bindings/", {"role": "admin", "user": "rick"}, format="json"
    )
    assert _client(rick).get("/api/v1/access/bindings/").json()["count"] == 2
    pk = created.json()["id"]
    assert _client(rick).delete(f"/api/v1/access/bindings/{pk}/").status_code == 204
    assert AuditEvent.objects.filter(action="access.binding.delete").count() == 1


def test_custom_roles_only_name_known_permissions(admin):
    bad = _client(admin).post(
        "/api/v1/access/roles/",
        {"key": "exporter", "name": "Exporter", "permissions": ["data.export", "data.fly"]},
        format="json",
    )
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "unknown_permission")
    assert not Role.objects.filter(key="exporter").exists()
    ok = _client(admin).post(
        "/api/v1/access/roles/",
        {"key": "exporter", "name": "Exporter", "permissions": ["data.export"]},
        format="json",
    )
    assert ok.status_code == 201


def test_the_seeded_roles_are_the_ones_permissions_py_names():
    seeded = importlib.import_module("apps.access.migrations.0002_builtin_roles").ROLES
    added = importlib.import_module("apps.access.migrations.0004_reviews_manage").ADDED
    assert {k: (n, sorted({*p, *added.get(k, [])})) for k, (n, p) in seeded.items()} == {
        k: (n, sorted(p)) for k, (n, p) in permissions.BUILTIN_ROLES.items()
    }
    assert set(Role.objects.filter(builtin=True).values_list("key", flat=True)) == set(
        permissions.BUILTIN_ROLES
    )


def test_a_request_for_some_rows_names_them_and_its_grant_keeps_them(events, rick, owner, admin):
    filter_rows_by_region(events, admin)
    created = _client(rick).post(
        "/api/v1/access/requests/",
        {
            "dataset": events.fqn,
            "access": "read",
            "purpose": "ticket 4711",
            "duration_seconds": 3600,
            "rows": ["ACME"],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["rows"] == ["ACME"]
    url = f"/api/v1/access/requests/{created.json()['id']}/decision/"
    assert _client(owner).post(url, {"verdict": "approve"}, format="json").status_code == 200
    grants = _client(rick).get("/api/v1/access/grants/").json()["results"]
    assert [g["rows"] for g in grants] == [["ACME"]]
