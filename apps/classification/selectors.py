"""Reads of the classification taxonomy. Any active, signed-in person may read it."""

from typing import Any

from django.db.models import QuerySet

from apps.classification.models import DataCategory, SensitivityLevel, Tag


def _may_read(actor: Any) -> bool:
    return bool(getattr(actor, "is_authenticated", False) and actor.is_active)


def sensitivity_level_list(*, actor: Any) -> QuerySet[SensitivityLevel]:
    """The sensitivity scale, least sensitive first."""
    qs = SensitivityLevel.objects.order_by("rank")
    return qs if _may_read(actor) else qs.none()


def category_list(*, actor: Any) -> QuerySet[DataCategory]:
    qs = DataCategory.objects.select_related("parent", "default_sensitivity").order_by("key")
    return qs if _may_read(actor) else qs.none()


def tag_list(*, actor: Any, q: str = "") -> QuerySet[Tag]:
    qs = Tag.objects.order_by("key")
    if q:
        qs = qs.filter(key__icontains=q)
    return qs if _may_read(actor) else qs.none()
