"""Writes to datasets: create, edit metadata and classification, viewers."""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from guardian.shortcuts import assign_perm, remove_perm

from apps.audit.services import audit_record, diff
from apps.catalog import permissions
from apps.catalog.models import Dataset, DataSource
from apps.catalog.services.common import dataset_refresh_effective_sensitivity, dataset_snapshot
from apps.catalog.services.usage import checked_purposes, checked_row_filter
from apps.classification.models import DataCategory, SensitivityLevel, Tag
from apps.core.errors import Conflict, PermissionDenied, ValidationFailed, full_clean_or_raise

UNSET: Any = object()

# Fields dataset_update accepts, and how each is resolved from a key/name.
_SIMPLE_FIELDS = ("description", "provenance", "kind")


def _resolve(model: Any, lookup: str, value: Any, label: str) -> Any:
    if value is None or value == "":
        return None
    if isinstance(value, model):
        return value
    obj = model.objects.filter(**{lookup: value}).first()
    if obj is None:
        raise ValidationFailed(
            f"Unknown {label} {value!r}.", code=f"unknown_{label.replace(' ', '_')}"
        )
    return obj


def _resolve_many(model: Any, values: Any, label: str) -> list[Any]:
    keys = [v.key if isinstance(v, model) else v for v in values]
    found = {o.key: o for o in model.objects.filter(key__in=keys)}
    missing = [k for k in keys if k not in found]
    if missing:
        raise ValidationFailed(
            f"Unknown {label}: {', '.join(map(repr, missing))}.",
            code=f"unknown_{label.replace(' ', '_')}",
        )
    return [found[k] for k in keys]


def resolve_sensitivity(value: Any) -> SensitivityLevel | None:
    return _resolve(SensitivityLevel, "key", value, "sensitivity")


def resolve_categories(values: Any) -> list[DataCategory]:
    return _resolve_many(DataCategory, values, "category")


def resolve_tags(values: Any) -> list[Tag]:
    return _resolve_many(Tag, values, "tag")


def dataset_create(
    *,
    actor: Any,
    source: DataSource,
    schema_name: str,
    table_name: str,
    kind: str = Dataset.Kind.TABLE,
    description: str = "",
    owner: Any = None,
    steward: Any = None,
) -> Dataset:
    """Register a dataset by hand (schema sync creates them in bulk)."""
    if not actor.has_perm(permissions.ADD_DATASET):
        raise PermissionDenied("Registering datasets needs the catalog admin role.")
    dataset = Dataset(
        source=source,
        schema_name=schema_name.strip(),
        table_name=table_name.strip(),
        fqn=Dataset.make_fqn(source.name, schema_name.strip(), table_name.strip()),
        kind=kind,
        description=description,
        owner=_resolve(get_user_model(), "username", owner, "user"),
        steward=_resolve(get_user_model(), "username", steward, "user"),
    )
    full_clean_or_raise(dataset, validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            dataset.save()
            audit_record(
                actor=actor,
                action="catalog.dataset.create",
                target=dataset,
                changes=diff({}, dataset_snapshot(dataset)),
            )
    except IntegrityError as exc:
        raise Conflict(
            f"A dataset named {dataset.fqn!r} already exists.", code="duplicate_fqn"
        ) from exc
    return dataset


@transaction.atomic
def dataset_update(
    *,
    actor: Any,
    dataset: Dataset,
    description: Any = UNSET,
    provenance: Any = UNSET,
    kind: Any = UNSET,
    owner: Any = UNSET,
    owner_group: Any = UNSET,
    steward: Any = UNSET,
    steward_group: Any = UNSET,
    sensitivity: Any = UNSET,
    categories: Any = UNSET,
    tags: Any = UNSET,
    purposes: Any = UNSET,
    row_filter: Any = UNSET,
) -> Dataset:
    """Edit a dataset's metadata, dataset-level classification and usage policy (purposes, row
    filter: ``services.usage``). Validates everything first, so a bad value changes nothing.
    Users and groups are given by username / group name."""
    locked = Dataset.objects.select_for_update().get(pk=dataset.pk)
    if not permissions.can_change_dataset(actor, locked):
        raise PermissionDenied("You may view this dataset but not change it.")
    before = dataset_snapshot(locked)

    User = get_user_model()
    updates: dict[str, Any] = {}
    for name, value in (("description", description), ("provenance", provenance), ("kind", kind)):
        if value is not UNSET:
            updates[name] = value if value is not None else ""
    for name, value, model, lookup, label in (
        ("owner", owner, User, "username", "user"),
        ("steward", steward, User, "username", "user"),
        ("owner_group", owner_group, Group, "name", "group"),
        ("steward_group", steward_group, Group, "name", "group"),
    ):
        if value is not UNSET:
            updates[name] = _resolve(model, lookup, value, label)
    if sensitivity is not UNSET:
        updates["sensitivity"] = resolve_sensitivity(sensitivity)
    if purposes is not UNSET:
        updates["purposes"] = checked_purposes(purposes)
    if row_filter is not UNSET:
        updates["row_filter"] = checked_row_filter(locked, row_filter)
    new_categories = resolve_categories(categories) if categories is not UNSET else None
    new_tags = resolve_tags(tags) if tags is not UNSET else None

    for name, value in updates.items():
        setattr(locked, name, value)
    full_clean_or_raise(
        locked, validate_unique=False, validate_constraints=False, exclude=["fqn", "source"]
    )
    locked.save()
    if new_categories is not None:
        locked.categories.set(new_categories)
    if new_tags is not None:
        locked.tags.set(new_tags)
    dataset_refresh_effective_sensitivity(dataset=locked)
    locked.refresh_from_db()

    changes = diff(before, dataset_snapshot(locked))
    if changes:
        audit_record(actor=actor, action="catalog.dataset.update", target=locked, changes=changes)
    # The actor may have handed the dataset away; that is allowed, the check was made before.
    return locked


def _principal(user: Any, group: Any) -> Any:
    if (user is None) == (group is None):
        raise ValidationFailed("Name exactly one of a user or a group.", code="invalid_principal")
    if user is not None:
        return _resolve(get_user_model(), "username", user, "user")
    return _resolve(Group, "name", group, "group")


@transaction.atomic
def dataset_viewer_add(
    *, actor: Any, dataset: Dataset, user: Any = None, group: Any = None
) -> None:
    """Let a user or group read one dataset (a guardian object permission)."""
    locked = Dataset.objects.select_for_update().get(pk=dataset.pk)
    if not permissions.can_change_dataset(actor, locked):
        raise PermissionDenied("Only the dataset's owner, steward or an admin may add viewers.")
    principal = _principal(user, group)
    assign_perm("view_dataset", principal, locked)
    audit_record(
        actor=actor,
        action="catalog.dataset.viewer_add",
        target=locked,
        changes={"viewer": {"before": None, "after": str(principal)}},
    )


@transaction.atomic
def dataset_viewer_remove(
    *, actor: Any, dataset: Dataset, user: Any = None, group: Any = None
) -> None:
    locked = Dataset.objects.select_for_update().get(pk=dataset.pk)
    if not permissions.can_change_dataset(actor, locked):
        raise PermissionDenied("Only the dataset's owner, steward or an admin may remove viewers.")
    principal = _principal(user, group)
    remove_perm("view_dataset", principal, locked)
    audit_record(
        actor=actor,
        action="catalog.dataset.viewer_remove",
        target=locked,
        changes={"viewer": {"before": str(principal), "after": None}},
    )
