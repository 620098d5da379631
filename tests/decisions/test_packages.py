"""Policy packages: an admin loads Rego with its own data for other resource types; it is
compiled and tested before it becomes active, decides for its types on every engine (and in
the OPA bundle), and its revision is the one each decision reports."""

from pathlib import Path

import pytest
from django.test import Client
from rest_framework.test import APIClient

from apps.audit.models import AuditEvent
from apps.core.errors import Conflict, PermissionDenied, ValidationFailed
from apps.decisions import packages
from apps.decisions.bundles import bundle_get
from apps.decisions.engines.opa import OpaEngine
from apps.decisions.models import PolicyPackage
from apps.decisions.services import decision_evaluate
from tests.opa_server import OpaTestServer

pytestmark = pytest.mark.django_db(transaction=True)

HERE = Path(__file__).parent / "packages" / "billing"
FILES = {p.name: p.read_text() for p in sorted(HERE.glob("*.rego"))}
CLERKS = {"clerks": ["carla"]}


def _invoice(who: str, action: str = "read") -> dict:
    return {
        "subject": {"type": "user", "id": who},
        "action": {"name": action},
        "resource": {"type": "invoice", "id": "inv-1"},
    }


def _load(admin, **overrides):
    kwargs = {"name": "billing", "files": FILES, "data": CLERKS, "resource_types": ["invoice"]}
    return packages.package_load(actor=admin, **{**kwargs, **overrides})


def test_a_loaded_package_decides_for_its_resource_types(admin):
    before = packages.active_policy().revision
    package = _load(admin)
    assert package.tests_passed == [
        "steward.ext.billing_test.test_a_clerk_reads_with_the_iban_masked",
        "steward.ext.billing_test.test_anyone_else_is_denied",
    ]
    active = packages.active_policy()
    assert active.revision != before
    assert active.query("invoice") == "data.steward.ext.billing.decision"

    clerk = decision_evaluate(caller="svc", request=_invoice("carla"))
    assert (clerk.allow, clerk.reasons, clerk.obligations) == (
        True,
        ["clerk"],
        {"mask": {"iban": "redact"}},
    )
    assert clerk.policy_revision == active.revision
    stranger = decision_evaluate(caller="svc", request=_invoice("stan"))
    assert (stranger.allow, stranger.reasons) == (False, ["not_a_clerk"])
    record = AuditEvent.objects.filter(action="decision.evaluate").order_by("-id").first()
    assert record.changes["policy_revision"] == active.revision
    assert record.target_type == "decision.invoice"
    load = AuditEvent.objects.get(action="decisions.package.load")
    assert load.changes["after"] == {"revision": package.revision, "resource_types": ["invoice"]}


def test_a_new_version_replaces_the_old_and_removal_falls_back_to_governance(admin):
    _load(admin)
    _load(admin, data={"clerks": ["stan"]})
    assert PolicyPackage.objects.count() == 1
    assert decision_evaluate(caller="svc", request=_invoice("stan")).allow is True
    assert decision_evaluate(caller="svc", request=_invoice("carla")).allow is False

    packages.package_delete(actor=admin, name="billing")
    after = decision_evaluate(caller="svc", request=_invoice("stan"))
    assert after.allow is False  # the governance policy knows no invoice
    assert after.reasons != ["not_a_clerk"]


BROKEN = FILES["billing.rego"].replace('"clerk"]', '"clerk"')  # unbalanced bracket


@pytest.mark.parametrize(
    ("overrides", "code", "says"),
    [
        ({"files": {**FILES, "billing.rego": BROKEN}}, "policy_compile_error", "billing.rego:8:"),
        (
            {
                "files": {
                    **FILES,
                    "billing.rego": FILES["billing.rego"].replace('"not_a_clerk"', '"no"'),
                }
            },
            "policy_tests_failed",
            "steward.ext.billing_test.test_anyone_else_is_denied",
        ),
        ({"files": {"billing.rego": FILES["billing.rego"]}}, "policy_tests_missing", ""),
        (
            {"files": {**FILES, "x.rego": "package steward.governance\n\ndecision := 1\n"}},
            "policy_package_outside_root",
            "steward.governance",
        ),
        (
            {"files": {**FILES, "billing.rego": "package steward.ext.billing\n\nx := 1\n"}},
            "policy_decision_missing",
            "",
        ),
        ({"resource_types": ["dataset"]}, "resource_type_reserved", ""),
        ({"resource_types": []}, "invalid_resource_types", ""),
        ({"name": "Billing!"}, "invalid_package_name", ""),
        ({"files": {"../evil.rego": FILES["billing.rego"]}}, "invalid_policy_path", ""),
        ({"data": ["not", "an", "object"]}, "invalid_data", ""),
    ],
)
def test_a_bad_package_is_refused_whole(admin, overrides, code, says):
    with pytest.raises(ValidationFailed) as exc:
        _load(admin, **overrides)
    assert exc.value.code == code
    assert says in exc.value.message
    assert not PolicyPackage.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="decisions.package").exists()


def test_resource_types_belong_to_one_package_and_only_admins_load(admin, owner):
    _load(admin)
    other = {
        "billing2.rego": FILES["billing.rego"].replace("ext.billing", "ext.billing2"),
        "billing2_test.rego": FILES["billing_test.rego"].replace("ext.billing", "ext.billing2"),
    }
    with pytest.raises(Conflict) as exc:
        _load(admin, name="billing2", files=other, data=None)
    assert exc.value.code == "resource_type_taken"
    with pytest.raises(PermissionDenied):
        _load(owner)


