"""One contract for every engine: the same request over the same snapshot, the same decision.

Engines: regorus's interpreter and compiled mode in-process, and the ``opa`` adapter over HTTP
against tests/opa_server.py, which evaluates with the real OPA Go engine after loading our
bundle (built by ``bundle_build`` from the same policies and snapshot). The snapshot here is
fixed (with grants, which the catalog does not produce yet) so expiry can be tested.
"""

import datetime as dt

import pytest

from apps.core.jsontext import canonical_json
from apps.decisions.bundles import bundle_build
from apps.decisions.engines.embedded import CompiledRegorusEngine, RegorusEngine
from apps.decisions.engines.opa import OpaEngine
from apps.decisions.policies import policy_files
from tests.opa_server import OpaTestServer

NS = 1_000_000_000
NOW = "2026-11-22T10:00:00Z"
NOW_NS = int(dt.datetime(2026, 11, 22, 10, tzinfo=dt.UTC).timestamp()) * NS

SNAPSHOT = {
    "levels": {"public": 0, "internal": 1, "confidential": 2, "restricted": 3},
    "default_clearance": "internal",
    "principals": {
        "user:olivia": {"groups": [], "roles": []},
        "user:vera": {"groups": [], "roles": [], "clearance": "internal"},
        "user:stan": {"groups": [], "roles": []},
        "user:gina": {"groups": [], "roles": []},
        "user:ed": {"groups": [], "roles": []},
        "user:root": {"groups": [], "roles": ["admin"]},
        "user:hana": {"groups": ["group:hr"], "roles": []},
        "user:rita": {"groups": [], "roles": []},
        "user:noor": {"groups": ["group:analysts"], "roles": []},
        "user:cole": {"groups": [], "roles": []},
    },
    "bindings": {
        "user:rita": {"source:crm": ["catalog.edit", "data.read"]},
        "group:analysts": {
            "source:hr": ["data.read"],
            "dataset:hr.public.salaries": ["audit.read"],
        },
    },
    "datasets": {
        "crm.public.contacts": {
            "source": "crm",
            "sensitivity": "internal",
            "owners": {"user:olivia": "owner"},
            "viewers": {"user:vera": True},
            "purposes": [],
            "columns": {
                "name": {"sensitivity": "internal", "categories": []},
                "email": {"sensitivity": "confidential", "categories": ["contact"]},
                "note": {"sensitivity": "restricted", "categories": []},
            },
        },
        "hr.public.salaries": {
            "source": "hr",
            "sensitivity": "restricted",
            "owners": {"group:hr": "owner"},
            "viewers": {},
            "purposes": ["payroll"],
            "columns": {"amount": {"sensitivity": "restricted", "categories": ["financial"]}},
        },
    },
    "grants": {
        "user:gina": {
            "crm.public.contacts": {"g1": {"access": "read", "expires_at_ns": NOW_NS + 3600 * NS}}
        },
        "user:ed": {"crm.public.contacts": {"g2": {"access": "read", "expires_at_ns": NOW_NS - 1}}},
        "user:cole": {
            "crm.public.contacts": {
                "g3": {"access": "read", "columns": ["note"], "expires_at_ns": NOW_NS + 3600 * NS}
            }
        },
    },
}

MASKED = {"email": "hash", "note": "redact"}


def _request(user, action="read", fqn="crm.public.contacts", **context):
    return {
        "subject": {"type": "user", "id": user},
        "action": {"name": action},
        "resource": {"type": "dataset", "id": fqn},
        "context": {"time": NOW, **context},
    }


def _decision(allow, reasons, mask=None):
    return {"allow": allow, "reasons": reasons, "obligations": {"mask": mask or {}}}


