"""An entry's body text: plain changes are written in one orjson call, anything else converted
first; both give the text the conversion always gave."""

import collections
import datetime as dt
import enum
import random
import uuid
from decimal import Decimal

import pytest
from django.db import models

from apps.audit import merkle
from apps.audit.services import Target, _entry_columns, _jsonable
from apps.core.jsontext import canonical_json_if_plain
from tests.core.test_jsontext import _document


class Colour(enum.Enum):
    RED = "red"
    SET = frozenset({"b", "a"})


class Level(models.TextChoices):
    HIGH = "high"


class Rank(enum.IntEnum):
    ONE = 1


COMMON = {
    "created_at": dt.datetime(2026, 12, 1, 13, 0, tzinfo=dt.UTC),
    "ts": "2026-12-01T13:00:00.000Z",
    "actor_type": "user",
    "actor_id": 7,
    "actor_repr": "dana",
    "ip": "127.0.0.1",
    "request_id": "r-1",
}
EXOTIC = [
    {"b", "a"},
    ("t", 1),
    dt.datetime(2026, 12, 1, 13, 0, tzinfo=dt.UTC),
    dt.date(2026, 12, 1),
    Decimal("1.10"),
    uuid.UUID(int=7),
    {1: "one", 2: "two"},
    collections.OrderedDict(b=1, a=2),
    Level.HIGH,
    Rank.ONE,
    Colour.RED,
    Colour.SET,
    2**70,
    b"bytes",
]


def _with_exotic(value, rng: random.Random):
    if isinstance(value, dict):
        return {k: _with_exotic(v, rng) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_exotic(v, rng) for v in value]
    return rng.choice(EXOTIC) if rng.random() < 0.2 else value


def _body(changes) -> str:
    columns = _entry_columns(COMMON, "x.change", Target("x", "1"), changes, None, "success")
    return columns["body"]


def _converted_first(changes) -> str:
    columns = {k: v for k, v in COMMON.items() if k not in ("created_at", "ts")}
    columns |= {
        "action": "x.change",
        "target_type": "x",
        "target_id": "1",
        "target_repr": "1",
        "scope": "x:1",
        "outcome": "success",
    }
    return merkle.canonical_body(
        {"v": 1, "ts": COMMON["ts"], **columns, "changes": _jsonable(changes)}
    )


def test_plain_and_exotic_changes_give_the_text_of_converting_first():
    rng = random.Random(12)  # noqa: S311 - test data, not secrets
    converted = 0
    for _ in range(3000):
        changes = {"d": _document(rng), "e": _with_exotic(_document(rng), rng)}
        converted += canonical_json_if_plain(changes) is None
        assert _body(changes) == _converted_first(changes)
    assert 500 < converted < 2500  # both paths taken


def test_each_kind_of_value_is_written_as_converting_it_first_writes_it():
    for value in EXOTIC:
        assert _body({"v": value, "l": [value]}) == _converted_first({"v": value, "l": [value]})
    assert '"v":"red"' in _body({"v": Colour.RED})  # an enum is its value, on either path


@pytest.mark.django_db(transaction=True)
def test_a_target_no_column_can_hold_is_stored_storable_and_still_verifies(admin):
    """NUL and unpaired surrogates cannot be stored in Postgres text, and the target columns
    have lengths: they hold what they can (U+FFFD, cut), the body names the same, and the
    changes keep the value exactly (escaped in the JSON)."""
    from apps.audit.models import AuditEvent
    from apps.audit.services import audit_record_committed, audit_seal_pending
    from apps.audit.verify import verify_log

    odd = "inv\x001\ud800" + "x" * 500
    audit_record_committed(
        actor=admin,
        action="decision.remote",
        target=Target("t" * 90, odd, odd),
        changes={"id": "inv\x001"},
    )
    entry = AuditEvent.objects.get()
    assert entry.target_type == "t" * 80
    assert entry.target_id == ("inv\ufffd1\ufffd" + "x" * 500)[:64]
    assert entry.target_repr == ("inv\ufffd1\ufffd" + "x" * 500)[:400]
    assert entry.changes == {"id": "inv\x001"}
    audit_seal_pending()
    report = verify_log()
    assert report.ok, report.problem
