"""Writes to access: roles and bindings, requests and approvals, grants and their end.

Every write checks its permission, runs in one transaction with its audit entry, and tells the
decision path to reload its snapshot once committed. Refusals are ``ApplicationError``s with
stable codes and change nothing.
"""

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.access import permissions
from apps.access.models import (
    AccessLevel,
    AccessRequest,
    Approval,
    BreakGlassReview,
    Grant,
    Role,
    RoleBinding,
)
from apps.access.policy import approval_outcome
from apps.audit.services import audit_record
from apps.catalog.models import Column, Dataset, DataSource
from apps.catalog.permissions import is_owner_or_steward
from apps.catalog.services.usage import MAX_VALUE_CHARS, MAX_VALUES, row_values_ok
from apps.classification.models import SensitivityLevel
from apps.core.batches import in_claimed_batches
from apps.core.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    full_clean_or_raise,
)
from apps.core.notify import notify_after_commit, site_url
from apps.decisions.models import ServiceCredential
from apps.decisions.services import snapshot_invalidate

PURPOSE_MAX = 500
NOTE_MAX = 1000


def _changed() -> None:
    """The governance snapshot reads roles and grants: reload it once this commits."""
    transaction.on_commit(snapshot_invalidate)


# ---------------------------------------------------------------------------------------------
# Permissions


def _bindings_of(actor: Any) -> QuerySet[RoleBinding]:
    return RoleBinding.objects.filter(
        Q(user_id=actor.pk) | Q(group__in=actor.groups.all())
    ).select_related("role")


def has_permission(actor: Any, name: str, *, dataset: Dataset | None = None) -> bool:
    """Whether ``actor`` holds permission ``name`` everywhere or within ``dataset``'s scope.

    Superusers hold every permission; everyone else only what their role bindings give.
    """
    if not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return False
    if actor.is_superuser:
        return True
    scope = Q(source__isnull=True, dataset__isnull=True)
    if dataset is not None:
        scope |= Q(source_id=dataset.source_id) | Q(dataset_id=dataset.pk)
    return any(name in binding.role.permissions for binding in _bindings_of(actor).filter(scope))


def holds_anywhere(actor: Any, name: str) -> bool:
    """Whether ``actor`` holds ``name`` in any scope (to offer a form; the action checks the
    scope itself)."""
    if not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return False
    return actor.is_superuser or any(name in b.role.permissions for b in _bindings_of(actor))


def _require(actor: Any, name: str, message: str, *, dataset: Dataset | None = None) -> None:
    if not has_permission(actor, name, dataset=dataset):
        raise PermissionDenied(message)


# ---------------------------------------------------------------------------------------------
# Roles and bindings


def _role_snapshot(role: Role) -> dict[str, Any]:
    return {
        "key": role.key,
        "name": role.name,
        "description": role.description,
        "permissions": sorted(role.permissions),
    }


def _clean_permissions(names: Iterable[str]) -> list[str]:
    names = list(names)
    unknown = sorted(set(names) - set(permissions.ALL))
    if unknown:
        raise ValidationFailed(
            f"Unknown permission: {', '.join(map(repr, unknown))}. "
            f"Known: {', '.join(sorted(permissions.ALL))}.",
            code="unknown_permission",
        )
    return sorted(set(names))


@transaction.atomic
def role_create(
    *, actor: Any, key: str, name: str, permissions_: Iterable[str], description: str = ""
) -> Role:
    _require(actor, permissions.ROLES_MANAGE, "Managing roles needs the roles.manage permission.")
    role = Role(
        key=key.strip(),
        name=name.strip(),
        description=description,
        permissions=_clean_permissions(permissions_),
    )
    full_clean_or_raise(role, validate_unique=False)
    if Role.objects.filter(key=role.key).exists():
        raise Conflict(f"A role {role.key!r} already exists.", code="duplicate_role")
    role.save()
    audit_record(
        actor=actor, action="access.role.create", target=role, changes=_role_snapshot(role)
    )
    _changed()
    return role


