"""Data sources: register, edit, and open a connection to one (Postgres)."""

from typing import Any

from django.db import IntegrityError, transaction

from apps.audit.services import REDACTED, audit_record, diff
from apps.catalog import permissions
from apps.catalog.models import DataSource
from apps.core.errors import Conflict, PermissionDenied, full_clean_or_raise
from apps.keys.services import secret_decrypt, secret_encrypt

_FIELDS = ("name", "kind", "description", "host", "port", "database", "username")


def source_snapshot(source: DataSource) -> dict[str, Any]:
    snap: dict[str, Any] = {f: getattr(source, f) for f in _FIELDS}
    snap["owner"] = source.owner.get_username() if source.owner else None
    # The secret never enters the audit log; only whether one is set, and a marker when it changes.
    snap["password"] = REDACTED if source.has_password else None
    return snap


def source_create(*, actor: Any, password: str = "", **fields: Any) -> DataSource:
    """Register a data source. ``fields``: name, kind, description, host, port, database, username."""
    if not actor.has_perm(permissions.ADD_SOURCE):
        raise PermissionDenied("Registering data sources needs the catalog admin role.")
    unknown = set(fields) - set(_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    source = DataSource(owner=actor, **fields)
    full_clean_or_raise(source, validate_unique=False, validate_constraints=False)
    if password:
        source.password_ciphertext = secret_encrypt(
            plaintext=password, context=source.secret_context
        )
    try:
        with transaction.atomic():
            source.save()
            audit_record(
                actor=actor,
                action="catalog.source.create",
                target=source,
                changes=diff({}, source_snapshot(source)),
            )
    except IntegrityError as exc:
        raise Conflict(
            f"A data source named {source.name!r} already exists.", code="duplicate_source"
        ) from exc
    return source


def source_update(
    *, actor: Any, source: DataSource, password: str | None = None, **fields: Any
) -> DataSource:
    """Edit a source. ``password=None`` keeps the stored secret; ``""`` clears it.

    The name cannot change once datasets exist under it: it is part of their stable names.
    """
    if not permissions.can_manage_sources(actor):
        raise PermissionDenied("Managing data sources needs the catalog admin role.")
    unknown = set(fields) - set(_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    try:
        with transaction.atomic():
            locked = DataSource.objects.select_for_update().get(pk=source.pk)
            before = source_snapshot(locked)
            if "name" in fields and fields["name"] != locked.name and locked.datasets.exists():
                raise Conflict(
                    "This source has datasets; its name is part of their fully qualified names "
                    "and cannot change.",
                    code="source_name_locked",
                )
            for key, value in fields.items():
                setattr(locked, key, value)
            full_clean_or_raise(locked, validate_unique=False, validate_constraints=False)
            password_changed = False
            if password is not None:
                locked.password_ciphertext = (
                    secret_encrypt(plaintext=password, context=locked.secret_context)
                    if password
                    else None
                )
                password_changed = True
            locked.save()
            changes = diff(before, source_snapshot(locked))
            if password_changed:
                changes["password"] = {"before": REDACTED, "after": REDACTED if password else None}
            if changes:
                audit_record(
                    actor=actor, action="catalog.source.update", target=locked, changes=changes
                )
    except IntegrityError as exc:
        raise Conflict(
            "A data source with that name already exists.", code="duplicate_source"
        ) from exc
    return locked


def source_password(*, source: DataSource) -> str:
    """The decrypted password, for opening a connection. Never returned to a user."""
    if not source.password_ciphertext:
        return ""
    return secret_decrypt(ciphertext=source.password_ciphertext, context=source.secret_context)
