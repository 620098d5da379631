"""Writes for access reviews: start campaigns (by hand or on a schedule), generate their items,
take reviewers' verdicts, remind, and handle silence at the due date.

Generation, reminders and due-date handling are idempotent and claim their rows with ``SKIP
LOCKED``, so a task that is redelivered after its worker died finishes the job without
duplicating an item, a revocation or an audit entry.
"""

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from apps.access import permissions
from apps.access.models import Grant, RoleBinding
from apps.access.services import grant_end_for_review, has_permission, role_binding_remove
from apps.audit.services import audit_record
from apps.catalog.models import Dataset, DataSource
from apps.classification.models import SensitivityLevel
from apps.core.batches import in_claimed_batches
from apps.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from apps.core.notify import notify_after_commit, site_url
from apps.reviews.models import Campaign, NonResponse, ReviewItem, ReviewSchedule

NAME_MAX = 200
NOTE_MAX = 1000
DURATION_DAYS_MAX = 90
BULK_MAX = 1000
GENERATE_BATCH = 5000


def require_manager(actor: Any) -> None:
    if not has_permission(actor, permissions.REVIEWS_MANAGE):
        raise PermissionDenied(
            "Running access reviews needs the reviews.manage permission.", code="permission_denied"
        )


# ---------------------------------------------------------------------------------------------
# Scope


def _clean_scope(
    *,
    min_sensitivity: str | None = None,
    source: str | None = None,
    team: str | None = None,
    include_grants: bool = True,
    include_bindings: bool = True,
    non_response: str = NonResponse.AUTO,
    fallback_reviewer: str | None = None,
    duration_days: int = 14,
) -> dict[str, Any]:
    """Scope fields named by key/name, checked, as model field values."""
    fields: dict[str, Any] = {
        "include_grants": bool(include_grants),
        "include_bindings": bool(include_bindings),
    }
    if not (include_grants or include_bindings):
        raise ValidationFailed("Review grants, role bindings or both.", code="empty_scope")
    fields["min_sensitivity"] = None
    if min_sensitivity:
        fields["min_sensitivity"] = SensitivityLevel.objects.filter(key=min_sensitivity).first()
        if fields["min_sensitivity"] is None:
            known = ", ".join(SensitivityLevel.objects.values_list("key", flat=True))
            raise ValidationFailed(
                f"Unknown sensitivity level {min_sensitivity!r}; one of {known}.",
                code="unknown_sensitivity",
            )
    fields["source"] = None
    if source:
        fields["source"] = DataSource.objects.filter(name=source).first()
        if fields["source"] is None:
            raise ValidationFailed(f"No data source named {source!r}.", code="unknown_source")
    fields["team"] = None
    if team:
        fields["team"] = Group.objects.filter(name=team).first()
        if fields["team"] is None:
            raise ValidationFailed(f"No group named {team!r}.", code="unknown_team")
    if non_response not in NonResponse.values:
        raise ValidationFailed(
            f"Unknown non-response handling {non_response!r}; one of "
            f"{', '.join(NonResponse.values)}.",
            code="invalid_non_response",
        )
    fields["non_response"] = non_response
    fields["fallback_reviewer"] = None
    if fallback_reviewer:
        fields["fallback_reviewer"] = (
            get_user_model()
            .objects.filter(**{get_user_model().USERNAME_FIELD: fallback_reviewer}, is_active=True)
            .first()
        )
        if fields["fallback_reviewer"] is None:
            raise ValidationFailed(
                f"No active user {fallback_reviewer!r} to fall back on.", code="unknown_user"
            )
    if not isinstance(duration_days, int) or not 1 <= duration_days <= DURATION_DAYS_MAX:
        raise ValidationFailed(
            f"Reviewers get between 1 and {DURATION_DAYS_MAX} days.", code="invalid_duration"
        )
    fields["duration_days"] = duration_days
    return fields


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("Give the campaign a name.", code="name_required")
    if len(name) > NAME_MAX:
        raise ValidationFailed(
            f"The name is longer than {NAME_MAX} characters.", code="name_too_long"
        )
    return name


