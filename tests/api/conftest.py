"""Shared people and helpers for the API tests.

Clients sign in with a real session (``force_login``), so each request loads the user afresh,
as it would in production; token authentication has its own tests.
"""

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.catalog import services
from tests.factories import DatasetFactory


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
