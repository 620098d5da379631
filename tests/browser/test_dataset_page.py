"""More of the dataset page in a real browser: refusals, a successful edit, lineage navigation,
signing out. (test_catalog_ui.py covers the main flows.)"""

import re

import pytest
from playwright.sync_api import Page, expect

from apps.catalog import services
from apps.catalog.models import Column
from tests.factories import ColumnFactory, DatasetFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def sam(taxonomy):
    """A steward: owns crm.public.customers."""
    return UserFactory(username="sam")


@pytest.fixture
def customers(sam):
    dataset = DatasetFactory(
        source__name="crm",
        schema_name="public",
        table_name="customers",
        description="One row per customer.",
        owner=sam,
    )
    for i, (name, data_type) in enumerate(
        [("id", "bigint"), ("email", "text"), ("phone", "text"), ("notes", "text")], start=1
    ):
        ColumnFactory(dataset=dataset, name=name, data_type=data_type, ordinal=i)
    return dataset


def test_sign_out_ends_the_session(page: Page, sign_in, sam):
    sign_in(sam).goto("/catalog/")
    expect(page.locator(".topbar")).to_contain_text("sam")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.goto("/catalog/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/catalog/"))


def test_bulk_classify_with_nothing_selected_explains_and_changes_nothing(
    page: Page, sign_in, sam, customers
):
    sign_in(sam).goto(f"/catalog/datasets/{customers.pk}/")
    page.get_by_label("Set sensitivity").select_option("restricted")
    page.get_by_role("button", name="Apply to selected").click()

    expect(page.locator(".messages")).to_contain_text("Select at least one column")
    assert not Column.objects.filter(dataset=customers, sensitivity__isnull=False).exists()


def test_edit_dataset_saves_and_shows_in_history(page: Page, sign_in, sam, customers):
    UserFactory(username="dana")
    sign_in(sam).goto(f"/catalog/datasets/{customers.pk}/edit/")
    page.get_by_label("Description").fill("Customers of the web shop.")
    page.get_by_label("Steward (username)").fill("dana")
    page.get_by_label("Declared sensitivity").select_option("confidential")
    page.get_by_role("button", name="Save changes").click()

    expect(page.locator(".messages")).to_contain_text("Saved crm.public.customers")
    expect(page.locator("#declared-sensitivity .badge")).to_have_text("Confidential")
    expect(page.locator("#effective-sensitivity")).to_have_text("Confidential")
    history = page.locator("#history")
    expect(history).to_contain_text("dataset update")
    expect(history).to_contain_text("Customers of the web shop.")
    expect(history).to_contain_text("dana")


def test_lineage_graph_links_to_neighbours(page, sign_in, sam, customers):
    raw = DatasetFactory(
        source__name="warehouse", schema_name="raw", table_name="crm_customers", owner=sam
    )
    services.lineage_edge_create(actor=sam, upstream=customers, downstream=raw)
    sign_in(sam).goto(f"/catalog/datasets/{customers.pk}/")
    graph = page.locator("svg.lineage")
    expect(graph).to_be_visible()
    expect(graph.locator("path.edge")).to_have_count(1)
    graph.locator("a.node", has_text="warehouse.raw.crm_customers").click()
    expect(page.get_by_role("heading", name="warehouse.raw.crm_customers")).to_be_visible()
    expect(page.locator("svg.lineage a.node", has_text="crm.public.customers")).to_be_visible()


def test_a_usage_policy_set_on_the_edit_page_shapes_decisions(
    page: Page, sign_in, sam, customers, admin
):
    """A steward limits the dataset to a purpose and filters its rows by a column; the decision
    explorer then shows a group member the row filter to apply, and refuses the wrong purpose."""
    from django.contrib.auth.models import Group

    from apps.decisions.services import snapshot_invalidate

    emea = Group.objects.create(name="emea")
    UserFactory(username="vera").groups.add(emea)
    services.dataset_viewer_add(actor=admin, dataset=customers, group="emea")
    sign_in(sam).goto(f"/catalog/datasets/{customers.pk}/edit/")
    page.get_by_label("Purposes of use").fill("support")
    page.get_by_label("Row filter column").select_option("email")
    page.get_by_label("Rows each group or person sees").fill("group:emea = a@example.com")
    page.get_by_role("button", name="Save changes").click()

    expect(page.locator(".messages")).to_contain_text("Saved crm.public.customers")
    expect(page.locator("#purposes")).to_have_text("support")
    expect(page.locator("#row-filter")).to_contain_text("group emea sees a@example.com")

    snapshot_invalidate()
    sign_in(admin).goto("/decisions/explorer/")
    page.get_by_label("Subject (username or group)").fill("vera")
    page.get_by_label("Dataset (source.schema.table) or resource id").fill("crm.public.customers")
    page.get_by_label("Purpose").fill("support")
    page.get_by_role("button", name="Decide").click()
    expect(page.locator("#decision h2")).to_have_text("Allowed")
    expect(page.locator("#decision-obligations")).to_contain_text('"row_filter"')
    expect(page.locator("#decision-obligations")).to_contain_text("a@example.com")

    # Naming the columns a query reads: one the catalog does not hold yet is redacted.
    page.get_by_label("Columns read").fill("email, fax")
    page.get_by_role("button", name="Decide").click()
    expect(page.locator("#decision h2")).to_have_text("Allowed")
    expect(page.locator("#decision-obligations")).to_contain_text('"fax": "redact"')

    page.get_by_label("Purpose").fill("marketing")
    page.get_by_role("button", name="Decide").click()
    expect(page.locator("#decision h2")).to_have_text("Denied")
    expect(page.locator("#decision-reasons")).to_contain_text("purpose_not_allowed")