def _scope_changes(obj: Campaign | ReviewSchedule) -> dict[str, Any]:
    return {
        "scope": obj.scope_label,
        "include_grants": obj.include_grants,
        "include_bindings": obj.include_bindings,
        "non_response": obj.non_response,
        "fallback_reviewer": getattr(obj.fallback_reviewer, "username", None),
        "duration_days": obj.duration_days,
    }


def _grants_in_scope(campaign: Campaign, now: dt.datetime) -> QuerySet[Grant]:
    grants = Grant.objects.filter(
        revoked_at__isnull=True, closed_at__isnull=True, expires_at__gt=now
    )
    if campaign.min_sensitivity is not None:
        grants = grants.filter(
            dataset__effective_sensitivity__rank__gte=campaign.min_sensitivity.rank
        )
    if campaign.source_id:
        grants = grants.filter(dataset__source_id=campaign.source_id)
    if campaign.team_id:
        grants = grants.filter(user__groups=campaign.team_id)
    return grants


def _bindings_in_scope(campaign: Campaign) -> QuerySet[RoleBinding]:
    """Bindings whose scope covers data in the campaign's scope: everywhere-bindings always,
    source bindings on a source holding such data, dataset bindings on such a dataset."""
    datasets = Dataset.objects.all()
    if campaign.min_sensitivity is not None:
        datasets = datasets.filter(effective_sensitivity__rank__gte=campaign.min_sensitivity.rank)
    if campaign.source_id:
        datasets = datasets.filter(source_id=campaign.source_id)
    everywhere = Q(source__isnull=True, dataset__isnull=True)
    on_source = Q(source__isnull=False) & Exists(datasets.filter(source_id=OuterRef("source_id")))
    on_dataset = Q(dataset__in=datasets)
    bindings = RoleBinding.objects.filter(everywhere | on_source | on_dataset)
    if campaign.team_id:
        bindings = bindings.filter(Q(user__groups=campaign.team_id) | Q(group_id=campaign.team_id))
    return bindings


# ---------------------------------------------------------------------------------------------
# Campaigns


@transaction.atomic
def campaign_start(*, actor: Any, name: str, **scope: Any) -> Campaign:
    """Start a campaign by hand: it is created now and its items are generated by a task.

    ``scope``: ``min_sensitivity`` (a level key), ``source`` (a source name), ``team`` (a group
    name), ``include_grants`` / ``include_bindings``, ``non_response`` (auto, revoke, flag),
    ``fallback_reviewer`` (a username) and ``duration_days`` (see ``_clean_scope``)."""
    require_manager(actor)
    fields = _clean_scope(**scope)
    now = timezone.now()
    campaign = Campaign.objects.create(
        name=_clean_name(name),
        created_by=actor,
        created_at=now,
        due_at=now + dt.timedelta(days=fields["duration_days"]),
        **fields,
    )
    audit_record(
        actor=actor,
        action="reviews.campaign.start",
        target=campaign,
        changes={"name": campaign.name, **_scope_changes(campaign)},
    )
    _generate_after_commit(campaign.pk)
    return campaign


def _generate_after_commit(campaign_id: int) -> None:
    from apps.reviews.tasks import campaign_generate_task

    transaction.on_commit(lambda: campaign_generate_task.delay(campaign_id))


def _reviewer_for(
    campaign: Campaign,
    principal_user: int | None,
    owner: int | None,
    owner_group: int | None,
) -> tuple[int | None, int | None]:
    """(reviewer user, reviewer group): the owner, else the owning group, else the fallback
    reviewer (or whoever started the campaign). Never the person whose access it is."""
    if owner and owner != principal_user:
        return owner, None
    if owner_group:
        return None, owner_group
    fallback = campaign.fallback_reviewer_id or campaign.created_by_id
    if fallback and fallback != principal_user:
        return fallback, None
    return None, None  # only reviews managers can decide it


def _no_response(campaign: Campaign, rank: int | None, top_rank: int) -> str:
    if campaign.non_response != NonResponse.AUTO:
        return campaign.non_response
    return NonResponse.REVOKE if rank is not None and rank >= top_rank else NonResponse.FLAG


