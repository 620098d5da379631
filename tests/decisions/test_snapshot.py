"""The governance snapshot built from the catalog, and decisions over it."""

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from apps.catalog import services
from apps.decisions.engines.embedded import RegorusEngine
from apps.decisions.policies import policy_files
from apps.decisions.snapshot import build_snapshot
from tests.factories import ColumnFactory, DatasetFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog(admin, owner, viewer):
    team = Group.objects.create(name="growth")
    owner.groups.add(team)
    customers = DatasetFactory(
        source__name="crm", schema_name="public", table_name="customers", owner=owner
    )
    services.dataset_update(actor=admin, dataset=customers, sensitivity="restricted")
    email = ColumnFactory(dataset=customers, name="email")
    services.column_classify(
        actor=admin, column=email, sensitivity="confidential", categories=["contact"]
    )
    leads = DatasetFactory(
        source=customers.source, schema_name="public", table_name="leads", owner_group=team
    )
    services.dataset_update(actor=admin, dataset=leads, sensitivity="internal")
    services.dataset_viewer_add(actor=admin, dataset=leads, user=viewer.username)
    DatasetFactory(  # vanished from its source at the last sync
        source=customers.source, schema_name="public", table_name="old", removed_at=timezone.now()
    )
    return customers, leads


def test_the_snapshot_holds_what_the_policy_reads(catalog, owner, viewer, admin):
    snapshot = build_snapshot()
    customers = snapshot["datasets"]["crm.public.customers"]
    assert customers["sensitivity"] == "restricted"
    assert customers["owners"] == {"user:olivia": "owner"}
    assert customers["columns"]["email"] == {
        "sensitivity": "confidential",
        "categories": ["contact"],
    }
    leads = snapshot["datasets"]["crm.public.leads"]
    assert leads["owners"] == {"group:growth": "owner"}
    assert leads["viewers"] == {"user:vera": True}
    assert snapshot["principals"]["user:olivia"]["groups"] == ["group:growth"]
    assert snapshot["principals"]["user:admin"]["roles"] == ["admin"]
    assert snapshot["levels"]["restricted"] > snapshot["levels"]["internal"]
    assert "crm.public.old" not in snapshot["datasets"]


def _decide(snapshot, user, fqn, action="read"):
    engine = RegorusEngine(policy_files(), {"steward": {"snapshot": snapshot}})
    return engine.evaluate(
        "data.steward.governance.decision",
        {
            "subject": {"type": "user", "id": user},
            "action": {"name": action},
            "resource": {"type": "dataset", "id": fqn},
            "context": {"time": "2026-11-22T10:00:00Z"},
        },
    )


def test_decisions_over_the_built_snapshot(catalog):
    snapshot = build_snapshot()
    assert _decide(snapshot, "olivia", "crm.public.leads")["reasons"] == ["owner"]  # via the group
    vera = _decide(snapshot, "vera", "crm.public.leads")
    assert (vera["allow"], vera["reasons"]) == (True, ["viewer"])
    assert _decide(snapshot, "vera", "crm.public.leads", "write")["allow"] is False
    assert _decide(snapshot, "vera", "crm.public.customers")["allow"] is False
    stranger = _decide(snapshot, "stan", "crm.public.customers")
    assert stranger["allow"] is False
    assert "unknown_principal" in stranger["reasons"]
