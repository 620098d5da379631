"""The audit viewer: permission-gated, filtered, exported, and every read is on the record."""

import csv
import io
import json

import pytest
from django.contrib.auth.models import Permission
from django.db import transaction

from apps.audit import merkle, signing
from apps.audit.models import AuditEvent
from apps.audit.offline import verify_inclusion_proof
from apps.audit.services import Target, audit_checkpoint_create, audit_record, audit_seal_pending
from tests.audit.conftest import record

pytestmark = pytest.mark.django_db


def _grant(user, *codenames):
    for codename in codenames:
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label="audit", codename=codename)
        )
    return user


@pytest.fixture
def auditor(user_factory):
    return _grant(user_factory(username="audrey"), "view_auditevent")


def _client(client, user):
    client.force_login(user)
    return client


def test_without_the_permission_the_pages_do_not_exist(client, viewer):
    c = _client(client, viewer)
    (entry,) = record(viewer, 1)
    for url in [
        "/audit/",
        f"/audit/{entry}/",
        "/audit/checkpoints/",
        "/audit/export.csv",
        "/audit/public-key.pem",
    ]:
        assert c.get(url).status_code == 404, url
    assert not AuditEvent.objects.filter(action__startswith="audit.").exists()


def test_filters_narrow_the_list_and_the_read_is_recorded(client, auditor, admin):
    record(admin, 3, action="catalog.dataset.update")
    record(auditor, 2, action="catalog.column.classify")
    c = _client(client, auditor)

    page = c.get("/audit/", {"action": "catalog.column.classify"}).content.decode()
    assert page.count("catalog.column.classify</code>") == 2
    assert "catalog.dataset.update</code>" not in page
    by_prefix = c.get("/audit/", {"action": "catalog.", "actor": "adm*"}).content.decode()
    assert by_prefix.count("catalog.dataset.update</code>") == 3
    assert "catalog.column.classify</code>" not in by_prefix

    read = AuditEvent.objects.filter(action="audit.read", actor=auditor).order_by("-id").first()
    assert read.changes["filters"] == {"action": "catalog.", "actor": "adm*"}


def test_a_bad_time_range_is_a_clear_error_and_lists_nothing(client, auditor, admin):
    record(admin, 2)
    c = _client(client, auditor)
    response = c.get("/audit/", {"since": "2026-11-02T10:00", "until": "2026-11-01T10:00"})
    page = response.content.decode()
    assert "must be later" in page
    assert "No audit entries match" in page
    bad = c.get("/audit/", {"since": "yesterday-ish"}).content.decode()
    assert "Enter a valid date/time" in bad


def test_the_time_range_is_in_utc(client, auditor, admin):
    record(admin, 1)
    c = _client(client, auditor)
    event = AuditEvent.objects.get(action="test.write")
    before = event.created_at.strftime("%Y-%m-%dT%H:%M")
    assert "test.write</code>" in c.get("/audit/", {"since": before}).content.decode()
    assert "test.write</code>" not in c.get("/audit/", {"until": before}).content.decode()


def test_times_are_shown_in_utc_to_the_millisecond(client, auditor, admin):
    record(admin, 1)
    event = AuditEvent.objects.get(action="test.write")
    shown = f"{event.created_at:%Y-%m-%d %H:%M:%S}.{event.created_at.microsecond // 1000:03d}"
    c = _client(client, auditor)
    listing = c.get("/audit/").content.decode()
    detail = c.get(f"/audit/{event.pk}/").content.decode()
    assert shown in listing
    assert shown in detail
    assert ".v<" not in listing + detail  # Django's date filter has no millisecond character


def test_keyset_pages_walk_back_through_everything(client, auditor, admin):
    record(admin, 60)
    c = _client(client, auditor)
    first = c.get("/audit/", {"action": "test.write"})
    assert first.content.decode().count("test.write</code>") == 50
    older = first.context["next_before"]
    second = c.get("/audit/", {"action": "test.write", "before": older}).content.decode()
    assert second.count("test.write</code>") == 10


