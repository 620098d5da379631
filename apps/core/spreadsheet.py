"""CSV cells a spreadsheet opens safely: text that starts like a formula is quoted."""

from typing import Any

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """``value``, with a leading ``'`` if it is text a spreadsheet would run as a formula
    (OWASP's CSV injection advice); anything else unchanged."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
