"""decision_evaluate: decisions over the live catalog, recorded, and failing closed."""

import time

import pytest

from apps.audit.models import AuditEvent
from apps.catalog import services as catalog
from apps.core.errors import ValidationFailed
from apps.decisions.engines.embedded import RegorusEngine
from apps.decisions.services import decision_evaluate
from tests.db_faults import audit_inserts_failing

pytestmark = pytest.mark.django_db(transaction=True)


def _request(user: str, action: str = "read", fqn: str = "crm.public.leads") -> dict:
    return {
        "subject": {"type": "user", "id": user},
        "action": {"name": action},
        "resource": {"type": "dataset", "id": fqn},
    }


def _reading(columns: object, user: str = "vera") -> dict:
    body = _request(user)
    body["resource"]["properties"] = {"columns": columns}
    return body


def test_a_decision_is_answered_and_recorded(leads, owner):
    decision = decision_evaluate(caller="svc-test", request=_request(owner.username))
    assert (decision.allow, decision.reasons) == (True, ["owner"])
    assert decision.policy_revision
    record = AuditEvent.objects.get(action="decision.evaluate")
    assert record.changes["decision_id"] == decision.decision_id
    assert record.changes["allow"] is True
    assert record.outcome == "success"
    assert len(record.changes["input_sha256"]) == 64


def test_a_change_in_the_catalog_reaches_decisions_within_a_second(leads, admin, viewer, settings):
    settings.DECISION_SNAPSHOT_REFRESH_SECONDS = 0.5
    assert decision_evaluate(caller="svc", request=_request(viewer.username)).allow is False
    catalog.dataset_viewer_add(actor=admin, dataset=leads, user=viewer.username)
    time.sleep(0.6)
    assert decision_evaluate(caller="svc", request=_request(viewer.username)).allow is True


@pytest.mark.parametrize(
    ("policy", "reason"),
    [
        # A builtin error at evaluation time (regorus raises where OPA may be undefined).
        (
            'package steward.governance\nimport rego.v1\ndecision := time.parse_rfc3339_ns("x")\n',
            "engine_error",
        ),
        (
            "package steward.governance\nimport rego.v1\ndecision := 1 if false\n",
            "policy_undefined",
        ),
        ('package steward.governance\nimport rego.v1\ndecision := "allow"\n', "policy_malformed"),
        (
            'package steward.governance\nimport rego.v1\ndecision := {"allow": "yes", "reasons": []}\n',
            "policy_malformed",
        ),
    ],
    ids=["error", "undefined", "malformed", "non-boolean-allow"],
)
def test_a_broken_policy_is_a_recorded_deny(leads, owner, policy, reason):
    engine = RegorusEngine({"broken.rego": policy})
    decision = decision_evaluate(caller="svc", request=_request(owner.username), engine=engine)
    assert (decision.allow, decision.reasons) == (False, [reason])
    record = AuditEvent.objects.get(action="decision.evaluate")
    assert (record.outcome, record.changes["reasons"]) == ("denied", [reason])


def test_a_decision_that_cannot_be_recorded_is_a_deny(leads, owner):
    with audit_inserts_failing():
        decision = decision_evaluate(caller="svc", request=_request(owner.username))
    assert (decision.allow, decision.reasons) == (False, ["audit_unavailable"])


@pytest.mark.parametrize(
    ("request_body", "field"),
    [
        ({"action": {"name": "read"}, "resource": {"type": "dataset", "id": "x"}}, "subject"),
        ({**_request("a"), "action": {"name": ""}}, "action.name"),
        ({**_request("a"), "resource": "crm.public.leads"}, "resource"),
        ({**_request("a"), "context": []}, "context"),
        (
            {**_request("a"), "subject": {"type": "user", "id": "a", "properties": []}},
            "subject.properties",
        ),
        (_reading(["email", 1]), "resource.properties.columns"),
        (_reading("email"), "resource.properties.columns"),
        (_reading([""]), "resource.properties.columns"),
        (_reading(["e\x00mail"]), "resource.properties.columns"),
    ],
    ids=[
        "no-subject",
        "empty-action",
        "resource-not-an-object",
        "context-not-an-object",
        "properties-not-an-object",
        "a-column-not-text",
        "columns-not-a-list",
        "an-empty-column-name",
        "nul-in-a-column-name",
    ],
)
def test_a_malformed_request_is_refused_and_not_recorded(request_body, field):
    with pytest.raises(ValidationFailed) as err:
        decision_evaluate(caller="svc", request=request_body)
    assert err.value.code == "invalid_request"
    assert field in err.value.extra["fields"]
    assert not AuditEvent.objects.filter(action="decision.evaluate").exists()


def test_masks_cover_the_columns_a_request_names_and_the_record_names_them(leads_columns):
    every = decision_evaluate(caller="svc", request=_request("vera"))
    assert (every.allow, every.obligations["mask"]) == (True, {"email": "hash", "ssn": "redact"})
    named = decision_evaluate(caller="svc", request=_reading(["name", "email", "phone"]))
    # phone is not in the catalog (not synced yet): its sensitivity is unknown, so it is redacted.
    assert (named.allow, named.obligations["mask"]) == (True, {"email": "hash", "phone": "redact"})
    records = AuditEvent.objects.filter(action="decision.evaluate").order_by("id")
    assert [r.changes.get("columns") for r in records] == [None, ["name", "email", "phone"]]


def test_another_resource_type_is_denied_by_the_governance_policy(leads, owner):
    """A type no policy package is mapped to: the governance policy decides datasets only, even
    for an id that names one, and ``properties.columns`` means nothing to it there."""
    body = _request(owner.username)
    body["resource"] = {"type": "table", "id": "crm.public.leads", "properties": {"columns": 5}}
    decision = decision_evaluate(caller="svc", request=body)
    assert (decision.allow, decision.reasons) == (False, ["unknown_resource_type"])
    record = AuditEvent.objects.get(action="decision.evaluate")
    assert "columns" not in record.changes
