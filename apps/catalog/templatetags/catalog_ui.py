"""Small display helpers for the catalog templates."""

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from apps.catalog.views.lineage_svg import safe_color

register = template.Library()

MAX_EXAMPLES = 3


@register.filter
def badge(level: Any) -> str:
    """A sensitivity level as a coloured badge; ``None`` reads "unclassified"."""
    if level is None:
        return mark_safe('<span class="badge badge-none">unclassified</span>')
    return format_html(
        '<span class="badge" style="--badge: {}" title="{}">{}</span>',
        safe_color(level),
        level.description or level.name,
        level.name,
    )


@register.filter
def history_rows(changes: Any) -> list[dict[str, Any]]:
    """An audit event's ``changes`` as rows: a field with before/after, or a plain value."""
    if not isinstance(changes, dict):
        return []
    rows = []
    for field, change in changes.items():
        if isinstance(change, dict) and set(change) <= {"before", "after"}:
            if _show(change.get("before")) == _show(change.get("after")):
                continue  # e.g. an empty field on creation: nothing to read
            rows.append(
                {
                    "field": field,
                    "diff": True,
                    "before": _show(change.get("before")),
                    "after": _show(change.get("after")),
                }
            )
        else:
            rows.append({"field": field, "diff": False, "value": _show(change)})
    return rows


def _show(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):  # e.g. a sync summary's {"created": 3, "updated": 1}
        return ", ".join(f"{str(k).replace('_', ' ')} {_show(v)}" for k, v in value.items())
    return str(value)


@register.filter
def action_label(action: str) -> str:
    """``catalog.column.classify`` -> ``column classify``."""
    parts = str(action).split(".")
    return " ".join(parts[1:] if len(parts) > 1 else parts).replace("_", " ")


@register.filter
def evidence_summary(evidence: Any) -> str:
    """Counts and a few masked examples, e.g. ``17 of 20 sampled match · j***@example.com``."""
    if not isinstance(evidence, dict):
        return ""
    parts = []
    matches, sampled = evidence.get("matches"), evidence.get("sampled")
    if matches is not None and sampled is not None:
        parts.append(f"{matches} of {sampled} sampled match")
    elif matches is not None:
        parts.append(f"{matches} matches")
    examples = evidence.get("examples") or []
    if isinstance(examples, list) and examples:
        parts.append(", ".join(str(e) for e in examples[:MAX_EXAMPLES]))
    for key, value in evidence.items():
        if key not in {"matches", "sampled", "examples"} and isinstance(value, str | int | float):
            parts.append(f"{key.replace('_', ' ')}: {value}")
    return " · ".join(parts)


@register.filter
def percent(value: Any) -> str:
    try:
        return f"{float(value):.0%}"
    except (TypeError, ValueError):
        return ""


@register.filter
def summary_items(summary: Any) -> list[tuple[str, str]]:
    """A sync/scan summary dict as readable pairs."""
    if not isinstance(summary, dict):
        return []
    return [(str(k).replace("_", " "), _show(v)) for k, v in summary.items()]