def _in_batches(queryset: QuerySet[Any], fields: list[str], size: int) -> Iterator[list[dict]]:
    """Rows of ``queryset`` as dicts, by ascending id, ``size`` at a time (keyset paging)."""
    last = 0
    while True:
        rows = list(queryset.filter(pk__gt=last).order_by("pk").values("pk", *fields)[:size])
        if not rows:
            return
        yield rows
        last = rows[-1]["pk"]


def _grant_items(campaign: Campaign, now: dt.datetime, top: int, size: int) -> Iterator[list]:
    fields = [
        "user_id",
        "user__username",
        "dataset_id",
        "dataset__fqn",
        "dataset__owner_id",
        "dataset__owner_group_id",
        "dataset__effective_sensitivity__key",
        "dataset__effective_sensitivity__rank",
        "access",
        "columns",
        "rows",
        "expires_at",
    ]
    for rows in _in_batches(_grants_in_scope(campaign, now), fields, size):
        items = []
        for r in rows:
            reviewer, group = _reviewer_for(
                campaign, r["user_id"], r["dataset__owner_id"], r["dataset__owner_group_id"]
            )
            what = f" ({', '.join(r['columns'])})" if r["columns"] else ""
            if r["rows"]:
                what += f" rows {', '.join(r['rows'])}"
            if len(what) > 240:  # the label holds 300 characters, the expiry included
                what = what[:239] + "…"
            items.append(
                ReviewItem(
                    campaign=campaign,
                    kind=ReviewItem.Kind.GRANT,
                    ref_id=r["pk"],
                    grant_id=r["pk"],
                    dataset_id=r["dataset_id"],
                    principal=f"user:{r['user__username']}",
                    principal_user_id=r["user_id"],
                    access_label=f"{r['access']}{what} until {r['expires_at']:%Y-%m-%d %H:%M} UTC",
                    dataset_fqn=r["dataset__fqn"],
                    sensitivity=r["dataset__effective_sensitivity__key"] or "",
                    reviewer_id=reviewer,
                    reviewer_group_id=group,
                    on_no_response=_no_response(
                        campaign, r["dataset__effective_sensitivity__rank"], top
                    ),
                )
            )
        yield items


def _binding_items(campaign: Campaign, top: int, size: int) -> Iterator[list]:
    fields = [
        "role__key",
        "user_id",
        "user__username",
        "group_id",
        "group__name",
        "credential__name",
        "source__name",
        "source__owner_id",
        "dataset_id",
        "dataset__fqn",
        "dataset__owner_id",
        "dataset__owner_group_id",
        "dataset__effective_sensitivity__key",
        "dataset__effective_sensitivity__rank",
    ]
    for rows in _in_batches(_bindings_in_scope(campaign), fields, size):
        items = []
        for r in rows:
            if r["user_id"]:
                principal = f"user:{r['user__username']}"
            elif r["group_id"]:
                principal = f"group:{r['group__name']}"
            else:
                principal = f"service:{r['credential__name']}"
            if r["dataset_id"]:
                where, owner, owner_group = (
                    r["dataset__fqn"],
                    r["dataset__owner_id"],
                    r["dataset__owner_group_id"],
                )
            elif r["source__name"]:
                where, owner, owner_group = (
                    f"source {r['source__name']}",
                    r["source__owner_id"],
                    None,
                )
            else:
                where, owner, owner_group = "everywhere", None, None
            reviewer, group = _reviewer_for(campaign, r["user_id"], owner, owner_group)
            if group is not None and group == r["group_id"]:  # a group never reviews itself
                reviewer, group = _reviewer_for(campaign, r["user_id"], None, None)
            items.append(
                ReviewItem(
                    campaign=campaign,
                    kind=ReviewItem.Kind.BINDING,
                    ref_id=r["pk"],
                    binding_id=r["pk"],
                    dataset_id=r["dataset_id"],
                    principal=principal,
                    principal_user_id=r["user_id"],
                    access_label=f"role {r['role__key']} {where if where == 'everywhere' else 'on ' + where}",
                    dataset_fqn=r["dataset__fqn"] or "",
                    sensitivity=r["dataset__effective_sensitivity__key"] or "",
                    reviewer_id=reviewer,
                    reviewer_group_id=group,
                    # Removing a source-wide or global role unattended is too blunt: flag those.
                    on_no_response=_no_response(
                        campaign, r["dataset__effective_sensitivity__rank"], top
                    )
                    if r["dataset_id"] or campaign.non_response != NonResponse.AUTO
                    else NonResponse.FLAG,
                )
            )
        yield items