@transaction.atomic
def role_update(
    *,
    actor: Any,
    role: Role,
    name: str | None = None,
    permissions_: Iterable[str] | None = None,
    description: str | None = None,
) -> Role:
    _require(actor, permissions.ROLES_MANAGE, "Managing roles needs the roles.manage permission.")
    role = Role.objects.select_for_update().get(pk=role.pk)
    before = _role_snapshot(role)
    if name is not None:
        role.name = name.strip()
    if description is not None:
        role.description = description
    if permissions_ is not None:
        role.permissions = _clean_permissions(permissions_)
    full_clean_or_raise(role, validate_unique=False)
    after = _role_snapshot(role)
    if after == before:
        return role
    role.save()
    changes = {k: {"before": before[k], "after": after[k]} for k in after if after[k] != before[k]}
    audit_record(actor=actor, action="access.role.update", target=role, changes=changes)
    _changed()
    return role


def _binding_changes(binding: RoleBinding) -> dict[str, Any]:
    return {
        "role": binding.role.key,
        "principal": binding.principal_id,
        "scope": binding.scope_label,
    }


@transaction.atomic
def role_binding_create(
    *,
    actor: Any,
    role: Role,
    user: Any = None,
    group: Group | None = None,
    credential: ServiceCredential | None = None,
    source: DataSource | None = None,
    dataset: Dataset | None = None,
) -> RoleBinding:
    _require(
        actor, permissions.ROLES_MANAGE, "Managing role bindings needs the roles.manage permission."
    )
    if sum(p is not None for p in (user, group, credential)) != 1:
        raise ValidationFailed(
            "Bind the role to exactly one user, group or service credential.",
            code="invalid_principal",
        )
    if source is not None and dataset is not None:
        raise ValidationFailed(
            "Scope a binding to one source or one dataset, not both.", code="invalid_scope"
        )
    binding = RoleBinding(
        role=role,
        user=user,
        group=group,
        credential=credential,
        source=source,
        dataset=dataset,
        created_by=actor,
    )
    duplicate = Conflict(
        f"{binding.principal_id} already has role {role.key!r} {binding.scope_label}.",
        code="duplicate_binding",
    )
    # (The unique constraint treats NULLs as equal on Postgres; SQLite needs the look first.)
    same = {"role": role, "user": user, "group": group, "credential": credential}
    if RoleBinding.objects.filter(**same, source=source, dataset=dataset).exists():
        raise duplicate
    try:
        with transaction.atomic():
            binding.save()
    except IntegrityError:
        raise duplicate from None
    audit_record(
        actor=actor,
        action="access.binding.create",
        target=binding,
        changes=_binding_changes(binding),
        scope=dataset or source or binding,
    )
    _changed()
    return binding


@transaction.atomic
def role_binding_delete(*, actor: Any, binding: RoleBinding) -> None:
    _require(
        actor, permissions.ROLES_MANAGE, "Managing role bindings needs the roles.manage permission."
    )
    if not role_binding_remove(binding_id=binding.pk, actor=actor):
        raise NotFound("That role binding no longer exists.", code="not_found")


def role_binding_remove(*, binding_id: int, actor: Any, reason: str = "") -> bool:
    """Delete a binding whoever may do so decided to remove (``role_binding_delete`` checks
    roles.manage; an access review checks its reviewer). False when it was already gone."""
    binding = (
        RoleBinding.objects.select_for_update(of=("self",))
        .select_related("role", "user", "group", "credential", "source", "dataset")
        .filter(pk=binding_id)
        .first()
    )
    if binding is None:
        return False
    changes = _binding_changes(binding)
    if reason:
        changes["reason"] = reason.strip()[:NOTE_MAX]
    audit_record(
        actor=actor,
        action="access.binding.delete",
        target=binding,
        changes=changes,
        scope=binding.dataset or binding.source or binding,
    )
    binding.delete()
    _changed()
    return True


# ---------------------------------------------------------------------------------------------
# Requests and approvals


