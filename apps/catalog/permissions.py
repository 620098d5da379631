"""Permission names for the catalog, and the rules that combine global and object permissions.

- Global ``catalog.view_dataset`` / ``catalog.change_dataset`` (superusers, catalog admins,
  auditors by group) reach every dataset.
- A dataset's owner and steward (users, or members of the owner/steward group) may view and edit it.
- Object permissions granted with django-guardian make a person or group a viewer (or editor)
  of one dataset.
- Everyone else sees nothing: selectors filter it out, and a direct id answers 404.
"""

from typing import Any

VIEW_DATASET = "catalog.view_dataset"
CHANGE_DATASET = "catalog.change_dataset"
ADD_DATASET = "catalog.add_dataset"
VIEW_SOURCE = "catalog.view_datasource"
MANAGE_SOURCES = "catalog.change_datasource"
ADD_SOURCE = "catalog.add_datasource"
MANAGE_TAXONOMY = "classification.change_sensitivitylevel"
MANAGE_TAGS = "classification.add_tag"


def _group_ids(actor: Any) -> set[int]:
    cached = getattr(actor, "_steward_group_ids", None)
    if cached is None:
        cached = set(actor.groups.values_list("id", flat=True))
        actor._steward_group_ids = cached
    return cached


def is_owner_or_steward(actor: Any, dataset: Any) -> bool:
    if not getattr(actor, "is_authenticated", False):
        return False
    if actor.pk in (dataset.owner_id, dataset.steward_id):
        return True
    groups = _group_ids(actor)
    return bool(groups & {dataset.owner_group_id, dataset.steward_group_id} - {None})


def can_view_dataset(actor: Any, dataset: Any) -> bool:
    if not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return False
    return (
        actor.has_perm(VIEW_DATASET)
        or actor.has_perm(CHANGE_DATASET)
        or is_owner_or_steward(actor, dataset)
        or actor.has_perm(VIEW_DATASET, dataset)
        or actor.has_perm(CHANGE_DATASET, dataset)
    )


def can_change_dataset(actor: Any, dataset: Any) -> bool:
    if not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return False
    return (
        actor.has_perm(CHANGE_DATASET)
        or is_owner_or_steward(actor, dataset)
        or actor.has_perm(CHANGE_DATASET, dataset)
    )


def can_manage_sources(actor: Any) -> bool:
    return bool(getattr(actor, "is_authenticated", False) and actor.has_perm(MANAGE_SOURCES))