def campaign_generate(*, campaign_id: int, batch: int = GENERATE_BATCH) -> int:
    """Create the campaign's items (one per active grant and role binding in scope), then open
    it and tell the reviewers. Re-runnable: items already there are skipped, an open campaign
    is left alone. Returns how many items the campaign has."""
    campaign = (
        Campaign.objects.select_related("min_sensitivity", "source", "team")
        .filter(pk=campaign_id)
        .first()
    )
    if campaign is None or campaign.status != Campaign.Status.GENERATING:
        return campaign.items.count() if campaign else 0
    now = timezone.now()
    top = max(SensitivityLevel.objects.values_list("rank", flat=True), default=0)
    batches: list[Iterator[list]] = []
    if campaign.include_grants:
        batches.append(_grant_items(campaign, now, top, batch))
    if campaign.include_bindings:
        batches.append(_binding_items(campaign, top, batch))
    for source in batches:
        for items in source:
            with transaction.atomic():
                ReviewItem.objects.bulk_create(items, ignore_conflicts=True)
    return _open(campaign.pk)


@transaction.atomic
def _open(campaign_id: int) -> int:
    campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
    total = campaign.items.count()
    if campaign.status != Campaign.Status.GENERATING:
        return total
    now = timezone.now()
    campaign.status = Campaign.Status.OPEN
    campaign.opened_at = now
    campaign.save(update_fields=["status", "opened_at"])
    kinds = dict(
        campaign.items.values_list("kind").annotate(n=Count("pk")).values_list("kind", "n")
    )
    audit_record(
        actor=None,
        action="reviews.campaign.open",
        target=campaign,
        changes={"items": total, **{f"{k}_items": n for k, n in kinds.items()}},
    )
    _mail_reviewers(
        campaign,
        subject=f"[Steward] Access review {campaign.name!r}: {{n}} item(s) for you",
        body=(
            "You have {n} access review item(s) to certify or revoke by "
            f"{campaign.due_at:%Y-%m-%d %H:%M} UTC.\n{site_url('/reviews/')}"
        ),
    )
    return total


def _pending_per_reviewer(campaign: Campaign) -> Counter[str]:
    """Pending items per reviewer e-mail (group members each count their group's items)."""
    user_model = get_user_model()
    pending = campaign.items.filter(outcome=ReviewItem.Outcome.PENDING)
    per_user = dict(
        pending.filter(reviewer__isnull=False)
        .values("reviewer_id")
        .annotate(n=Count("pk"))
        .values_list("reviewer_id", "n")
    )
    per_group = dict(
        pending.filter(reviewer_group__isnull=False)
        .values("reviewer_group_id")
        .annotate(n=Count("pk"))
        .values_list("reviewer_group_id", "n")
    )
    counts: Counter[str] = Counter()
    for email, user_id in user_model.objects.filter(
        pk__in=list(per_user), is_active=True
    ).values_list("email", "pk"):
        counts[email] += per_user[user_id]
    for email, group_id in user_model.objects.filter(
        groups__in=list(per_group), is_active=True
    ).values_list("email", "groups"):
        counts[email] += per_group[group_id]
    counts.pop("", None)
    return counts


def _mail_reviewers(campaign: Campaign, *, subject: str, body: str) -> int:
    counts = _pending_per_reviewer(campaign)
    for email, n in counts.items():
        notify_after_commit(subject.format(n=n), body.format(n=n), [email])
    return len(counts)


# ---------------------------------------------------------------------------------------------
# Verdicts


