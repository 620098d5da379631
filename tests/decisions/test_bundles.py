"""GET /bundles/<name>.tar.gz: the OPA bundle layout, ETag / 304, the auth matrix, freshness."""

import gzip
import io
import json
import tarfile

import pytest

from apps.catalog import services as catalog
from apps.decisions.bundles import bundle_build, bundle_get
from apps.decisions.credentials import credential_create
from apps.decisions.models import ServiceCredential
from apps.decisions.policies import policy_files, policy_revision

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/bundles/steward.tar.gz"


@pytest.fixture
def bundle_token(admin):
    return credential_create(actor=admin, name="opa", scopes=[ServiceCredential.Scope.BUNDLES])[1]


def _get(client, token: str | None, url: str = URL, **headers):
    if token:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client.get(url, **headers)


def _members(body: bytes) -> dict[str, bytes]:
    files = {}
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as tar:
        for member in tar.getmembers():
            content = tar.extractfile(member)
            assert content is not None, f"{member.name} is not a regular file"
            files[member.name] = content.read()
    return files


def test_the_bundle_has_the_opa_layout(client, leads, owner, bundle_token):
    response = _get(client, bundle_token)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/gzip"
    files = _members(response.content)
    rego = {p for p in policy_files() if not p.endswith("_test.rego")}
    assert set(files) == {"/.manifest", "/steward/snapshot/data.json"} | {f"/{p}" for p in rego}
    manifest = json.loads(files["/.manifest"])
    assert manifest["roots"] == ["steward"]
    assert manifest["revision"].startswith(policy_revision(policy_files()) + "-")
    assert response["ETag"] == f'"{manifest["revision"]}"'
    snapshot = json.loads(files["/steward/snapshot/data.json"])
    assert snapshot["datasets"]["crm.public.leads"]["owners"] == {f"user:{owner.username}": "owner"}
    for path in rego:
        assert files[f"/{path}"].decode() == policy_files()[path]


def test_the_bytes_are_the_same_for_the_same_content():
    policies = {"a/a.rego": "package steward.a\n", "a/a_test.rego": "package steward.a_test\n"}
    snapshot = {"datasets": {"b": 1, "a": 2}, "levels": {}}
    first = bundle_build(policies=policies, snapshot=snapshot)
    again = bundle_build(policies=dict(reversed(policies.items())), snapshot=dict(snapshot))
    assert first.body == again.body
    assert first.revision == again.revision
    header = gzip.GzipFile(fileobj=io.BytesIO(first.body))
    header.read()
    assert header.mtime == 0
    with tarfile.open(fileobj=io.BytesIO(first.body), mode="r:gz") as tar:
        assert {(m.mtime, m.uid, m.gid, m.uname) for m in tar.getmembers()} == {(0, 0, 0, "")}
        assert "/a/a_test.rego" not in tar.getnames()
    changed = bundle_build(policies=policies, snapshot={**snapshot, "levels": {"x": 1}})
    assert changed.revision != first.revision


def test_a_matching_if_none_match_is_304_without_a_body(client, leads, bundle_token):
    etag = _get(client, bundle_token)["ETag"]
    response = _get(client, bundle_token, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag
    stale = _get(client, bundle_token, HTTP_IF_NONE_MATCH='"something-else"')
    assert stale.status_code == 200
    assert stale.content


def test_a_catalog_change_reaches_the_bundle(client, leads, admin, viewer, bundle_token, settings):
    settings.DECISION_SNAPSHOT_REFRESH_SECONDS = 0
    before = _get(client, bundle_token)
    catalog.dataset_viewer_add(actor=admin, dataset=leads, user=viewer.username)
    after = _get(client, bundle_token, HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200
    assert after["ETag"] != before["ETag"]
    snapshot = json.loads(_members(after.content)["/steward/snapshot/data.json"])
    assert snapshot["datasets"]["crm.public.leads"]["viewers"] == {f"user:{viewer.username}": True}


def test_polls_within_the_refresh_window_do_not_rebuild(leads, settings, django_assert_num_queries):
    settings.DECISION_SNAPSHOT_REFRESH_SECONDS = 60
    first = bundle_get(name="steward")
    with django_assert_num_queries(0):
        assert bundle_get(name="steward") is first


def test_an_unchanged_snapshot_reuses_the_built_bundle(leads, settings):
    settings.DECISION_SNAPSHOT_REFRESH_SECONDS = 0
    first = bundle_get(name="steward")
    assert bundle_get(name="steward") is first


def test_an_unknown_bundle_is_404(client, bundle_token):
    response = _get(client, bundle_token, url="/bundles/other.tar.gz")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_bundle"


@pytest.mark.parametrize(
    "header",
    [None, "Token abc", "Bearer stw_nope_nope"],
    ids=["none", "wrong-scheme", "unknown"],
)
def test_without_a_valid_credential_it_is_401(client, header):
    response = client.get(URL, **({"HTTP_AUTHORIZATION": header} if header else {}))
    assert response.status_code == 401
    assert response.json()["error"]["code"] in {"not_authenticated", "authentication_failed"}
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_credential_without_the_bundle_scope_is_403(client, admin):
    token = credential_create(actor=admin, name="etl", scopes=[ServiceCredential.Scope.EVALUATE])[1]
    response = _get(client, token)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
