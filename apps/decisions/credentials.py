"""Service credentials: create (the secret is returned once), revoke, authenticate."""

import datetime as dt
import hashlib
import hmac
import secrets
import time
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.audit.services import audit_record
from apps.core.errors import Conflict, ValidationFailed
from apps.decisions.models import ServiceCredential

TOKEN_PREFIX = "stw"  # noqa: S105 - a fixed marker, not a secret
MAX_DAYS = 366
# last_used_at is written at most this often per credential, not on every request.
LAST_USED_GRANULARITY = dt.timedelta(minutes=1)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def credential_create(
    *, actor: Any, name: str, scopes: list[str], days: int = 90
) -> tuple[ServiceCredential, str]:
    """A new credential and its bearer token (shown once; only a hash is kept)."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ValidationFailed(
            "A credential needs a name of 1 to 100 characters.",
            extra={"fields": {"name": ["Required."]}},
        )
    unknown = sorted(set(scopes) - set(ServiceCredential.Scope.values))
    if not scopes or unknown:
        raise ValidationFailed(
            f"Scopes must be among: {', '.join(ServiceCredential.Scope.values)}.",
            code="unknown_scope",
            extra={
                "fields": {"scopes": [f"Unknown: {', '.join(unknown)}" if unknown else "Required."]}
            },
        )
    if not 1 <= days <= MAX_DAYS:
        raise ValidationFailed(
            f"A credential lives 1 to {MAX_DAYS} days.",
            extra={"fields": {"days": ["Out of range."]}},
        )
    prefix, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    now = timezone.now()
    try:
        with transaction.atomic():
            credential = ServiceCredential.objects.create(
                name=name,
                prefix=prefix,
                secret_sha256=_hash(secret),
                scopes=sorted(set(scopes)),
                created_at=now,
                created_by=actor
                if getattr(actor, "is_authenticated", False) and hasattr(actor, "get_username")
                else None,
                expires_at=now + dt.timedelta(days=days),
            )
            audit_record(
                actor=actor,
                action="decisions.credential.create",
                target=credential,
                changes={
                    "name": name,
                    "scopes": credential.scopes,
                    "expires_at": credential.expires_at.isoformat(),
                },
            )
    except IntegrityError as exc:
        raise Conflict(
            f"A credential named {name!r} exists already.", code="duplicate_name"
        ) from exc
    return credential, f"{TOKEN_PREFIX}_{prefix}_{secret}"


def credential_revoke(*, actor: Any, credential: ServiceCredential) -> ServiceCredential:
    with transaction.atomic():
        locked = ServiceCredential.objects.select_for_update().get(pk=credential.pk)
        if locked.revoked_at is None:
            locked.revoked_at = timezone.now()
            locked.save(update_fields=["revoked_at"])
            audit_record(actor=actor, action="decisions.credential.revoke", target=locked)
        _recent.pop(locked.prefix, None)
        transaction.on_commit(lambda: _recent.pop(locked.prefix, None))
    return locked


_BY_PREFIX = "SELECT * FROM decisions_servicecredential WHERE prefix = %s"
# prefix -> (credential row, when it was read): every decision request authenticates, and
# reading the row each time cost ~0.3-1 ms of a ~3 ms request. A row is trusted for
# DECISION_CREDENTIAL_CACHE_SECONDS, so a revocation made elsewhere (another process, the admin
# site, SQL) is honoured within that time; one made in this process at once.
_recent: dict[str, tuple[ServiceCredential, float]] = {}


def _credential_by_prefix(prefix: str) -> ServiceCredential | None:
    cached = _recent.get(prefix)
    if (
        cached is not None
        and time.monotonic() - cached[1] < settings.DECISION_CREDENTIAL_CACHE_SECONDS
    ):
        return cached[0]
    # A raw query skips the ORM's per-call SQL compilation (converters still apply); prefix is
    # unique. Unknown prefixes are not remembered (a stream of made-up tokens grows nothing).
    found = list(ServiceCredential.objects.raw(_BY_PREFIX, [prefix]))
    if not found:
        _recent.pop(prefix, None)
        return None
    _recent[prefix] = (found[0], time.monotonic())
    return found[0]


def credential_authenticate(token: str) -> ServiceCredential | None:
    """The live credential a bearer token names, or None (wrong, expired or revoked)."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    credential = _credential_by_prefix(parts[1])
    if credential is None or not hmac.compare_digest(credential.secret_sha256, _hash(parts[2])):
        return None
    now = timezone.now()
    if credential.revoked_at is not None or credential.expires_at <= now:
        return None
    if credential.last_used_at is None or now - credential.last_used_at > LAST_USED_GRANULARITY:
        ServiceCredential.objects.filter(pk=credential.pk).update(last_used_at=now)
        credential.last_used_at = now
    return credential
