"""PII scan against a real Postgres source: suggestions, evidence, and stewards' decisions."""

import json

import pytest

from apps.audit.models import AuditEvent
from apps.catalog import services
from apps.catalog.models import ClassificationSuggestion, Column
from apps.core.errors import PermissionDenied, SourceUnavailable
from tests.catalog.conftest import SOURCE_DDL
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

Status = ClassificationSuggestion.Status

EXPECTED = {
    ("src.crm.customers.email", "contact", "email"),
    ("src.crm.customers.contact", "contact", "phone"),
    ("src.crm.customers.signup_ip", "online-id", "ip_address"),
    ("src.crm.customers.date_of_birth", "demographic", "date_of_birth"),
    ("src.crm.customer_emails.email", "contact", "email"),
    ("src.billing.payments.card_pan", "financial", "payment_card"),
    ("src.billing.payments.account", "financial", "iban"),
    ("src.hr.employees.ni_number", "government-id", "uk_nino"),
    ("src.hr.employees.tax_ref", "government-id", "us_ssn"),
    ("src.hr.employees.password", "credentials", "column_name"),
    ("src.hr.employees.diagnosis", "health", "column_name"),
    ("src.hr.employees.lat", "location", "column_name"),
}

# Every personal value the fixture holds; none may appear in any evidence.
RAW_VALUES = [
    "jane.doe@example.com",
    "bob@corp.example.org",
    "+14155550101",
    "(415) 555-0102",
    "192.168.1.20",
    "2001:db8::1",
    "1985-04-12",
    "4242 4242 4242 4242",
    "5555555555554444",
    "378282246310005",
    "DE89 3704 0044 0532 0130 00",
    "GB82WEST12345698765432",
    "AB123456C",
    "123-45-6789",
    "078-05-1120",
]


@pytest.fixture
def synced(admin, source):
    services.source_sync(actor=admin, source=source)
    return source


def _pending():
    return {
        (str(s.column), s.category.key, s.detector)
        for s in ClassificationSuggestion.objects.filter(status=Status.PENDING).select_related(
            "column__dataset", "category"
        )
    }


def _suggestion(column_fqn, category):
    schema_table, _, column = column_fqn.rpartition(".")
    return ClassificationSuggestion.objects.get(
        column__dataset__fqn=schema_table, column__name=column, category__key=category
    )


def test_scan_suggests_categories_for_personal_data_only(admin, synced):
    summary = services.source_scan(actor=admin, source=synced)

    assert _pending() == EXPECTED
    assert summary["suggestions"]["created"] == len(EXPECTED)
    assert summary["tables"] == {"scanned": 5, "failed": 0}
    synced.refresh_from_db()
    assert synced.last_scanned_at is not None
    assert synced.last_scan_summary == summary


def test_suggestions_carry_the_category_sensitivity_and_a_content_digest(admin, synced):
    services.source_scan(actor=admin, source=synced)

    card = _suggestion("src.billing.payments.card_pan", "financial")
    assert card.sensitivity.key == "restricted"
    assert len(card.content_digest) == 64
    assert card.confidence > _suggestion("src.hr.employees.lat", "location").confidence
    assert card.evidence["matched"] == 4
    assert "****4242" in card.evidence["examples"]


def test_evidence_holds_masked_examples_never_raw_values(admin, synced):
    services.source_scan(actor=admin, source=synced)

    evidence = json.dumps([s.evidence for s in ClassificationSuggestion.objects.all()])
    assert "j***@e***.com" in evidence
    leaked = [value for value in RAW_VALUES if value in evidence]
    assert leaked == []
    assert all(value in SOURCE_DDL for value in RAW_VALUES)  # the check checks something


def test_a_second_scan_of_unchanged_data_changes_nothing(admin, synced):
    services.source_scan(actor=admin, source=synced)

    summary = services.source_scan(actor=admin, source=synced)

    assert summary["suggestions"]["created"] == 0
    assert summary["suggestions"]["refreshed"] == 0
    assert summary["suggestions"]["unchanged"] == len(EXPECTED)
    assert ClassificationSuggestion.objects.count() == len(EXPECTED)


def test_changed_content_refreshes_the_pending_suggestion_instead_of_duplicating(
    admin, synced, source_db
):
    services.source_scan(actor=admin, source=synced)
    before = _suggestion("src.crm.customers.email", "contact")
    source_db.execute("UPDATE crm.customers SET email = 'not-an-email' WHERE id IN (1, 2)")

    summary = services.source_scan(actor=admin, source=synced)

    after = _suggestion("src.crm.customers.email", "contact")
    assert after.pk == before.pk
    assert after.evidence["matched"] == 3
    assert after.confidence < before.confidence
    assert after.content_digest != before.content_digest
    # The view over the same table changed too.
    assert summary["suggestions"]["refreshed"] == 2


