"""The catalog UI in a real browser: sign in, browse, classify, decide suggestions, edit."""

import os
import re
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from apps.catalog.models import ClassificationSuggestion, Dataset
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("SCREENSHOT_DIR", tempfile.gettempdir()))


def _row(page: Page, column: str):
    return page.locator(f'tr[data-column="{column}"]')


def test_sign_in_with_wrong_password_shows_an_error_then_signs_in(page, owner, catalog):
    page.goto("/catalog/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.get_by_label("Username").fill("olivia")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("enter a correct username and password")

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/catalog/$"))
    expect(page.get_by_role("heading", name="Catalog")).to_be_visible()
    expect(page.locator("header")).to_contain_text("olivia")


def test_search_and_filter_by_sensitivity(page, sign_in, owner, catalog):
    sign_in(owner)
    page.goto("/catalog/")
    table = page.locator("#datasets")
    expect(table).to_contain_text("crm.public.customers")
    expect(table).to_contain_text("crm.public.contacts")
    expect(table).not_to_contain_text("billing.public.invoices")  # not olivia's

    page.get_by_label("Search").fill("contacts")
    page.get_by_role("button", name="Filter").click()
    expect(table).to_contain_text("crm.public.contacts")
    expect(table).not_to_contain_text("crm.public.customers")

    page.get_by_label("Search").fill("")
    page.get_by_label("Sensitivity").select_option("restricted")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"sensitivity=restricted"))
    expect(table).to_contain_text("crm.public.customers")
    expect(table).not_to_contain_text("crm.public.contacts")
    expect(table.locator(".badge")).to_have_text(["Restricted"])


def test_open_a_dataset_and_classify_a_column(page, sign_in, owner, catalog):
    sign_in(owner)
    page.goto("/catalog/")
    page.get_by_role("link", name="crm.public.contacts").click()
    expect(page.get_by_role("heading", name="crm.public.contacts")).to_be_visible()
    expect(page.locator("#effective-sensitivity")).to_have_text("unclassified")
    expect(page.locator("svg.lineage")).to_contain_text("crm.public.customers")

    row = _row(page, "phone")
    row.get_by_text("Classify", exact=True).click()
    row.get_by_label("Sensitivity").select_option("restricted")
    row.get_by_label("Categories").select_option(["contact", "personal"])
    row.get_by_role("button", name="Save").click()

    expect(page.get_by_role("status")).to_contain_text("Classified phone.")
    expect(_row(page, "phone").locator(".col-sensitivity .badge")).to_have_text("Restricted")
    expect(_row(page, "phone").locator(".col-categories")).to_contain_text("Contact data")
    expect(page.locator("#effective-sensitivity")).to_have_text("Restricted")
    contacts = Dataset.objects.get(pk=catalog["contacts"].pk)
    assert contacts.effective_sensitivity.key == "restricted"


def test_bulk_classify_selected_columns(page, sign_in, owner, catalog):
    sign_in(owner)
    page.goto(f"/catalog/datasets/{catalog['contacts'].pk}/")
    page.get_by_label("Select phone").check()
    page.get_by_label("Select notes").check()
    page.get_by_label("Set sensitivity").select_option("internal")
    page.get_by_label("Add categories").select_option(["business"])
    page.get_by_role("button", name="Apply to selected").click()

    expect(page.get_by_role("status")).to_contain_text("Classified 2 column(s)")
    for name in ("phone", "notes"):
        expect(_row(page, name).locator(".col-sensitivity .badge")).to_have_text("Internal")
        expect(_row(page, name).locator(".col-categories")).to_contain_text("Business data")
    expect(_row(page, "email").locator(".col-sensitivity .badge")).to_have_text("unclassified")
    expect(page.locator("#effective-sensitivity")).to_have_text("Internal")


def test_accept_a_suggestion_applies_it(page, sign_in, owner, catalog):
    sign_in(owner)
    page.goto(f"/catalog/datasets/{catalog['contacts'].pk}/")
    email = _row(page, "email")
    expect(email.locator(".suggestion")).to_contain_text("97%")
    expect(email.locator(".suggestion")).to_contain_text("j***@example.com")
    email.get_by_role("button", name="Accept Contact data for email").click()

    expect(page.get_by_role("status")).to_contain_text("Accepted Contact data for email")
    expect(_row(page, "email").locator(".suggestion")).to_have_count(0)
    expect(_row(page, "email").locator(".col-sensitivity .badge")).to_have_text("Confidential")
    expect(_row(page, "email").locator(".col-categories")).to_contain_text("Contact data")
    expect(page.locator("#effective-sensitivity")).to_have_text("Confidential")
    hint = ClassificationSuggestion.objects.get(pk=catalog["email_hint"].pk)
    assert hint.status == ClassificationSuggestion.Status.ACCEPTED


