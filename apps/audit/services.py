"""The one place every recorded change goes through."""

from typing import Any

from django.db import models, transaction
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.core import context

REDACTED = "[redacted]"


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        items = [_jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set) else items
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, models.Model):
        return str(value)
    return str(value)


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``{field: {"before": x, "after": y}}`` for the fields that changed."""
    out: dict[str, dict[str, Any]] = {}
    for key in sorted(set(before) | set(after)):
        b, a = _jsonable(before.get(key)), _jsonable(after.get(key))
        if b != a:
            out[key] = {"before": b, "after": a}
    return out


def audit_record(
    *,
    actor: Any,
    action: str,
    target: models.Model,
    changes: dict[str, Any] | None = None,
    scope: models.Model | None = None,
    outcome: str = AuditEvent.Outcome.SUCCESS,
) -> AuditEvent:
    """Record ``actor`` doing ``action`` to ``target``. Must run inside the change's transaction.

    ``changes`` must never carry secrets or raw personal data values; callers pass field-level
    diffs of catalog metadata, with secret fields replaced by ``REDACTED``.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the change it records")
    ctx = context.current()
    scope_obj = scope if scope is not None else target
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditEvent.objects.create(
        created_at=timezone.now(),
        actor=actor if is_user else None,
        actor_repr=(actor.get_username() if is_user else str(actor or "system"))[:200],
        ip=ctx.ip,
        request_id=ctx.request_id,
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        target_repr=str(target)[:400],
        scope=f"{scope_obj._meta.label_lower}:{scope_obj.pk}",
        outcome=outcome,
        changes=_jsonable(changes or {}),
    )
