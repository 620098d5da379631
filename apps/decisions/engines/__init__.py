"""Policy engines behind one interface (the decisions issue): load Rego and data once, then
evaluate queries against an input. Any engine failure is an ``EngineError``; callers turn it
into a deny, never an allow.
"""

from typing import Any, Protocol


class EngineError(Exception):
    """The engine could not give an answer (compile error, builtin error, panic, timeout)."""


class PolicyEngine(Protocol):
    def evaluate(self, query: str, input: dict[str, Any], *, input_json: str | None = None) -> Any:
        """The value of ``query`` (e.g. ``data.steward.governance.decision``) for ``input``;
        ``None`` when it is undefined. ``input_json``, when given, is ``input`` already written
        as JSON: an engine that takes its input as text uses it instead of writing it again."""
        ...
