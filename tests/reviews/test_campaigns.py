"""Campaigns: generation over a scope, who reviews what, verdicts, the due date, reminders."""

import datetime as dt

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from apps.access.models import Grant, RoleBinding
from apps.audit.models import AuditEvent
from apps.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from apps.reviews import services
from apps.reviews.models import Campaign
from tests.factories import UserFactory
from tests.reviews.conftest import make_grant


def _start(actor, **kwargs):
    """Start and generate (the task's work, run here)."""
    campaign = services.campaign_start(actor=actor, name=kwargs.pop("name", "Q4"), **kwargs)
    services.campaign_generate(campaign_id=campaign.pk)
    campaign.refresh_from_db()
    return campaign


def _items(campaign):
    return {(i.kind, i.ref_id): i for i in campaign.items.all()}


def test_restricted_scope_covers_grants_and_bindings_on_restricted_data(
    admin, owner, rick, ana, customers, events, bindings
):
    on_customers = make_grant(rick, customers)
    make_grant(rick, events)  # internal: out of scope
    expired = make_grant(rick, customers)
    Grant.objects.filter(pk=expired.pk).update(
        starts_at=timezone.now() - dt.timedelta(days=2),
        expires_at=timezone.now() - dt.timedelta(days=1),
    )

    campaign = _start(admin, min_sensitivity="restricted")

    assert campaign.status == Campaign.Status.OPEN
    items = _items(campaign)
    assert set(items) == {
        ("grant", on_customers.pk),
        ("binding", bindings["source"].pk),  # crm holds restricted data
        ("binding", bindings["everywhere"].pk),  # covers everything
    }
    grant_item = items[("grant", on_customers.pk)]
    assert (grant_item.reviewer, grant_item.principal) == (owner, "user:rick")
    assert grant_item.dataset_fqn == "crm.public.customers"
    assert grant_item.sensitivity == "restricted"
    assert grant_item.on_no_response == "revoke"  # auto: revoke on the most sensitive level
    # Nobody owns the source or "everywhere": the campaign's starter reviews those, and a
    # source-wide or global role is flagged rather than removed unattended.
    for key in (("binding", bindings["source"].pk), ("binding", bindings["everywhere"].pk)):
        assert items[key].reviewer == admin
        assert items[key].on_no_response == "flag"
    opened = AuditEvent.objects.get(action="reviews.campaign.open", target_id=str(campaign.pk))
    assert '"items":3' in opened.body.replace(" ", "")


def test_source_and_team_scopes(admin, owner, rick, ana, growth, customers, events, bindings):
    gil = growth.user_set.get()
    gil_events = make_grant(gil, events)
    make_grant(rick, events)
    make_grant(rick, customers)

    team = _start(admin, name="growth", team="growth", include_bindings=False)
    assert set(_items(team)) == {("grant", gil_events.pk)}

    web = _start(admin, name="web", source="web")
    assert {k for k in _items(web) if k[0] == "binding"} == {
        ("binding", bindings["dataset"].pk),
        ("binding", bindings["everywhere"].pk),
    }
    assert len([k for k in _items(web) if k[0] == "grant"]) == 2


def test_internal_data_is_reviewed_by_the_owning_group_and_flagged_by_default(
    admin, rick, events, growth
):
    events.owner = None
    events.save(update_fields=["owner"])
    grant = make_grant(rick, events)
    item = _items(_start(admin))[("grant", grant.pk)]
    assert item.reviewer is None
    assert item.reviewer_group == growth
    assert item.on_no_response == "flag"


def test_nobody_reviews_their_own_access(admin, owner, customers):
    fallback = UserFactory(username="fiona")
    own = make_grant(owner, customers)
    item = _items(_start(admin, fallback_reviewer="fiona"))[("grant", own.pk)]
    assert item.reviewer == fallback
    with pytest.raises(NotFound):  # not assigned to her
        services.items_decide(actor=owner, item_ids=[item.pk], verdict="certify")
    # An admin sees every item, but not to certify their own access.
    admins_own = make_grant(admin, customers)
    campaign = _start(admin, name="with admin's grant")
    item = _items(campaign)[("grant", admins_own.pk)]
    assert item.reviewer == owner
    with pytest.raises(PermissionDenied) as exc:
        services.items_decide(actor=admin, item_ids=[item.pk], verdict="certify")
    assert exc.value.code == "self_review"


def test_generation_is_idempotent(admin, rick, customers, events):
    for _ in range(5):
        make_grant(rick, customers)
    campaign = services.campaign_start(actor=admin, name="again")
    assert services.campaign_generate(campaign_id=campaign.pk, batch=2) == 5
    assert services.campaign_generate(campaign_id=campaign.pk, batch=2) == 5
    assert campaign.items.count() == 5
    assert AuditEvent.objects.filter(action="reviews.campaign.open").count() == 1


