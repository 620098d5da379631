"""CSV exports a spreadsheet opens safely: streamed a line at a time, and text that starts
like a formula quoted."""

import csv
from collections.abc import Iterable, Iterator
from typing import Any

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """``value``, with a leading ``'`` if it is text a spreadsheet would run as a formula
    (OWASP's CSV injection advice); anything else unchanged."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


class _Echo:
    """A file whose ``write`` hands the line back (``csv.writer`` into a streaming response)."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """Each row as one CSV line, ``None`` as an empty cell, every cell ``spreadsheet_safe``."""
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow(["" if v is None else spreadsheet_safe(v) for v in row])