def _looks_after(dataset: Dataset) -> Q:
    """People who look after ``dataset``: its owner and steward, as users or as members of
    the owning or stewarding group (``selectors._datasets_where`` is the same rule, from the
    person's side)."""
    groups = [g for g in (dataset.owner_group_id, dataset.steward_group_id) if g]
    return Q(pk__in=[u for u in (dataset.owner_id, dataset.steward_id) if u]) | Q(groups__in=groups)


def approvers_for(dataset: Dataset) -> QuerySet[Any]:
    """Who may approve requests for ``dataset``: the people who look after it and holders of
    ``access.approve`` in its scope."""
    scoped = Q(source__isnull=True, dataset__isnull=True) | Q(source_id=dataset.source_id)
    scoped |= Q(dataset_id=dataset.pk)
    approving_roles = [
        r.pk for r in Role.objects.all() if permissions.ACCESS_APPROVE in r.permissions
    ]
    bindings = RoleBinding.objects.filter(scoped, role_id__in=approving_roles)
    return (
        get_user_model()
        .objects.filter(
            _looks_after(dataset)
            | Q(pk__in=bindings.filter(user__isnull=False).values("user_id"))
            | Q(groups__in=bindings.filter(group__isnull=False).values("group_id")),
            is_active=True,
        )
        .distinct()
    )


def may_approve(actor: Any, request: AccessRequest) -> bool:
    if actor.pk == request.requester_id:
        return False
    return actor.is_superuser or approvers_for(request.dataset).filter(pk=actor.pk).exists()


def _request_changes(req: AccessRequest) -> dict[str, Any]:
    return {
        "requester": req.requester.get_username(),
        "dataset": req.dataset.fqn,
        "columns": req.columns,
        "rows": req.rows,
        "access": req.access,
        "purpose": req.purpose,
        "duration_seconds": req.duration_seconds,
        "status": req.status,
        "approvals_required": req.approvals_required,
        "policy_reasons": req.policy_reasons,
    }


def _levels() -> dict[str, int]:
    return dict(SensitivityLevel.objects.values_list("key", "rank"))


def _checked_rows(dataset: Dataset, rows: Iterable[str]) -> list[str]:
    """The row filter values asked for, sorted; only a dataset with a row filter has any."""
    rows = list(rows)
    if not rows:
        return []
    if not dataset.row_filter:
        raise ValidationFailed(
            f"{dataset.fqn} has no row filter: every grant shows all of its rows, so there are "
            "no rows to ask for.",
            code="no_row_filter",
        )
    if not row_values_ok(rows):
        raise ValidationFailed(
            f"Ask for 1 to {MAX_VALUES} values of {dataset.row_filter['column']}, each text of 1 "
            f"to {MAX_VALUE_CHARS} characters.",
            code="invalid_rows",
        )
    return sorted(set(rows))


def _has_rows(actor: Any, dataset: Dataset) -> bool:
    """Whether a rule of the dataset's row filter names ``actor`` or one of their groups."""
    rules = (dataset.row_filter or {}).get("rules", [])
    groups = set(actor.groups.values_list("pk", flat=True))
    return any(r.get("user_id") == actor.pk or r.get("group_id") in groups for r in rules)


def _team_member(actor: Any, dataset: Dataset) -> bool:
    groups = {g for g in (dataset.owner_group_id, dataset.steward_group_id) if g}
    return bool(groups) and actor.groups.filter(pk__in=groups).exists()