class Reviewer:
    """What decides whether ``actor`` may answer an item, looked up once per request."""

    def __init__(self, actor: Any):
        self.actor = actor
        self.active = bool(getattr(actor, "is_authenticated", False) and actor.is_active)
        groups = dict(actor.groups.values_list("pk", "name")) if self.active else {}
        self.group_ids = set(groups)
        self.principals = {f"group:{name}" for name in groups.values()}
        if self.active:
            self.principals.add(f"user:{actor.get_username()}")
        self.manager = self.active and has_permission(actor, permissions.REVIEWS_MANAGE)

    def own(self, item: ReviewItem) -> bool:
        return item.principal_user_id == self.actor.pk or item.principal in self.principals

    def assigned(self, item: ReviewItem) -> bool:
        return self.active and (
            item.reviewer_id == self.actor.pk or item.reviewer_group_id in self.group_ids
        )

    def may_see(self, item: ReviewItem) -> bool:
        return self.manager or self.assigned(item)

    def may_decide(self, item: ReviewItem) -> bool:
        return self.may_see(item) and not self.own(item)


def _clean_ids(item_ids: Iterable[Any]) -> list[int]:
    try:
        ids = sorted({int(i) for i in item_ids})
    except (TypeError, ValueError):
        raise ValidationFailed("Item ids must be whole numbers.", code="invalid_items") from None
    if not ids:
        raise ValidationFailed("Select at least one item.", code="no_items")
    if len(ids) > BULK_MAX:
        raise ValidationFailed(f"Decide at most {BULK_MAX} items at once.", code="too_many_items")
    return ids


@transaction.atomic
def items_decide(
    *, actor: Any, item_ids: Iterable[Any], verdict: str, note: str = ""
) -> list[ReviewItem]:
    """Certify or revoke one or many items at once: all of them, or (on any refusal) none.

    Revoking ends the grant or deletes the role binding now, in the same transaction."""
    if verdict not in ReviewItem.Verdict.values:
        raise ValidationFailed(
            f"Unknown verdict {verdict!r}; one of certify, revoke.", code="invalid_verdict"
        )
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ValidationFailed(
            f"The note is longer than {NOTE_MAX} characters.", code="note_too_long"
        )
    ids = _clean_ids(item_ids)
    who = Reviewer(actor)
    items = list(
        ReviewItem.objects.select_for_update(of=("self",))
        .select_related("campaign", "dataset")
        .filter(pk__in=ids)
        .order_by("pk")
    )
    visible = {i.pk for i in items if who.may_see(i)}
    missing = [i for i in ids if i not in visible]
    if missing:
        raise NotFound(
            f"No such review item: {', '.join(map(str, missing[:10]))}.", code="not_found"
        )
    for item in items:
        if who.own(item):
            raise PermissionDenied(
                f"Item {item.pk} is your own access; someone else must review it.",
                code="self_review",
            )
        if item.campaign.status != Campaign.Status.OPEN:
            raise Conflict(
                f"Campaign {item.campaign.name!r} is {item.campaign.status}; "
                "its items can no longer be decided.",
                code="campaign_not_open",
            )
        if item.outcome != ReviewItem.Outcome.PENDING:
            raise Conflict(f"Item {item.pk} is already {item.outcome}.", code="already_reviewed")
    now = timezone.now()
    outcome = (
        ReviewItem.Outcome.CERTIFIED
        if verdict == ReviewItem.Verdict.CERTIFY
        else ReviewItem.Outcome.REVOKED
    )
    for item in items:
        _conclude(item, outcome=outcome, actor=actor, now=now, note=note, action=verdict)
    return items


def _conclude(
    item: ReviewItem, *, outcome: str, actor: Any, now: dt.datetime, note: str, action: str
) -> None:
    ended = False
    if outcome == ReviewItem.Outcome.REVOKED:
        reason = f"access review {item.campaign.name!r}" + (f": {note}" if note else "")
        if item.kind == ReviewItem.Kind.GRANT:
            ended = grant_end_for_review(grant_id=item.ref_id, actor=actor, reason=reason)
        else:
            ended = role_binding_remove(binding_id=item.ref_id, actor=actor, reason=reason)
    item.outcome, item.decided_by, item.decided_at, item.note = outcome, actor, now, note
    item.save(update_fields=["outcome", "decided_by", "decided_at", "note"])
    audit_record(
        actor=actor,
        action=f"reviews.item.{action}",
        target=item,
        changes={
            "campaign": item.campaign_id,
            "principal": item.principal,
            "access": item.access_label,
            "dataset": item.dataset_fqn,
            "outcome": outcome,
            "note": note,
            **({"access_ended": ended} if outcome == ReviewItem.Outcome.REVOKED else {}),
        },
        scope=item.dataset or item.campaign,
    )


