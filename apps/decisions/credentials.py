"""Service credentials: create and rotate (the secret is returned once), revoke, authenticate."""

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
from apps.core.batches import in_claimed_batches
from apps.core.errors import Conflict, ValidationFailed
from apps.core.notify import notify_after_commit, site_url
from apps.decisions.models import ServiceCredential

TOKEN_PREFIX = "stw"  # noqa: S105 - a fixed marker, not a secret
MAX_DAYS = 366
MAX_OVERLAP_HOURS = 168  # how long a rotated-out secret may stay valid: a week at most
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


def credential_rotate(
    *, actor: Any, credential: ServiceCredential, days: int | None = None, overlap_hours: int = 24
) -> tuple[ServiceCredential, str]:
    """A new secret for ``credential`` and its bearer token (shown once), valid ``days`` (by
    default as long as its current secret was issued for). The secret it replaces is accepted
    for ``overlap_hours`` more (never past its own expiry), so the services holding it can
    switch without downtime; rotating again ends that overlap. Name, scopes and token prefix
    stay, so its audit trail and last use carry on."""
    if not 0 <= overlap_hours <= MAX_OVERLAP_HOURS:
        raise ValidationFailed(
            f"The old secret may stay valid 0 to {MAX_OVERLAP_HOURS} hours.",
            extra={"fields": {"overlap_hours": ["Out of range."]}},
        )
    if days is not None and not 1 <= days <= MAX_DAYS:
        raise ValidationFailed(
            f"A credential lives 1 to {MAX_DAYS} days.",
            extra={"fields": {"days": ["Out of range."]}},
        )
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        locked = ServiceCredential.objects.select_for_update().get(pk=credential.pk)
        if locked.revoked_at is not None:
            raise Conflict(
                f"Credential {locked.name!r} is revoked: create a new one instead.",
                code="credential_revoked",
            )
        now = timezone.now()
        issued = locked.rotated_at or locked.created_at  # when its current secret was issued
        lifetime = days or min(MAX_DAYS, max(1, (locked.expires_at - issued).days))
        locked.previous_secret_sha256 = locked.secret_sha256
        locked.previous_expires_at = min(locked.expires_at, now + dt.timedelta(hours=overlap_hours))
        locked.secret_sha256 = _hash(secret)
        locked.expires_at = now + dt.timedelta(days=lifetime)
        locked.rotated_at = now
        locked.expiry_warned_at = None  # a new expiry, to be warned about in its turn
        locked.save(
            update_fields=[
                "previous_secret_sha256",
                "previous_expires_at",
                "secret_sha256",
                "expires_at",
                "rotated_at",
                "expiry_warned_at",
            ]
        )
        audit_record(
            actor=actor,
            action="decisions.credential.rotate",
            target=locked,
            changes={
                "expires_at": locked.expires_at.isoformat(),
                "previous_secret_valid_until": locked.previous_expires_at.isoformat(),
            },
        )
        _recent.pop(locked.prefix, None)
        transaction.on_commit(lambda: _recent.pop(locked.prefix, None))
    return locked, f"{TOKEN_PREFIX}_{locked.prefix}_{secret}"


def credentials_warn_expiring(*, now: dt.datetime | None = None, batch: int = 500) -> int:
    """Mail ADMINS and the creators of live credentials that expire within
    ``DECISION_CREDENTIAL_WARN_DAYS``, once per expiry: a data-plane service whose credential
    lapses is refused every decision (the API fails closed), so someone should rotate it first.
    Idempotent: each credential is claimed (``in_claimed_batches``) and marked with its audit
    entry; one mail per batch, after its commit."""
    now = now or timezone.now()
    horizon = now + dt.timedelta(days=settings.DECISION_CREDENTIAL_WARN_DAYS)

    def warn(due: list[ServiceCredential]) -> None:
        for credential in due:
            credential.expiry_warned_at = now
            credential.save(update_fields=["expiry_warned_at"])
            audit_record(
                actor=None,
                action="decisions.credential.expiry_warn",
                target=credential,
                changes={"expires_at": credential.expires_at.isoformat()},
            )
        lines = "\n".join(
            f"- {c.name} ({', '.join(c.scopes)}), expires {c.expires_at:%Y-%m-%d %H:%M} UTC"
            for c in due
        )
        notify_after_commit(
            f"[Steward] {len(due)} service credential(s) expire within"
            f" {settings.DECISION_CREDENTIAL_WARN_DAYS} days",
            "Once a credential expires, the services using it are refused every decision."
            f" Rotate each one before then:\n{lines}\n{site_url('/decisions/credentials/')}"
            "\n(or `manage.py credential_rotate NAME`: the old token keeps working for a"
            " day while the service switches).",
            [email for _, email in settings.ADMINS]
            + [c.created_by.email for c in due if c.created_by is not None],
        )

    return in_claimed_batches(
        ServiceCredential.objects.select_related("created_by")
        .filter(
            revoked_at__isnull=True,
            expiry_warned_at__isnull=True,
            expires_at__gt=now,
            expires_at__lte=horizon,
        )
        .order_by("expires_at", "name"),
        batch=batch,
        handle=warn,
    )


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


def _credential_by_prefix(prefix: str, *, cached: bool = True) -> ServiceCredential | None:
    remembered = _recent.get(prefix) if cached else None
    if (
        remembered is not None
        and time.monotonic() - remembered[1] < settings.DECISION_CREDENTIAL_CACHE_SECONDS
    ):
        return remembered[0]
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
    digest, now = _hash(parts[2]), timezone.now()
    credential = _credential_by_prefix(parts[1])
    if credential is None:
        return None
    if not _live_secret(credential, digest, now):
        # The row may be a remembered one from before a rotation made elsewhere: read it again.
        credential = _credential_by_prefix(parts[1], cached=False)
        if credential is None or not _live_secret(credential, digest, now):
            return None
    if credential.revoked_at is not None:
        return None
    if credential.last_used_at is None or now - credential.last_used_at > LAST_USED_GRANULARITY:
        ServiceCredential.objects.filter(pk=credential.pk).update(last_used_at=now)
        credential.last_used_at = now
    return credential


def _live_secret(credential: ServiceCredential, digest: str, now: dt.datetime) -> bool:
    """Whether ``digest`` is that of the credential's secret, unexpired, or of the secret it
    replaced at its last rotation, within the overlap."""
    if hmac.compare_digest(credential.secret_sha256, digest):
        return credential.expires_at > now
    until = credential.previous_expires_at
    return bool(
        credential.previous_secret_sha256
        and until is not None
        and until > now
        and hmac.compare_digest(credential.previous_secret_sha256, digest)
    )
