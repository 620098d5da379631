"""DECISION_ENGINE=opa: decisions asked of an OPA server that pulls our bundle, failing closed.

The OPA server is tests/opa_server.py (the real OPA engine behind OPA's REST data API), pulling
``/bundles/steward.tar.gz`` from the live control plane with a ``bundles:read`` credential and
polling it with ``If-None-Match``, as an OPA agent configured by deploy/opa/config.yaml does.
"""

import socket
import time

import pytest

from apps.audit.models import AuditEvent
from apps.catalog import services as catalog
from apps.decisions.bundles import bundle_get
from apps.decisions.credentials import credential_create
from apps.decisions.engines import EngineError
from apps.decisions.engines.opa import OpaEngine
from apps.decisions.models import ServiceCredential
from apps.decisions.services import DECISION_QUERY, decision_evaluate
from tests.opa_server import OpaTestServer

pytestmark = pytest.mark.django_db(transaction=True)


def _request(user: str, fqn: str = "crm.public.leads") -> dict:
    return {
        "subject": {"type": "user", "id": user},
        "action": {"name": "read"},
        "resource": {"type": "dataset", "id": fqn},
    }


def _until(condition, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)
    return value


def _caught_up(server: OpaTestServer) -> None:
    """Wait until the OPA server has activated the bundle the control plane serves now."""
    _until(lambda: server.revision == bundle_get(name="steward").revision)


@pytest.fixture
def opa(live_server, leads, admin, owner, stranger, viewer, settings):
    """An OPA agent pulling the live bundle; decisions go to it (DECISION_ENGINE=opa)."""
    settings.DECISION_SNAPSHOT_REFRESH_SECONDS = 0
    token = credential_create(actor=admin, name="opa", scopes=[ServiceCredential.Scope.BUNDLES])[1]
    server = OpaTestServer(
        bundle_url=f"{live_server.url}/bundles/steward.tar.gz", token=token, poll_seconds=0.1
    )
    with server:
        server.wait_for_bundle()
        _caught_up(server)
        settings.DECISION_ENGINE = "opa"
        settings.OPA_URL = server.url
        settings.OPA_TIMEOUT_SECONDS = 2.0
        yield server


def test_decisions_come_from_opa_with_the_bundle_revision(opa, owner, stranger):
    decision = decision_evaluate(caller="svc", request=_request(owner.username))
    assert (decision.allow, decision.reasons) == (True, ["owner"])
    assert decision.policy_revision == opa.revision == bundle_get(name="steward").revision
    denied = decision_evaluate(caller="svc", request=_request(stranger.username))
    assert (denied.allow, denied.reasons) == (False, ["no_access"])
    records = AuditEvent.objects.filter(action="decision.evaluate").order_by("id")
    assert [r.changes["policy_revision"] for r in records] == [opa.revision] * 2
    assert [r.outcome for r in records] == ["success", "denied"]


def test_a_catalog_change_reaches_opa_through_a_new_bundle(opa, admin, leads, viewer):
    first = opa.revision
    assert decision_evaluate(caller="svc", request=_request(viewer.username)).allow is False
    _until(lambda: 304 in opa.pulls)  # polling with If-None-Match while nothing changes
    catalog.dataset_viewer_add(actor=admin, dataset=leads, user=viewer.username)
    _caught_up(opa)
    assert opa.revision != first
    decision = decision_evaluate(caller="svc", request=_request(viewer.username))
    assert (decision.allow, decision.reasons) == (True, ["viewer"])
    assert decision.policy_revision == opa.revision


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def bare_opa():
    """An OPA server with no bundle (every document undefined) that can be made to misbehave."""
    with OpaTestServer() as server:
        yield server


def test_opa_down_is_an_engine_error():
    engine = OpaEngine(f"http://127.0.0.1:{_closed_port()}", timeout=0.5)
    with pytest.raises(EngineError, match="ConnectionError"):
        engine.evaluate(DECISION_QUERY, _request("olivia"))


def test_a_slow_opa_times_out_quickly(bare_opa):
    bare_opa.fault, bare_opa.sleep_seconds = "sleep", 3.0
    engine = OpaEngine(bare_opa.url, timeout=0.3)
    started = time.monotonic()
    with pytest.raises(EngineError, match="Timeout"):
        engine.evaluate(DECISION_QUERY, _request("olivia"))
    assert time.monotonic() - started < 1.5


@pytest.mark.parametrize("fault", ["garbage", "error"], ids=["not-json", "http-500"])
def test_a_bad_answer_is_an_engine_error(bare_opa, fault):
    bare_opa.fault = fault
    with pytest.raises(EngineError):
        OpaEngine(bare_opa.url, timeout=2.0).evaluate(DECISION_QUERY, _request("olivia"))


def test_an_url_that_is_not_http_is_an_engine_error():
    with pytest.raises(EngineError, match="OPA_URL"):
        OpaEngine("opa:8181", timeout=1.0)


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        ("down", "engine_error"),
        ("garbage", "engine_error"),
        ("sleep", "engine_error"),
        ("no-bundle", "policy_undefined"),
        ("bad-url", "engine_error"),
    ],
)
def test_in_opa_mode_a_broken_opa_is_a_recorded_deny(
    bare_opa, leads, owner, settings, setup, reason
):
    settings.DECISION_ENGINE = "opa"
    settings.OPA_TIMEOUT_SECONDS = 0.3
    settings.OPA_URL = {
        "down": f"http://127.0.0.1:{_closed_port()}",
        "bad-url": "127.0.0.1:8181",
    }.get(setup, bare_opa.url)
    if setup in ("garbage", "sleep"):
        bare_opa.fault, bare_opa.sleep_seconds = setup, 2.0
    decision = decision_evaluate(caller="svc", request=_request(owner.username))
    assert (decision.allow, decision.reasons) == (False, [reason])
    record = AuditEvent.objects.get(action="decision.evaluate")
    assert (record.outcome, record.changes["reasons"]) == ("denied", [reason])
