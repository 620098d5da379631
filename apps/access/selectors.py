"""Reads for access: what a person asked for, what waits on them, what grants exist."""

from typing import Any

from django.db.models import Q, QuerySet

from apps.access import permissions
from apps.access.models import AccessRequest, BreakGlassReview, Grant, Role, RoleBinding
from apps.core.errors import NotFound


def _datasets_where(actor: Any, permission: str, prefix: str) -> Q | None:
    """A filter on ``<prefix>`` for the datasets ``actor`` looks after (owner or steward, as a
    user or through a group) or holds ``permission`` on through a role binding; ``None`` when
    that is every dataset."""
    groups = list(actor.groups.values_list("id", flat=True))
    where = (
        Q(**{f"{prefix}owner_id": actor.pk})
        | Q(**{f"{prefix}steward_id": actor.pk})
        | Q(**{f"{prefix}owner_group_id__in": groups})
        | Q(**{f"{prefix}steward_group_id__in": groups})
    )
    holding = [r.pk for r in Role.objects.all() if permission in r.permissions]
    bindings = RoleBinding.objects.filter(
        Q(user_id=actor.pk) | Q(group_id__in=groups), role_id__in=holding
    )
    for source_id, dataset_id in bindings.values_list("source_id", "dataset_id"):
        if source_id is None and dataset_id is None:
            return None  # everywhere
        if source_id:
            where |= Q(**{f"{prefix}source_id": source_id})
        else:
            where |= Q(**{f"{prefix.removesuffix('__')}_id": dataset_id})
    return where


def _narrow(queryset: QuerySet[Any], actor: Any, permission: str, prefix: str) -> QuerySet[Any]:
    if actor.is_superuser:
        return queryset
    where = _datasets_where(actor, permission, prefix)
    return queryset if where is None else queryset.filter(where)


def request_inbox(*, actor: Any) -> QuerySet[AccessRequest]:
    """Pending requests ``actor`` may decide on and has not yet."""
    pending = AccessRequest.objects.filter(status=AccessRequest.Status.PENDING).exclude(
        requester=actor
    )
    pending = _narrow(pending, actor, permissions.ACCESS_APPROVE, "dataset__")
    return (
        pending.exclude(approvals__approver=actor)
        .select_related("dataset", "requester", "grant")
        .order_by("respond_by", "id")
    )


def request_mine(*, actor: Any) -> QuerySet[AccessRequest]:
    return AccessRequest.objects.filter(requester=actor).select_related(
        "dataset", "requester", "grant"
    )


def request_get(*, actor: Any, pk: int) -> AccessRequest:
    """The requester's own request, or one ``actor`` may decide on (else 404)."""
    req = AccessRequest.objects.select_related("dataset", "requester").filter(pk=pk).first()
    if req is None:
        raise NotFound("No such access request.")
    if req.requester_id == actor.pk:
        return req
    if (
        _narrow(AccessRequest.objects.all(), actor, permissions.ACCESS_APPROVE, "dataset__")
        .filter(pk=pk)
        .exists()
    ):
        return req
    raise NotFound("No such access request.")


def grant_list(*, actor: Any, active_only: bool = True) -> QuerySet[Grant]:
    """Grants ``actor`` holds, or may revoke (owner, steward, revoker in scope, superuser)."""
    grants = Grant.objects.select_related("dataset", "user", "request")
    if active_only:
        grants = grants.filter(closed_at__isnull=True)
    if actor.is_superuser:
        return grants
    where = _datasets_where(actor, permissions.ACCESS_REVOKE, "dataset__")
    return grants if where is None else grants.filter(where | Q(user_id=actor.pk))


def grant_get(*, actor: Any, pk: int) -> Grant:
    grant = grant_list(actor=actor, active_only=False).filter(pk=pk).first()
    if grant is None:
        raise NotFound("No such grant.")
    return grant


def break_glass_open_reviews(*, actor: Any) -> QuerySet[BreakGlassReview]:
    """Unreviewed break-glass use ``actor`` may review (never their own)."""
    reviews = BreakGlassReview.objects.filter(reviewed_at__isnull=True).exclude(
        grant__user_id=actor.pk
    )
    return _narrow(reviews, actor, permissions.ACCESS_REVOKE, "grant__dataset__").select_related(
        "grant__dataset", "grant__user"
    )


def break_glass_review_get(*, actor: Any, pk: int) -> BreakGlassReview:
    """A follow-up ``actor`` may review, or the one about their own use (which they may see,
    like their own grant, but not review); else 404."""
    reviews = BreakGlassReview.objects.select_related("grant__dataset", "grant__user").filter(pk=pk)
    review = reviews.filter(grant__user_id=actor.pk).first() or (
        _narrow(reviews, actor, permissions.ACCESS_REVOKE, "grant__dataset__").first()
    )
    if review is None:
        raise NotFound("No such break-glass review.")
    return review
