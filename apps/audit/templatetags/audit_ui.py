"""Display helpers for audit times."""

import datetime as dt

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def utc_ms(value: dt.datetime | None) -> str:
    """``2026-12-01 21:44:31.123``: an audit time in UTC to the millisecond it is recorded to
    (Django's ``date`` filter has no millisecond format character)."""
    if value is None:
        return ""
    utc = timezone.localtime(value, dt.UTC) if timezone.is_aware(value) else value
    return f"{utc:%Y-%m-%d %H:%M:%S}.{utc.microsecond // 1000:03d}"
