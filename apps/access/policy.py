"""The approval policy (``policies/access/approval.rego``), evaluated in-process.

One engine per thread (the embedded engine keeps per-evaluation state), rebuilt when the policy
files change. Anything short of a well-formed outcome is an error: a request is never approved
because the policy could not be asked.
"""

import threading
from typing import Any

from apps.core.errors import ServiceUnavailable
from apps.decisions.engines import EngineError
from apps.decisions.engines.embedded import RegorusEngine
from apps.decisions.policies import policy_files, policy_revision

APPROVAL_QUERY = "data.steward.access.approval.outcome"
_RESULTS = {"approve", "review", "refuse"}


class _Local(threading.local):
    engine: RegorusEngine | None = None
    revision: str = ""


_local = _Local()


def _unavailable(detail: str) -> ServiceUnavailable:
    return ServiceUnavailable(
        f"The approval policy could not decide ({detail}); nothing was changed.",
        code="policy_unavailable",
    )


def approval_outcome(policy_input: dict[str, Any]) -> dict[str, Any]:
    policies = {p: t for p, t in policy_files().items() if not p.endswith("_test.rego")}
    revision = policy_revision(policies)
    try:
        if _local.engine is None or _local.revision != revision:
            _local.engine = RegorusEngine(policies)
            _local.revision = revision
        outcome = _local.engine.evaluate(APPROVAL_QUERY, policy_input)
    except EngineError as exc:
        raise _unavailable(str(exc)) from exc
    if (
        not isinstance(outcome, dict)
        or outcome.get("result") not in _RESULTS
        or not isinstance(outcome.get("approvals_required"), int)
        or not isinstance(outcome.get("max_duration_seconds"), int)
        or not isinstance(outcome.get("reasons"), list)
    ):
        raise _unavailable("undefined or malformed outcome")
    return {**outcome, "revision": revision}
