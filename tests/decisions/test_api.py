"""POST /access/v1/evaluation over real HTTP: the auth matrix, bad input, decisions."""

import datetime as dt
import json
import urllib.error
import urllib.request

import pytest
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.decisions.credentials import credential_create, credential_revoke
from apps.decisions.models import ServiceCredential
from tests.factories import DatasetFactory

pytestmark = pytest.mark.django_db(transaction=True)

BODY = {
    "subject": {"type": "user", "id": "olivia"},
    "action": {"name": "read"},
    "resource": {"type": "dataset", "id": "crm.public.leads"},
}


@pytest.fixture
def token(admin):
    return credential_create(actor=admin, name="etl", scopes=[ServiceCredential.Scope.EVALUATE])[1]


def _post(url: str, body: bytes | dict | list, headers: dict[str, str]) -> tuple[int, dict, dict]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(  # noqa: S310 - the test's own live server
        url, data=data, method="POST", headers={"Content-Type": "application/json", **headers}
    )
    try:
        with urllib.request.urlopen(req, timeout=20) as resp:  # noqa: S310
            return resp.status, json.loads(resp.read()), dict(resp.headers)
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read()), dict(err.headers)


def _url(live_server) -> str:
    return f"{live_server.url}/access/v1/evaluation"


def test_a_decision_with_its_context_and_its_record(live_server, leads, token):
    status, body, _ = _post(
        _url(live_server),
        {**BODY, "context": {"purpose": "support"}},
        {"Authorization": f"Bearer {token}"},
    )
    assert status == 200
    assert body["decision"] is True
    assert body["context"]["reason_codes"] == ["owner"]
    assert body["context"]["obligations"] == {"mask": {}}
    assert body["context"]["policy_revision"]
    record = AuditEvent.objects.get(action="decision.evaluate")
    assert (record.actor_type, record.actor_repr) == ("service", "etl")
    assert record.changes["decision_id"] == body["context"]["decision_id"]
    assert ServiceCredential.objects.get(name="etl").last_used_at is not None


@pytest.mark.parametrize(
    "header",
    [None, "Token abc", "Bearer ", "Bearer stw_nope_nope", "Bearer garbage"],
    ids=["none", "wrong-scheme", "empty", "unknown", "malformed"],
)
def test_without_a_valid_credential_it_is_401(live_server, leads, header):
    status, body, headers = _post(
        _url(live_server), BODY, {"Authorization": header} if header else {}
    )
    assert status == 401
    assert body["error"]["code"] in {"not_authenticated", "authentication_failed"}
    assert headers["WWW-Authenticate"].startswith("Bearer")
    assert not AuditEvent.objects.filter(action="decision.evaluate").exists()


def test_revoked_and_expired_credentials_are_401(live_server, leads, admin, token):
    revoked = ServiceCredential.objects.get(name="etl")
    credential_revoke(actor=admin, credential=revoked)
    assert _post(_url(live_server), BODY, {"Authorization": f"Bearer {token}"})[0] == 401
    _, old = credential_create(
        actor=admin, name="old", scopes=[ServiceCredential.Scope.EVALUATE], days=1
    )
    ServiceCredential.objects.filter(name="old").update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert _post(_url(live_server), BODY, {"Authorization": f"Bearer {old}"})[0] == 401


def test_a_credential_without_the_scope_is_403(live_server, leads, admin):
    _, bundles_only = credential_create(
        actor=admin, name="opa-agent", scopes=[ServiceCredential.Scope.BUNDLES]
    )
    status, body, _ = _post(_url(live_server), BODY, {"Authorization": f"Bearer {bundles_only}"})
    assert (status, body["error"]["code"]) == (403, "permission_denied")


