"""Break-glass: emergency access at once for holders of the role, owners alerted, a follow-up
review someone else must complete, and escalation when nobody does."""

import datetime as dt

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from apps.access import services
from apps.access.models import BreakGlassReview, Grant, Role
from apps.audit.models import AuditEvent
from apps.core.errors import Conflict, PermissionDenied, ValidationFailed
from apps.decisions.services import decision_evaluate

pytestmark = pytest.mark.django_db(transaction=True)

WHY = "Production incident 8812: payments failing for EU customers"


@pytest.fixture
def responder(admin, rick):
    services.role_binding_create(actor=admin, role=Role.objects.get(key="break_glass"), user=rick)
    return rick


def _read(who, fqn):
    return decision_evaluate(
        caller=None,
        request={
            "subject": {"type": "user", "id": who},
            "action": {"name": "read"},
            "resource": {"type": "dataset", "id": fqn},
        },
    )


def test_break_glass_grants_at_once_alerts_owners_and_opens_a_review(
    customers, responder, django_capture_on_commit_callbacks
):
    assert _read("rick", customers.fqn).allow is False
    with django_capture_on_commit_callbacks(execute=True):
        grant = services.break_glass_open(actor=responder, dataset=customers, justification=WHY)
    assert grant.origin == Grant.Origin.BREAK_GLASS
    assert grant.expires_at - grant.starts_at == dt.timedelta(hours=1)
    decision = _read("rick", customers.fqn)
    assert (decision.allow, decision.reasons) == (True, ["grant"])
    alert = mail.outbox[-1]
    assert alert.subject.startswith("[Steward] BREAK-GLASS: rick")
    assert set(alert.to) == {"olivia@example.com", "sam@example.com"}
    review = BreakGlassReview.objects.get(grant=grant)
    assert review.reviewed_at is None
    assert review.justification == WHY
    assert AuditEvent.objects.filter(action="access.break_glass.open").count() == 1


def test_without_the_role_break_glass_is_refused(customers, rick):
    with pytest.raises(PermissionDenied):
        services.break_glass_open(actor=rick, dataset=customers, justification=WHY)
    assert not Grant.objects.exists()


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"justification": "because"}, "justification_required"),
        ({"justification": WHY, "duration_seconds": 5 * 3600}, "duration_too_long"),
        ({"justification": WHY, "rows": ["ACME"]}, "no_row_filter"),  # customers has none
    ],
)
def test_bad_break_glass_input_changes_nothing(customers, responder, kwargs, code):
    with pytest.raises(ValidationFailed) as refused:
        services.break_glass_open(actor=responder, dataset=customers, **kwargs)
    assert refused.value.code == code
    assert not Grant.objects.exists()
    assert not BreakGlassReview.objects.exists()


def test_the_owner_reviews_it_never_the_responder(customers, responder, owner):
    grant = services.break_glass_open(actor=responder, dataset=customers, justification=WHY)
    review = grant.follow_up
    with pytest.raises(PermissionDenied) as own:
        services.break_glass_review(actor=responder, review=review, outcome="justified")
    assert own.value.code == "self_approval"
    services.break_glass_review(actor=owner, review=review, outcome="justified", note="ok")
    with pytest.raises(Conflict):
        services.break_glass_review(actor=owner, review=review, outcome="unjustified")
    grant.refresh_from_db()
    assert grant.revoked_at is None


def test_an_unjustified_use_ends_the_grant(customers, responder, owner):
    grant = services.break_glass_open(actor=responder, dataset=customers, justification=WHY)
    services.break_glass_review(actor=owner, review=grant.follow_up, outcome="unjustified")
    grant.refresh_from_db()
    assert grant.revoked_at is not None
    assert _read("rick", customers.fqn).allow is False


@override_settings(ADMINS=[("Sec", "security@example.com")])
def test_unreviewed_use_is_escalated_once(
    customers, responder, owner, django_capture_on_commit_callbacks
):
    grant = services.break_glass_open(actor=responder, dataset=customers, justification=WHY)
    assert services.break_glass_escalate() == 0  # not due yet
    BreakGlassReview.objects.filter(grant=grant).update(due_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        assert services.break_glass_escalate() == 1
    assert services.break_glass_escalate() == 0
    assert mail.outbox[-1].to == ["security@example.com"]
    assert "not reviewed in time" in mail.outbox[-1].subject
    assert AuditEvent.objects.filter(action="access.break_glass.escalate").count() == 1
    # still reviewable after escalation
    services.break_glass_review(actor=owner, review=grant.follow_up, outcome="justified")


def test_break_glass_on_a_row_filtered_dataset_sees_the_rows_it_names(
    events, responder, admin, settings
):
    """Emergency access is filtered like any grant: named in no rule, it sees the rows it asks
    for (and without any, it would be denied row_filter_no_rows)."""
    from tests.access.conftest import filter_rows_by_region

    settings.DECISION_SNAPSHOT_REFRESH_SECONDS = 0
    filter_rows_by_region(events, admin)
    services.break_glass_open(actor=responder, dataset=events, justification=WHY, rows=["ACME"])
    decision = _read("rick", events.fqn)
    assert (decision.allow, decision.obligations["row_filter"]) == (
        True,
        {"column": "region", "in": ["ACME"]},
    )