def test_the_bundle_carries_packages_and_opa_decides_the_same(admin):
    _load(admin)
    bundle = bundle_get(name="steward")
    with OpaTestServer() as server:
        server.activate(bundle.body)
        engine = OpaEngine(server.url, timeout=5.0)
        remote, revision = engine.evaluate_with_revision(
            "data.steward.ext.billing.decision", _invoice("carla") | {"context": {}}
        )
    local = decision_evaluate(caller="svc", request=_invoice("carla"))
    assert remote == {
        "allow": local.allow,
        "reasons": local.reasons,
        "obligations": local.obligations,
    }
    assert revision == bundle.revision


def test_packages_over_the_api_and_the_page(admin, owner):
    api = APIClient()
    api.force_authenticate(admin)
    bad = api.post(
        "/api/v1/decisions/packages/",
        {"name": "billing", "resource_types": ["invoice"], "files": {"billing.rego": BROKEN}},
        format="json",
    )
    assert bad.status_code == 400
    made = api.post(
        "/api/v1/decisions/packages/",
        {"name": "billing", "resource_types": ["invoice"], "files": FILES, "data": CLERKS},
        format="json",
    )
    assert made.status_code == 201, made.content
    listed = api.get("/api/v1/decisions/packages/").json()
    assert listed["policy_revision"] == packages.active_policy().revision
    assert [(p["name"], p["reads_snapshot"]) for p in listed["packages"]] == [("billing", False)]
    stranger = APIClient()
    stranger.force_authenticate(owner)
    assert stranger.get("/api/v1/decisions/packages/").status_code == 403

    page = Client()
    page.force_login(admin)
    html = page.get("/decisions/packages/").content.decode()
    assert packages.active_policy().revision in html
    assert "steward.ext.billing" in html
    assert '<td class="reads-snapshot">no: its own data only</td>' in html
    explorer = page.get("/decisions/explorer/").content.decode()
    assert '<option value="invoice">' in explorer
    assert api.delete("/api/v1/decisions/packages/billing/").status_code == 204
    assert api.delete("/api/v1/decisions/packages/billing/").status_code == 404

    from django.core.files.uploadedfile import SimpleUploadedFile

    response = page.post(
        "/decisions/packages/",
        {
            "name": "billing",
            "resource_types": "invoice, payout",
            "rego_files": [SimpleUploadedFile(n, t.encode()) for n, t in FILES.items()],
            "data_json": SimpleUploadedFile("data.json", b'{"clerks": ["carla"]}'),
        },
        follow=True,
    )
    assert "is active" in response.content.decode()
    assert PolicyPackage.objects.get().resource_types == ["invoice", "payout"]
    deep = page.post(
        "/decisions/packages/",
        {
            "name": "billing",
            "resource_types": "invoice",
            "rego_files": [SimpleUploadedFile(n, t.encode()) for n, t in FILES.items()],
            "data_json": SimpleUploadedFile("data.json", b"[" * 5000 + b"]" * 5000),
        },
    )
    assert deep.status_code == 400
    assert "data.json is not valid JSON." in deep.content.decode()
    assert PolicyPackage.objects.get().resource_types == ["invoice", "payout"]  # unchanged
    assert Client().get("/decisions/packages/").status_code == 302  # sign in first
    page.force_login(owner)
    assert page.get("/decisions/packages/").status_code == 404


HEADER = "package steward.ext.billing\n\nimport rego.v1\n\n"


@pytest.mark.parametrize(
    ("rego", "reads"),
    [
        ("x if data.steward.packages.billing.clerks[0]", False),
        ("x if data.steward.packages[input.k].y", False),  # any package's data
        ('x if data.steward["packages"].billing', False),
        ("x if data.steward.ext.billing.y\n\ny := 1", False),  # its own rules
        ("import data.steward.packages.billing as b\n\nx if b.clerks", False),
        ("import data.steward.snapshot as s\n\nx if s.principals", True),
        ("x if data.steward.snapshot.principals[input.subject.id]", True),
        ('x if data.steward["snapshot"].principals', True),
        ("x if data.steward.governance.decision.allow", True),  # reads the snapshot itself
        ("x if data.steward.ext.other.y", True),  # another package's rules may
        ("x if data.steward.ext.billing_test.y", True),
        ("x if { k := input.k; data.steward[k] }", True),
        ("x if data.steward.packages.billing[data.steward.snapshot.levels.x]", True),
        ('x if object.get(data.steward, "snapshot", {}).levels', True),
        ("x if { d := data; d.steward }", True),
        ("x if walk(data, [p, v])", True),
        ("import data\n\nx if data.steward", True),
        ("x := [k | some k, _ in data.steward.snapshot.grants]", True),
        ("x if {\n", True),  # unparseable: assume it does
    ],
)
def test_whether_a_package_may_read_the_snapshot_is_read_from_its_rego(rego, reads):
    assert packages.reads_snapshot("billing", {"billing.rego": HEADER + rego + "\n"}) is reads


def test_the_active_policy_lists_the_types_of_packages_that_read_the_snapshot(admin):
    from tests.decisions.test_changes import GRANTEES

    _load(admin)
    assert packages.active_policy().snapshot_types == frozenset()
    _load(admin, name="ledger", files=_renamed(GRANTEES, "ledger"), resource_types=["ledger"])
    assert packages.active_policy().snapshot_types == {"ledger"}
    api = APIClient()
    api.force_authenticate(admin)
    listed = api.get("/api/v1/decisions/packages/").json()["packages"]
    assert {p["name"]: p["reads_snapshot"] for p in listed} == {"billing": False, "ledger": True}
    page = Client()
    page.force_login(admin)
    html = page.get("/decisions/packages/").content.decode()
    assert '<td class="reads-snapshot">yes</td>' in html


def _renamed(files: dict[str, str], name: str) -> dict[str, str]:
    return {p: t.replace("steward.ext.billing", f"steward.ext.{name}") for p, t in files.items()}