def test_starting_needs_reviews_manage_and_valid_scope(owner, admin, customers):
    with pytest.raises(PermissionDenied):
        services.campaign_start(actor=owner, name="mine")
    for kwargs, code in [
        ({"min_sensitivity": "secret"}, "unknown_sensitivity"),
        ({"source": "nope"}, "unknown_source"),
        ({"team": "nope"}, "unknown_team"),
        ({"fallback_reviewer": "nobody"}, "unknown_user"),
        ({"duration_days": 0}, "invalid_duration"),
        ({"non_response": "ignore"}, "invalid_non_response"),
        ({"include_grants": False, "include_bindings": False}, "empty_scope"),
        ({"name": "  "}, "name_required"),
    ]:
        with pytest.raises(ValidationFailed) as exc:
            services.campaign_start(actor=admin, **{"name": "x", **kwargs})
        assert exc.value.code == code
    assert not Campaign.objects.exists()


def test_certify_and_revoke_a_grant_and_a_binding(admin, owner, rick, ana, customers, bindings):
    keep, drop = make_grant(rick, customers), make_grant(ana, customers)
    campaign = _start(admin, min_sensitivity="restricted")
    items = _items(campaign)

    services.items_decide(
        actor=owner, item_ids=[items[("grant", keep.pk)].pk], verdict="certify", note="still needed"
    )
    services.items_decide(actor=owner, item_ids=[items[("grant", drop.pk)].pk], verdict="revoke")
    services.items_decide(
        actor=admin, item_ids=[items[("binding", bindings["source"].pk)].pk], verdict="revoke"
    )

    keep.refresh_from_db()
    drop.refresh_from_db()
    assert keep.revoked_at is None
    assert drop.revoked_at is not None
    assert drop.revoked_by == owner
    assert not RoleBinding.objects.filter(pk=bindings["source"].pk).exists()
    outcomes = {k: v.outcome for k, v in _items(campaign).items()}
    assert outcomes[("grant", keep.pk)] == "certified"
    assert outcomes[("grant", drop.pk)] == "revoked"
    assert outcomes[("binding", bindings["source"].pk)] == "revoked"
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert actions.count("reviews.item.certify") == 1
    assert actions.count("reviews.item.revoke") == 2
    assert "access.grant.revoke" in actions
    assert "access.binding.delete" in actions


def test_bulk_verdicts_are_all_or_nothing(admin, owner, rick, customers):
    grants = [make_grant(rick, customers) for _ in range(3)]
    campaign = _start(admin)
    ids = sorted(i.pk for i in campaign.items.all())
    services.items_decide(actor=owner, item_ids=ids[:1], verdict="certify")
    before = AuditEvent.objects.count()

    with pytest.raises(Conflict) as exc:
        services.items_decide(actor=owner, item_ids=ids, verdict="revoke")
    assert exc.value.code == "already_reviewed"
    assert AuditEvent.objects.count() == before
    assert campaign.items.filter(outcome="pending").count() == 2
    assert Grant.objects.filter(pk__in=[g.pk for g in grants], revoked_at__isnull=True).count() == 3

    services.items_decide(actor=owner, item_ids=ids[1:], verdict="revoke")
    assert campaign.items.filter(outcome="revoked").count() == 2


def test_bad_verdicts_change_nothing(admin, owner, rick, sam, customers):
    make_grant(rick, customers)
    campaign = _start(admin)
    item = campaign.items.get()
    cases = [
        (
            dict(actor=owner, item_ids=[item.pk], verdict="maybe"),
            ValidationFailed,
            "invalid_verdict",
        ),
        (dict(actor=owner, item_ids=[], verdict="certify"), ValidationFailed, "no_items"),
        (dict(actor=owner, item_ids=["x"], verdict="certify"), ValidationFailed, "invalid_items"),
        (
            dict(actor=owner, item_ids=[item.pk], verdict="certify", note="n" * 1001),
            ValidationFailed,
            "note_too_long",
        ),
        (dict(actor=rick, item_ids=[item.pk], verdict="certify"), NotFound, "not_found"),
        (dict(actor=owner, item_ids=[item.pk + 999], verdict="certify"), NotFound, "not_found"),
    ]
    for kwargs, error, code in cases:
        with pytest.raises(error) as exc:
            services.items_decide(**kwargs)
        assert exc.value.code == code
    # sam stewards the dataset but is not its owner: not assigned, so not his to answer.
    with pytest.raises(NotFound):
        services.items_decide(actor=sam, item_ids=[item.pk], verdict="certify")
    Campaign.objects.filter(pk=campaign.pk).update(status="closed")
    with pytest.raises(Conflict) as exc:
        services.items_decide(actor=owner, item_ids=[item.pk], verdict="certify")
    assert exc.value.code == "campaign_not_open"
    item.refresh_from_db()
    assert item.outcome == "pending"