@transaction.atomic
def access_request_create(
    *,
    actor: Any,
    dataset: Dataset,
    access: str,
    purpose: str,
    duration_seconds: int,
    columns: Iterable[str] = (),
    rows: Iterable[str] = (),
) -> AccessRequest:
    """Ask for ``access`` to ``dataset`` (or some columns) for a purpose and a duration; on a
    dataset with a row filter, ``rows`` are values of its filter column whose rows are asked for
    beyond those its rules give the requester (one customer's, say).

    The approval policy decides: approve at once (the grant starts now), ask owners/stewards
    for N approvals, or refuse (nothing is written).
    """
    if not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise PermissionDenied("Sign in to request access.")
    if access not in AccessLevel.values:
        raise ValidationFailed(
            f"Unknown access level {access!r}; one of {', '.join(AccessLevel.values)}.",
            code="unknown_access_level",
        )
    purpose = (purpose or "").strip()
    if not purpose:
        raise ValidationFailed("Say what the access is for (the purpose).", code="purpose_required")
    if len(purpose) > PURPOSE_MAX:
        raise ValidationFailed(
            f"The purpose is longer than {PURPOSE_MAX} characters.", code="purpose_too_long"
        )
    if not isinstance(duration_seconds, int) or duration_seconds <= 0:
        raise ValidationFailed(
            "The duration must be a positive number of seconds.", code="invalid_duration"
        )
    wanted = sorted(set(columns))
    if wanted:
        known = set(
            Column.objects.filter(
                dataset=dataset, removed_at__isnull=True, name__in=wanted
            ).values_list("name", flat=True)
        )
        missing = [c for c in wanted if c not in known]
        if missing:
            raise ValidationFailed(
                f"{dataset.fqn} has no column {', '.join(map(repr, missing))}.",
                code="unknown_column",
            )
    wanted_rows = _checked_rows(dataset, rows)
    now = timezone.now()
    if AccessRequest.objects.filter(
        requester=actor, dataset=dataset, access=access, status=AccessRequest.Status.PENDING
    ).exists():
        raise Conflict(
            f"You already have a pending {access} request for {dataset.fqn}.",
            code="duplicate_request",
        )
    outcome = approval_outcome(
        {
            "request": {
                "access": access,
                "duration_seconds": duration_seconds,
                "purpose": purpose,
                "columns": wanted,
                "rows": wanted_rows,
            },
            "requester": {
                "id": f"user:{actor.get_username()}",
                "team_member": _team_member(actor, dataset),
            },
            "dataset": {
                "fqn": dataset.fqn,
                "sensitivity": getattr(dataset.effective_sensitivity, "key", None),
                "row_filter": bool(dataset.row_filter),
                "requester_has_rows": bool(wanted_rows) or _has_rows(actor, dataset),
            },
            "levels": _levels(),
        }
    )
    if outcome["result"] == "refuse":
        reasons = outcome["reasons"]
        if "duration_exceeds_maximum" in reasons:
            limit = outcome["max_duration_seconds"]
            raise ValidationFailed(
                f"{dataset.fqn} can be granted for at most {_human(limit)}; ask for less.",
                code="duration_too_long",
                extra={"max_duration_seconds": limit},
            )
        if "row_filter_no_rows" in reasons:
            raise PermissionDenied(
                f"{dataset.fqn} shows each group or person only the rows its row filter names, "
                "and it names neither you nor a group of yours: a grant would show you no rows. "
                "Ask its owner to add you to the row filter.",
                code="request_refused",
                extra={"reasons": reasons},
            )
        raise PermissionDenied(
            f"The access policy refuses this request ({', '.join(reasons)}).",
            code="request_refused",
            extra={"reasons": reasons},
        )
    req = AccessRequest(
        requester=actor,
        dataset=dataset,
        columns=wanted,
        rows=wanted_rows,
        access=access,
        purpose=purpose,
        duration_seconds=duration_seconds,
        approvals_required=outcome["approvals_required"],
        policy_reasons=outcome["reasons"],
        created_at=now,
        respond_by=now + dt.timedelta(hours=settings.ACCESS_REQUEST_RESPONSE_HOURS),
    )
    if outcome["result"] == "approve":
        req.status = AccessRequest.Status.APPROVED
        req.decided_at = now
    req.save()
    audit_record(
        actor=actor,
        action="access.request.create",
        target=req,
        changes={**_request_changes(req), "policy_revision": outcome["revision"]},
        scope=dataset,
    )
    if req.status == AccessRequest.Status.APPROVED:
        _grant_from(req, actor=actor, now=now)
    else:
        approvers = approvers_for(dataset).exclude(pk=actor.pk)
        notify_after_commit(
            f"[Steward] {actor.get_username()} asks for {access} access to {dataset.fqn}",
            f"{actor.get_username()} asks for {access} access to {dataset.fqn} for "
            f"{_human(duration_seconds)}.\nPurpose: {purpose}\n"
            f"Approvals needed: {req.approvals_required}. Respond by {req.respond_by:%Y-%m-%d %H:%M} UTC.\n"
            f"{site_url('/access/inbox/')}",
            approvers.values_list("email", flat=True),
        )
    return req


