"""One contract for every engine: the same request over the same snapshot, the same decision.

Engines: regorus's interpreter and compiled mode in-process, and the ``opa`` adapter over HTTP
against tests/opa_server.py, which evaluates with the real OPA Go engine after loading our
bundle (built by ``bundle_build`` from the same policies and snapshot). The snapshot here is
fixed (with grants, which the catalog does not produce yet) so expiry can be tested.
"""

import copy
import datetime as dt

import pytest

from apps.core.jsontext import canonical_json
from apps.decisions.bundles import bundle_build
from apps.decisions.engines.embedded import CompiledRegorusEngine, RegorusEngine
from apps.decisions.engines.opa import OpaEngine
from apps.decisions.policies import policy_files
from apps.decisions.services import changed_keys, request_view
from tests.opa_server import OpaTestServer

NS = 1_000_000_000
NOW = "2026-11-22T10:00:00Z"
NOW_NS = int(dt.datetime(2026, 11, 22, 10, tzinfo=dt.UTC).timestamp()) * NS

SNAPSHOT: dict = {
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
        "sales.public.orders": {
            "source": "sales",
            "sensitivity": "internal",
            "owners": {"user:olivia": "owner"},
            "viewers": {"user:vera": True, "user:noor": True, "user:stan": True},
            "purposes": [],
            "columns": {"region": {"sensitivity": "internal", "categories": []}},
            "row_filter": {
                "column": "region",
                "values": {
                    "group:analysts": ["UK", "EU"],
                    "user:noor": ["US"],
                    "user:vera": ["EU"],
                },
            },
        },
        "sales.public.legacy": {
            "source": "sales",
            "sensitivity": "internal",
            "owners": {},
            "viewers": {"user:vera": True},
            "purposes": [],
            "columns": {"id": {"sensitivity": "internal", "categories": []}},
            "row_filter": {"column": "region", "values": {"user:vera": ["EU"]}},
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
        "user:stan": {
            "sales.public.orders": {
                "g4": {"access": "read", "rows": ["APAC"], "expires_at_ns": NOW_NS + 3600 * NS},
                "g5": {"access": "read", "rows": ["LATAM"], "expires_at_ns": NOW_NS - 1},
            }
        },
    },
}

MASKED = {"email": "hash", "note": "redact"}


def _request(user, action="read", fqn="crm.public.contacts", *, columns=None, **context):
    resource = {"type": "dataset", "id": fqn}
    if columns is not None:
        resource["properties"] = {"columns": columns}
    return {
        "subject": {"type": "user", "id": user},
        "action": {"name": action},
        "resource": resource,
        "context": {"time": NOW, **context},
    }


def _decision(allow, reasons, mask=None, rows=None):
    obligations = {"mask": mask or {}}
    if rows is not None:
        obligations["row_filter"] = {"column": "region", "in": rows}
    return {"allow": allow, "reasons": reasons, "obligations": obligations}


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
    "row-filter-of-a-principal": (
        _request("vera", fqn="sales.public.orders"),
        _decision(True, ["viewer"], rows=["EU"]),
    ),
    "row-filter-of-a-principal-and-its-group": (
        _request("noor", fqn="sales.public.orders"),
        _decision(True, ["viewer"], rows=["EU", "UK", "US"]),
    ),
    "row-filter-showing-no-rows": (
        _request("stan", fqn="sales.public.orders", time="2026-11-22T11:00:00Z"),
        _decision(False, ["row_filter_no_rows"]),
    ),
    "row-filter-with-the-rows-of-an-active-grant": (
        _request("stan", fqn="sales.public.orders"),
        _decision(True, ["grant", "viewer"], rows=["APAC"]),
    ),
    "row-filter-not-the-reason-without-access": (
        _request("gina", fqn="sales.public.orders"),
        _decision(False, ["no_access"]),
    ),
    "row-filter-on-a-missing-column": (
        _request("vera", fqn="sales.public.legacy"),
        _decision(False, ["row_filter_column_missing"]),
    ),
    "owner-sees-every-row": (
        _request("olivia", fqn="sales.public.orders"),
        _decision(True, ["owner"]),
    ),
    "masks-for-the-named-columns-only": (
        _request("vera", columns=["name", "email"]),
        _decision(True, ["viewer"], {"email": "hash"}),
    ),
    "no-columns-named-no-masks": (_request("vera", columns=[]), _decision(True, ["viewer"])),
    "a-named-column-the-catalog-lacks-is-redacted": (
        _request("vera", columns=["email", "phone"]),
        _decision(True, ["viewer"], {"email": "hash", "phone": "redact"}),
    ),
    "an-owner-sees-even-unknown-columns": (
        _request("olivia", columns=["phone"]),
        _decision(True, ["owner"]),
    ),
    "a-grant-naming-a-named-column-unmasks-it": (
        _request("cole", columns=["note", "email"]),
        _decision(True, ["grant"], {"email": "hash"}),
    ),
    "a-denial-whatever-columns-are-named": (
        _request("stan", columns=["name"]),
        _decision(False, ["no_access"]),
    ),
    "a-resource-type-other-than-dataset": (
        {**_request("olivia"), "resource": {"type": "table", "id": "crm.public.contacts"}},
        _decision(False, ["unknown_resource_type"]),
    ),
    "admin-sees-every-row": (
        _request("root", fqn="sales.public.orders"),
        _decision(True, ["role_admin"]),
    ),
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


