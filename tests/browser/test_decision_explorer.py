"""The decision explorer in a real browser: ask, see the decision, see it among recent ones."""

import pytest
from playwright.sync_api import Page, expect

from apps.catalog import services
from apps.decisions.services import snapshot_invalidate
from tests.factories import DatasetFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_asks_and_sees_the_decision_and_its_record(page: Page, sign_in, admin, owner):
    dataset = DatasetFactory(
        source__name="crm", schema_name="public", table_name="leads", owner=owner
    )
    services.dataset_update(actor=admin, dataset=dataset, sensitivity="internal")
    snapshot_invalidate()

    sign_in(admin).goto("/catalog/")
    page.get_by_role("link", name="Decisions").click()
    page.get_by_label("Subject (username or group)").fill("olivia")
    page.get_by_label("Dataset (source.schema.table)").fill("crm.public.leads")
    page.get_by_role("button", name="Decide").click()

    expect(page.locator("#decision h2")).to_have_text("Allowed")
    expect(page.locator("#decision-reasons")).to_have_text("owner")
    expect(page.locator("#recent-decisions tbody tr").first).to_contain_text("user:olivia")

    page.get_by_label("Subject (username or group)").fill("stan")
    page.get_by_role("button", name="Decide").click()
    expect(page.locator("#decision h2")).to_have_text("Denied")
    expect(page.locator("#decision-reasons")).to_contain_text("unknown_principal")
