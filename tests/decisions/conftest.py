import pytest

from apps.catalog import services as catalog
from apps.decisions.services import snapshot_invalidate
from tests.factories import ColumnFactory, DatasetFactory, GrantFactory
from tests.ui.helpers import ensure_default_taxonomy


@pytest.fixture(autouse=True)
def _fresh_snapshot():
    """Each test's decisions read its own catalog, not a snapshot cached by an earlier test
    (the live server's thread lives across tests)."""
    snapshot_invalidate()
    yield
    snapshot_invalidate()


@pytest.fixture
def leads(admin, owner, transactional_db):
    """olivia owns crm.public.leads (internal); the taxonomy a transactional flush empties is back."""
    ensure_default_taxonomy()
    dataset = DatasetFactory(
        source__name="crm", schema_name="public", table_name="leads", owner=owner
    )
    catalog.dataset_update(actor=admin, dataset=dataset, sensitivity="internal")
    return dataset


@pytest.fixture
def leads_columns(leads, admin, viewer):
    """vera (default clearance: internal) holds a read grant on crm.public.leads, whose email
    is confidential contact data and ssn restricted (a grant admits above her clearance, the
    columns above it masked)."""
    GrantFactory(user=viewer, dataset=leads, purpose="support")
    for name, sensitivity, categories in [
        ("name", "internal", []),
        ("email", "confidential", ["contact"]),
        ("ssn", "restricted", []),
    ]:
        column = ColumnFactory(dataset=leads, name=name)
        catalog.column_classify(
            actor=admin, column=column, sensitivity=sensitivity, categories=categories
        )
    return leads
