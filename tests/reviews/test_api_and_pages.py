"""Reviews over the REST API and the web pages: start, list with progress, bulk verdicts,
errors with stable codes, the chart, CSV evidence, query counts."""

import csv
import io

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.access.models import Grant
from apps.audit.models import AuditEvent
from apps.reviews import services
from apps.reviews.models import Campaign, ReviewItem
from tests.factories import UserFactory
from tests.reviews.conftest import make_grant


def _api(user=None):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def _page(user):
    client = Client()
    client.force_login(user)
    return client


def _campaign(admin, **kwargs):
    campaign = services.campaign_start(actor=admin, name=kwargs.pop("name", "Q4"), **kwargs)
    services.campaign_generate(campaign_id=campaign.pk)
    campaign.refresh_from_db()
    return campaign


@pytest.mark.django_db
def test_start_list_decide_over_the_api(admin, owner, rick, customers, events):
    grants = [make_grant(rick, customers) for _ in range(3)]
    created = _api(admin).post(
        "/api/v1/reviews/campaigns/",
        {"name": "Restricted Q4", "min_sensitivity": "restricted", "duration_days": 10},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["status"] == "generating"
    assert created.json()["scope"] == "restricted and above"
    services.campaign_generate(campaign_id=created.json()["id"])

    listed = _api(admin).get("/api/v1/reviews/campaigns/").json()
    assert listed["results"][0]["progress"] == {
        "total": 3, "done": 0, "pending": 3, "certified": 0, "revoked": 0, "flagged": 0,
    }  # fmt: skip
    mine = _api(owner).get("/api/v1/reviews/items/").json()
    assert mine["count"] == 3
    assert {r["principal"] for r in mine["results"]} == {"user:rick"}
    assert _api(rick).get("/api/v1/reviews/items/").json()["count"] == 0

    ids = [r["id"] for r in mine["results"]]
    done = _api(owner).post(
        "/api/v1/reviews/items/decision/",
        {"items": ids[:2], "verdict": "revoke", "note": "left the team"},
        format="json",
    )
    assert done.status_code == 200
    assert [r["outcome"] for r in done.json()] == ["revoked", "revoked"]
    assert done.json()[0]["decided_by"] == "olivia"
    assert (
        Grant.objects.filter(pk__in=[g.pk for g in grants], revoked_at__isnull=False).count() == 2
    )

    twice = _api(owner).post(
        "/api/v1/reviews/items/decision/", {"items": ids, "verdict": "certify"}, format="json"
    )
    assert twice.status_code == 409
    assert twice.json()["error"]["code"] == "already_reviewed"
    assert ReviewItem.objects.filter(outcome="pending").count() == 1

    progress = _api(admin).get(f"/api/v1/reviews/campaigns/{created.json()['id']}/").json()
    assert progress["progress"]["revoked"] == 2
    assert progress["progress"]["done"] == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"items": [1], "verdict": "maybe"}, 400, "invalid"),
        ({"items": [], "verdict": "certify"}, 400, "invalid"),
        ({"items": list(range(1, 1002)), "verdict": "certify"}, 400, "invalid"),
        ({"items": [1], "verdict": "certify", "extra": 1}, 400, "unknown_field"),
        ({"items": [999999], "verdict": "certify"}, 404, "not_found"),
    ],
)
def test_bad_decisions_are_4xx_with_a_code(owner, body, status, code):
    response = _api(owner).post("/api/v1/reviews/items/decision/", body, format="json")
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


