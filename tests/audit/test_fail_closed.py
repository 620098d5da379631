"""If an action cannot be recorded, it does not happen: real HTTP against the live server.

The database is made to fail at the exact moment the audit entry is written, after the
catalog row was already updated in the same transaction: once by refusing the insert, once by
killing the server process that serves the connection (what stopping Postgres does to every
open connection: a fast shutdown terminates each backend exactly like this).
"""

import json
import urllib.error
import urllib.request

import pytest
from rest_framework.authtoken.models import Token

from apps.audit.models import AuditEvent
from tests.db_faults import allow_writes, fail_writes
from tests.factories import DatasetFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def failing_audit_insert():
    """``failing_audit_insert(kind)`` breaks every audit insert until the test ends."""
    yield fail_writes
    allow_writes()


def _patch(url: str, token: str, payload: dict) -> tuple[int, dict]:
    req = urllib.request.Request(  # noqa: S310 - the test's own live server
        url,
        data=json.dumps(payload).encode(),
        method="PATCH",
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=20) as resp:  # noqa: S310
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


@pytest.mark.parametrize("kind", ["refused", "connection_killed"])
def test_a_change_that_cannot_be_recorded_is_not_made(
    live_server, owner, failing_audit_insert, kind
):
    dataset = DatasetFactory(owner=owner, description="before")
    token = Token.objects.create(user=owner).key
    url = f"{live_server.url}/api/v1/datasets/{dataset.pk}/"
    events = AuditEvent.objects.count()
    failing_audit_insert(kind)

    status, body = _patch(url, token, {"description": "after"})

    assert status == 503
    assert body["error"]["code"] in {"audit_unavailable", "database_unavailable"}
    dataset.refresh_from_db()
    assert dataset.description == "before"
    assert AuditEvent.objects.count() == events


def test_the_same_change_goes_through_once_the_database_is_back(
    live_server, owner, failing_audit_insert
):
    dataset = DatasetFactory(owner=owner, description="before")
    token = Token.objects.create(user=owner).key
    url = f"{live_server.url}/api/v1/datasets/{dataset.pk}/"
    failing_audit_insert("connection_killed")
    assert _patch(url, token, {"description": "after"})[0] == 503
    allow_writes()

    status, _ = _patch(url, token, {"description": "after"})

    assert status == 200
    dataset.refresh_from_db()
    assert dataset.description == "after"
    assert AuditEvent.objects.filter(
        target_id=str(dataset.pk), action__startswith="catalog."
    ).exists()


@pytest.mark.parametrize("kind", ["refused", "connection_killed"])
def test_why_a_change_was_refused_is_logged(live_server, owner, failing_audit_insert, kind, caplog):
    """The caller is only told the audit log or the database is unavailable; the operator finds
    the cause in the log."""
    dataset = DatasetFactory(owner=owner, description="before")
    token = Token.objects.create(user=owner).key
    failing_audit_insert(kind)

    status, _ = _patch(
        f"{live_server.url}/api/v1/datasets/{dataset.pk}/", token, {"description": "after"}
    )

    assert status == 503
    causes = [r for r in caplog.records if r.name.startswith("apps.") and r.exc_info]
    assert [r.getMessage().split(":")[0] for r in causes] == [
        "audit entry not written (catalog.dataset.update refused)"
    ]


@pytest.fixture
def dataset_updates_kill_the_connection():
    fail_writes("connection_killed", table="catalog_dataset", event="UPDATE")
    yield
    allow_writes(table="catalog_dataset")


def test_a_database_lost_mid_change_is_503_and_logged_with_its_cause(
    live_server, owner, dataset_updates_kill_the_connection, caplog
):
    dataset = DatasetFactory(owner=owner, description="before")
    token = Token.objects.create(user=owner).key

    status, body = _patch(
        f"{live_server.url}/api/v1/datasets/{dataset.pk}/", token, {"description": "after"}
    )

    assert (status, body["error"]["code"]) == (503, "database_unavailable")
    causes = [r for r in caplog.records if r.name == "apps.core.middleware"]
    assert [r.getMessage() for r in causes] == [
        f"PATCH /api/v1/datasets/{dataset.pk}/ answered 503 database_unavailable"
    ]
    assert causes[0].exc_info is not None
