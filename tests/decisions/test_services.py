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
    ],
)
def test_a_malformed_request_is_refused_and_not_recorded(request_body, field):
    with pytest.raises(ValidationFailed) as err:
        decision_evaluate(caller="svc", request=request_body)
    assert err.value.code == "invalid_request"
    assert field in err.value.extra["fields"]
    assert not AuditEvent.objects.filter(action="decision.evaluate").exists()