def _human(seconds: int) -> str:
    if seconds % 86400 == 0:
        days = seconds // 86400
        return f"{days} day{'s' if days != 1 else ''}"
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{seconds} seconds"


def _grant_from(req: AccessRequest, *, actor: Any, now: dt.datetime) -> Grant:
    grant = Grant.objects.create(
        user=req.requester,
        dataset=req.dataset,
        columns=req.columns,
        rows=req.rows,
        access=req.access,
        purpose=req.purpose,
        origin=Grant.Origin.REQUEST,
        request=req,
        starts_at=now,
        expires_at=now + dt.timedelta(seconds=req.duration_seconds),
    )
    audit_record(
        actor=actor,
        action="access.grant.create",
        target=grant,
        changes=_grant_changes(grant),
        scope=req.dataset,
    )
    _changed()
    return grant


def _grant_changes(grant: Grant) -> dict[str, Any]:
    return {
        "user": grant.user.get_username(),
        "dataset": grant.dataset.fqn,
        "columns": grant.columns,
        "rows": grant.rows,
        "access": grant.access,
        "origin": grant.origin,
        "starts_at": grant.starts_at.isoformat(),
        "expires_at": grant.expires_at.isoformat(),
    }


@transaction.atomic
def access_request_decide(
    *, actor: Any, request: AccessRequest, verdict: str, note: str = ""
) -> AccessRequest:
    """One approver approves or denies. A deny ends the request; the N-th distinct approval
    grants access from now for the requested duration."""
    if verdict not in Approval.Verdict.values:
        raise ValidationFailed(
            f"Unknown verdict {verdict!r}; one of approve, deny.", code="invalid_verdict"
        )
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ValidationFailed(
            f"The note is longer than {NOTE_MAX} characters.", code="note_too_long"
        )
    req = (
        AccessRequest.objects.select_for_update(of=("self",))
        .select_related("dataset", "requester")
        .filter(pk=request.pk)
        .first()
    )
    if req is None:
        raise NotFound("No such access request.")
    if actor.pk == req.requester_id:
        raise PermissionDenied(
            "You cannot approve or deny your own request; another approver must.",
            code="self_approval",
        )
    if not may_approve(actor, req):
        raise PermissionDenied(
            f"Only owners, stewards and approvers of {req.dataset.fqn} may decide on this request.",
            code="not_an_approver",
        )
    now = timezone.now()
    if req.status == AccessRequest.Status.PENDING and req.respond_by <= now:
        raise Conflict(
            "This request expired before anyone decided; the requester must ask again.",
            code="request_expired",
        )
    if req.status != AccessRequest.Status.PENDING:
        raise Conflict(f"This request is already {req.status}.", code="request_not_pending")
    if req.approvals.filter(approver=actor).exists():
        raise Conflict("You have already decided on this request.", code="already_decided")
    approval = Approval.objects.create(
        request=req, approver=actor, verdict=verdict, note=note, created_at=now
    )
    approvals = req.approvals.filter(verdict=Approval.Verdict.APPROVE).count()
    if verdict == Approval.Verdict.DENY:
        req.status = AccessRequest.Status.DENIED
    elif approvals >= req.approvals_required:
        req.status = AccessRequest.Status.APPROVED
    if req.status != AccessRequest.Status.PENDING:
        req.decided_at = now
        req.save(update_fields=["status", "decided_at"])
    audit_record(
        actor=actor,
        action=f"access.request.{verdict}",
        target=req,
        changes={
            "verdict": approval.verdict,
            "note": note,
            "approvals": approvals,
            "approvals_required": req.approvals_required,
            "status": req.status,
        },
        scope=req.dataset,
    )
    if req.status == AccessRequest.Status.APPROVED:
        _grant_from(req, actor=actor, now=now)
    if req.status != AccessRequest.Status.PENDING:
        notify_after_commit(
            f"[Steward] Your {req.access} request for {req.dataset.fqn} was {req.status}",
            f"{actor.get_username()} {req.status} your request"
            + (f": {note}" if note else ".")
            + f"\n{site_url('/access/')}",
            [req.requester.email],
        )
    return req