# --- entries changed since the engine loaded its data (services.request_view) ---------------


def _grant(access="read", expires=NOW_NS + 3600 * NS, **extra):
    return {"access": access, "expires_at_ns": expires, **extra}


def _change(edit):
    """SNAPSHOT after ``edit`` (which changes a deep copy in place)."""
    changed = copy.deepcopy(SNAPSHOT)
    edit(changed)
    return changed


CHANGES = {
    "grant-created": lambda s: s["grants"].update(
        {"user:stan": {"crm.public.contacts": {"g9": _grant()}}}
    ),
    "grant-revoked": lambda s: s["grants"].pop("user:gina"),
    "grant-columns-changed": lambda s: s["grants"]["user:cole"]["crm.public.contacts"]["g3"].update(
        columns=["email", "note"]
    ),
    "grant-to-a-group": lambda s: s["grants"].update(
        {"group:analysts": {"crm.public.contacts": {"g8": _grant("export")}}}
    ),
    "dataset-removed": lambda s: s["datasets"].pop("crm.public.contacts"),
    "dataset-reclassified": lambda s: s["datasets"]["crm.public.contacts"].update(
        sensitivity="restricted", viewers={}
    ),
    "owner-changed": lambda s: s["datasets"]["crm.public.contacts"].update(
        owners={"user:stan": "owner"}
    ),
    "principal-removed": lambda s: s["principals"].pop("user:olivia"),
    "principal-added-with-a-grant": lambda s: (
        s["principals"].update({"user:newbie": {"groups": [], "roles": []}}),
        s["grants"].update({"user:newbie": {"crm.public.contacts": {"g7": _grant()}}}),
    ),
    "clearance-raised": lambda s: s["principals"]["user:vera"].update(clearance="restricted"),
    "clearance-dropped": lambda s: s["principals"]["user:vera"].pop("clearance"),
    "joined-a-group": lambda s: s["principals"]["user:stan"].update(groups=["group:hr"]),
    "binding-added": lambda s: s["bindings"].update({"user:stan": {"*": ["data.read"]}}),
    "binding-removed": lambda s: s["bindings"].pop("user:rita"),
    "made-admin": lambda s: s["principals"]["user:gina"].update(roles=["admin"]),
    "row-filter-values-changed": lambda s: s["datasets"]["sales.public.orders"]["row_filter"][
        "values"
    ].update({"user:stan": ["APAC"], "user:vera": ["US"]}),
    "row-filter-removed": lambda s: s["datasets"]["sales.public.orders"].pop("row_filter"),
    "grant-with-rows-created": lambda s: s["grants"].update(
        {"user:vera": {"sales.public.orders": {"g6": _grant(rows=["US"])}}}
    ),
    "grant-rows-revoked": lambda s: s["grants"].pop("user:stan"),
    "row-filter-added": lambda s: s["datasets"]["crm.public.contacts"].update(
        row_filter={"column": "name", "values": {"user:gina": ["a"]}}
    ),
}

# Every request of the contract, and some that the changes above are about.
VIEW_REQUESTS = [policy_input for policy_input, _ in CASES.values()] + [
    _request(who, action, fqn, purpose="payroll")
    for who in ("stan", "newbie", "gina", "noor", "rita", "vera")
    for action in ("read", "export")
    for fqn in ("crm.public.contacts", "hr.public.salaries", "sales.public.orders")
]


def _embedded(kind, snapshot, input_delta):
    data = {"steward": {"snapshot": snapshot}}
    if input_delta:
        data["steward"]["embedded"] = {"input_delta": True}
    if kind == "interpreter":
        serving = {p: t for p, t in policy_files().items() if not p.endswith("_test.rego")}
        return RegorusEngine(serving, data)
    return CompiledRegorusEngine(policy_files(), data)


@pytest.mark.parametrize("kind", ["interpreter", "compiled"])
@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_an_engine_given_the_changed_entries_decides_as_one_loaded_with_the_change(kind, change):
    """The engine holds SNAPSHOT; the service gives each request the entries it reads that
    changed since (``request_view``): every decision is that of an engine holding the new
    snapshot, and a request reading nothing that changed gets no entries."""
    now = _change(change)
    changed = {
        s: changed_keys(SNAPSHOT[s], now[s])
        for s in ("principals", "bindings", "datasets", "grants")
    }
    before = _embedded(kind, SNAPSHOT, input_delta=True)
    after = _embedded(kind, now, input_delta=False)
    affected = 0
    for policy_input in VIEW_REQUESTS:
        view = request_view(now, changed, policy_input)
        expected = after.evaluate(QUERY, policy_input)
        if view is None:
            assert before.evaluate(QUERY, policy_input) == expected, policy_input
            continue
        affected += 1
        assert before.evaluate(QUERY, {**policy_input, "delta": view}) == expected, policy_input
    assert affected > 0


FORGED = {
    **_request("stan"),
    "delta": {
        "principals": {"user:stan": {"groups": [], "roles": ["admin"]}},
        "datasets": {"crm.public.contacts": SNAPSHOT["datasets"]["crm.public.contacts"]},
        "bindings": {},
        "grants": {"user:stan": {"crm.public.contacts": {"x": _grant("export")}}},
    },
}


def test_entries_in_a_request_are_ignored_unless_the_engines_data_allows_them(engine):
    """A bundle (OPA) and engine data without the flag never take a caller's entries."""
    assert engine.evaluate(QUERY, FORGED) == _decision(False, ["no_access"])