def _nested(levels: int) -> bytes:
    """A request whose context holds arrays nested so that the body is ``levels`` deep."""
    arrays = levels - 2  # the body, then its context
    return (
        b'{"subject":{"type":"user","id":"olivia"},"action":{"name":"read"},'
        b'"resource":{"type":"dataset","id":"crm.public.leads"},"context":{"n":'
        + b"[" * arrays
        + b"]" * arrays
        + b"}}"
    )


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", "malformed_request"),
        (b'{"subject":{"type":"user","id":"a"},"context":{"n":NaN}}', "malformed_request"),
        ([1, 2], "invalid_request"),
        (
            {
                "subject": {"type": "user"},
                "action": {"name": "read"},
                "resource": {"type": "dataset", "id": "x"},
            },
            "invalid_request",
        ),
        # JSON may escape half a surrogate pair; such text has no UTF-8 form to evaluate or store.
        (
            b'{"subject":{"type":"user","id":"\\ud800"},"action":{"name":"read"},'
            b'"resource":{"type":"dataset","id":"x"}}',
            "invalid_request",
        ),
        (
            b'{"subject":{"type":"user","id":"alice"},"action":{"name":"read"},'
            b'"resource":{"type":"dataset","id":"x"},"context":{"note":"a\\udfffb"}}',
            "invalid_request",
        ),
        # Postgres text cannot hold NUL: the audit entry could not name the resource.
        (
            b'{"subject":{"type":"user","id":"alice"},"action":{"name":"read"},'
            b'"resource":{"type":"dataset","id":"crm.public.leads\\u0000"}}',
            "invalid_request",
        ),
        (
            {**BODY, "resource": {**BODY["resource"], "properties": {"columns": "email"}}},
            "invalid_request",
        ),
        (_nested(200), "invalid_request"),  # the engine reads 127 levels
        (_nested(5000), "malformed_request"),  # past what Python's parser can read
    ],
    ids=[
        "not-json",
        "nan-is-not-json",
        "not-an-object",
        "missing-subject-id",
        "unpaired-surrogate-in-subject",
        "unpaired-surrogate-in-context",
        "nul-in-resource-id",
        "columns-not-a-list",
        "nested-deeper-than-the-engine-reads",
        "nested-deeper-than-python-parses",
    ],
)
def test_bad_input_is_a_400_and_changes_nothing(live_server, leads, token, body, code):
    status, answer, _ = _post(_url(live_server), body, {"Authorization": f"Bearer {token}"})
    assert (status, answer["error"]["code"]) == (400, code)
    assert not AuditEvent.objects.filter(action="decision.evaluate").exists()


@pytest.mark.parametrize("path", ["/access/v1/evaluation", "/access/v1/evaluations"])
@pytest.mark.parametrize(
    "content_type",
    ["application/x-www-form-urlencoded", "multipart/form-data; boundary=b", "text/plain"],
)
def test_a_body_that_is_not_json_is_415_and_changes_nothing(
    live_server, leads, token, path, content_type
):
    """AuthZEN requests are JSON: a form cannot carry their nested objects."""
    status, answer, _ = _post(
        f"{live_server.url}{path}",
        b"subject=user&action=read",
        {"Authorization": f"Bearer {token}", "Content-Type": content_type},
    )
    assert (status, answer["error"]["code"]) == (415, "unsupported_media_type")
    assert not AuditEvent.objects.filter(action="decision.evaluate").exists()


def test_a_resource_type_longer_than_the_audit_column_is_decided_and_recorded(
    live_server, leads, token
):
    """The audit entry's target column holds 80 characters: a longer type is cut there (its
    body keeps the digest of the whole input), not refused by the database as audit_unavailable."""
    long_type = "t" * 300
    status, answer, _ = _post(
        _url(live_server),
        {**BODY, "resource": {"type": long_type, "id": "r-1"}},
        {"Authorization": f"Bearer {token}"},
    )
    assert status == 200
    assert answer["context"]["reason_codes"] != ["audit_unavailable"]
    record = AuditEvent.objects.get(action="decision.evaluate")
    assert record.changes["decision_id"] == answer["context"]["decision_id"]
    assert record.target_type == f"decision.{long_type}"[:80]


def test_a_request_as_deep_as_the_engine_reads_is_decided(live_server, leads, token):
    status, answer, _ = _post(_url(live_server), _nested(127), {"Authorization": f"Bearer {token}"})
    assert status == 200
    assert answer["context"]["reason_codes"] == ["owner"]


