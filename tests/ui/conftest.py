"""People and a dataset for the UI tests.

olivia owns crm.public.customers (three columns, one pending suggestion); vera may only read it;
stan sees nothing; admin is a superuser.
"""

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from apps.catalog import services
from apps.catalog.models import ClassificationSuggestion
from apps.classification.models import DataCategory, SensitivityLevel
from tests.factories import ColumnFactory, DatasetFactory


@pytest.fixture
def client_for(db) -> Callable[[Any], Client]:
    def make(user: Any) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def dataset(owner, viewer, admin):
    ds = DatasetFactory(
        source__name="crm", schema_name="public", table_name="customers", owner=owner
    )
    for i, (name, data_type) in enumerate(
        [("id", "bigint"), ("email", "text"), ("phone", "text")], start=1
    ):
        ColumnFactory(dataset=ds, name=name, data_type=data_type, ordinal=i)
    services.dataset_viewer_add(actor=admin, dataset=ds, user=viewer.username)
    return ds


@pytest.fixture
def suggestion(dataset):
    return ClassificationSuggestion.objects.create(
        column=dataset.columns.get(name="email"),
        category=DataCategory.objects.get(key="contact"),
        sensitivity=SensitivityLevel.objects.get(key="confidential"),
        detector="regex:email",
        confidence=0.93,
        evidence={"matches": 18, "sampled": 20, "examples": ["j***@example.com"]},
    )