CASES = {
    "owner-allowed": (_request("olivia"), _decision(True, ["owner"])),
    "viewer-allowed-with-masks": (_request("vera"), _decision(True, ["viewer"], MASKED)),
    "viewer-may-not-write": (_request("vera", "write"), _decision(False, ["no_access"])),
    "stranger-denied": (_request("stan"), _decision(False, ["no_access"])),
    "unknown-dataset": (
        _request("olivia", fqn="crm.public.nope"),
        _decision(False, ["unknown_dataset"]),
    ),
    "unknown-principal": (_request("nobody"), _decision(False, ["unknown_principal"])),
    "unknown-action": (_request("olivia", "delete"), _decision(False, ["unknown_action"])),
    "active-grant": (_request("gina"), _decision(True, ["grant"], MASKED)),
    "grant-too-weak-for-export": (_request("gina", "export"), _decision(False, ["no_access"])),
    "expired-grant-denied": (_request("ed"), _decision(False, ["grant_expired"])),
    "grant-expired-at-request-time": (
        _request("gina", time="2026-11-22T11:00:00Z"),
        _decision(False, ["grant_expired"]),
    ),
    "admin-role": (_request("root", "export"), _decision(True, ["role_admin"])),
    "grant-naming-a-column-unmasks-it": (
        _request("cole"),
        _decision(True, ["grant"], {"email": "hash"}),
    ),
    "role-bound-on-the-source": (_request("rita"), _decision(True, ["role"], MASKED)),
    "role-bound-on-the-source-reads-only": (
        _request("rita", "write"),
        _decision(False, ["no_access"]),
    ),
    "role-bound-elsewhere-through-a-group": (_request("noor"), _decision(False, ["no_access"])),
    "role-within-clearance-only": (
        _request("noor", fqn="hr.public.salaries", purpose="payroll"),
        _decision(False, ["clearance_insufficient"]),
    ),
    "group-owner-with-purpose": (
        _request("hana", fqn="hr.public.salaries", purpose="payroll"),
        _decision(True, ["owner"]),
    ),
    "group-owner-without-purpose": (
        _request("hana", fqn="hr.public.salaries"),
        _decision(False, ["purpose_not_allowed"]),
    ),
    "above-clearance": (
        _request("vera", fqn="hr.public.salaries", purpose="payroll"),
        _decision(False, ["clearance_insufficient"]),
    ),
    "unparseable-time": (_request("olivia", time="noon"), _decision(False, ["invalid_time"])),
}

QUERY = "data.steward.governance.decision"


@pytest.fixture(scope="module")
def opa_server():
    with OpaTestServer() as server:
        server.activate(bundle_build(policies=policy_files(), snapshot=SNAPSHOT).body)
        yield server


@pytest.fixture(scope="module", params=["interpreter", "compiled", "opa"])
def engine(request):
    policies = policy_files()
    data = {"steward": {"snapshot": SNAPSHOT}}
    if request.param == "interpreter":
        serving = {p: t for p, t in policies.items() if not p.endswith("_test.rego")}
        return RegorusEngine(serving, data)
    if request.param == "compiled":
        return CompiledRegorusEngine(policies, data)
    server = request.getfixturevalue("opa_server")
    return OpaEngine(server.url, timeout=5.0)


@pytest.mark.parametrize(("policy_input", "expected"), CASES.values(), ids=CASES.keys())
def test_every_engine_gives_the_same_decision(engine, policy_input, expected):
    assert engine.evaluate(QUERY, policy_input) == expected
    # ... and the same when given the input already written as JSON (the service's path).
    assert engine.evaluate(QUERY, policy_input, input_json=canonical_json(policy_input)) == expected


def test_the_opa_engine_reports_the_bundle_revision(opa_server):
    engine = OpaEngine(opa_server.url, timeout=5.0)
    _, revision = engine.evaluate_with_revision(QUERY, _request("olivia"))
    assert revision == bundle_build(policies=policy_files(), snapshot=SNAPSHOT).revision


def test_an_undefined_document_is_none_as_on_the_interpreter(opa_server):
    # (test_policies.py checks the interpreter; the compiled program answers its entry points only)
    engine = OpaEngine(opa_server.url, timeout=5.0)
    assert engine.evaluate("data.steward.nothing_here", _request("olivia")) is None
