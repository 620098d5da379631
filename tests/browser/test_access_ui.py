"""Just-in-time access in a real browser: ask from the dataset page, the owner approves in the
inbox, the requester sees the grant; the owner revokes it."""

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from apps.access.models import Grant
from apps.catalog import services
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_request_approve_see_the_grant_and_revoke_it(
    page: Page, context: BrowserContext, sign_in, admin, owner, catalog
):
    contacts = catalog["contacts"]
    services.dataset_update(actor=admin, dataset=contacts, sensitivity="confidential")
    rick = UserFactory(username="rick")
    services.dataset_viewer_add(actor=admin, dataset=contacts, user=rick)

    sign_in(rick).goto(f"/catalog/datasets/{contacts.pk}/")
    page.get_by_role("link", name="Request access").click()
    expect(page.get_by_label("Dataset (source.schema.table)")).to_have_value("crm.public.contacts")
    page.get_by_label("For").select_option(label="4 hours")
    page.get_by_label("Columns to see in clear").fill("email")
    page.get_by_label("Purpose").fill("Customer support escalation 4411")
    page.get_by_role("button", name="Request access").click()
    expect(page.get_by_role("status")).to_contain_text("1 approval needed")
    expect(page.locator("#my-requests tbody tr").first).to_contain_text("pending")

    context.clear_cookies()
    sign_in(owner).goto("/access/")
    page.get_by_role("link", name="1 request waits for you").click()
    row = page.locator("#inbox tbody tr").first
    expect(row).to_contain_text("rick")
    expect(row).to_contain_text("columns: email")
    row.get_by_label("Note").fill("ok for the escalation")
    row.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status")).to_contain_text("Request approved")
    expect(page.locator("#inbox-empty")).to_be_visible()

    context.clear_cookies()
    sign_in(rick).goto("/access/")
    grant_row = page.locator("#my-grants tbody tr").first
    expect(grant_row).to_contain_text("crm.public.contacts")
    expect(grant_row).to_contain_text("email")
    expect(page.locator("#my-requests tbody tr").first).to_contain_text("approved")

    context.clear_cookies()
    sign_in(owner).goto("/access/")
    managed = page.locator("#managed-grants tbody tr").first
    expect(managed).to_contain_text("rick")
    managed.get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("status")).to_contain_text("Revoked rick's access")
    assert Grant.objects.get().revoked_at is not None
