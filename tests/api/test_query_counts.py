"""List endpoints cost a fixed number of queries, whether there are 3 rows or 30 (no N+1)."""

from typing import Any

import pytest

from apps.catalog import services
from apps.classification.models import DataCategory, SensitivityLevel
from tests.api.helpers import make_suggestion
from tests.factories import ColumnFactory, DatasetFactory, GroupFactory, TagFactory, UserFactory

pytestmark = pytest.mark.django_db


def _fill(admin: Any, owner: Any, n: int) -> Any:
    """``n`` of everything each list shows, with every relation its rows output."""
    team = GroupFactory(name="stewards")
    tags = [TagFactory(key=f"tag{i}") for i in range(n)]
    datasets = []
    for i in range(n):
        ds = DatasetFactory(
            owner=owner, steward=admin, owner_group=team, steward_group=team, table_name=f"t{i}"
        )
        ds.tags.set(tags[:3])
        datasets.append(ds)
    first = datasets[0]
    for i in range(n):
        column = ColumnFactory(dataset=first, name=f"c{i}")
        services.column_classify(
            actor=owner, column=column, sensitivity="confidential", categories=["contact", "name"]
        )
        make_suggestion(column, category="financial")
        if i % 2:
            services.lineage_edge_create(actor=owner, upstream=datasets[i], downstream=first)
        elif i:
            services.lineage_edge_create(actor=owner, upstream=first, downstream=datasets[i])
    personal = DataCategory.objects.get(key="personal")
    restricted = SensitivityLevel.objects.get(key="restricted")
    for i in range(n):
        SensitivityLevel.objects.create(key=f"level{i}", name=f"L{i}", rank=100 + i)
        DataCategory.objects.create(
            key=f"cat{i}", name=f"C{i}", parent=personal, default_sensitivity=restricted
        )
    return first


ENDPOINTS = {
    "sources": "/api/v1/sources/",
    "datasets": "/api/v1/datasets/",
    "datasets-filtered": "/api/v1/datasets/?owner=stewards&tag=tag0&q=t&unclassified=true",
    "columns": "/api/v1/datasets/{first}/columns/",
    "lineage": "/api/v1/datasets/{first}/lineage/",
    "history": "/api/v1/datasets/{first}/history/",
    "suggestions": "/api/v1/suggestions/",
    "sensitivity-levels": "/api/v1/sensitivity-levels/",
    "categories": "/api/v1/categories/",
    "tags": "/api/v1/tags/",
}

# Queries per request, including the session and user lookups (2) that every request makes.
# "owner" sees datasets through ownership (the narrowed path); "admin" is a superuser.
# The narrowed path adds the permission and group lookups of ``dataset_visible``.
EXPECTED = {
    "owner": {
        "sources": 7,
        "datasets": 8,
        "datasets-filtered": 8,
        "columns": 12,
        "lineage": 11,
        "history": 11,  # + which lineage neighbours the reader may see (one query, any size)
        "suggestions": 7,
        "sensitivity-levels": 4,
        "categories": 4,
        "tags": 4,
    },
    "admin": {
        "sources": 4,
        "datasets": 5,
        "datasets-filtered": 5,
        "columns": 9,
        "lineage": 7,
        "history": 7,
        "suggestions": 4,
        "sensitivity-levels": 4,
        "categories": 4,
        "tags": 4,
    },
}


@pytest.mark.parametrize("rows", [3, 30])
@pytest.mark.parametrize("who", ["owner", "admin"])
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_list_query_count_is_constant(
    client_for, admin, django_assert_num_queries, endpoint, who, rows
):
    owner = UserFactory(username="owner")
    first = _fill(admin, owner, rows)
    client = client_for(owner if who == "owner" else admin)
    url = ENDPOINTS[endpoint].format(first=first.pk)

    with django_assert_num_queries(EXPECTED[who][endpoint]):
        response = client.get(url)

    assert response.status_code == 200
    body = response.json()
    if endpoint == "lineage":
        shown = len(body["upstream"]) + len(body["downstream"])
    else:
        shown = len(body if isinstance(body, list) else body["results"])
    assert shown >= rows - 1
