"""Headless Chromium (Debian's package) driven by Playwright against pytest-django's live server.

``live_server`` tests are transactional: the database is flushed after each one, which also
drops the default taxonomy the data migration installs, so ``taxonomy`` puts it back.
"""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from apps.catalog import services
from apps.catalog.models import ClassificationSuggestion
from apps.classification.models import DataCategory, SensitivityLevel
from tests.factories import ColumnFactory, DatasetFactory, UserFactory
from tests.ui.helpers import ensure_default_taxonomy

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def taxonomy(transactional_db) -> None:
    """The default sensitivity scale and categories (the rows the data migration creates)."""
    ensure_default_taxonomy()


@pytest.fixture
def context(browser: Browser, live_server, taxonomy) -> Iterator[BrowserContext]:
    ctx = browser.new_context(base_url=live_server.url, viewport={"width": 1400, "height": 900})
    ctx.set_default_timeout(TIMEOUT_MS)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture
def sign_in(context: BrowserContext, page: Page, live_server) -> Callable[[Any], Page]:
    """Start the browser signed in as ``user`` (a real session cookie; the sign-in form has its
    own test). Returns the page."""

    def sign_in_as(user: Any) -> Page:
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": live_server.url}]
        )
        return page

    return sign_in_as


@pytest.fixture
def admin(taxonomy):
    return UserFactory(username="admin", is_superuser=True, is_staff=True)


@pytest.fixture
def owner(taxonomy):
    return UserFactory(username="olivia")


@pytest.fixture
def stranger(taxonomy):
    return UserFactory(username="stan")


@pytest.fixture
def catalog(owner, admin):
    """olivia owns crm.public.customers (declared restricted) and crm.public.contacts (three
    columns, two pending suggestions, fed by customers); billing.public.invoices is no one's."""
    customers = DatasetFactory(
        source__name="crm", schema_name="public", table_name="customers", owner=owner
    )
    services.dataset_update(actor=admin, dataset=customers, sensitivity="restricted")
    contacts = DatasetFactory(
        source=customers.source, schema_name="public", table_name="contacts", owner=owner
    )
    services.dataset_update(
        actor=admin, dataset=contacts, description="People at customer companies."
    )
    for i, (name, data_type) in enumerate(
        [("email", "text"), ("phone", "text"), ("notes", "text")], start=1
    ):
        ColumnFactory(dataset=contacts, name=name, data_type=data_type, ordinal=i)
    DatasetFactory(source__name="billing", schema_name="public", table_name="invoices")
    contact = DataCategory.objects.get(key="contact")
    confidential = SensitivityLevel.objects.get(key="confidential")
    email_hint, phone_hint = (
        ClassificationSuggestion.objects.create(
            column=contacts.columns.get(name=name),
            category=contact,
            sensitivity=confidential,
            detector="regex:contact",
            confidence=confidence,
            evidence={"matches": matches, "sampled": 200, "examples": [example]},
        )
        for name, confidence, matches, example in (
            ("email", 0.97, 194, "j***@example.com"),
            ("phone", 0.81, 162, "+44 ***** ***921"),
        )
    )
    services.lineage_edge_create(actor=admin, upstream=customers, downstream=contacts)
    return {
        "customers": customers,
        "contacts": contacts,
        "email_hint": email_hint,
        "phone_hint": phone_hint,
    }
