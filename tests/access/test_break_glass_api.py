"""The break-glass REST API: open emergency access, list the uses waiting for review, review
one; refusals are 4xx with stable codes and write nothing."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.access import services
from apps.access.models import BreakGlassReview, Grant, Role
from apps.audit.models import AuditEvent
from tests.factories import DatasetFactory, UserFactory

OPEN = "/api/v1/access/break-glass/"
REVIEWS = "/api/v1/access/break-glass/reviews/"
WHY = "Production incident 8812: payments failing for EU customers"


def _client(user=None):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def _counts():
    return (
        Grant.objects.count(),
        Grant.objects.filter(revoked_at__isnull=False).count(),
        BreakGlassReview.objects.count(),
        BreakGlassReview.objects.filter(reviewed_at__isnull=False).count(),
        AuditEvent.objects.filter(action__startswith="access.").count(),
    )


def _bind(admin, role, user, **scope):
    services.role_binding_create(actor=admin, role=Role.objects.get(key=role), user=user, **scope)


@pytest.fixture
def responder(admin, rick):
    """rick holds the break-glass role everywhere."""
    _bind(admin, "break_glass", rick)
    return rick


def _open(who, target, **overrides):
    body = {
        "dataset": target.fqn,
        "access": "read",
        "duration_seconds": 1800,
        "justification": WHY,
        **overrides,
    }
    return _client(who).post(OPEN, body, format="json")


@pytest.fixture
def review(customers, responder):
    """rick's break-glass use of crm.public.customers, waiting for review."""
    grant = services.break_glass_open(actor=responder, dataset=customers, justification=WHY)
    return grant.follow_up


def test_open_list_and_review(customers, responder, owner):
    opened = _open(responder, customers)

    assert opened.status_code == 201, opened.content
    body = opened.json()
    grant, review = body["grant"], body["review"]
    assert (grant["user"], grant["dataset"], grant["access"], grant["origin"]) == (
        "rick",
        customers.fqn,
        "read",
        "break_glass",
    )
    assert (review["justification"], review["outcome"], review["reviewed_at"]) == (WHY, None, None)
    assert review["due_at"]
    assert AuditEvent.objects.filter(action="access.break_glass.open").count() == 1

    waiting = _client(owner).get(REVIEWS).json()
    assert [(r["id"], r["grant"]["id"]) for r in waiting["results"]] == [
        (review["id"], grant["id"])
    ]
    assert _client(responder).get(REVIEWS).json()["count"] == 0  # never their own

    reviewed = _client(owner).post(
        f"{REVIEWS}{review['id']}/", {"outcome": "justified", "note": "ok"}, format="json"
    )

    assert reviewed.status_code == 200, reviewed.content
    assert (reviewed.json()["outcome"], reviewed.json()["reviewed_by"]) == ("justified", "olivia")
    assert reviewed.json()["grant"]["revoked_at"] is None
    assert _client(owner).get(REVIEWS).json()["count"] == 0
    assert AuditEvent.objects.filter(action="access.break_glass.review").count() == 1


