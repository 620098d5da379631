"""POST /logs: OPA decision-log uploads land in the audit log, all or nothing."""

import gzip
import hashlib
import json

import pytest

from apps.audit.models import AuditEvent
from apps.decisions.credentials import credential_create
from apps.decisions.models import ServiceCredential
from tests.db_faults import audit_inserts_failing

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/logs"
INPUT = {
    "subject": {"type": "user", "id": "olivia"},
    "action": {"name": "read"},
    "resource": {"type": "dataset", "id": "crm.public.leads"},
    "context": {"purpose": "support", "customer_email": "jane@example.com"},
}


def _event(decision_id: str = "d-1", **overrides) -> dict:
    """One event as OPA's decision-log plugin uploads it."""
    return {
        "labels": {"id": "agent-7", "version": "1.4.2"},
        "decision_id": decision_id,
        "bundles": {"steward": {"revision": "abc123-def456"}},
        "path": "steward/governance/decision",
        "input": INPUT,
        "result": {"allow": True, "reasons": ["owner"], "obligations": {"mask": {}}},
        "requested_by": "10.0.0.5:41234",
        "timestamp": "2026-11-22T10:00:00.123456789Z",
        "metrics": {"timer_rego_query_eval_ns": 41000},
        **overrides,
    }


@pytest.fixture
def log_token(admin):
    return credential_create(actor=admin, name="opa", scopes=[ServiceCredential.Scope.LOG])[1]


def _upload(client, token, body, encoding: str | None = "gzip"):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    if encoding == "gzip":
        raw = gzip.compress(raw)
    if encoding:
        headers["HTTP_CONTENT_ENCODING"] = encoding
    return client.post(URL, data=raw, content_type="application/json", **headers)


def _remote():
    return AuditEvent.objects.filter(action="decision.remote").order_by("id")


