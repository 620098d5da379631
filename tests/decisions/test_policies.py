"""The Rego in policies/: every *_test.rego test passes, and a failing one would be caught."""

import datetime as dt
import random
import re

import pytest

from apps.decisions.engines import EngineError
from apps.decisions.engines.embedded import (
    UNDEFINED,
    CompiledRegorusEngine,
    RegorusEngine,
    _has_undefined,
)
from apps.decisions.policies import policy_files, run_policy_tests

POLICIES = policy_files()
RESULTS = run_policy_tests(POLICIES)


def test_there_are_policy_tests():
    assert len(RESULTS) >= 10
    assert {r.package for r in RESULTS} >= {"steward.governance_test"}


@pytest.mark.parametrize("result", RESULTS, ids=[f"{r.package}.{r.name}" for r in RESULTS])
def test_policy(result):
    assert result.passed, f"{result.package}.{result.name} is not true"


def test_a_failing_policy_test_is_reported():
    broken = dict(POLICIES)
    broken["extra/broken_test.rego"] = (
        "package steward.broken_test\n\nimport rego.v1\n\n"
        "test_one_is_two if 1 == 2\n\ntest_one_is_one if 1 == 1\n"
    )
    outcome = {
        r.name: r.passed for r in run_policy_tests(broken) if r.package == "steward.broken_test"
    }
    assert outcome == {"test_one_is_two": False, "test_one_is_one": True}


def test_a_compile_error_names_the_file_and_line():
    with pytest.raises(EngineError, match=r"^bad\.rego:\d+:\d+: \S"):
        RegorusEngine({"bad.rego": "package x\n\nallow if {\n"})


SNAPSHOT = {
    "steward": {
        "snapshot": {
            "version": 7,
            "levels": {"public": 0, "internal": 1, "confidential": 2, "restricted": 3},
            "default_clearance": "internal",
            "principals": {"user:vera": {"groups": [], "roles": [], "clearance": "internal"}},
            "datasets": {
                "crm.public.contacts": {
                    "sensitivity": "internal",
                    "owners": {},
                    "viewers": {"user:vera": True},
                    "purposes": [],
                    "columns": {
                        "email": {"sensitivity": "confidential", "categories": ["contact"]},
                        "note": {"sensitivity": "restricted", "categories": []},
                    },
                }
            },
            "grants": {},
        }
    }
}


def _request(**context):
    return {
        "subject": {"type": "user", "id": "vera"},
        "action": {"name": "read"},
        "resource": {"type": "dataset", "id": "crm.public.contacts"},
        "context": {"time": "2026-11-22T10:00:00Z", **context},
    }


ENGINES = [RegorusEngine, CompiledRegorusEngine]


@pytest.mark.parametrize("engine_class", ENGINES, ids=["interpreter", "compiled"])
def test_the_decision_object_through_the_engine(engine_class):
    engine = engine_class(POLICIES, SNAPSHOT)
    decision = engine.evaluate("data.steward.governance.decision", _request())
    assert decision == {
        "allow": True,
        "reasons": ["viewer"],
        "obligations": {"mask": {"email": "hash", "note": "redact"}},
    }


@pytest.mark.parametrize("engine_class", ENGINES, ids=["interpreter", "compiled"])
def test_an_unparseable_time_is_a_deny_not_an_error(engine_class):
    engine = engine_class(POLICIES, SNAPSHOT)
    decision = engine.evaluate("data.steward.governance.decision", _request(time="noon"))
    assert decision["allow"] is False
    assert "invalid_time" in decision["reasons"]


# The pattern the policy's time check stands for (it checks shapes: regorus compiles a regex on
# every call).
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)", re.ASCII)


def _times(rng: random.Random) -> list[str]:
    """Valid RFC 3339 times of every fraction length and zone, and mutations of them."""
    valid = []
    for digits in range(10):
        for zone in ("Z", "+05:30", "-00:00"):
            at = dt.datetime(2020, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=rng.randrange(10**9))
            fraction = (
                "." + "".join(rng.choice("0123456789") for _ in range(digits)) if digits else ""
            )
            valid.append(at.strftime("%Y-%m-%dT%H:%M:%S") + fraction + zone)
    mutated = []
    for text in valid * 10:
        i = rng.randrange(len(text) + 1)
        char = rng.choice("0123456789-:.+TZ tz\u0663x")
        mutated += [
            text[:i] + char + text[i:],
            text[:i] + text[i + 1 :],
            text[:i] + char + text[i + 1 :],
        ]
    return valid + mutated + ["noon", "", "2026-11-22", "2026-11-22T10:00", "1795000000"]


def _parses(text: str) -> bool:
    """A real time within what nanoseconds since 1970 in 64 bits hold, with a zone under 24h."""
    try:
        at = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return 1678 < at.year < 2262 and (text.endswith("Z") or int(text[-2:]) < 60)


@pytest.mark.parametrize("engine_class", ENGINES, ids=["interpreter", "compiled"])
def test_the_time_check_admits_exactly_what_the_rfc3339_pattern_matches(engine_class):
    query = "data.steward.governance.now_ns"
    engine = engine_class(
        POLICIES, SNAPSHOT, *([(query,)] if engine_class is CompiledRegorusEngine else [])
    )
    times = _times(random.Random(11))  # noqa: S311 - test data, not secrets
    # A time of the right shape that is no time (month 13, year 3000) is an error in the
    # interpreter, as it was with the regex: the check is about the text's form.
    times = [t for t in times if not RFC3339.fullmatch(t) or _parses(t)]
    admitted = {t for t in times if engine.evaluate(query, _request(time=t)) is not None}
    assert admitted == {t for t in times if RFC3339.fullmatch(t)}
    assert len(admitted) >= 30
    assert len(times) - len(admitted) >= 500


def test_an_undefined_query_is_none():
    engine = RegorusEngine(POLICIES, SNAPSHOT)
    assert engine.evaluate("data.steward.nothing_here", _request()) is None


def test_an_undefined_decision_is_none_on_the_compiled_engine():
    partly = {
        "p.rego": 'package steward.governance\nimport rego.v1\ndecision := {"allow": true, "reasons": [x]} if x := input.nope\n'
    }
    assert (
        CompiledRegorusEngine(partly).evaluate("data.steward.governance.decision", _request())
        is None
    )


def test_a_result_with_an_undefined_inside_is_recognised():
    # The compiled mode marks an undefined value inside a result with this string (its `else`
    # handling once produced one in a mask); the engine turns such a result into an error.
    assert _has_undefined({"allow": True, "obligations": {"mask": {"c": UNDEFINED}}})
    assert _has_undefined([1, [UNDEFINED]])
    assert not _has_undefined({"allow": True, "obligations": {"mask": {"c": "hash"}}})
