"""The embedded engine: regorus (gordon-to-regorus), a Rego interpreter in-process.

Chosen for speed (see ../shared/notes/rego-engines.md: p50 ~0.11 ms, compiled mode ~0.05 ms,
where the embedded OPA Go engine takes ~0.22 ms); its gaps against OPA (no string
interpolation, missing JWT/crypto builtins, builtin errors raised rather than undefined) are
kept out of our policies, which the golden-decision tests check on every engine.
"""

from collections.abc import Mapping
from typing import Any

import regorus

from apps.core.jsontext import json_text, parse_json
from apps.decisions.engines import EngineError


class RegorusEngine:
    """One engine per thread (regorus engines are bound to the thread that made them)."""

    def __init__(
        self,
        policies: Mapping[str, str],
        data: Mapping[str, Any] | None = None,
        *,
        data_json: str | None = None,
    ):
        """``data_json``: the data already serialized (one copy shared by many engines)."""
        self._engine = regorus.Engine()
        try:
            for path, text in sorted(policies.items()):
                self._engine.add_policy(path, text)
            if data_json is None and data:
                data_json = json_text(data)
            if data_json:
                self._engine.add_data_json(data_json)
        except BaseException as exc:  # a Rust panic surfaces as BaseException
            raise EngineError(_first_line(exc)) from exc

    def evaluate(self, query: str, input: dict[str, Any], *, input_json: str | None = None) -> Any:
        """``input_json``: ``input`` already serialized (the caller needed the text anyway)."""
        try:
            self._engine.set_input_json(input_json or json_text(input))
            raw = parse_json(self._engine.eval_query_as_json(query))
        except BaseException as exc:
            raise EngineError(_first_line(exc)) from exc
        results = raw.get("result") or []
        if not results:
            return None
        return results[0]["expressions"][0]["value"]

    def packages(self) -> list[str]:
        return list(self._engine.get_packages())

    def modules(self) -> list[dict[str, Any]]:
        """The parsed modules (regorus's AST as JSON: ``[{"source", "ast"}]``)."""
        try:
            return list(parse_json(self._engine.get_ast_as_json()))
        except BaseException as exc:
            raise EngineError(_first_line(exc)) from exc


def _first_line(exc: BaseException) -> str:
    """regorus errors carry a code excerpt and a Rust backtrace: keep where and what."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    where = next((ln.removeprefix("-->").strip() for ln in lines if ln.startswith("-->")), "")
    what = next((ln.removeprefix("error:").strip() for ln in lines if ln.startswith("error:")), "")
    if where or what:
        return f"{where}: {what}".strip(": ")[:500]
    return (lines[0] if lines else type(exc).__name__)[:500]


UNDEFINED = "<undefined>"


def _has_undefined(value: Any) -> bool:
    if value == UNDEFINED:
        return True
    if isinstance(value, dict):
        return any(_has_undefined(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_undefined(v) for v in value)
    return False


class CompiledRegorusEngine:
    """regorus's compiled mode (RVM): the policies compiled once for fixed entry points.

    About 8x faster than the interpreter on the governance policy (bench/decisions.py). It
    answers undefined as the string ``"<undefined>"``: a wholly undefined result is ``None``;
    one undefined inside a result is an ``EngineError`` (never a half-formed decision).
    """

    def __init__(
        self,
        policies: Mapping[str, str],
        data: Mapping[str, Any] | None = None,
        entry_points: tuple[str, ...] = ("data.steward.governance.decision",),
        *,
        data_json: str | None = None,
    ):
        modules = [(p, t) for p, t in sorted(policies.items()) if not p.endswith("_test.rego")]
        if data_json is None:
            data_json = json_text(data or {})
        self._entry_points = set(entry_points)
        try:
            # Compiled against empty data, the data then loaded once: the program reads data at
            # run time either way (bench/decisions.py compares 2,000 decisions with the
            # interpreter), and compiling with 17 MB of snapshot took 0.5 s of a 0.7 s load.
            program = regorus.Program.compile_from_modules("{}", modules, list(entry_points))
            self._vm = regorus.Rvm()
            self._vm.load_program(program)
            self._vm.set_data_json(data_json)
        except BaseException as exc:
            raise EngineError(_first_line(exc)) from exc

    def evaluate(self, query: str, input: dict[str, Any], *, input_json: str | None = None) -> Any:
        """``input_json``: ``input`` already serialized (the caller needed the text anyway)."""
        if query not in self._entry_points:
            raise EngineError(f"{query} is not an entry point of this compiled program")
        try:
            self._vm.set_input_json(input_json or json_text(input))
            text = self._vm.execute_entry_point(query)
            value = parse_json(text)
        except BaseException as exc:
            raise EngineError(_first_line(exc)) from exc
        if value == UNDEFINED:
            return None
        if UNDEFINED in text and _has_undefined(value):  # walk only when the marker is there
            raise EngineError(f"{query} is partly undefined")
        return value