def test_accepted_suggestion_is_not_raised_again(admin, synced):
    services.source_scan(actor=admin, source=synced)
    suggestion = _suggestion("src.billing.payments.card_pan", "financial")
    services.suggestion_accept(actor=admin, suggestion=suggestion)

    summary = services.source_scan(actor=admin, source=synced)

    assert ClassificationSuggestion.objects.filter(column=suggestion.column).count() == 1
    assert summary["suggestions"]["already_classified"] == 1
    column = Column.objects.get(pk=suggestion.column_id)
    assert column.sensitivity.key == "restricted"


def test_rejected_suggestion_returns_only_when_the_content_changes(admin, synced, source_db):
    services.source_scan(actor=admin, source=synced)
    rejected = services.suggestion_reject(
        actor=admin, suggestion=_suggestion("src.crm.customers.signup_ip", "online-id")
    )

    summary = services.source_scan(actor=admin, source=synced)

    assert summary["suggestions"]["suppressed"] == 1
    assert not ClassificationSuggestion.objects.filter(
        column=rejected.column, status=Status.PENDING
    ).exists()

    source_db.execute("UPDATE crm.customers SET signup_ip = '10.1.2.3' WHERE id = 5")
    services.source_scan(actor=admin, source=synced)

    raised_again = ClassificationSuggestion.objects.get(
        column=rejected.column, status=Status.PENDING
    )
    assert raised_again.category.key == "online-id"
    assert raised_again.content_digest != rejected.content_digest


def test_a_stewards_classification_is_never_overwritten(admin, synced):
    email = Column.objects.get(dataset__fqn="src.crm.customers", name="email")
    tax_ref = Column.objects.get(dataset__fqn="src.hr.employees", name="tax_ref")
    services.column_classify(
        actor=admin, column=email, sensitivity="internal", categories=["contact"]
    )
    services.column_classify(
        actor=admin, column=tax_ref, sensitivity="internal", categories=["business"]
    )

    services.source_scan(actor=admin, source=synced)

    for column, category in ((email, "contact"), (tax_ref, "business")):
        column.refresh_from_db()
        assert column.sensitivity.key == "internal"
        assert [c.key for c in column.categories.all()] == [category]
        assert column.classified_by == admin
    assert not ClassificationSuggestion.objects.filter(column=email).exists()
    # A different category is only suggested; the column keeps the steward's values until accepted.
    assert _suggestion("src.hr.employees.tax_ref", "government-id").status == Status.PENDING


def test_rescan_finds_new_columns(admin, synced, source_db):
    services.source_scan(actor=admin, source=synced)
    source_db.execute(
        "ALTER TABLE crm.customers ADD COLUMN backup_email text;"
        "UPDATE crm.customers SET backup_email = 'alt' || id || '@example.com'"
    )
    services.source_sync(actor=admin, source=synced)

    services.source_scan(actor=admin, source=synced)

    assert _suggestion("src.crm.customers.backup_email", "contact").detector == "email"


def test_typed_inet_columns_are_recognised_by_their_values(admin, synced, source_db):
    source_db.execute(
        "CREATE TABLE crm.logins (id integer, client inet);"
        "INSERT INTO crm.logins VALUES (1, '192.168.1.20'), (2, '2001:db8::1'), (3, '8.8.4.4')"
    )
    services.source_sync(actor=admin, source=synced)

    services.source_scan(actor=admin, source=synced)

    suggestion = _suggestion("src.crm.logins.client", "online-id")
    assert (suggestion.detector, suggestion.evidence["matched"]) == ("ip_address", 3)
    assert "192.168.1.20" not in json.dumps(suggestion.evidence)


def test_sampling_is_bounded_by_the_setting(admin, synced, settings):
    settings.PII_SAMPLE_ROWS = 2

    services.source_scan(actor=admin, source=synced)

    assert _suggestion("src.crm.customers.email", "contact").evidence["sampled"] == 2


def test_a_table_gone_since_the_sync_is_reported_and_the_rest_scanned(admin, synced, source_db):
    source_db.execute("DROP TABLE hr.employees")

    summary = services.source_scan(actor=admin, source=synced)

    assert summary["tables"] == {"scanned": 4, "failed": 1}
    assert summary["errors"] == [{"dataset": "src.hr.employees", "error": "UndefinedTable"}]
    assert _suggestion("src.crm.customers.email", "contact").status == Status.PENDING


def test_scan_is_audited_once_with_counts(admin, synced):
    services.source_scan(actor=admin, source=synced)

    event = AuditEvent.objects.get(action="catalog.source.scan")
    assert event.changes["suggestions"]["created"] == len(EXPECTED)
    assert not any(value in json.dumps(event.changes) for value in RAW_VALUES)


def test_unreachable_source_raises_and_writes_nothing(admin, synced):
    moved = services.source_update(actor=admin, source=synced, port=1)

    with pytest.raises(SourceUnavailable):
        services.source_scan(actor=admin, source=moved)

    assert ClassificationSuggestion.objects.count() == 0
    assert not AuditEvent.objects.filter(action="catalog.source.scan").exists()


def test_a_person_without_the_admin_role_is_refused(synced):
    with pytest.raises(PermissionDenied):
        services.source_scan(actor=UserFactory(), source=synced)

    assert ClassificationSuggestion.objects.count() == 0