# ---------------------------------------------------------------------------------------------
# Reminders and the due date


def campaigns_remind(*, now: dt.datetime | None = None) -> int:
    """Once per campaign, within REVIEW_REMINDER_HOURS of its due date, mail every reviewer
    who still has items open. Returns how many campaigns were reminded."""
    now = now or timezone.now()
    window = now + dt.timedelta(hours=settings.REVIEW_REMINDER_HOURS)
    with transaction.atomic():
        due_soon = list(
            Campaign.objects.select_for_update(skip_locked=True).filter(
                status=Campaign.Status.OPEN,
                reminded_at__isnull=True,
                due_at__gt=now,
                due_at__lte=window,
            )
        )
        for campaign in due_soon:
            campaign.reminded_at = now
            campaign.save(update_fields=["reminded_at"])
            reviewers = _mail_reviewers(
                campaign,
                subject=f"[Steward] Reminder: {{n}} access review item(s) due "
                f"{campaign.due_at:%Y-%m-%d}",
                body=(
                    f"Access review {campaign.name!r} is due {campaign.due_at:%Y-%m-%d %H:%M} "
                    "UTC and {n} of your item(s) are still open. Items nobody answers are "
                    f"revoked or flagged at the due date.\n{site_url('/reviews/')}"
                ),
            )
            audit_record(
                actor=None,
                action="reviews.campaign.remind",
                target=campaign,
                changes={
                    "reviewers": reviewers,
                    "pending": campaign.items.filter(outcome=ReviewItem.Outcome.PENDING).count(),
                },
            )
    return len(due_soon)


def campaigns_close_due(*, now: dt.datetime | None = None, batch: int = 500) -> int:
    """At the due date, answer every item nobody did as the item says (revoke or flag), then
    close the campaign. Idempotent; safe to run concurrently. Returns items handled."""
    now = now or timezone.now()
    done = 0

    def answer(items: list[ReviewItem]) -> None:
        for item in items:
            outcome = (
                ReviewItem.Outcome.REVOKED
                if item.on_no_response == NonResponse.REVOKE
                else ReviewItem.Outcome.FLAGGED
            )
            _conclude(
                item,
                outcome=outcome,
                actor=None,
                now=now,
                note="no response by the due date",
                action="expire",
            )

    for campaign_id in Campaign.objects.filter(
        status=Campaign.Status.OPEN, due_at__lte=now
    ).values_list("pk", flat=True):
        done += in_claimed_batches(
            ReviewItem.objects.select_related("campaign", "dataset")
            .filter(campaign_id=campaign_id, outcome=ReviewItem.Outcome.PENDING)
            .order_by("pk"),
            batch=batch,
            handle=answer,
        )
        _close(campaign_id, now)
    return done


@transaction.atomic
def _close(campaign_id: int, now: dt.datetime) -> None:
    campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
    if campaign.status != Campaign.Status.OPEN:
        return
    counts = dict(
        campaign.items.values("outcome").annotate(n=Count("pk")).values_list("outcome", "n")
    )
    if counts.get(ReviewItem.Outcome.PENDING):
        return  # another run holds some of them; it closes the campaign when done
    campaign.status = Campaign.Status.CLOSED
    campaign.closed_at = now
    campaign.save(update_fields=["status", "closed_at"])
    audit_record(actor=None, action="reviews.campaign.close", target=campaign, changes=counts)


# ---------------------------------------------------------------------------------------------
# Schedules

SCHEDULE_TASK = "apps.reviews.tasks.campaign_start_scheduled_task"
PRESETS = {
    "monthly": "0 6 1 * *",
    "quarterly": "0 6 1 1,4,7,10 *",
    "yearly": "0 6 1 1 *",
}