@pytest.mark.django_db
def test_starting_needs_the_permission_and_a_valid_scope(owner, admin):
    denied = _api(owner).post("/api/v1/reviews/campaigns/", {"name": "x"}, format="json")
    assert denied.status_code == 403
    bad = _api(admin).post(
        "/api/v1/reviews/campaigns/", {"name": "x", "min_sensitivity": "secret"}, format="json"
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "unknown_sensitivity"
    assert _api().get("/api/v1/reviews/campaigns/").status_code == 401
    assert not Campaign.objects.exists()


@pytest.mark.django_db
def test_schedules_over_the_api(admin, owner):
    made = _api(admin).post(
        "/api/v1/reviews/schedules/", {"name": "Quarterly", "crontab": "quarterly"}, format="json"
    )
    assert made.status_code == 201
    assert made.json()["crontab"] == "0 6 1 1,4,7,10 *"
    assert _api(owner).get("/api/v1/reviews/schedules/").status_code == 403
    bad = _api(admin).post(
        "/api/v1/reviews/schedules/", {"name": "Bad", "crontab": "61 * * * *"}, format="json"
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "invalid_crontab"
    gone = _api(admin).delete(f"/api/v1/reviews/schedules/{made.json()['id']}/")
    assert gone.status_code == 204


@pytest.mark.django_db
def test_owners_certify_in_bulk_on_the_page(admin, owner, rick, customers):
    for _ in range(3):
        make_grant(rick, customers)
    campaign = _campaign(admin)
    page = _page(owner).get("/reviews/").content.decode()
    assert 'id="todo"' in page
    assert page.count('class="pick"') == 3
    ids = list(campaign.items.values_list("pk", flat=True))

    response = _page(owner).post(
        "/reviews/decide/", {"item": ids, "verdict": "certify", "note": "ok"}, follow=True
    )
    assert "3 items certified." in response.content.decode()
    assert campaign.items.filter(outcome="certified").count() == 3
    again = _page(owner).post(
        "/reviews/decide/", {"item": ids[:1], "verdict": "revoke"}, follow=True
    )
    assert "already certified" in again.content.decode()
    assert not Grant.objects.filter(revoked_at__isnull=False).exists()


@pytest.mark.django_db
def test_campaign_page_chart_and_evidence(admin, owner, rick, customers):
    auditor = UserFactory(username="audrey")
    from apps.access import services as access
    from apps.access.models import Role

    access.role_binding_create(actor=admin, role=Role.objects.get(key="auditor"), user=auditor)
    for _ in range(4):
        make_grant(rick, customers)
    campaign = _campaign(admin, include_bindings=False)
    ids = sorted(campaign.items.values_list("pk", flat=True))
    services.items_decide(actor=owner, item_ids=ids[:1], verdict="certify", note="needed, 'ok'")
    services.items_decide(actor=owner, item_ids=ids[1:2], verdict="revoke", note="=HYPERLINK(x)")
    services.campaigns_close_due(now=campaign.due_at)  # the other two: restricted → revoked

    page = _page(admin).get(f"/reviews/campaigns/{campaign.pk}/").content.decode()
    assert 'aria-label="certified 1, revoked 3, flagged 0, pending 0"' in page
    assert "4 of 4 done" in page
    # The owner sees the campaign (her items) but not the evidence export.
    assert _page(owner).get(f"/reviews/campaigns/{campaign.pk}/").status_code == 200
    assert _page(owner).get(f"/reviews/campaigns/{campaign.pk}/evidence.csv").status_code == 404
    assert _page(rick).get(f"/reviews/campaigns/{campaign.pk}/").status_code == 404

    response = _page(auditor).get(f"/reviews/campaigns/{campaign.pk}/evidence.csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["outcome"] for r in rows] == ["certified", "revoked", "revoked", "revoked"]
    assert [r["decided_by"] for r in rows] == ["olivia", "olivia", *["system (due date)"] * 2]
    assert rows[0]["note"] == "needed, 'ok'"
    assert rows[1]["note"] == "'=HYPERLINK(x)"  # never a formula in a spreadsheet
    assert rows[0]["reviewer"] == "olivia"
    assert rows[0]["decided_at_utc"].endswith("Z")
    assert AuditEvent.objects.filter(
        action="reviews.evidence.export", actor_repr__contains="audrey"
    ).exists()


@pytest.mark.django_db
def test_review_pages_read_a_constant_number_of_queries(admin, owner, rick, customers):
    def count(url, user):
        client = _page(user)
        client.get(url)  # warm the session and caches
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    for _ in range(2):
        make_grant(rick, customers)
    campaign = _campaign(admin)
    small = (count("/reviews/", owner), count(f"/reviews/campaigns/{campaign.pk}/", admin))
    for _ in range(30):
        make_grant(UserFactory(), customers)
    bigger = _campaign(admin, name="bigger")
    services.campaign_start(actor=admin, name="third")
    large = (count("/reviews/", owner), count(f"/reviews/campaigns/{bigger.pk}/", admin))
    assert large == small