@transaction.atomic
def access_request_cancel(*, actor: Any, request: AccessRequest) -> AccessRequest:
    req = AccessRequest.objects.select_for_update().filter(pk=request.pk).first()
    if req is None or req.requester_id != actor.pk:
        raise NotFound("No such access request.")
    if req.status != AccessRequest.Status.PENDING:
        raise Conflict(f"This request is already {req.status}.", code="request_not_pending")
    req.status = AccessRequest.Status.CANCELLED
    req.decided_at = timezone.now()
    req.save(update_fields=["status", "decided_at"])
    audit_record(
        actor=actor,
        action="access.request.cancel",
        target=req,
        changes={"status": req.status},
        scope=req.dataset,
    )
    return req


def requests_expire(*, now: dt.datetime | None = None, batch: int = 500) -> int:
    """Expire pending requests nobody acted on in time (idempotent; safe to run concurrently)."""
    now = now or timezone.now()

    def expire(due: list[AccessRequest]) -> None:
        for req in due:
            req.status = AccessRequest.Status.EXPIRED
            req.decided_at = now
            req.save(update_fields=["status", "decided_at"])
            audit_record(
                actor=None,
                action="access.request.expire",
                target=req,
                changes={"status": req.status, "respond_by": req.respond_by.isoformat()},
                scope=req.dataset,
            )
            notify_after_commit(
                f"[Steward] Your {req.access} request for {req.dataset.fqn} expired",
                "Nobody decided on it in time; ask again if you still need access.",
                [req.requester.email],
            )

    return in_claimed_batches(
        AccessRequest.objects.select_related("dataset", "requester")
        .filter(status=AccessRequest.Status.PENDING, respond_by__lte=now)
        .order_by("respond_by", "id"),
        batch=batch,
        handle=expire,
    )


# ---------------------------------------------------------------------------------------------
# Grants


def may_revoke(actor: Any, grant: Grant) -> bool:
    return (
        actor.pk == grant.user_id
        or is_owner_or_steward(actor, grant.dataset)
        or has_permission(actor, permissions.ACCESS_REVOKE, dataset=grant.dataset)
    )


@transaction.atomic
def grant_revoke(*, actor: Any, grant: Grant, reason: str = "") -> Grant:
    """End a grant now (its holder giving it up, or an owner, steward or revoker)."""
    locked = (
        Grant.objects.select_for_update(of=("self",))
        .select_related("dataset", "user")
        .filter(pk=grant.pk)
        .first()
    )
    if locked is None:
        raise NotFound("No such grant.")
    if not may_revoke(actor, locked):
        raise PermissionDenied(
            f"Only the holder, owners, stewards and revokers of {locked.dataset.fqn} may revoke it.",
            code="not_a_revoker",
        )
    if locked.revoked_at is not None:
        raise Conflict("This grant is already revoked.", code="grant_not_active")
    if locked.expires_at <= timezone.now():
        raise Conflict("This grant has already expired.", code="grant_not_active")
    _end_grant(locked, actor=actor, reason=reason)
    return locked


def _end_grant(locked: Grant, *, actor: Any, reason: str) -> None:
    now = timezone.now()
    locked.revoked_at = now
    locked.revoked_by = actor
    locked.closed_at = now
    locked.save(update_fields=["revoked_at", "revoked_by", "closed_at"])
    audit_record(
        actor=actor,
        action="access.grant.revoke",
        target=locked,
        changes={**_grant_changes(locked), "reason": (reason or "").strip()[:NOTE_MAX]},
        scope=locked.dataset,
    )
    _changed()