def _crontab(expression: str) -> Any:
    from django.core.exceptions import ValidationError
    from django_celery_beat import validators
    from django_celery_beat.models import CrontabSchedule

    expression = PRESETS.get(expression.strip(), expression.strip())
    parts = expression.split()
    if len(parts) != 5:
        raise ValidationFailed(
            "A schedule is monthly, quarterly, yearly or five crontab fields "
            "(minute hour day-of-month month weekday).",
            code="invalid_crontab",
        )
    try:
        validators.crontab_validator(expression)
    except ValidationError as exc:
        raise ValidationFailed(
            f"Invalid crontab {expression!r}: {exc.messages[0]}", code="invalid_crontab"
        ) from None
    minute, hour, day_of_month, month_of_year, day_of_week = parts
    schedule, _ = CrontabSchedule.objects.get_or_create(
        minute=minute,
        hour=hour,
        day_of_month=day_of_month,
        month_of_year=month_of_year,
        day_of_week=day_of_week,
        timezone="UTC",
    )
    return schedule, expression


@transaction.atomic
def review_schedule_create(*, actor: Any, name: str, crontab: str, **scope: Any) -> ReviewSchedule:
    """A campaign Celery beat starts on ``crontab`` (``quarterly`` etc. or five fields, UTC),
    over ``scope`` (as for ``campaign_start``)."""
    from django_celery_beat.models import PeriodicTask

    require_manager(actor)
    name = _clean_name(name)
    fields = _clean_scope(**scope)
    cron, expression = _crontab(crontab)
    task_name = f"reviews: campaign {name}"
    if (
        ReviewSchedule.objects.filter(name=name).exists()
        or PeriodicTask.objects.filter(name=task_name).exists()
    ):
        raise Conflict(f"A review schedule {name!r} already exists.", code="duplicate_schedule")
    schedule = ReviewSchedule.objects.create(
        name=name, crontab=expression, created_by=actor, **fields
    )
    schedule.periodic_task = PeriodicTask.objects.create(
        name=task_name,
        task=SCHEDULE_TASK,
        crontab=cron,
        kwargs=json.dumps({"schedule_id": schedule.pk}),
    )
    schedule.save(update_fields=["periodic_task"])
    audit_record(
        actor=actor,
        action="reviews.schedule.create",
        target=schedule,
        changes={"name": name, "crontab": expression, **_scope_changes(schedule)},
    )
    return schedule


@transaction.atomic
def review_schedule_delete(*, actor: Any, schedule: ReviewSchedule) -> None:
    require_manager(actor)
    locked = ReviewSchedule.objects.select_for_update().filter(pk=schedule.pk).first()
    if locked is None:
        raise NotFound("No such review schedule.")
    audit_record(
        actor=actor,
        action="reviews.schedule.delete",
        target=locked,
        changes={"name": locked.name, "crontab": locked.crontab},
    )
    if locked.periodic_task is not None:
        locked.periodic_task.delete()
    locked.delete()


def campaign_start_scheduled(
    *, schedule_id: int, now: dt.datetime | None = None, batch: int = GENERATE_BATCH
) -> Campaign | None:
    """Beat's entry point: start this period's campaign once (a redelivered or repeated firing
    on the same UTC day finds it and only finishes its generation)."""
    now = now or timezone.now()
    schedule = ReviewSchedule.objects.filter(pk=schedule_id).first()
    if schedule is None:
        return None  # deleted since beat read it
    period = now.date().isoformat()
    try:
        with transaction.atomic():
            campaign = Campaign.objects.create(
                name=f"{schedule.name} {period}",
                schedule=schedule,
                period=period,
                created_by=schedule.created_by,
                created_at=now,
                due_at=now + dt.timedelta(days=schedule.duration_days),
                min_sensitivity=schedule.min_sensitivity,
                source=schedule.source,
                team=schedule.team,
                include_grants=schedule.include_grants,
                include_bindings=schedule.include_bindings,
                non_response=schedule.non_response,
                fallback_reviewer=schedule.fallback_reviewer,
                duration_days=schedule.duration_days,
            )
            audit_record(
                actor=None,
                action="reviews.campaign.start",
                target=campaign,
                changes={
                    "name": campaign.name,
                    "schedule": schedule.name,
                    **_scope_changes(campaign),
                },
            )
    except IntegrityError:
        campaign = Campaign.objects.get(schedule=schedule, period=period)
    campaign_generate(campaign_id=campaign.pk, batch=batch)
    campaign.refresh_from_db()
    return campaign
