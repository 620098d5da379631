"""Reads for access reviews: what waits on a reviewer, campaigns and their progress, evidence."""

from typing import Any

from django.db.models import Count, Q, QuerySet

from apps.access import permissions
from apps.access.services import has_permission
from apps.core.errors import NotFound
from apps.reviews.models import Campaign, ReviewItem, ReviewSchedule

OUTCOMES = [o.value for o in ReviewItem.Outcome]


def is_manager(actor: Any) -> bool:
    return has_permission(actor, permissions.REVIEWS_MANAGE)


def sees_all(actor: Any) -> bool:
    """Managers run campaigns; auditors read their evidence."""
    return is_manager(actor) or has_permission(actor, permissions.AUDIT_READ)


def _assigned(actor: Any) -> Q:
    return Q(reviewer_id=actor.pk) | Q(reviewer_group__in=actor.groups.all())


def items_to_review(*, actor: Any) -> QuerySet[ReviewItem]:
    """Open items assigned to ``actor`` (directly or through a group), never their own."""
    groups = list(actor.groups.values_list("name", flat=True))
    return (
        ReviewItem.objects.filter(
            _assigned(actor),
            outcome=ReviewItem.Outcome.PENDING,
            campaign__status=Campaign.Status.OPEN,
        )
        .exclude(principal_user_id=actor.pk)
        .exclude(principal__in=[f"group:{g}" for g in groups])
        .select_related("campaign", "reviewer", "reviewer_group")
        .order_by("campaign__due_at", "campaign_id", "dataset_fqn", "pk")
    )


def campaign_list(*, actor: Any) -> QuerySet[Campaign]:
    campaigns = Campaign.objects.select_related("min_sensitivity", "source", "team")
    if sees_all(actor):
        return campaigns
    return campaigns.filter(
        pk__in=ReviewItem.objects.filter(_assigned(actor)).values("campaign_id")
    )


def campaign_get(*, actor: Any, pk: int) -> Campaign:
    campaign = campaign_list(actor=actor).filter(pk=pk).first()
    if campaign is None:
        raise NotFound("No such review campaign.")
    return campaign


def progress(campaigns: list[Campaign]) -> dict[int, dict[str, int]]:
    """Items per outcome for each campaign (one query), with ``total`` and ``done``."""
    rows = (
        ReviewItem.objects.filter(campaign__in=campaigns)
        .values("campaign_id", "outcome")
        .annotate(n=Count("pk"))
        .values_list("campaign_id", "outcome", "n")
    )
    result = {c.pk: dict.fromkeys(OUTCOMES, 0) for c in campaigns}
    for campaign_id, outcome, n in rows:
        result[campaign_id][outcome] = n
    for counts in result.values():
        counts["total"] = sum(counts[o] for o in OUTCOMES)
        counts["done"] = counts["total"] - counts["pending"]
    return result


def campaign_items(
    *, actor: Any, campaign: Campaign, outcome: str | None = None
) -> QuerySet[ReviewItem]:
    """The campaign's items ``actor`` may see: all for managers and auditors, else theirs."""
    items = campaign.items.select_related("reviewer", "reviewer_group", "decided_by")
    if not sees_all(actor):
        items = items.filter(_assigned(actor))
    if outcome:
        items = items.filter(outcome=outcome)
    return items.order_by("pk")


def schedule_list() -> QuerySet[ReviewSchedule]:
    return ReviewSchedule.objects.select_related(
        "min_sensitivity", "source", "team", "periodic_task", "fallback_reviewer"
    )
