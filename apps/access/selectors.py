"""Reads for access: what a person asked for, what waits on them, what grants exist."""

from typing import Any

from django.db.models import Q, QuerySet

from apps.access import permissions
from apps.access.models import AccessRequest, Grant, Role, RoleBinding
from apps.core.errors import NotFound


def _approvable_datasets(actor: Any) -> Q:
    """Datasets ``actor`` may decide on (as in ``services.approvers_for``), as a filter on
    ``dataset__``."""
    groups = list(actor.groups.values_list("id", flat=True))
    where = (
        Q(dataset__owner_id=actor.pk)
        | Q(dataset__steward_id=actor.pk)
        | Q(dataset__owner_group_id__in=groups)
        | Q(dataset__steward_group_id__in=groups)
    )
    approving = [r.pk for r in Role.objects.all() if permissions.ACCESS_APPROVE in r.permissions]
    bindings = RoleBinding.objects.filter(
        Q(user_id=actor.pk) | Q(group_id__in=groups), role_id__in=approving
    )
    for source_id, dataset_id in bindings.values_list("source_id", "dataset_id"):
        if source_id is None and dataset_id is None:
            return Q()  # everywhere
        where |= Q(dataset__source_id=source_id) if source_id else Q(dataset_id=dataset_id)
    return where


def request_inbox(*, actor: Any) -> QuerySet[AccessRequest]:
    """Pending requests ``actor`` may decide on and has not yet."""
    pending = AccessRequest.objects.filter(status=AccessRequest.Status.PENDING).exclude(
        requester=actor
    )
    if not actor.is_superuser:
        pending = pending.filter(_approvable_datasets(actor))
    return (
        pending.exclude(approvals__approver=actor)
        .select_related("dataset", "requester")
        .order_by("respond_by", "id")
    )


def request_mine(*, actor: Any) -> QuerySet[AccessRequest]:
    return AccessRequest.objects.filter(requester=actor).select_related("dataset")


def request_get(*, actor: Any, pk: int) -> AccessRequest:
    """The requester's own request, or one ``actor`` may decide on (else 404)."""
    req = AccessRequest.objects.select_related("dataset", "requester").filter(pk=pk).first()
    if req is None:
        raise NotFound("No such access request.")
    if req.requester_id == actor.pk or actor.is_superuser:
        return req
    if AccessRequest.objects.filter(_approvable_datasets(actor), pk=pk).exists():
        return req
    raise NotFound("No such access request.")


def grant_list(*, actor: Any, active_only: bool = True) -> QuerySet[Grant]:
    """Grants ``actor`` holds, or may revoke (owner, steward, revoker in scope, superuser)."""
    grants = Grant.objects.select_related("dataset", "user", "request")
    if active_only:
        grants = grants.filter(closed_at__isnull=True)
    if actor.is_superuser:
        return grants
    groups = list(actor.groups.values_list("id", flat=True))
    visible = (
        Q(user_id=actor.pk)
        | Q(dataset__owner_id=actor.pk)
        | Q(dataset__steward_id=actor.pk)
        | Q(dataset__owner_group_id__in=groups)
        | Q(dataset__steward_group_id__in=groups)
    )
    revoking = [r.pk for r in Role.objects.all() if permissions.ACCESS_REVOKE in r.permissions]
    for source_id, dataset_id in RoleBinding.objects.filter(
        Q(user_id=actor.pk) | Q(group_id__in=groups), role_id__in=revoking
    ).values_list("source_id", "dataset_id"):
        if source_id is None and dataset_id is None:
            return grants
        visible |= Q(dataset__source_id=source_id) if source_id else Q(dataset_id=dataset_id)
    return grants.filter(visible)


def grant_get(*, actor: Any, pk: int) -> Grant:
    grant = grant_list(actor=actor, active_only=False).filter(pk=pk).first()
    if grant is None:
        raise NotFound("No such grant.")
    return grant
