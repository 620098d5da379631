"""The explorer page: only for people who may read the audit log; bad input is a form error."""

import html
import re

import pytest

from apps.audit.models import AuditEvent

pytestmark = pytest.mark.django_db(transaction=True)


def test_without_the_audit_permission_there_is_no_explorer(client, viewer):
    client.force_login(viewer)
    assert client.get("/decisions/explorer/").status_code == 404


def test_an_incomplete_question_is_a_form_error_and_records_nothing(client, admin):
    client.force_login(admin)
    response = client.post("/decisions/explorer/", {"subject_type": "user", "action": "read"})
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()
    assert not AuditEvent.objects.filter(action="decision.evaluate").exists()


def test_a_question_is_answered_and_recorded_with_the_person_as_caller(client, admin, leads):
    client.force_login(admin)
    response = client.post(
        "/decisions/explorer/",
        {
            "subject_type": "user",
            "subject_id": "olivia",
            "action": "read",
            "resource": "crm.public.leads",
        },
    )
    assert response.status_code == 200
    assert response.context["decision"].allow is True
    record = AuditEvent.objects.get(action="decision.evaluate")
    assert (record.actor_type, record.actor_repr) == ("user", "admin")


def test_the_columns_asked_about_limit_the_masks_shown(client, admin, leads_columns):
    client.force_login(admin)
    question = {
        "subject_type": "user",
        "subject_id": "vera",
        "action": "read",
        "resource": "crm.public.leads",
    }
    response = client.post("/decisions/explorer/", {**question, "columns": " name, ssn ,, phone"})
    assert response.status_code == 200
    assert response.context["decision"].obligations["mask"] == {"ssn": "redact", "phone": "redact"}
    record = AuditEvent.objects.get(action="decision.evaluate")
    assert record.changes["columns"] == ["name", "ssn", "phone"]
    every = client.post("/decisions/explorer/", question)
    assert every.context["decision"].obligations["mask"] == {"email": "hash", "ssn": "redact"}
    assert "columns: name, ssn, phone" in every.content.decode()  # in the recent decisions


def test_recent_decisions_lead_to_a_datasets_decisions_in_the_audit_log(client, admin, leads):
    client.force_login(admin)
    for fqn in ("crm.public.leads", "crm.public.nope"):
        question = {"subject_type": "user", "subject_id": "olivia", "action": "read"}
        client.post("/decisions/explorer/", {**question, "resource": fqn})
    page = client.get("/decisions/explorer/").content.decode()
    link = re.search(r'href="(/audit/\?action=decision\.[^"]*target_id=crm\.public\.leads)"', page)
    assert link is not None
    listed = client.get(html.unescape(link.group(1)))
    assert listed.status_code == 200
    targets = {e.target_id for e in listed.context["events"]}
    assert targets == {"crm.public.leads"}
    denied = client.get("/audit/?action=decision.&outcome=denied")
    assert {e.target_id for e in denied.context["events"]} == {"crm.public.nope"}
