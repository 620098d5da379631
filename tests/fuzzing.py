"""Seeded damage to well-formed request bodies, for tests that expect a clear 4xx or an answer,
never a 5xx."""

import random
from typing import Any

# What JSON can carry that a field may not expect: wrong types, extremes, NUL, half a surrogate
# pair, text longer than any column, malformed and well-formed times and durations.
ODD: list[Any] = [
    None, True, 0, -1, 1.5, 10**30, -(10**20), 1e308, "", "1", "x" * 5000, "t" * 300, "ü" * 3,
    [], {}, [1, "a"], {"a": None}, {"id": None}, "\x00", "a\x00b", "\ud800",
    "2026-13-45T99:99:99Z", "2026-12-01T00:00:00Z", "P1D",
]  # fmt: skip


def damaged(
    value: Any, rng: random.Random, *, extra_keys: tuple[str, ...] = (), depth: int = 0
) -> Any:
    """``value`` with some parts replaced by ``ODD`` values or dropped, and now and then one of
    ``extra_keys`` added to an object."""
    if depth > 4 or rng.random() < 0.15:
        return rng.choice(ODD)
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            roll = rng.random()
            if roll >= 0.08:  # else dropped
                out[key] = (
                    damaged(item, rng, extra_keys=extra_keys, depth=depth + 1)
                    if roll < 0.45
                    else item
                )
        if extra_keys and rng.random() < 0.1:
            out[rng.choice(extra_keys)] = rng.choice(ODD)
        return out
    if isinstance(value, list):
        return [damaged(item, rng, extra_keys=extra_keys, depth=depth + 1) for item in value]
    return value
