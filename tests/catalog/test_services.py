"""Catalog services: classification, effective sensitivity, permissions, audit, lineage."""

import pytest
from django.contrib.auth.models import Permission

from apps.audit.models import AuditEvent
from apps.catalog import selectors, services
from apps.catalog.models import Dataset
from apps.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from tests.factories import ColumnFactory, DatasetFactory, GroupFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin():
    return UserFactory(username="admin", is_superuser=True, is_staff=True)


def test_column_sensitivity_raises_dataset_effective_sensitivity(admin):
    dataset = DatasetFactory()
    email = ColumnFactory(dataset=dataset, name="email")
    services.dataset_update(actor=admin, dataset=dataset, sensitivity="internal")

    services.column_classify(
        actor=admin, column=email, sensitivity="restricted", categories=["contact"]
    )

    dataset.refresh_from_db()
    assert dataset.effective_sensitivity.key == "restricted"
    assert dataset.sensitivity.key == "internal"
    email.refresh_from_db()
    assert [c.key for c in email.categories.all()] == ["contact"]
    assert email.classified_by == admin
    # The dataset's own history says its effective sensitivity moved, and why (who).
    moved = AuditEvent.objects.get(
        action="catalog.dataset.effective_sensitivity", target_id=str(dataset.pk)
    )
    assert moved.changes == {"effective_sensitivity": {"before": "internal", "after": "restricted"}}
    assert (moved.actor, moved.scope) == (admin, f"catalog.dataset:{dataset.pk}")


def test_effective_sensitivity_drops_back_when_the_column_is_declassified(admin):
    dataset = DatasetFactory()
    col = ColumnFactory(dataset=dataset)
    services.column_classify(actor=admin, column=col, sensitivity="confidential")
    services.column_classify(actor=admin, column=col, sensitivity=None)
    dataset.refresh_from_db()
    assert dataset.effective_sensitivity is None
    moves = AuditEvent.objects.filter(action="catalog.dataset.effective_sensitivity").order_by("id")
    assert [m.changes["effective_sensitivity"]["after"] for m in moves] == ["confidential", None]


def test_unknown_sensitivity_is_refused_and_changes_nothing(admin):
    dataset = DatasetFactory(description="before")
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationFailed) as err:
        services.dataset_update(
            actor=admin, dataset=dataset, description="after", sensitivity="secretish"
        )
    assert err.value.code == "unknown_sensitivity"
    dataset.refresh_from_db()
    assert dataset.description == "before"
    assert AuditEvent.objects.count() == events


def test_update_is_audited_with_before_and_after(admin):
    dataset = DatasetFactory(description="old")
    services.dataset_update(actor=admin, dataset=dataset, description="new", tags=[])
    event = AuditEvent.objects.get(action="catalog.dataset.update")
    assert event.actor == admin
    assert event.changes == {"description": {"before": "old", "after": "new"}}
    assert event.scope == f"catalog.dataset:{dataset.pk}"


@pytest.mark.parametrize("role", ["owner", "steward", "owner_group", "steward_group", "viewer"])
def test_who_sees_a_dataset(admin, role):
    person = UserFactory()
    team = GroupFactory()
    person.groups.add(team)
    dataset = DatasetFactory()
    DatasetFactory()  # someone else's
    if role == "viewer":
        services.dataset_viewer_add(actor=admin, dataset=dataset, user=person.username)
    elif role.endswith("group"):
        services.dataset_update(actor=admin, dataset=dataset, **{role: team.name})
    else:
        services.dataset_update(actor=admin, dataset=dataset, **{role: person.username})

    visible = list(selectors.dataset_list(actor=person))

    assert visible == [dataset]
    may_edit = role != "viewer"
    if may_edit:
        assert selectors.dataset_get_for_change(actor=person, pk=dataset.pk) == dataset
    else:
        with pytest.raises(PermissionDenied):
            selectors.dataset_get_for_change(actor=person, pk=dataset.pk)


def test_a_stranger_gets_not_found_for_an_existing_dataset():
    stranger = UserFactory()
    dataset = DatasetFactory()
    assert list(selectors.dataset_list(actor=stranger)) == []
    with pytest.raises(NotFound):
        selectors.dataset_get(actor=stranger, pk=dataset.pk)


def test_global_view_permission_sees_everything():
    auditor = UserFactory()
    auditor.user_permissions.add(Permission.objects.get(codename="view_dataset"))
    DatasetFactory.create_batch(3)
    assert selectors.dataset_list(actor=auditor).count() == 3


def test_lineage_cycle_is_refused(admin):
    a, b, c = DatasetFactory(), DatasetFactory(), DatasetFactory()
    services.lineage_edge_create(actor=admin, upstream=a, downstream=b)
    services.lineage_edge_create(actor=admin, upstream=b, downstream=c)
    with pytest.raises(ValidationFailed) as err:
        services.lineage_edge_create(actor=admin, upstream=c, downstream=a)
    assert err.value.code == "lineage_cycle"
    with pytest.raises(Conflict):
        services.lineage_edge_create(actor=admin, upstream=a, downstream=b)
    neighbours = selectors.lineage_neighbours(actor=admin, dataset=b)
    assert neighbours == {"upstream": [a], "downstream": [c]}


def test_bulk_classify_is_all_or_nothing(admin):
    owner = UserFactory()
    mine = DatasetFactory(owner=owner)
    theirs = DatasetFactory()
    c1 = ColumnFactory(dataset=mine)
    c2 = ColumnFactory(dataset=theirs)
    with pytest.raises(NotFound):
        services.columns_bulk_classify(
            actor=owner, column_ids=[c1.pk, c2.pk], sensitivity="restricted"
        )
    c1.refresh_from_db()
    assert c1.sensitivity is None

    changed = services.columns_bulk_classify(
        actor=owner, column_ids=[c1.pk], add_categories=["health"]
    )
    assert changed == 1
    assert list(c1.categories.values_list("key", flat=True)) == ["health"]


def test_source_password_is_encrypted_and_never_audited(admin):
    source = services.source_create(
        actor=admin, name="crm", kind="postgres", host="db", password="hunter2"
    )
    assert b"hunter2" not in bytes(source.password_ciphertext)
    assert services.source_password(source=source) == "hunter2"
    event = AuditEvent.objects.get(action="catalog.source.create")
    assert "hunter2" not in str(event.changes)


def test_duplicate_fqn_is_a_conflict(admin):
    existing = DatasetFactory()
    with pytest.raises(Conflict) as err:
        services.dataset_create(
            actor=admin,
            source=existing.source,
            schema_name=existing.schema_name,
            table_name=existing.table_name,
        )
    assert err.value.code == "duplicate_fqn"
    assert Dataset.objects.count() == 1
