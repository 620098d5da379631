"""Schema sync against a real Postgres source database."""

import pytest

from apps.audit.models import AuditEvent
from apps.catalog import services
from apps.catalog.models import Column, Dataset
from apps.core.errors import PermissionDenied, SourceUnavailable, ValidationFailed
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

UNCHANGED_ONLY = {"created": 0, "updated": 0, "removed": 0, "restored": 0}


def _columns(fqn):
    return {
        c.name: (c.data_type, c.is_nullable, c.ordinal, c.removed_at is not None)
        for c in Column.objects.filter(dataset__fqn=fqn)
    }


def _without_unchanged(counts):
    return {k: v for k, v in counts.items() if k != "unchanged"}


def test_first_sync_creates_datasets_and_columns_with_their_types(admin, source):
    summary = services.source_sync(actor=admin, source=source)

    kinds = dict(Dataset.objects.filter(source=source).values_list("fqn", "kind"))
    assert kinds == {
        "src.crm.customers": "table",
        "src.crm.customer_emails": "view",
        "src.billing.payments": "table",
        "src.billing.daily_totals": "materialized_view",
        "src.hr.employees": "table",
    }
    assert _columns("src.crm.customers") == {
        "id": ("integer", False, 1, False),
        "email": ("text", False, 2, False),
        "contact": ("text", True, 3, False),
        "signup_ip": ("text", True, 4, False),
        "date_of_birth": ("date", True, 5, False),
        "plan": ("character varying(20)", False, 6, False),
        "balance": ("numeric(10,2)", True, 7, False),
    }
    assert _columns("src.crm.customer_emails") == {
        "id": ("integer", True, 1, False),
        "email": ("text", True, 2, False),
    }
    assert summary["datasets"] == {**UNCHANGED_ONLY, "created": 5, "unchanged": 0}
    assert summary["columns"]["created"] == Column.objects.count() == 23
    source.refresh_from_db()
    assert source.last_synced_at is not None
    assert source.last_sync_summary == summary


def test_second_sync_without_changes_reports_nothing_changed(admin, source):
    services.source_sync(actor=admin, source=source)

    summary = services.source_sync(actor=admin, source=source)

    assert summary["datasets"] == {**UNCHANGED_ONLY, "unchanged": 5}
    assert summary["columns"] == {**UNCHANGED_ONLY, "unchanged": 23}


def test_sync_is_audited_once_with_counts_not_rows(admin, source):
    services.source_sync(actor=admin, source=source)

    event = AuditEvent.objects.get(action="catalog.source.sync")
    assert event.target_id == str(source.pk)
    assert event.actor == admin
    assert set(event.changes) == {"datasets", "columns"}
    assert event.changes["datasets"]["created"] == 5


def test_dropped_table_and_column_are_marked_removed_then_restored(admin, source, source_db):
    services.source_sync(actor=admin, source=source)
    source_db.execute("DROP TABLE hr.employees; ALTER TABLE crm.customers DROP COLUMN balance")

    summary = services.source_sync(actor=admin, source=source)

    employees = Dataset.objects.get(fqn="src.hr.employees")
    assert employees.removed_at is not None
    assert all(c.removed_at is not None for c in employees.columns.all())
    assert _columns("src.crm.customers")["balance"][3] is True
    assert _without_unchanged(summary["datasets"]) == {**UNCHANGED_ONLY, "removed": 1}
    assert _without_unchanged(summary["columns"]) == {**UNCHANGED_ONLY, "removed": 8}

    source_db.execute(
        "CREATE TABLE hr.employees (id integer PRIMARY KEY, ni_number text, tax_ref text, "
        "password text, diagnosis text, lat double precision, department text);"
        "ALTER TABLE crm.customers ADD COLUMN balance numeric(10, 2)"
    )
    summary = services.source_sync(actor=admin, source=source)

    employees.refresh_from_db()
    assert employees.removed_at is None
    assert _without_unchanged(summary["datasets"]) == {**UNCHANGED_ONLY, "restored": 1}
    assert summary["columns"]["restored"] == 8
    # The re-added column came back at a new position (attnum 8): restored, not created.
    assert _columns("src.crm.customers")["balance"] == ("numeric(10,2)", True, 8, False)


