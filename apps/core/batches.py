"""Claiming rows for background work: each batch in its own transaction, rows locked with
``FOR UPDATE SKIP LOCKED`` so concurrent runs share the work and never handle a row twice."""

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.db.models import QuerySet


def in_claimed_batches(
    queryset: QuerySet[Any], *, batch: int, handle: Callable[[list[Any]], None]
) -> int:
    """Lock up to ``batch`` rows of ``queryset`` (ordered, not sliced) that no one else holds,
    ``handle`` them in the same transaction, commit, and repeat until a batch comes back short.
    Whatever ``handle`` changes must take the rows out of ``queryset``. Returns rows handled.

    A run killed part-way keeps its committed batches; the rest is left for the next run."""
    done = 0
    while True:
        with transaction.atomic():
            rows = list(queryset.select_for_update(skip_locked=True, of=("self",))[:batch])
            if rows:
                handle(rows)
        done += len(rows)
        if len(rows) < batch:
            return done
