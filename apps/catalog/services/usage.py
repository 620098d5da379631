"""A dataset's usage policy, enforced by the governance decision: the purposes of use it may be
read for, and a row filter (which rows each person or group sees).

A row filter names one of the dataset's columns and, per group or person, the values of that
column whose rows they see: ``{"column": "region", "rules": [{"group": "emea", "values": ["EU",
"UK"]}, {"user": "alice", "values": ["US"]}]}``. A principal sees the rows of every rule that
names it or one of its groups; its owners and the admin role see every row; anyone else sees
none and is denied (``row_filter_no_rows``). Stored with ids (``group_id`` / ``user_id``), so a
rename keeps it; a rule whose person or group is gone is dropped.
"""

import re
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from apps.catalog.models import Dataset
from apps.core.errors import ValidationFailed

PURPOSE = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")
MAX_PURPOSES = 20
MAX_RULES = 100
MAX_VALUES = 100
MAX_VALUE_CHARS = 200


def _invalid(field: str, message: str, code: str) -> ValidationFailed:
    return ValidationFailed(f"{field}: {message}", code=code, extra={"fields": {field: [message]}})


def checked_purposes(value: Any) -> list[str]:
    """The purposes, validated and sorted (an empty list: any purpose)."""
    if not isinstance(value, list) or len(value) > MAX_PURPOSES:
        raise _invalid(
            "purposes", f"A list of at most {MAX_PURPOSES} purposes.", "invalid_purposes"
        )
    for purpose in value:
        if not isinstance(purpose, str) or not PURPOSE.match(purpose):
            raise _invalid(
                "purposes",
                f"{purpose!r} is not a purpose key (lowercase letters, digits and _.-, "
                "starting with a letter, at most 64).",
                "invalid_purposes",
            )
    return sorted(set(value))


def checked_row_filter(dataset: Dataset, value: Any) -> dict[str, Any] | None:
    """The row filter as stored (names resolved to ids), or None to remove it."""
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"column", "rules"}:
        raise _invalid(
            "row_filter",
            'An object with "column" and "rules" (or null for none).',
            "invalid_row_filter",
        )
    column = value["column"]
    live = set(dataset.columns.filter(removed_at__isnull=True).values_list("name", flat=True))
    if not isinstance(column, str) or column not in live:
        raise _invalid(
            "row_filter.column",
            f"{column!r} is not a column of {dataset.fqn}.",
            "unknown_column",
        )
    rules = value["rules"]
    if not isinstance(rules, list) or not 1 <= len(rules) <= MAX_RULES:
        raise _invalid(
            "row_filter.rules", f"A list of 1 to {MAX_RULES} rules.", "invalid_row_filter"
        )
    stored: list[dict[str, Any]] = []
    seen: set[tuple[str, int]] = set()
    for index, rule in enumerate(rules):
        field = f"row_filter.rules[{index}]"
        if (
            not isinstance(rule, dict)
            or len(set(rule) & {"group", "user"}) != 1
            or set(rule) - {"group", "user", "values"}
        ):
            raise _invalid(
                field,
                'An object with "group" or "user" (a name) and "values".',
                "invalid_row_filter",
            )
        kind = "group" if "group" in rule else "user"
        principal = _principal(kind, rule[kind], field)
        if (kind, principal) in seen:
            raise _invalid(field, f"A second rule for {kind} {rule[kind]!r}.", "invalid_row_filter")
        seen.add((kind, principal))
        stored.append({f"{kind}_id": principal, "values": _values(rule.get("values"), field)})
    return {"column": column, "rules": stored}


def _principal(kind: str, name: Any, field: str) -> int:
    found = None
    if isinstance(name, str) and kind == "group":
        found = Group.objects.filter(name=name).values_list("pk", flat=True).first()
    elif isinstance(name, str):
        found = (
            get_user_model()
            .objects.filter(username=name, is_active=True)
            .values_list("pk", flat=True)
            .first()
        )
    if found is None:
        raise _invalid(field, f"Unknown {kind} {name!r}.", f"unknown_{kind}")
    return int(found)


def row_values_ok(values: Any) -> bool:
    """Whether ``values`` are row filter column values as a rule or a grant may list them: a
    list of 1 to ``MAX_VALUES`` texts of 1 to ``MAX_VALUE_CHARS`` characters, without NUL."""
    return (
        isinstance(values, list)
        and 1 <= len(values) <= MAX_VALUES
        and all(
            isinstance(v, str) and 0 < len(v) <= MAX_VALUE_CHARS and "\x00" not in v for v in values
        )
    )


def _values(values: Any, field: str) -> list[str]:
    if not row_values_ok(values):
        raise _invalid(
            f"{field}.values",
            f"A list of 1 to {MAX_VALUES} values, each text of 1 to {MAX_VALUE_CHARS} "
            "characters: the column values whose rows it sees.",
            "invalid_row_filter",
        )
    return sorted(set(values))


def row_filter_named(dataset: Dataset) -> dict[str, Any] | None:
    """The dataset's row filter as people write it (names), without rules whose person or
    group is gone: what the API shows and the audit log records."""
    stored = dataset.row_filter
    if not stored:
        return None
    users = dict(
        get_user_model()
        .objects.filter(pk__in=[r["user_id"] for r in stored["rules"] if "user_id" in r])
        .values_list("pk", "username")
    )
    groups = dict(
        Group.objects.filter(
            pk__in=[r["group_id"] for r in stored["rules"] if "group_id" in r]
        ).values_list("pk", "name")
    )
    rules = []
    for rule in stored["rules"]:
        if "group_id" in rule and rule["group_id"] in groups:
            rules.append({"group": groups[rule["group_id"]], "values": rule["values"]})
        elif "user_id" in rule and rule["user_id"] in users:
            rules.append({"user": users[rule["user_id"]], "values": rule["values"]})
    return {"column": stored["column"], "rules": rules}
