"""The Rego under ``policies/``: loading it and running its ``*_test.rego`` tests.

A test is any rule named ``test_*`` in a package; it passes when it evaluates to ``true``
(a failing test is undefined, so it is simply missing from its package's value).
"""

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

from apps.decisions.engines.embedded import RegorusEngine

_PACKAGE = re.compile(r"^package\s+([\w.]+)", re.MULTILINE)
_TEST_RULE = re.compile(r"^(test_\w+)\b", re.MULTILINE)


def policy_files(root: Path | None = None) -> dict[str, str]:
    """Every ``.rego`` file under ``root`` (default ``settings.POLICIES_DIR``), by relative path."""
    base = root or Path(settings.POLICIES_DIR)
    return {str(p.relative_to(base)): p.read_text() for p in sorted(base.rglob("*.rego"))}


def policy_revision(policies: Mapping[str, str], data: Any = None) -> str:
    """A short digest of the Rego files (and of the static data beside them, if any): what
    each decision reports as its ``policy_revision``."""
    digest = hashlib.sha256()
    for path, text in sorted(policies.items()):
        digest.update(path.encode() + b"\0" + text.encode() + b"\0")
    if data is not None:
        digest.update(json.dumps(data, sort_keys=True, separators=(",", ":")).encode())
    return digest.hexdigest()[:12]


@dataclass(frozen=True)
class PolicyTest:
    package: str
    name: str
    passed: bool


def run_policy_tests(
    policies: Mapping[str, str], data: Mapping[str, Any] | None = None
) -> list[PolicyTest]:
    engine = RegorusEngine(policies, data)
    results: list[PolicyTest] = []
    for path, text in sorted(policies.items()):
        if not path.endswith("_test.rego"):
            continue
        match = _PACKAGE.search(text)
        if match is None:
            continue
        package = match.group(1)
        names = sorted(set(_TEST_RULE.findall(text)))
        value = engine.evaluate(f"data.{package}", {}) or {}
        results.extend(PolicyTest(package, name, value.get(name) is True) for name in names)
    return results
