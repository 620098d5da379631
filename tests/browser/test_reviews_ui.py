"""An access review in a real browser: an admin starts a campaign (a real Celery worker
generates it), the owner certifies one grant and revokes the other in bulk, the admin sees
the progress chart and downloads the evidence."""

import csv

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from apps.access.models import Grant
from tests.factories import UserFactory
from tests.reviews.conftest import make_grant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_start_a_campaign_and_complete_the_review(
    page: Page, context: BrowserContext, sign_in, admin, owner, catalog, real_worker, tmp_path
):
    rick = UserFactory(username="rick")
    keep, drop = make_grant(rick, catalog["customers"]), make_grant(rick, catalog["customers"])
    make_grant(rick, catalog["contacts"])  # not restricted: outside the campaign

    sign_in(admin).goto("/reviews/")
    page.get_by_text("Start a campaign").click()
    page.get_by_label("Name").fill("Restricted data Q4")
    page.get_by_label("Datasets at or above").select_option(label="Restricted")
    page.get_by_label("role bindings").uncheck()
    page.get_by_role("button", name="Start campaign").click()
    expect(page.get_by_role("heading", name="Restricted data Q4")).to_be_visible()
    for _ in range(40):  # the worker generates the items and opens the campaign
        if page.locator("#campaign-status").inner_text() == "open":
            break
        page.wait_for_timeout(250)
        page.reload()
    expect(page.locator("#campaign-status")).to_have_text("open")
    expect(page.locator("#done-count")).to_have_text("0 of 2 done")

    context.clear_cookies()
    sign_in(owner).goto("/reviews/")
    expect(page.locator("#todo-count")).to_have_text("2")
    rows = page.locator("#todo tbody tr")
    rows.filter(has_text=f"until {keep.expires_at:%Y-%m-%d %H:%M}").first.get_by_role(
        "checkbox"
    ).check()
    page.get_by_label("Note").fill("needed for the Q4 close")
    page.get_by_role("button", name="Certify selected").click()
    expect(page.get_by_role("status")).to_contain_text("1 item certified.")
    page.get_by_label("Select all").check()
    page.get_by_role("button", name="Revoke selected").click()
    expect(page.get_by_role("status")).to_contain_text("1 item revoked.")
    expect(page.locator("#todo-empty")).to_be_visible()
    drop.refresh_from_db()
    keep.refresh_from_db()
    assert drop.revoked_at is not None
    assert keep.revoked_at is None
    assert Grant.objects.filter(revoked_at__isnull=True).count() == 2

    context.clear_cookies()
    sign_in(admin).goto("/reviews/")
    page.get_by_role("link", name="Restricted data Q4").click()
    expect(page.locator("#done-count")).to_have_text("2 of 2 done")
    expect(page.locator(".progress-chart svg")).to_have_attribute(
        "aria-label", "certified 1, revoked 1, flagged 0, pending 0"
    )
    with page.expect_download() as download:
        page.get_by_role("link", name="Evidence (CSV)").click()
    path = tmp_path / "evidence.csv"
    download.value.save_as(path)
    rows_ = list(csv.DictReader(path.open()))
    assert sorted((r["outcome"], r["decided_by"], r["note"]) for r in rows_) == [
        ("certified", "olivia", "needed for the Q4 close"),
        ("revoked", "olivia", ""),
    ]