def test_an_item_deeper_than_the_engine_reads_refuses_the_batch(live_server, leads, token):
    """Found when the engine fails on it, before anything is recorded."""
    batch = json.loads(_nested(127))
    too_deep = json.loads(_nested(128))
    status, answer, _ = _post(
        _batch_url(live_server),
        {"evaluations": [batch, too_deep]},
        {"Authorization": f"Bearer {token}"},
    )
    assert (status, answer["error"]["code"]) == (400, "invalid_request")
    assert answer["error"]["message"].startswith("evaluations[1]: ")
    assert not AuditEvent.objects.filter(action="decision.evaluate").exists()


def test_the_pdp_configuration_names_the_endpoint(live_server):
    url = f"{live_server.url}/.well-known/authzen-configuration"
    with urllib.request.urlopen(url, timeout=10) as resp:  # noqa: S310 - the test's live server
        config = json.loads(resp.read())
    assert config["access_evaluation_endpoint"] == f"{live_server.url}/access/v1/evaluation"


def _batch_url(live_server) -> str:
    return f"{live_server.url}/access/v1/evaluations"


@pytest.fixture
def two_datasets(leads, owner):
    other = DatasetFactory(source=leads.source, schema_name="public", table_name="secret")
    return leads, other


BATCH = {
    "subject": {"type": "user", "id": "olivia"},
    "action": {"name": "read"},
    "evaluations": [
        {"resource": {"type": "dataset", "id": "crm.public.secret"}},
        {"resource": {"type": "dataset", "id": "crm.public.leads"}},
        {"resource": {"type": "dataset", "id": "crm.public.leads"}, "action": {"name": "export"}},
    ],
}


@pytest.mark.parametrize(
    ("semantic", "expected"),
    [
        ("execute_all", [False, True, True]),
        ("deny_on_first_deny", [False]),
        ("permit_on_first_permit", [False, True]),
    ],
)
def test_a_batch_with_defaults_overrides_and_each_semantic(
    live_server, two_datasets, token, semantic, expected
):
    body = {**BATCH, "options": {"evaluations_semantic": semantic}}
    status, answer, _ = _post(_batch_url(live_server), body, {"Authorization": f"Bearer {token}"})
    assert status == 200
    assert [e["decision"] for e in answer["evaluations"]] == expected
    recorded = AuditEvent.objects.filter(action="decision.evaluate").count()
    assert recorded == len(expected)


def test_one_malformed_item_refuses_the_whole_batch(live_server, two_datasets, token):
    body = {**BATCH, "evaluations": [*BATCH["evaluations"], {"resource": {"type": "dataset"}}]}
    status, answer, _ = _post(_batch_url(live_server), body, {"Authorization": f"Bearer {token}"})
    assert (status, answer["error"]["code"]) == (400, "invalid_request")
    assert "evaluations[3].resource.id" in answer["error"]["fields"]
    assert not AuditEvent.objects.filter(action="decision.evaluate").exists()


def test_an_item_with_an_unpaired_surrogate_refuses_the_batch(live_server, two_datasets, token):
    raw = json.dumps(BATCH).encode()[:-1] + b',"context":{"note":"\\ud800"}}'
    assert json.loads(raw)["context"] == {"note": "\ud800"}
    status, answer, _ = _post(_batch_url(live_server), raw, {"Authorization": f"Bearer {token}"})
    assert (status, answer["error"]["code"]) == (400, "invalid_request")
    assert answer["error"]["message"].startswith("evaluations[0]: ")
    assert "Unicode" in answer["error"]["message"]
    assert not AuditEvent.objects.filter(action="decision.evaluate").exists()


def test_an_unknown_semantic_is_a_400(live_server, two_datasets, token):
    body = {**BATCH, "options": {"evaluations_semantic": "most_votes"}}
    status, answer, _ = _post(_batch_url(live_server), body, {"Authorization": f"Bearer {token}"})
    assert (status, answer["error"]["code"]) == (400, "invalid")


def test_no_list_is_one_evaluation(live_server, leads, token):
    status, answer, _ = _post(_batch_url(live_server), BODY, {"Authorization": f"Bearer {token}"})
    assert (status, answer["decision"]) == (200, True)
