import importlib

import pytest
from django.apps import apps as django_apps

from apps.access.models import Role
from apps.catalog import services as catalog
from apps.decisions.services import snapshot_invalidate
from tests.factories import ColumnFactory, DatasetFactory, GroupFactory, UserFactory
from tests.ui.helpers import ensure_default_taxonomy


def ensure_builtin_roles() -> None:
    """Transactional tests flush the migration-seeded roles; put them back (the migration's
    own function, idempotent)."""
    if not Role.objects.filter(builtin=True).exists():
        importlib.import_module("apps.access.migrations.0002_builtin_roles").create(
            django_apps, None
        )
        importlib.import_module("apps.access.migrations.0004_reviews_manage").add(django_apps, None)


@pytest.fixture(autouse=True)
def _seeded(db):
    ensure_default_taxonomy()
    ensure_builtin_roles()
    snapshot_invalidate()
    yield
    snapshot_invalidate()


@pytest.fixture
def growth(db):
    """The growth team: gil is a member."""
    group = GroupFactory(name="growth")
    gil = UserFactory(username="gil")
    gil.groups.add(group)
    return group


@pytest.fixture
def rick(db):
    return UserFactory(username="rick")


@pytest.fixture
def sam(db):
    return UserFactory(username="sam")


@pytest.fixture
def events(admin, owner, growth):
    """web.public.events: internal, owned by olivia and the growth team."""
    dataset = DatasetFactory(source__name="web", schema_name="public", table_name="events")
    catalog.dataset_update(
        actor=admin, dataset=dataset, owner="olivia", owner_group="growth", sensitivity="internal"
    )
    dataset.refresh_from_db()
    return dataset


@pytest.fixture
def customers(admin, owner, sam):
    """crm.public.customers: restricted, owned by olivia, stewarded by sam; email is
    confidential contact data, ssn restricted."""
    dataset = DatasetFactory(source__name="crm", schema_name="public", table_name="customers")
    email = ColumnFactory(dataset=dataset, name="email")
    ssn = ColumnFactory(dataset=dataset, name="ssn")
    ColumnFactory(dataset=dataset, name="id")
    catalog.column_classify(
        actor=admin, column=email, sensitivity="confidential", categories=["contact"]
    )
    catalog.column_classify(
        actor=admin, column=ssn, sensitivity="restricted", categories=["government-id"]
    )
    catalog.dataset_update(
        actor=admin, dataset=dataset, owner="olivia", steward="sam", sensitivity="restricted"
    )
    dataset.refresh_from_db()
    return dataset


def filter_rows_by_region(dataset, admin):
    """Give ``dataset`` a region column and a row filter on it: the growth team sees EU."""
    ColumnFactory(dataset=dataset, name="region")
    catalog.dataset_update(
        actor=admin,
        dataset=dataset,
        row_filter={"column": "region", "rules": [{"group": "growth", "values": ["EU"]}]},
    )
    dataset.refresh_from_db()