def test_an_upload_becomes_one_audit_entry_per_decision(client, log_token):
    denied = _event(
        "d-2",
        result={"allow": False, "reasons": ["clearance_insufficient"], "obligations": {}},
    )
    response = _upload(client, log_token, [_event("d-1"), denied])
    assert response.status_code == 204
    allowed, refused = _remote()
    assert (allowed.actor_type, allowed.actor_repr) == ("service", "opa")
    assert (allowed.target_type, allowed.target_id) == ("decision.dataset", "crm.public.leads")
    assert allowed.outcome == "success"
    assert allowed.changes["decision_id"] == "d-1"
    assert allowed.changes["subject"] == "user:olivia"
    assert allowed.changes["action"] == "read"
    assert allowed.changes["reasons"] == ["owner"]
    assert allowed.changes["policy_revision"] == "abc123-def456"
    assert allowed.changes["agent"] == "agent-7"
    assert allowed.changes["decided_at"] == "2026-11-22T10:00:00.123456789Z"
    canonical = json.dumps(
        INPUT, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()
    assert allowed.changes["input_sha256"] == hashlib.sha256(canonical).hexdigest()
    assert (refused.outcome, refused.changes["reasons"]) == ("denied", ["clearance_insufficient"])


def test_input_values_are_not_stored(client, log_token):
    assert _upload(client, log_token, [_event()]).status_code == 204
    assert "jane@example.com" not in _remote().get().body
    assert "support" not in json.dumps(_remote().get().changes)


def _naming(columns, resource_type="dataset") -> dict:
    resource = {"type": resource_type, "id": "crm.public.leads", "properties": {"columns": columns}}
    return {**INPUT, "resource": resource}


def test_the_columns_a_dataset_request_named_are_listed_as_in_a_local_entry(client, log_token):
    """Only a list of names the audit log can hold, and only for datasets (a package's own
    resource types may mean something else by them)."""
    events = [
        _event("d-1", input=_naming(["email", "id"])),
        _event("d-2", input=_naming("email")),
        _event("d-3", input=_naming(["x"], resource_type="invoice")),
        _event("d-4", input=_naming(["half-a-pair"])),
    ]
    # JSON may escape half a surrogate pair: such a name has no UTF-8 form to store.
    body = json.dumps(events).replace("half-a-pair", "\\ud800").encode()
    assert _upload(client, log_token, body).status_code == 204
    assert [e.changes.get("columns") for e in _remote()] == [["email", "id"], None, None, None]


def test_an_uncompressed_upload_is_accepted(client, log_token):
    assert _upload(client, log_token, [_event()], encoding=None).status_code == 204
    assert _remote().count() == 1


@pytest.mark.parametrize(
    ("overrides", "reasons"),
    [
        ({"result": None}, ["policy_undefined"]),
        ({"result": "allow"}, ["policy_malformed"]),
        ({"error": {"code": "eval_error", "message": "boom"}}, ["engine_error"]),
    ],
    ids=["undefined", "malformed", "engine-error"],
)
def test_anything_but_a_clear_allow_is_recorded_as_a_deny(client, log_token, overrides, reasons):
    event = _event(**overrides)
    if overrides.get("result", "") is None:
        del event["result"]  # OPA leaves out the result of an undefined decision
    assert _upload(client, log_token, [event]).status_code == 204
    record = _remote().get()
    assert (record.outcome, record.changes["allow"], record.changes["reasons"]) == (
        "denied",
        False,
        reasons,
    )


def test_an_event_without_a_resource_targets_its_decision(client, log_token):
    event = _event(input={"user": "x"}, path="other/allow", result=True)
    assert _upload(client, log_token, [event]).status_code == 204
    record = _remote().get()
    assert (record.target_type, record.target_id, record.outcome) == (
        "decision.remote",
        "d-1",
        "success",
    )


def test_an_empty_upload_records_nothing(client, log_token):
    assert _upload(client, log_token, []).status_code == 204
    assert not _remote().exists()


def _gzip_bomb() -> bytes:
    # 6 MB of JSON (an array padded with spaces) that gzips to a few kilobytes.
    return gzip.compress(b"[" + b" " * (6 * 1024 * 1024) + b"]")


@pytest.mark.parametrize(
    ("body", "encoding", "status", "code"),
    [
        (b"not gzip at all", "gzip", 400, "invalid_gzip"),
        (gzip.compress(b'[{"decision_id": "x"}]')[:-6], "gzip", 400, "invalid_gzip"),
        (b"[{not json", None, 400, "malformed_request"),
        (b'{"decision_id": "d-1"}', None, 400, "invalid_decision_log"),
        (json.dumps([_event("d-1"), {"path": "x"}]).encode(), None, 400, "invalid_decision_log"),
        (json.dumps([_event("d-1"), "event"]).encode(), None, 400, "invalid_decision_log"),
        (json.dumps([_event(labels=[])]).encode(), None, 400, "invalid_decision_log"),
        (_gzip_bomb(), "gzip", 413, "payload_too_large"),
        (json.dumps([_event()]).encode(), "br", 415, "unsupported_content_encoding"),
        (json.dumps([_event("d-\u0000")]).encode(), None, 400, "invalid_decision_log"),
        (json.dumps([_event(path="a\ud800")]).encode(), None, 400, "invalid_decision_log"),
    ],
    ids=[
        "not-gzip",
        "truncated-gzip",
        "not-json",
        "not-an-array",
        "event-without-id",
        "event-not-an-object",
        "labels-not-an-object",
        "gzip-bomb",
        "unknown-encoding",
        "nul-in-decision-id",
        "unpaired-surrogate-in-path",
    ],
)
def test_a_bad_upload_is_refused_whole(client, log_token, body, encoding, status, code):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {log_token}"}
    if encoding:
        headers["HTTP_CONTENT_ENCODING"] = encoding
    response = client.post(URL, data=body, content_type="application/json", **headers)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert not _remote().exists()


def test_a_resource_no_column_can_hold_is_recorded_with_its_columns_made_storable(
    client, log_token
):
    """OPA logs what it was asked: a 300-character resource type or a NUL in an id must not make
    the audit log refuse the upload (503, which the agent would retry forever). The query
    columns hold what they can (cut, NUL as U+FFFD); the entry's body keeps the input's digest."""
    odd = {**INPUT, "resource": {"type": "t" * 300, "id": "inv\u00001"}}
    response = _upload(client, log_token, [_event("d-1", input=odd)])
    assert response.status_code == 204
    (entry,) = _remote()
    assert entry.target_type == f"decision.{'t' * 300}"[:80]
    assert entry.target_id == "inv\ufffd1"
    assert (
        entry.changes["input_sha256"]
        == hashlib.sha256(
            json.dumps(odd, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        ).hexdigest()
    )


def test_the_inflated_size_limit_is_a_setting(client, log_token, settings):
    settings.DECISION_LOG_MAX_BYTES = 100
    response = _upload(client, log_token, [_event()])
    assert response.status_code == 413
    assert not _remote().exists()


def test_an_upload_the_audit_log_cannot_take_is_503_and_kept_by_the_agent(client, log_token):
    with audit_inserts_failing():
        response = _upload(client, log_token, [_event("d-1"), _event("d-2")])
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "audit_unavailable"
    assert not _remote().exists()


def test_without_a_credential_it_is_401(client):
    response = _upload(client, None, [_event()])
    assert response.status_code == 401
    assert not _remote().exists()


def test_a_credential_without_the_log_scope_is_403(client, admin):
    token = credential_create(actor=admin, name="pull", scopes=[ServiceCredential.Scope.BUNDLES])[1]
    response = _upload(client, token, [_event()])
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert not _remote().exists()


def test_a_batch_sent_again_is_recorded_once(client, log_token):
    batch = [_event("d-1"), _event("d-2"), _event("d-1")]  # and a repeat inside it
    assert _upload(client, log_token, batch).status_code == 204
    assert _upload(client, log_token, batch).status_code == 204  # OPA retrying after a timeout
    assert _upload(client, log_token, [_event("d-2"), _event("d-3")]).status_code == 204
    assert [e.changes["decision_id"] for e in _remote()] == ["d-1", "d-2", "d-3"]


def test_a_batch_that_failed_is_recorded_in_full_when_sent_again(client, log_token):
    with audit_inserts_failing():
        assert _upload(client, log_token, [_event("d-1"), _event("d-2")]).status_code == 503
    assert _upload(client, log_token, [_event("d-1"), _event("d-2")]).status_code == 204
    assert [e.changes["decision_id"] for e in _remote()] == ["d-1", "d-2"]
