"""A review's revocation reaches the decision API (real HTTP, live server) within a second,
whether a reviewer revoked or the due date did."""

import time

import pytest

from apps.access import services as access
from apps.access.models import Role
from apps.reviews import services
from tests.access.test_decisions import _decide, token  # noqa: F401 - fixture
from tests.reviews.conftest import make_grant

pytestmark = pytest.mark.django_db(transaction=True)


def _denied_within_a_second(live_server, token, who, fqn):  # noqa: F811
    revoked = time.monotonic()
    while _decide(live_server, token, who, fqn)[0]:
        assert time.monotonic() - revoked < 1.0, "still allowed a second after the review"
        time.sleep(0.05)


def _campaign(admin, **kwargs):
    campaign = services.campaign_start(actor=admin, name="Q4", **kwargs)
    services.campaign_generate(campaign_id=campaign.pk)
    campaign.refresh_from_db()
    return campaign


def test_a_reviewer_revokes_a_grant_and_a_binding(
    live_server,
    token,  # noqa: F811
    admin,
    owner,
    rick,
    customers,
    events,
):
    make_grant(rick, customers)
    binding = access.role_binding_create(
        actor=admin, role=Role.objects.get(key="analyst"), user=rick, dataset=events
    )
    assert _decide(live_server, token, "rick", customers.fqn)[0] is True
    assert _decide(live_server, token, "rick", events.fqn)[:2] == (True, ["role"])
    campaign = _campaign(admin)
    items = {i.kind: i for i in campaign.items.filter(principal="user:rick")}
    assert items["binding"].ref_id == binding.pk

    services.items_decide(actor=owner, item_ids=[items["grant"].pk], verdict="revoke")
    _denied_within_a_second(live_server, token, "rick", customers.fqn)
    services.items_decide(actor=owner, item_ids=[items["binding"].pk], verdict="revoke")
    _denied_within_a_second(live_server, token, "rick", events.fqn)


def test_the_due_date_revokes_unanswered_restricted_access(
    live_server,
    token,  # noqa: F811
    admin,
    rick,
    customers,
):
    make_grant(rick, customers)
    campaign = _campaign(admin, min_sensitivity="restricted")
    assert _decide(live_server, token, "rick", customers.fqn)[0] is True
    assert services.campaigns_close_due(now=campaign.due_at) == 1
    _denied_within_a_second(live_server, token, "rick", customers.fqn)
