"""Helpers the catalog views share."""

from collections.abc import Callable
from typing import Any, TypeVar

from django.http import Http404

from apps.classification import selectors as taxonomy
from apps.core.errors import NotFound

T = TypeVar("T")

PAGE_SIZE = 50


def get_or_404(fn: Callable[..., T], **kwargs: Any) -> T:
    """Call a selector; its ``NotFound`` (missing or not visible) becomes a 404 page."""
    try:
        return fn(**kwargs)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def taxonomy_for(user: Any) -> dict[str, list[Any]]:
    """The small taxonomy tables the forms offer as choices (a handful of rows each)."""
    return {
        "levels": list(taxonomy.sensitivity_level_list(actor=user)),
        "categories": list(taxonomy.category_list(actor=user)),
    }