def grant_end_for_review(*, grant_id: int, actor: Any, reason: str) -> bool:
    """End a grant an access review decided to revoke (the review checked who may decide;
    ``actor`` is None when the review's due date did). Runs in the review's transaction.
    False when the grant had already ended."""
    locked = (
        Grant.objects.select_for_update(of=("self",))
        .select_related("dataset", "user")
        .filter(pk=grant_id)
        .first()
    )
    if locked is None or locked.revoked_at is not None or locked.expires_at <= timezone.now():
        return False
    _end_grant(locked, actor=actor, reason=reason)
    return True


def grants_close_expired(*, now: dt.datetime | None = None, batch: int = 500) -> int:
    """Record the end of every grant past its expiry (idempotent; safe to run concurrently).

    Decisions already deny an expired grant (the policy compares ``expires_at`` with the
    request time); this closes the row, records it, and drops it from the next snapshot.
    """
    now = now or timezone.now()

    def close(due: list[Grant]) -> None:
        for grant in due:
            grant.closed_at = now
            grant.save(update_fields=["closed_at"])
            audit_record(
                actor=None,
                action="access.grant.expire",
                target=grant,
                changes=_grant_changes(grant),
                scope=grant.dataset,
            )
        _changed()

    return in_claimed_batches(
        Grant.objects.select_related("dataset", "user")
        .filter(closed_at__isnull=True, expires_at__lte=now)
        .order_by("expires_at", "id"),
        batch=batch,
        handle=close,
    )


# ---------------------------------------------------------------------------------------------
# Break-glass

JUSTIFICATION_MIN = 20


def _owner_emails(dataset: Dataset) -> list[str]:
    return list(
        get_user_model()
        .objects.filter(_looks_after(dataset), is_active=True)
        .distinct()
        .values_list("email", flat=True)
    )


@transaction.atomic
def break_glass_open(
    *,
    actor: Any,
    dataset: Dataset,
    justification: str,
    access: str = AccessLevel.READ,
    duration_seconds: int = 3600,
    rows: Iterable[str] = (),
) -> Grant:
    """Emergency access for a holder of ``access.break_glass``: granted at once, owners
    alerted, and a follow-up review opened that someone other than ``actor`` must complete.
    Like any grant it is subject to the dataset's masks and row filter; ``rows`` names filter
    column values whose rows it adds (as for a request)."""
    _require(
        actor,
        permissions.ACCESS_BREAK_GLASS,
        "Break-glass access needs the break-glass role.",
        dataset=dataset,
    )
    justification = (justification or "").strip()
    if len(justification) < JUSTIFICATION_MIN:
        raise ValidationFailed(
            f"Say why this is an emergency (at least {JUSTIFICATION_MIN} characters).",
            code="justification_required",
        )
    if access not in AccessLevel.values:
        raise ValidationFailed(f"Unknown access level {access!r}.", code="unknown_access_level")
    limit = settings.BREAK_GLASS_MAX_HOURS * 3600
    if not isinstance(duration_seconds, int) or not 0 < duration_seconds <= limit:
        raise ValidationFailed(
            f"Break-glass access lasts at most {_human(limit)}.",
            code="duration_too_long",
            extra={"max_duration_seconds": limit},
        )
    wanted_rows = _checked_rows(dataset, rows)
    now = timezone.now()
    grant = Grant.objects.create(
        user=actor,
        dataset=dataset,
        rows=wanted_rows,
        access=access,
        purpose=justification[:PURPOSE_MAX],
        origin=Grant.Origin.BREAK_GLASS,
        starts_at=now,
        expires_at=now + dt.timedelta(seconds=duration_seconds),
    )
    review = BreakGlassReview.objects.create(
        grant=grant,
        justification=justification,
        due_at=now + dt.timedelta(hours=settings.BREAK_GLASS_REVIEW_HOURS),
    )
    audit_record(
        actor=actor,
        action="access.break_glass.open",
        target=grant,
        changes={**_grant_changes(grant), "justification": justification, "review": review.pk},
        scope=dataset,
    )
    _changed()
    notify_after_commit(
        f"[Steward] BREAK-GLASS: {actor.get_username()} opened {access} access to {dataset.fqn}",
        f"{actor.get_username()} used break-glass access to {dataset.fqn} until "
        f"{grant.expires_at:%Y-%m-%d %H:%M} UTC.\nJustification: {justification}\n"
        f"Review it by {review.due_at:%Y-%m-%d %H:%M} UTC: {site_url('/access/inbox/')}",
        _owner_emails(dataset),
    )
    return grant


