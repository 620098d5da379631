"""Grants and role bindings as the decision API sees them, over real HTTP to the live server:
a grant works at once, stops exactly at its expiry with no cleanup running, and a revocation
is visible within a second."""

import datetime as dt
import json
import time
import urllib.error
import urllib.request

import pytest
from django.utils import timezone

from apps.access import services
from apps.access.models import AccessRequest, Grant, Role
from apps.decisions.credentials import credential_create
from apps.decisions.models import ServiceCredential

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def token(admin):
    return credential_create(actor=admin, name="etl", scopes=[ServiceCredential.Scope.EVALUATE])[1]


def _decide(live_server, token, who, fqn, action="read", at=None):
    body = {
        "subject": {"type": "user", "id": who},
        "action": {"name": action},
        "resource": {"type": "dataset", "id": fqn},
        "context": {"time": at.isoformat().replace("+00:00", "Z")} if at else {},
    }
    req = urllib.request.Request(  # noqa: S310 - the test's own live server
        f"{live_server.url}/access/v1/evaluation",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(req, timeout=20) as resp:  # noqa: S310
        answer = json.loads(resp.read())
    return answer["decision"], answer["context"]["reason_codes"], answer["context"]["obligations"]


def _approved(rick, owner, sam, customers, columns=()):
    req = services.access_request_create(
        actor=rick,
        dataset=customers,
        access="read",
        purpose="fraud investigation",
        duration_seconds=3600,
        columns=columns,
    )
    services.access_request_decide(actor=owner, request=req, verdict="approve")
    req = services.access_request_decide(actor=sam, request=req, verdict="approve")
    assert req.status == AccessRequest.Status.APPROVED
    return Grant.objects.get(request=req)


def test_a_grant_admits_at_once_and_unmasks_only_the_columns_it_names(
    live_server, token, customers, rick, owner, sam
):
    assert _decide(live_server, token, "rick", customers.fqn)[:2] == (
        False,
        ["clearance_insufficient"],
    )
    _approved(rick, owner, sam, customers, columns=["email"])
    allow, reasons, obligations = _decide(live_server, token, "rick", customers.fqn)
    assert (allow, reasons) == (True, ["grant"])
    assert obligations["mask"] == {"ssn": "redact"}  # email named in the grant, ssn not
    # read only: the grant does not reach export
    assert _decide(live_server, token, "rick", customers.fqn, "export")[0] is False


def test_a_grant_is_denied_exactly_at_its_expiry_with_no_cleanup_run(
    live_server, token, customers, rick, owner, sam
):
    grant = _approved(rick, owner, sam, customers)
    end = grant.expires_at
    # No beat, no worker: nothing closes the grant; the policy compares the request time.
    assert _decide(
        live_server, token, "rick", customers.fqn, at=end - dt.timedelta(milliseconds=1)
    )[0]
    allow, reasons, _ = _decide(live_server, token, "rick", customers.fqn, at=end)
    assert (allow, reasons) == (False, ["clearance_insufficient"])
    grant.refresh_from_db()
    assert grant.closed_at is None


def test_an_expired_grant_without_a_clearance_problem_is_named_as_expired(
    live_server, token, events, rick, owner
):
    req = services.access_request_create(
        actor=rick, dataset=events, access="write", purpose="backfill", duration_seconds=3600
    )
    services.access_request_decide(actor=owner, request=req, verdict="approve")
    end = Grant.objects.get(request=req).expires_at
    assert _decide(live_server, token, "rick", events.fqn, "write", at=end) == (
        False,
        ["grant_expired"],
        {"mask": {}},
    )


def test_a_revocation_is_visible_to_decisions_within_a_second(
    live_server, token, customers, rick, owner, sam
):
    grant = _approved(rick, owner, sam, customers)
    assert _decide(live_server, token, "rick", customers.fqn)[0] is True
    services.grant_revoke(actor=owner, grant=grant, reason="investigation closed")
    revoked = time.monotonic()
    while _decide(live_server, token, "rick", customers.fqn)[0]:
        assert time.monotonic() - revoked < 1.0, "still allowed a second after revocation"
        time.sleep(0.05)


def test_the_cleanup_closes_expired_grants_once_and_decisions_stay_denied(
    live_server, token, customers, rick, owner, sam
):
    grant = _approved(rick, owner, sam, customers)
    Grant.objects.filter(pk=grant.pk).update(
        starts_at=timezone.now() - dt.timedelta(hours=2),
        expires_at=timezone.now() - dt.timedelta(seconds=1),
    )
    assert services.grants_close_expired() == 1
    assert services.grants_close_expired() == 0
    grant.refresh_from_db()
    assert grant.closed_at is not None
    assert _decide(live_server, token, "rick", customers.fqn)[:2] == (
        False,
        ["clearance_insufficient"],
    )


def test_a_role_binding_on_a_source_admits_within_clearance(
    live_server, token, admin, events, customers, rick
):
    analyst = Role.objects.get(key="analyst")
    assert _decide(live_server, token, "rick", events.fqn)[:2] == (False, ["no_access"])
    binding = services.role_binding_create(
        actor=admin, role=analyst, user=rick, source=events.source
    )
    assert _decide(live_server, token, "rick", events.fqn)[:2] == (True, ["role"])
    assert _decide(live_server, token, "rick", events.fqn, "write")[0] is False
    # the same role everywhere still does not lift clearance on restricted data
    services.role_binding_create(actor=admin, role=analyst, user=rick)
    assert _decide(live_server, token, "rick", customers.fqn)[:2] == (
        False,
        ["clearance_insufficient"],
    )
    services.role_binding_delete(actor=admin, binding=binding)
    # still bound everywhere
    assert _decide(live_server, token, "rick", events.fqn)[:2] == (True, ["role"])


def test_the_admin_role_bound_to_a_group_admits_its_members(
    live_server, token, admin, customers, rick, growth
):
    rick.groups.add(growth)
    services.role_binding_create(actor=admin, role=Role.objects.get(key="admin"), group=growth)
    assert _decide(live_server, token, "rick", customers.fqn)[:2] == (True, ["role", "role_admin"])