def test_an_unjustified_use_ends_the_grant(review, sam):
    response = _client(sam).post(
        f"{REVIEWS}{review.pk}/", {"outcome": "unjustified"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["grant"]["revoked_at"] is not None
    assert Grant.objects.get(pk=review.grant_id).revoked_at is not None


@pytest.mark.parametrize(
    ("overrides", "status", "code"),
    [
        pytest.param({"dataset": "no.such.table"}, 404, "unknown_dataset", id="unknown-dataset"),
        pytest.param({"justification": "because"}, 400, "justification_required", id="no-reason"),
        pytest.param({"duration_seconds": 5 * 3600}, 400, "duration_too_long", id="too-long"),
        pytest.param({"access": "own"}, 400, "invalid", id="bad-access"),
        pytest.param({"duration_seconds": 0}, 400, "invalid", id="zero-duration"),
        pytest.param({"reason": WHY}, 400, "unknown_field", id="unknown-field"),
    ],
)
def test_bad_open_requests_answer_4xx_and_write_nothing(
    customers, responder, overrides, status, code
):
    before = _counts()

    response = _open(responder, customers, **overrides)

    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    assert _counts() == before


def test_without_the_break_glass_role_opening_is_refused(customers, rick):
    before = _counts()

    response = _open(rick, customers)

    assert (response.status_code, response.json()["error"]["code"]) == (403, "permission_denied")
    assert _counts() == before


def test_a_break_glass_role_scoped_to_another_dataset_does_not_open_this_one(
    admin, customers, rick
):
    _bind(admin, "break_glass", rick, dataset=DatasetFactory())
    before = _counts()

    response = _open(rick, customers)

    assert (response.status_code, response.json()["error"]["code"]) == (403, "permission_denied")
    assert _counts() == before


def test_the_responder_cannot_review_their_own_use(review, responder):
    before = _counts()

    response = _client(responder).post(
        f"{REVIEWS}{review.pk}/", {"outcome": "justified"}, format="json"
    )

    assert (response.status_code, response.json()["error"]["code"]) == (403, "self_approval")
    assert _counts() == before


def test_a_responder_who_also_revokes_still_cannot_review_their_own_use(admin, review, responder):
    _bind(admin, "steward", responder)  # access.revoke everywhere
    assert _client(responder).get(REVIEWS).json()["count"] == 0
    before = _counts()

    response = _client(responder).post(
        f"{REVIEWS}{review.pk}/", {"outcome": "justified"}, format="json"
    )

    assert (response.status_code, response.json()["error"]["code"]) == (403, "self_approval")
    assert _counts() == before


def test_a_use_already_reviewed_is_a_conflict(review, owner, sam):
    url = f"{REVIEWS}{review.pk}/"
    assert _client(owner).post(url, {"outcome": "justified"}, format="json").status_code == 200
    before = _counts()

    again = _client(sam).post(url, {"outcome": "unjustified"}, format="json")

    assert (again.status_code, again.json()["error"]["code"]) == (409, "already_reviewed")
    assert _counts() == before
    assert BreakGlassReview.objects.get(pk=review.pk).outcome == "justified"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        pytest.param({"outcome": "fine"}, "invalid", id="unknown-outcome"),
        pytest.param({}, "invalid", id="no-outcome"),
        pytest.param({"outcome": "justified", "verdict": "ok"}, "unknown_field", id="unknown"),
        pytest.param({"outcome": "justified", "note": "x" * 1001}, "invalid", id="long-note"),
    ],
)
def test_a_bad_review_is_a_400_and_writes_nothing(review, owner, body, code):
    before = _counts()

    response = _client(owner).post(f"{REVIEWS}{review.pk}/", body, format="json")

    assert (response.status_code, response.json()["error"]["code"]) == (400, code)
    assert _counts() == before


def test_people_who_do_not_look_after_the_dataset_neither_see_nor_review_it(
    admin, review, stranger
):
    # stan may revoke grants, but only on another dataset: this review is not his to see.
    _bind(admin, "steward", stranger, dataset=DatasetFactory())
    before = _counts()

    assert _client(stranger).get(REVIEWS).json()["count"] == 0
    response = _client(stranger).post(
        f"{REVIEWS}{review.pk}/", {"outcome": "unjustified"}, format="json"
    )

    assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")
    assert _counts() == before


def test_an_unknown_review_is_a_404(owner, review):
    response = _client(owner).post(f"{REVIEWS}987654/", {"outcome": "justified"}, format="json")
    assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")


@pytest.mark.parametrize(
    ("method", "url"),
    [
        pytest.param("post", OPEN, id="open"),
        pytest.param("get", REVIEWS, id="list"),
        pytest.param("post", f"{REVIEWS}1/", id="review"),
    ],
)
def test_anonymous_is_401(customers, method, url):
    response = getattr(_client(), method)(url, {}, format="json")
    assert (response.status_code, response.json()["error"]["code"]) == (401, "not_authenticated")


def test_the_review_list_costs_the_same_queries_for_one_use_or_many(
    admin, customers, review, owner
):
    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = _client(owner).get(REVIEWS)
        assert response.status_code == 200
        return len(ctx.captured_queries)

    one = queries()
    for i in range(4):
        other = UserFactory(username=f"responder{i}")
        _bind(admin, "break_glass", other)
        services.break_glass_open(actor=other, dataset=customers, justification=WHY)

    assert queries() == one
    assert _client(owner).get(REVIEWS).json()["count"] == 5
