"""Shared people and helpers for the API tests.

Clients sign in with a real session (``force_login``), so each request loads the user afresh,
as it would in production; token authentication has its own tests.
"""

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.catalog import services
from tests.factories import DatasetFactory, UserFactory


@pytest.fixture
def anon() -> APIClient:
    return APIClient()


@pytest.fixture
def client_for(db) -> Callable[[Any], APIClient]:
    def make(user: Any) -> APIClient:
        client = APIClient()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def admin(db):
    return UserFactory(username="admin", is_superuser=True, is_staff=True)


@pytest.fixture
def owner(db):
    return UserFactory(username="olivia")


@pytest.fixture
def stranger(db):
    return UserFactory(username="stan")


@pytest.fixture
def viewer(db):
    return UserFactory(username="vera")


@pytest.fixture
def dataset(owner, viewer, admin):
    """olivia owns crm.public.customers; vera may read it."""
    ds = DatasetFactory(
        source__name="crm", schema_name="public", table_name="customers", owner=owner
    )
    services.dataset_viewer_add(actor=admin, dataset=ds, user=viewer.username)
    return ds


@pytest.fixture
def other_dataset(db):
    """Someone else's dataset, in another source."""
    return DatasetFactory(source__name="billing", schema_name="public", table_name="invoices")
