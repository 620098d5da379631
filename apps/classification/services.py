"""Writes to the classification taxonomy: sensitivity levels, data categories, tags.

Each is permission-checked, validated, and audited in the same transaction.
"""

from typing import Any

from django.db import IntegrityError, transaction

from apps.audit.services import audit_record, diff
from apps.catalog import permissions
from apps.classification.models import DataCategory, SensitivityLevel, Tag
from apps.core.errors import Conflict, PermissionDenied, ValidationFailed, full_clean_or_raise


def _require(actor: Any, perm: str, message: str) -> None:
    if not (getattr(actor, "is_authenticated", False) and actor.is_active and actor.has_perm(perm)):
        raise PermissionDenied(message)


def _refuse_taken_key(model: Any, key: str, label: str) -> None:
    if model.objects.filter(key=key).exists():
        raise Conflict(f"A {label} with key {key!r} already exists.", code="duplicate_key")


def sensitivity_level_create(
    *,
    actor: Any,
    key: str,
    name: str,
    rank: int,
    description: str = "",
    color: str = "#6b7280",
) -> SensitivityLevel:
    """Add a step to the sensitivity scale. Keys and ranks are unique."""
    _require(actor, permissions.MANAGE_TAXONOMY, "Editing the taxonomy needs the taxonomy role.")
    level = SensitivityLevel(key=key, name=name, rank=rank, description=description, color=color)
    full_clean_or_raise(level, validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            _refuse_taken_key(SensitivityLevel, key, "sensitivity level")
            if SensitivityLevel.objects.filter(rank=rank).exists():
                raise Conflict(
                    f"Another sensitivity level already has rank {rank}.", code="duplicate_rank"
                )
            level.save()
            audit_record(
                actor=actor,
                action="classification.sensitivity_level.create",
                target=level,
                changes=diff(
                    {},
                    {"key": key, "name": name, "rank": rank, "description": description},
                ),
            )
    except IntegrityError as exc:  # a concurrent insert won the race
        raise Conflict("That key or rank is already taken.", code="duplicate_key") from exc
    return level


def category_create(
    *,
    actor: Any,
    key: str,
    name: str,
    parent: str | None = None,
    description: str = "",
    default_sensitivity: str | None = None,
) -> DataCategory:
    """Add a node to the data-category taxonomy; ``parent`` and ``default_sensitivity`` are keys."""
    _require(actor, permissions.MANAGE_TAXONOMY, "Editing the taxonomy needs the taxonomy role.")
    parent_obj = None
    if parent:
        parent_obj = DataCategory.objects.filter(key=parent).first()
        if parent_obj is None:
            raise ValidationFailed(f"Unknown category {parent!r}.", code="unknown_category")
    level = None
    if default_sensitivity:
        level = SensitivityLevel.objects.filter(key=default_sensitivity).first()
        if level is None:
            raise ValidationFailed(
                f"Unknown sensitivity {default_sensitivity!r}.", code="unknown_sensitivity"
            )
    category = DataCategory(
        key=key,
        name=name,
        parent=parent_obj,
        description=description,
        default_sensitivity=level,
    )
    full_clean_or_raise(category, validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            _refuse_taken_key(DataCategory, key, "category")
            category.save()
            audit_record(
                actor=actor,
                action="classification.category.create",
                target=category,
                changes=diff(
                    {},
                    {
                        "key": key,
                        "name": name,
                        "parent": parent or None,
                        "description": description,
                        "default_sensitivity": default_sensitivity or None,
                    },
                ),
            )
    except IntegrityError as exc:
        raise Conflict(
            f"A category with key {key!r} already exists.", code="duplicate_key"
        ) from exc
    return category


def tag_create(*, actor: Any, key: str, description: str = "") -> Tag:
    """Add a free-form tag that datasets can carry."""
    _require(actor, permissions.MANAGE_TAGS, "Creating tags needs the tag-management permission.")
    tag = Tag(key=key, description=description)
    full_clean_or_raise(tag, validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            _refuse_taken_key(Tag, key, "tag")
            tag.save()
            audit_record(
                actor=actor,
                action="classification.tag.create",
                target=tag,
                changes=diff({}, {"key": key, "description": description}),
            )
    except IntegrityError as exc:
        raise Conflict(f"A tag with key {key!r} already exists.", code="duplicate_key") from exc
    return tag