def test_reject_a_suggestion_from_the_queue(page, sign_in, owner, catalog):
    sign_in(owner)
    page.goto("/catalog/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Suggestions").click()
    queue = page.locator("#suggestions")
    expect(queue.locator("tbody tr")).to_have_count(2)
    queue.get_by_role("button", name="Reject Contact data for phone").click()

    expect(page.get_by_role("status")).to_contain_text("Rejected Contact data for phone")
    expect(queue.locator("tbody tr")).to_have_count(1)
    hint = ClassificationSuggestion.objects.get(pk=catalog["phone_hint"].pk)
    assert hint.status == ClassificationSuggestion.Status.REJECTED
    page.goto(f"/catalog/datasets/{catalog['contacts'].pk}/")
    expect(_row(page, "phone").locator(".col-sensitivity .badge")).to_have_text("unclassified")


def test_history_lists_who_changed_what(page, sign_in, owner, catalog):
    sign_in(owner)
    page.goto(f"/catalog/datasets/{catalog['contacts'].pk}/")
    _row(page, "email").get_by_role("button", name="Accept Contact data for email").click()
    expect(page.get_by_role("status")).to_contain_text("Accepted")

    history = page.locator("#history")
    first = history.locator("tbody tr").first
    expect(first).to_contain_text("olivia")
    expect(first).to_contain_text("suggestion accept")
    expect(history).to_contain_text("column classify")
    expect(history).to_contain_text("confidential")
    expect(history).to_contain_text("lineage create")
    expect(history).to_contain_text("People at customer companies.")  # the admin's update


def test_edit_with_unknown_owner_shows_field_error_and_saves_nothing(page, sign_in, owner, catalog):
    sign_in(owner)
    page.goto(f"/catalog/datasets/{catalog['contacts'].pk}/")
    page.get_by_role("link", name="Edit dataset").click()
    page.get_by_label("Description").fill("Rewritten description")
    page.get_by_label("Owner (username)").fill("no-such-person")
    page.get_by_label("Declared sensitivity").select_option("public")
    page.get_by_role("button", name="Save changes").click()

    owner_field = page.locator(".field", has=page.get_by_label("Owner (username)"))
    expect(owner_field.locator(".field-error")).to_contain_text("Unknown user 'no-such-person'")
    expect(page.get_by_text("Nothing was saved")).to_be_visible()
    contacts = Dataset.objects.get(pk=catalog["contacts"].pk)
    assert contacts.description == "People at customer companies."
    assert contacts.owner == owner
    assert contacts.sensitivity is None

    page.get_by_label("Owner (username)").fill("olivia")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status")).to_contain_text("Saved crm.public.contacts")
    expect(page.locator("#declared-sensitivity")).to_have_text("Public")


def test_stranger_gets_404_on_a_dataset_page(page, sign_in, stranger, catalog):
    sign_in(stranger)
    response = page.goto(f"/catalog/datasets/{catalog['contacts'].pk}/")
    assert response is not None
    assert response.status == 404
    expect(page.locator("body")).not_to_contain_text("crm.public.contacts")
    page.goto("/catalog/")
    expect(page.get_by_text("No datasets")).to_be_visible()


def test_screenshots_of_catalog_and_dataset_pages(page, sign_in, owner, catalog):
    """Pictures for a person to look at ($SCREENSHOT_DIR or the temp dir, steward-*.png); asserts only that pages drew."""
    sign_in(owner)
    page.goto("/catalog/")
    expect(page.locator("#datasets")).to_be_visible()
    page.screenshot(path=SHOTS / "steward-catalog.png", full_page=True)
    page.goto(f"/catalog/datasets/{catalog['contacts'].pk}/")
    expect(page.locator("svg.lineage")).to_be_visible()
    page.screenshot(path=SHOTS / "steward-dataset.png", full_page=True)
