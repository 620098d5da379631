"""The audit viewer in a real browser: a catalog change shows up, filtered, with its chain
position once sealed and signed."""

import re

import pytest
from playwright.sync_api import Page, expect

from apps.audit.services import audit_seal_pending
from apps.catalog import services
from tests.factories import DatasetFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_finds_a_change_and_pins_it_with_a_checkpoint(page: Page, sign_in, admin, owner):
    dataset = DatasetFactory(
        source__name="crm", schema_name="public", table_name="leads", owner=owner
    )
    services.dataset_update(actor=admin, dataset=dataset, description="Inbound leads.")
    audit_seal_pending()

    sign_in(admin).goto("/catalog/")
    page.get_by_role("link", name="Audit").click()
    page.get_by_label("Action").fill("catalog.dataset.update")
    page.get_by_role("button", name="Filter").click()

    rows = page.locator("#audit-events tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("crm.public.leads")
    expect(rows.first).to_contain_text("admin")
    rows.first.get_by_role("link").click()

    expect(page.locator("#entry-changes")).to_contain_text("Inbound leads.")
    expect(page.locator("#entry-seq")).to_have_text(re.compile(r"^\d+$"))
    expect(page.locator("#entry-checkpoint")).to_contain_text("not yet covered")
    page.get_by_role("button", name="Create checkpoint now").click()

    expect(page.locator(".messages")).to_contain_text("signs the log up to entry seq")
    expect(page.locator("#entry-checkpoint")).to_contain_text("signed")
    expect(page.locator("#proof-link")).to_be_visible()
    expect(page.locator("#columns-match")).to_contain_text("match the sealed entry body")