def test_new_and_changed_columns_appear(admin, source, source_db):
    services.source_sync(actor=admin, source=source)
    source_db.execute(
        "ALTER TABLE crm.customers ADD COLUMN nickname varchar(40) NOT NULL DEFAULT '';"
        "ALTER TABLE crm.customers ALTER COLUMN plan DROP NOT NULL;"
        "CREATE TABLE crm.notes (id integer)"
    )

    summary = services.source_sync(actor=admin, source=source)

    columns = _columns("src.crm.customers")
    assert columns["nickname"] == ("character varying(40)", False, 8, False)
    assert columns["plan"] == ("character varying(20)", True, 6, False)
    assert _without_unchanged(summary["datasets"]) == {**UNCHANGED_ONLY, "created": 1}
    assert _without_unchanged(summary["columns"]) == {**UNCHANGED_ONLY, "created": 2, "updated": 1}


def test_sync_never_touches_what_stewards_set(admin, source, source_db):
    services.source_sync(actor=admin, source=source)
    customers = Dataset.objects.get(fqn="src.crm.customers")
    services.dataset_update(actor=admin, dataset=customers, description="CRM master", owner="admin")
    email = customers.columns.get(name="email")
    services.column_classify(
        actor=admin, column=email, sensitivity="confidential", categories=["contact"]
    )
    source_db.execute("ALTER TABLE crm.customers ALTER COLUMN email DROP NOT NULL")

    services.source_sync(actor=admin, source=source)

    customers.refresh_from_db()
    email.refresh_from_db()
    assert (customers.description, customers.owner) == ("CRM master", admin)
    assert email.is_nullable is True
    assert email.sensitivity.key == "confidential"
    assert [c.key for c in email.categories.all()] == ["contact"]


def test_removing_a_classified_column_recomputes_effective_sensitivity(admin, source, source_db):
    services.source_sync(actor=admin, source=source)
    ssn = Column.objects.get(dataset__fqn="src.hr.employees", name="tax_ref")
    services.column_classify(actor=admin, column=ssn, sensitivity="restricted")
    source_db.execute("ALTER TABLE hr.employees DROP COLUMN tax_ref")

    services.source_sync(actor=admin, source=source)

    assert Dataset.objects.get(fqn="src.hr.employees").effective_sensitivity is None

    source_db.execute("ALTER TABLE hr.employees ADD COLUMN tax_ref text")
    services.source_sync(actor=admin, source=source)

    assert Dataset.objects.get(fqn="src.hr.employees").effective_sensitivity.key == "restricted"


def test_system_may_sync_without_an_actor(source):
    services.source_sync(actor=None, source=source)

    event = AuditEvent.objects.get(action="catalog.source.sync")
    assert (event.actor, event.actor_repr) == (None, "system")


def test_unreachable_source_raises_and_writes_nothing(admin, source):
    source = services.source_update(actor=admin, source=source, port=1, password="s3cret-pw")
    events = AuditEvent.objects.count()

    with pytest.raises(SourceUnavailable) as err:
        services.source_sync(actor=admin, source=source)

    assert "Could not connect to src" in err.value.message
    assert "s3cret-pw" not in err.value.message
    assert Dataset.objects.count() == 0
    assert AuditEvent.objects.count() == events
    source.refresh_from_db()
    assert source.last_synced_at is None


def test_a_person_without_the_admin_role_is_refused(source):
    stranger = UserFactory()

    with pytest.raises(PermissionDenied):
        services.source_sync(actor=stranger, source=source)

    assert Dataset.objects.count() == 0
    assert not AuditEvent.objects.filter(action="catalog.source.sync").exists()


def test_only_postgres_sources_can_be_synced(admin):
    bucket = services.source_create(actor=admin, name="lake", kind="s3")

    with pytest.raises(ValidationFailed) as err:
        services.source_sync(actor=admin, source=bucket)

    assert err.value.code == "sync_not_supported"


def test_sync_cost_does_not_grow_with_the_number_of_tables(
    admin, source, source_db, django_assert_max_num_queries
):
    source_db.execute(
        "CREATE SCHEMA wide; DO $$ BEGIN FOR i IN 1..300 LOOP "
        "EXECUTE format('CREATE TABLE wide.t%s (id integer, name text, at timestamptz)', i); "
        "END LOOP; END $$"
    )

    with django_assert_max_num_queries(20):
        summary = services.source_sync(actor=admin, source=source)

    assert summary["datasets"]["created"] == 305
    assert summary["columns"]["created"] == 23 + 900
    source_db.execute("DROP SCHEMA wide CASCADE")
    with django_assert_max_num_queries(20):
        summary = services.source_sync(actor=admin, source=source)
    assert summary["datasets"]["removed"] == 300