def test_due_date_revokes_restricted_access_and_flags_the_rest(
    admin, owner, rick, customers, events
):
    restricted, internal = make_grant(rick, customers), make_grant(rick, events)
    campaign = _start(admin, duration_days=7)
    assert services.campaigns_close_due(now=campaign.due_at - dt.timedelta(seconds=1)) == 0

    assert services.campaigns_close_due(now=campaign.due_at) == 2

    restricted.refresh_from_db()
    internal.refresh_from_db()
    assert restricted.revoked_at is not None
    assert restricted.revoked_by is None
    assert internal.revoked_at is None
    outcomes = {i.ref_id: (i.outcome, i.decided_by, i.note) for i in campaign.items.all()}
    assert outcomes[restricted.pk] == ("revoked", None, "no response by the due date")
    assert outcomes[internal.pk][0] == "flagged"
    campaign.refresh_from_db()
    assert campaign.status == "closed"
    assert campaign.closed_at == campaign.due_at
    assert AuditEvent.objects.filter(action="reviews.item.expire").count() == 2
    assert AuditEvent.objects.filter(action="reviews.campaign.close").count() == 1
    # Idempotent: a second run finds nothing.
    assert services.campaigns_close_due(now=campaign.due_at) == 0
    assert AuditEvent.objects.filter(action="reviews.item.expire").count() == 2


def test_campaign_setting_overrides_auto(admin, rick, customers, events):
    restricted = make_grant(rick, customers)
    campaign = _start(admin, non_response="flag")
    services.campaigns_close_due(now=campaign.due_at)
    restricted.refresh_from_db()
    assert restricted.revoked_at is None
    assert campaign.items.get().outcome == "flagged"


@override_settings(REVIEW_REMINDER_HOURS=48)
def test_reviewers_are_told_at_open_and_reminded_once_before_the_due_date(
    admin, owner, rick, customers, events, growth, django_capture_on_commit_callbacks
):
    owner.email = "olivia@example.com"
    owner.save()
    make_grant(rick, customers)
    events.owner = None
    events.save(update_fields=["owner"])
    make_grant(rick, events)  # reviewed by the growth group (gil)
    growth.user_set.update(email="gil@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        campaign = services.campaign_start(actor=admin, name="Q4", duration_days=7)
        services.campaign_generate(campaign_id=campaign.pk)
    assert sorted(m.to[0] for m in mail.outbox) == ["gil@example.com", "olivia@example.com"]
    assert all("1 item" in m.subject for m in mail.outbox)
    mail.outbox.clear()

    too_early = campaign.due_at - dt.timedelta(hours=49)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.campaigns_remind(now=too_early) == 0
    assert mail.outbox == []

    in_window = campaign.due_at - dt.timedelta(hours=47)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.campaigns_remind(now=in_window) == 1
        assert services.campaigns_remind(now=in_window + dt.timedelta(hours=1)) == 0
    assert sorted(m.to[0] for m in mail.outbox) == ["gil@example.com", "olivia@example.com"]
    assert all("Reminder" in m.subject for m in mail.outbox)


def test_a_schedule_becomes_a_beat_crontab_and_starts_one_campaign_per_day(admin, rick, customers):
    from django_celery_beat.models import PeriodicTask

    make_grant(rick, customers)
    schedule = services.review_schedule_create(
        actor=admin, name="Restricted quarterly", crontab="quarterly", min_sensitivity="restricted"
    )
    task = PeriodicTask.objects.get(pk=schedule.periodic_task_id)
    assert task.task == "apps.reviews.tasks.campaign_start_scheduled_task"
    assert (task.crontab.minute, task.crontab.hour, task.crontab.month_of_year) == (
        "0",
        "6",
        "1,4,7,10",
    )
    assert task.kwargs == f'{{"schedule_id": {schedule.pk}}}'

    now = timezone.now()
    first = services.campaign_start_scheduled(schedule_id=schedule.pk, now=now)
    again = services.campaign_start_scheduled(schedule_id=schedule.pk, now=now)
    assert first is not None
    assert again is not None
    assert first.pk == again.pk
    assert Campaign.objects.count() == 1
    assert first.items.count() == 1
    assert first.status == "open"
    assert first.min_sensitivity.key == "restricted"

    with pytest.raises(ValidationFailed) as exc:
        services.review_schedule_create(actor=admin, name="bad", crontab="every tuesday")
    assert exc.value.code == "invalid_crontab"
    with pytest.raises(Conflict):
        services.review_schedule_create(actor=admin, name="Restricted quarterly", crontab="monthly")

    services.review_schedule_delete(actor=admin, schedule=schedule)
    assert not PeriodicTask.objects.filter(pk=task.pk).exists()
    first.refresh_from_db()
    assert first.schedule is None  # the campaign and its evidence stay


def test_an_item_names_the_columns_and_rows_its_grant_covers_within_its_label(
    admin, rick, customers
):
    some_rows = make_grant(rick, customers)
    Grant.objects.filter(pk=some_rows.pk).update(columns=["email"], rows=["ACME", "GLOBEX"])
    many = make_grant(rick, customers)
    Grant.objects.filter(pk=many.pk).update(rows=[f"customer-{i:04d}" for i in range(100)])
    items = _items(_start(admin))
    label = items[("grant", some_rows.pk)].access_label
    assert label.startswith("read (email) rows ACME, GLOBEX until ")
    long = items[("grant", many.pk)].access_label
    assert len(long) <= 300
    assert "…" in long
    assert long.endswith(" UTC")
