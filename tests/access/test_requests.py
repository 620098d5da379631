"""Access requests through the approval policy: auto-approve, one and two approvers, refusals,
and every refusal leaving nothing behind."""

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from apps.access import services
from apps.access.models import AccessRequest, Approval, Grant
from apps.audit.models import AuditEvent
from apps.core.errors import Conflict, PermissionDenied, ValidationFailed
from tests.access.conftest import filter_rows_by_region

DAY = 86400


def _ask(actor, dataset, access="read", seconds=DAY, purpose="churn analysis", columns=(), rows=()):
    return services.access_request_create(
        actor=actor,
        dataset=dataset,
        access=access,
        purpose=purpose,
        duration_seconds=seconds,
        columns=columns,
        rows=rows,
    )


def _counts():
    return (
        AccessRequest.objects.count(),
        Approval.objects.count(),
        Grant.objects.count(),
        AuditEvent.objects.filter(action__startswith="access.").count(),
    )


def test_a_team_member_reading_internal_data_is_approved_at_once(events):
    gil = events.owner_group.user_set.get(username="gil")
    before = timezone.now()
    req = _ask(gil, events)
    assert req.status == AccessRequest.Status.APPROVED
    assert req.policy_reasons == ["team_member_internal_read"]
    grant = Grant.objects.get(request=req)
    assert (grant.user, grant.dataset, grant.access) == (gil, events, "read")
    assert before <= grant.starts_at <= timezone.now()
    assert grant.expires_at - grant.starts_at == dt.timedelta(seconds=DAY)
    assert list(
        AuditEvent.objects.filter(action__startswith="access.")
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["access.request.create", "access.grant.create"]
    assert mail.outbox == []


def test_an_outsider_needs_one_owner_approval_and_owners_are_mailed(
    events, rick, owner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        req = _ask(rick, events)
    assert (req.status, req.approvals_required) == (AccessRequest.Status.PENDING, 1)
    assert not Grant.objects.exists()
    recipients = {r for m in mail.outbox for r in m.to}
    assert recipients == {"olivia@example.com", "gil@example.com"}  # owner and owning team
    assert "rick asks for read access to web.public.events" in mail.outbox[0].subject

    with django_capture_on_commit_callbacks(execute=True):
        req = services.access_request_decide(actor=owner, request=req, verdict="approve", note="ok")
    assert req.status == AccessRequest.Status.APPROVED
    assert Grant.objects.get(request=req).user == rick
    assert mail.outbox[-1].to == ["rick@example.com"]
    assert "approved" in mail.outbox[-1].subject


def test_restricted_data_needs_two_approvers_never_the_requester(customers, rick, owner, sam):
    req = _ask(rick, customers, seconds=4 * 3600, columns=["email"])
    assert (req.status, req.approvals_required) == (AccessRequest.Status.PENDING, 2)

    req = services.access_request_decide(actor=owner, request=req, verdict="approve")
    assert req.status == AccessRequest.Status.PENDING
    assert not Grant.objects.exists()
    with pytest.raises(Conflict) as again:
        services.access_request_decide(actor=owner, request=req, verdict="approve")
    assert again.value.code == "already_decided"

    req = services.access_request_decide(actor=sam, request=req, verdict="approve")
    assert req.status == AccessRequest.Status.APPROVED
    grant = Grant.objects.get(request=req)
    assert grant.columns == ["email"]
    assert [a.approver.username for a in req.approvals.all()] == ["olivia", "sam"]


def test_the_requester_cannot_approve_their_own_request(customers, owner, sam):
    req = _ask(sam, customers, seconds=3600)  # sam stewards it, and still needs two others
    before = _counts()
    with pytest.raises(PermissionDenied) as refused:
        services.access_request_decide(actor=sam, request=req, verdict="approve")
    assert refused.value.code == "self_approval"
    assert _counts() == before


def test_someone_unrelated_cannot_decide(events, rick, stranger):
    req = _ask(rick, events)
    with pytest.raises(PermissionDenied) as refused:
        services.access_request_decide(actor=stranger, request=req, verdict="approve")
    assert refused.value.code == "not_an_approver"


def test_one_deny_ends_the_request(customers, rick, owner, sam):
    req = _ask(rick, customers, seconds=3600)
    req = services.access_request_decide(actor=owner, request=req, verdict="deny", note="no need")
    assert req.status == AccessRequest.Status.DENIED
    with pytest.raises(Conflict) as late:
        services.access_request_decide(actor=sam, request=req, verdict="approve")
    assert late.value.code == "request_not_pending"
    assert not Grant.objects.exists()


def test_approving_an_expired_request_is_refused_and_changes_nothing(events, rick, owner):
    req = _ask(rick, events)
    AccessRequest.objects.filter(pk=req.pk).update(
        respond_by=timezone.now() - dt.timedelta(seconds=1)
    )
    before = _counts()
    with pytest.raises(Conflict) as expired:
        services.access_request_decide(actor=owner, request=req, verdict="approve")
    assert expired.value.code == "request_expired"
    assert _counts() == before


def test_unanswered_requests_expire_once(events, rick):
    req = _ask(rick, events)
    AccessRequest.objects.filter(pk=req.pk).update(
        respond_by=timezone.now() - dt.timedelta(seconds=1)
    )
    assert services.requests_expire() == 1
    assert services.requests_expire() == 0
    req.refresh_from_db()
    assert req.status == AccessRequest.Status.EXPIRED
    assert AuditEvent.objects.filter(action="access.request.expire").count() == 1


@pytest.mark.parametrize(
    ("kwargs", "error", "code"),
    [
        ({"seconds": 2 * DAY}, ValidationFailed, "duration_too_long"),  # restricted: 1 day
        ({"access": "export"}, PermissionDenied, "request_refused"),
        ({"access": "delete"}, ValidationFailed, "unknown_access_level"),
        ({"purpose": "   "}, ValidationFailed, "purpose_required"),
        ({"seconds": 0}, ValidationFailed, "invalid_duration"),
        ({"columns": ["email", "nope"]}, ValidationFailed, "unknown_column"),
    ],
)
def test_bad_requests_are_refused_and_change_nothing(
    customers, rick, kwargs, error, code, django_capture_on_commit_callbacks
):
    before = _counts()
    with pytest.raises(error) as refused, django_capture_on_commit_callbacks(execute=True):
        _ask(rick, customers, **kwargs)
    assert refused.value.code == code
    assert _counts() == before
    assert mail.outbox == []


def test_the_maximum_duration_is_named_in_the_refusal(customers, rick):
    with pytest.raises(ValidationFailed) as refused:
        _ask(rick, customers, seconds=2 * DAY)
    assert refused.value.extra == {"max_duration_seconds": DAY}
    assert "at most 1 day" in refused.value.message


def test_a_second_pending_request_for_the_same_access_is_a_conflict(events, rick):
    _ask(rick, events)
    with pytest.raises(Conflict) as dup:
        _ask(rick, events)
    assert dup.value.code == "duplicate_request"


def test_the_requester_may_cancel_a_pending_request(events, rick, owner):
    req = _ask(rick, events)
    services.access_request_cancel(actor=rick, request=req)
    req.refresh_from_db()
    assert req.status == AccessRequest.Status.CANCELLED
    with pytest.raises(Conflict):
        services.access_request_decide(actor=owner, request=req, verdict="approve")


def test_a_role_binding_makes_a_fallback_approver(events, rick, stranger, admin):
    from apps.access.models import Role

    services.role_binding_create(actor=admin, role=Role.objects.get(key="steward"), user=stranger)
    req = _ask(rick, events)
    req = services.access_request_decide(actor=stranger, request=req, verdict="approve")
    assert req.status == AccessRequest.Status.APPROVED


def test_a_request_the_row_filter_would_show_no_rows_is_refused_with_what_to_do(
    events, rick, admin, growth
):
    """The governance decision would deny such a grant (row_filter_no_rows), so the approval
    policy refuses it up front; named in a rule (here through a group), the request goes on."""
    filter_rows_by_region(events, admin)
    before = _counts()
    with pytest.raises(PermissionDenied) as refused:
        _ask(rick, events)
    assert refused.value.extra == {"reasons": ["row_filter_no_rows"]}
    assert "Ask its owner to add you to the row filter" in refused.value.message
    assert _counts() == before

    rick.groups.add(growth)
    assert _ask(rick, events).status == AccessRequest.Status.APPROVED  # now a team member, too


@pytest.mark.django_db(transaction=True)  # decisions commit their audit entries themselves
def test_a_grant_for_some_rows_shows_them_to_its_holder_until_it_ends(
    events, rick, owner, admin, settings
):
    """One customer's rows for a day: the request names the row filter values, the owner
    approves, and the holder's decisions carry exactly those rows, until the grant ends."""
    from apps.decisions.services import decision_evaluate, snapshot_invalidate

    settings.DECISION_SNAPSHOT_REFRESH_SECONDS = 0
    filter_rows_by_region(events, admin)
    req = _ask(rick, events, rows=["ACME", "ACME", "GLOBEX"])
    assert (req.status, req.rows) == (AccessRequest.Status.PENDING, ["ACME", "GLOBEX"])
    req = services.access_request_decide(actor=owner, request=req, verdict="approve")
    grant = Grant.objects.get(request=req)
    assert grant.rows == ["ACME", "GLOBEX"]
    created = AuditEvent.objects.get(action="access.grant.create")
    assert created.changes["rows"] == ["ACME", "GLOBEX"]

    def read():
        return decision_evaluate(
            caller="svc",
            request={
                "subject": {"type": "user", "id": "rick"},
                "action": {"name": "read"},
                "resource": {"type": "dataset", "id": events.fqn},
            },
        )

    snapshot_invalidate()
    decision = read()
    assert (decision.allow, decision.obligations.get("row_filter")) == (
        True,
        {"column": "region", "in": ["ACME", "GLOBEX"]},
    )
    services.grant_revoke(actor=owner, grant=grant)
    assert read().allow is False


@pytest.mark.parametrize(
    ("filtered", "rows", "code"),
    [
        (False, ["ACME"], "no_row_filter"),
        (True, [""], "invalid_rows"),
        (True, ["x" * 201], "invalid_rows"),
        (True, ["a\x00b"], "invalid_rows"),
        (True, [f"c{i}" for i in range(101)], "invalid_rows"),
    ],
    ids=["no-row-filter", "empty-value", "value-too-long", "value-with-nul", "too-many"],
)
def test_bad_rows_are_refused_and_change_nothing(events, rick, admin, filtered, rows, code):
    if filtered:
        filter_rows_by_region(events, admin)
    before = _counts()
    with pytest.raises(ValidationFailed) as refused:
        _ask(rick, events, rows=rows)
    assert refused.value.code == code
    assert _counts() == before