def may_review_break_glass(actor: Any, review: BreakGlassReview) -> bool:
    dataset = review.grant.dataset
    return actor.pk != review.grant.user_id and (
        is_owner_or_steward(actor, dataset)
        or has_permission(actor, permissions.ACCESS_REVOKE, dataset=dataset)
    )


@transaction.atomic
def break_glass_review(
    *, actor: Any, review: BreakGlassReview, outcome: str, note: str = ""
) -> BreakGlassReview:
    """An owner, steward or revoker (never the person who used it) closes the follow-up; an
    unjustified use also ends the grant if it is still running."""
    if outcome not in BreakGlassReview.Outcome.values:
        raise ValidationFailed(
            f"Unknown outcome {outcome!r}; one of justified, unjustified.", code="invalid_outcome"
        )
    locked = (
        BreakGlassReview.objects.select_for_update(of=("self",))
        .select_related("grant__dataset", "grant__user")
        .filter(pk=review.pk)
        .first()
    )
    if locked is None:
        raise NotFound("No such break-glass review.")
    if actor.pk == locked.grant.user_id:
        raise PermissionDenied("You cannot review your own break-glass use.", code="self_approval")
    if not may_review_break_glass(actor, locked):
        raise PermissionDenied(
            "Only owners, stewards and revokers of the dataset may review break-glass use.",
            code="not_a_reviewer",
        )
    if locked.reviewed_at is not None:
        raise Conflict("This break-glass use is already reviewed.", code="already_reviewed")
    note = (note or "").strip()[:NOTE_MAX]
    locked.outcome, locked.note = outcome, note
    locked.reviewed_at, locked.reviewed_by = timezone.now(), actor
    locked.save(update_fields=["outcome", "note", "reviewed_at", "reviewed_by"])
    audit_record(
        actor=actor,
        action="access.break_glass.review",
        target=locked.grant,
        changes={"outcome": outcome, "note": note, "review": locked.pk},
        scope=locked.grant.dataset,
    )
    grant = locked.grant
    if (
        outcome == BreakGlassReview.Outcome.UNJUSTIFIED
        and grant.revoked_at is None
        and grant.expires_at > timezone.now()
    ):
        locked.grant = grant_revoke(
            actor=actor, grant=grant, reason="break-glass use judged unjustified"
        )
    return locked


def break_glass_escalate(*, now: dt.datetime | None = None) -> int:
    """Escalate overdue, unreviewed break-glass use to ADMINS, once each (idempotent)."""
    now = now or timezone.now()
    with transaction.atomic():
        overdue = list(
            BreakGlassReview.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("grant__dataset", "grant__user")
            .filter(reviewed_at__isnull=True, escalated_at__isnull=True, due_at__lte=now)
        )
        for review in overdue:
            review.escalated_at = now
            review.save(update_fields=["escalated_at"])
            audit_record(
                actor=None,
                action="access.break_glass.escalate",
                target=review.grant,
                changes={"review": review.pk, "due_at": review.due_at.isoformat()},
                scope=review.grant.dataset,
            )
        if overdue:
            lines = "\n".join(
                f"- {r.grant.user.get_username()} on {r.grant.dataset.fqn}, "
                f"due {r.due_at:%Y-%m-%d %H:%M} UTC"
                for r in overdue
            )
            notify_after_commit(
                f"[Steward] {len(overdue)} break-glass use(s) not reviewed in time",
                f"Nobody reviewed these break-glass uses by their due date:\n{lines}\n"
                f"{site_url('/access/inbox/')}",
                [email for _, email in settings.ADMINS],
            )
    return len(overdue)