def test_the_list_costs_the_same_queries_for_more_rows(
    client, auditor, admin, django_assert_max_num_queries
):
    c = _client(client, auditor)
    record(admin, 5)
    with django_assert_max_num_queries(12) as few:
        c.get("/audit/")
    record(admin, 45)
    with django_assert_max_num_queries(len(few.captured_queries)):
        c.get("/audit/")


def test_the_entry_page_shows_its_chain_position_and_a_proof_that_verifies(client, auditor, admin):
    (entry,) = record(admin, 1)
    c = _client(client, auditor)
    assert "Pending" in c.get(f"/audit/{entry}/").content.decode()
    audit_seal_pending()
    checkpoint = audit_checkpoint_create()
    page = c.get(f"/audit/{entry}/").content.decode()
    event = AuditEvent.objects.get(pk=entry)
    assert f'<dd id="entry-seq">{event.seq}</dd>' in page
    assert f"{checkpoint.pk}, signed" in page
    assert "match the sealed entry body" in page
    proof = c.get(f"/audit/{entry}/proof.json").json()
    verify_inclusion_proof(proof, c.get("/audit/public-key.pem").content.decode())
    assert AuditEvent.objects.filter(action="audit.proof", target_id=str(entry)).exists()


def test_exports_hold_exactly_the_filtered_rows_and_rehash(client, auditor, admin):
    _grant(auditor, "export_auditevent")
    record(admin, 4, action="catalog.dataset.update")
    record(admin, 2, action="catalog.source.update")
    audit_seal_pending()
    c = _client(client, auditor)

    body = b"".join(
        c.get("/audit/export.jsonl", {"action": "catalog.dataset.update"}).streaming_content
    )
    rows = [json.loads(line) for line in body.decode().splitlines()]
    assert len(rows) == 4
    assert {r["action"] for r in rows} == {"catalog.dataset.update"}
    assert all(merkle.leaf_hash(r["body"]).hex() == r["leaf_hash"] for r in rows)

    text = b"".join(c.get("/audit/export.csv", {"action": "catalog."}).streaming_content).decode()
    table = list(csv.DictReader(io.StringIO(text)))
    assert len(table) == 6
    assert json.loads(table[0]["changes"]) == json.loads(table[0]["body"])["changes"]
    exported = AuditEvent.objects.filter(action="audit.export").order_by("id")
    assert [e.changes["format"] for e in exported] == ["jsonl", "csv"]


def test_export_needs_its_own_permission(client, auditor):
    assert _client(client, auditor).get("/audit/export.csv").status_code == 404


def test_an_admin_creates_a_checkpoint_from_the_ui(client, admin):
    with transaction.atomic():
        audit_record(actor=admin, action="test.write", target=Target("t", "1"))
    c = _client(client, admin)
    response = c.post("/audit/checkpoints/", follow=True)
    page = response.content.decode()
    assert "signs the log up to entry seq" in page
    assert signing.current_key_id() in page
    assert AuditEvent.objects.filter(action="audit.checkpoint.create", actor=admin).exists()


def test_an_auditor_cannot_create_checkpoints(client, auditor):
    assert _client(client, auditor).post("/audit/checkpoints/").status_code == 404


def test_the_checkpoint_form_never_redirects_off_site(client, admin):
    response = _client(client, admin).post("/audit/checkpoints/", {"next": "https://evil.example/"})
    assert response.status_code == 302
    assert response["Location"] == "/audit/checkpoints/"


def test_the_csv_export_never_hands_a_spreadsheet_a_formula(client, auditor, admin):
    from apps.audit.services import Target, audit_record_alone

    _grant(auditor, "export_auditevent")
    audit_record_alone(
        actor=admin, action="catalog.dataset.update", target=Target("x", "1", "=HYPERLINK(evil)")
    )
    text = b"".join(
        _client(client, auditor).get("/audit/export.csv", {"action": "catalog."}).streaming_content
    ).decode()
    [row] = [r for r in csv.DictReader(io.StringIO(text)) if r["target_type"] == "x"]
    assert row["target_repr"] == "'=HYPERLINK(evil)"
    assert json.loads(row["body"])["target_repr"] == "=HYPERLINK(evil)"  # the exact value
