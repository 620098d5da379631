"""Evaluate one governance decision: fail closed, and record every decision.

``decision_evaluate`` takes an AuthZEN-shaped request (subject, action, resource, context),
asks the engine for ``data.steward.governance.decision`` over the governance snapshot, and
records the outcome in the audit log (``audit_record_committed``: durable before it returns).
Anything that keeps the engine from giving a well-formed answer is a deny with a reason code;
a decision that cannot be recorded is returned as a deny (``audit_unavailable``).
"""

import contextlib
import dataclasses
import datetime as dt
import gc
import hashlib
import os
import random
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from apps.audit.services import Entry, Target, audit_record_committed_many, format_ts
from apps.core.errors import ServiceUnavailable, ValidationFailed
from apps.core.jsontext import canonical_json, json_text
from apps.decisions import changes
from apps.decisions.engines import EngineError, PolicyEngine
from apps.decisions.engines.embedded import CompiledRegorusEngine, RegorusEngine
from apps.decisions.engines.opa import OpaEngine, opa_engine
from apps.decisions.packages import (
    GOVERNANCE_QUERY,
    ActivePolicy,
    active_policy,
    package_queries,
)
from apps.decisions.snapshot import (
    build_snapshot,
    datasets_of,
    fqns_gone,
    grants_of,
    principals_and_bindings,
)

DECISION_QUERY = GOVERNANCE_QUERY


@dataclass
class Decision:
    allow: bool
    reasons: list[str]
    obligations: dict[str, Any] = field(default_factory=dict)
    decision_id: str = ""
    policy_revision: str = ""
    snapshot_version: int = 0


def _spread() -> float:
    """A build's ``spread``: +-25% around DECISION_DELTA_MAX_KEYS, drawn per process."""
    return random.uniform(0.75, 1.25)  # noqa: S311 - spreading load, not a secret


@dataclass(frozen=True)
class Build:
    """One build of what decisions read: the active policy and the governance snapshot, from
    one consistent read of the database (``marker`` says which)."""

    version: int
    active: ActivePolicy
    snapshot: dict[str, Any]
    marker: str
    incremental: bool = False  # patched from the previous build (see ``changes.Pending``)
    # The build whose data the engines hold (None: this one), and the keys of each section that
    # changed since it: a request reading one of them carries those entries (``request_view``).
    base: "Build | None" = None
    changed: dict[str, frozenset[str]] = field(default_factory=dict)
    # Scales DECISION_DELTA_MAX_KEYS for this build as a base: a server's processes see the same
    # changes, and would otherwise all load the snapshot again after the same one.
    spread: float = field(default_factory=_spread)
    # The JSON texts, written when first needed (an engine loads this build) from ``reference``
    # (a written build this one was patched from), then kept: see ``_texts``.
    texts: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def engine_build(self) -> "Build":
        return self.base or self

    @property
    def data_json(self) -> str:
        """{"steward": {"snapshot", "packages", "embedded"}}, what every engine loads."""
        return str(self._texts()["data"])

    @property
    def sections_json(self) -> dict[str, str]:
        """Each small snapshot section's JSON (a patch writes again only what it replaced)."""
        return dict(self._texts()["sections"])

    @property
    def entries_json(self) -> dict[str, dict[str, str]]:
        """Each entry's JSON of the big sections."""
        return dict(self._texts()["entries"])

    def _texts(self) -> dict[str, Any]:
        with self.lock:
            if "data" not in self.texts:
                reference = self.texts.pop("reference", None)
                sections, entries = _serialized(self.snapshot, reference)
                body = ",".join(f"{json_text(key)}:{text}" for key, text in sections.items())
                packages = json_text(self.active.data)
                # "embedded": the governance policy may take entries with a request (_DELTA).
                self.texts["data"] = (
                    f'{{"steward":{{"snapshot":{{{body}}},"packages":{packages},'
                    '"embedded":{"input_delta":true}}}'
                )
                self.texts["sections"] = {k: t for k, t in sections.items() if k not in entries}
                self.texts["entries"] = entries
            return self.texts


class _Shared:
    """The process's current build, shared by its threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.build: Build | None = None
        self.checked_at = 0.0
        self.generation = -1


class _State(threading.local):
    engine: RegorusEngine | CompiledRegorusEngine | None = None
    version: int = 0  # the build whose data the engine holds
    base: int = 0  # and that build's base: it is behind any later build of that base only in
    # the keys that build says changed, so it serves those builds with their entries too
    # DECISION_ENGINE=opa only: the resource type -> query map, refreshed like a build.
    queries: dict[str, str] = {}  # replaced whole, never mutated
    checked_at: float = 0.0
    generation: int = -1


_shared = _Shared()
_state = _State()
_version_lock = threading.Lock()
_version = {"n": 0, "generation": 0}


def snapshot_invalidate() -> None:
    """Make this process look for changes before its next decision (services call it once
    their change commits, so the change is visible at once in this process too)."""
    with _version_lock:
        _version["generation"] += 1


def snapshot_generation() -> int:
    """Bumped by every ``snapshot_invalidate``."""
    return _version["generation"]


def _fresh(checked_at: float, generation: int) -> bool:
    return (
        generation == _version["generation"]
        and time.monotonic() - checked_at <= settings.DECISION_SNAPSHOT_REFRESH_SECONDS
    )


def current_build() -> Build:
    """The process's build of the active policy and snapshot, rebuilt only when something it
    reads changed (``apps.decisions.changes``).

    At most every ``DECISION_SNAPSHOT_REFRESH_SECONDS`` (and at once after
    ``snapshot_invalidate``) one thread asks the database whether anything changed since the
    build (one small query); only then is the snapshot built again, once for the whole process.
    Meanwhile other threads keep deciding from the build they have.
    """
    build = _shared.build
    if build is not None and _fresh(_shared.checked_at, _shared.generation):
        return build
    if build is not None and not _shared.lock.acquire(blocking=False):
        return build  # another thread is checking or rebuilding
    if build is None:
        _shared.lock.acquire()
    try:
        build = _shared.build
        if build is not None and _fresh(_shared.checked_at, _shared.generation):
            return build
        generation = _version["generation"]  # read first: an invalidation meanwhile wins
        unchecked = time.monotonic() - _shared.checked_at
        if build is None or unchecked > changes.max_unchecked_seconds():
            _shared.build = build = _rebuilt(None)
        elif changes.changed_since(build.marker):
            _shared.build = build = _rebuilt(build)
        _shared.checked_at = time.monotonic()
        _shared.generation = generation
        return build
    finally:
        _shared.lock.release()


# Python's cycle collector and the snapshot. At 10k datasets / 100k grants a build
# is ~1M dicts and lists, none in a reference cycle. Collecting while they are made re-scans
# the growing heap again and again (a full build took 1.96-2.66 s with the collector on, 1.0 s
# with it off), and every later full collection would walk them all again (~0.2-0.3 s, a
# stall of whichever request triggers it). So a build runs with the collector off, and a full
# build is then frozen (``gc.freeze``: never scanned again; freed, as before, by reference
# counting when a later build replaces it). Garbage is collected just before a full build, so
# what is frozen with it is live; what becomes cyclic garbage later among those objects (the
# requests in flight then: a decision request leaves some tens of such objects) is never
# collected, a few kB per full build, which is rare (see ``changes``). Patches are small and
# are not frozen.
def _rebuilt(previous: Build | None) -> Build:
    """A new build. When ``changes.changes_since`` says what changed since ``previous`` can be
    patched (principals and bindings, some people's grants, some datasets' entries, removed
    datasets), its snapshot with just those read again (``incremental``); otherwise all of it.
    Either way from one consistent read, whose marker the new build keeps."""

    def read() -> tuple[ActivePolicy, dict[str, Any], bool]:
        if previous is not None:
            pending = changes.changes_since(previous.marker)
            if not pending.everything:
                return previous.active, _patched(previous.snapshot, pending), True
        gc.collect()  # what is garbage now is not frozen with the new build (below)
        return active_policy(), build_snapshot(), False

    collecting = gc.isenabled()
    gc.disable()  # see the comment above
    try:
        marker, (active, snapshot, incremental) = changes.read_consistently(read)
        with _version_lock:
            _version["n"] += 1
            version = _version["n"]
        snapshot["version"] = version
        base, changed = _engine_base(previous, snapshot) if incremental and previous else (None, {})
        build = Build(version, active, snapshot, marker, incremental, base, changed)
        if incremental and previous:
            # Texts are written from the last written build (the engines' copy) when needed.
            build.texts["reference"] = previous.engine_build
        if base is None:
            build.data_json  # noqa: B018 - the engines load it next: written now, GC still off
        if not incremental:
            gc.freeze()
        return build
    finally:
        if collecting:
            gc.enable()


# Loading a snapshot into an engine takes ~0.3-0.6 s at 10k datasets / 100k grants, and regorus
# holds the GIL meanwhile: the whole process stalls. With one after every change, a grant a
# second left the API answering 13 requests a second (bench/decisions_http.py --churn-ms 1000).
# So after a patch the engines keep the data they hold (the build's ``base``), and a request that
# reads an entry changed since carries the entries it reads as they are now (``input.delta``,
# see policies/governance/governance.rego). They load the whole snapshot again after a full
# rebuild, when a section other than these changed, and after a response once more than
# DECISION_DELTA_MAX_KEYS keys changed (give or take 25%, at random per process, so that a
# server's processes do not all stall at once): past that, many requests would carry entries.
# Not for age: a base is as exact when old, and a timer made every process load at the first
# change after a quiet spell (with a 4 s limit and a grant a second, p99 0.99-1.27 s).
_DELTA = ("principals", "bindings", "datasets", "grants")
_MISSING = object()


def changed_keys(old: dict[str, Any], new: dict[str, Any]) -> frozenset[str]:
    """The keys whose entries differ between two versions of a snapshot section (added,
    removed or changed; an entry a patch kept is the same object, compared at once)."""
    if old is new:
        return frozenset()
    return frozenset(
        key
        for key in old.keys() | new.keys()
        if (a := old.get(key, _MISSING)) is not (b := new.get(key, _MISSING)) and a != b
    )


def _engine_base(
    previous: Build, snapshot: dict[str, Any]
) -> tuple[Build | None, dict[str, frozenset[str]]]:
    """For a patch of ``previous``: the build whose data the engines keep, and what changed
    since it; ``(None, {})`` when they must load this one."""
    base = previous.engine_build
    before = previous.snapshot
    if any(before.get(k) != v for k, v in snapshot.items() if k not in _DELTA and k != "version"):
        return None, {}
    changed = {
        section: previous.changed.get(section, frozenset())
        | changed_keys(before.get(section, {}), snapshot.get(section, {}))
        for section in _DELTA
    }
    if _changed_count(changed) > settings.DECISION_DELTA_MAX_KEYS * _PATCH_SLACK:
        return None, {}
    return base, changed


# A reload falls due at the limit below and is done after a response (``reload_if_due``); a
# patch forces it past this many times the limit (a process where no request finishes).
_PATCH_SLACK = 4


def _changed_count(changed: dict[str, frozenset[str]]) -> int:
    return sum(len(keys) for keys in changed.values())


def _due(base: Build, changed: dict[str, frozenset[str]]) -> bool:
    """Whether engines should load the whole snapshot rather than keep ``base``."""
    return _changed_count(changed) > settings.DECISION_DELTA_MAX_KEYS * base.spread


def reload_if_due(**_: Any) -> None:
    """After a response (``request_finished``): when this process's engines are due to load the
    whole snapshot, the current build becomes their base and this thread's engine loads it now,
    so no request waits for it (with sync workers, the next requests go to other workers
    meanwhile; a gthread process's other threads still wait for the GIL, and load it on their
    next decision)."""
    if settings.DECISION_ENGINE == "opa":
        return
    build = _shared.build
    if build is None or build.base is None or not _due(build.base, build.changed):
        return
    if not _shared.lock.acquire(blocking=False):
        return  # another thread is building
    try:
        if _shared.build is not build:
            return
        with build.lock:  # written whole or not at all
            texts = dict(build.texts) if "data" in build.texts else {"reference": build.base}
        rebased = dataclasses.replace(
            build,
            base=None,
            changed={},
            spread=_spread(),
            texts=texts,
            lock=threading.Lock(),
        )
        rebased.data_json  # noqa: B018 - written before it is published
        _shared.build = rebased
    finally:
        _shared.lock.release()
    if _state.engine is not None:  # a thread that decides (not one that only serves bundles)
        with contextlib.suppress(EngineError):  # the next decision fails closed, as it would
            _engine()


def request_view(
    snapshot: dict[str, Any], changed: dict[str, frozenset[str]], policy_input: dict[str, Any]
) -> dict[str, Any] | None:
    """The entries the governance policy reads for this request, as they are in ``snapshot``,
    if one of them is among the keys ``changed`` since the engine's data (``None``: the
    engine's data is current for it). Absent keys are entries that do not exist."""
    if not changed:
        return None
    subject, resource = policy_input["subject"], policy_input["resource"]
    principal_id = f"{subject['type']}:{subject['id']}"
    resource_id = resource["id"]
    principal = snapshot["principals"].get(principal_id)
    groups = principal.get("groups") if isinstance(principal, dict) else None
    identities = [principal_id, *(groups if isinstance(groups, list) else [])]
    if not (
        principal_id in changed["principals"]
        or resource_id in changed["datasets"]
        or any(i in changed["grants"] or i in changed["bindings"] for i in identities)
    ):
        return None
    dataset = snapshot["datasets"].get(resource_id)
    bindings, grants = snapshot["bindings"], snapshot["grants"]
    return {
        "principals": {} if principal is None else {principal_id: principal},
        "datasets": {} if dataset is None else {resource_id: dataset},
        "bindings": {i: bindings[i] for i in identities if i in bindings},
        "grants": {
            i: {resource_id: grants[i][resource_id]}
            for i in identities
            if resource_id in grants.get(i, {})
        },
    }


# The big sections (most of the 17 MB at 10k datasets / 100k grants), kept as JSON per entry:
# a patch replaces a few entries and keeps the others' objects.
_BY_ENTRY = ("datasets", "grants")


def _serialized(
    snapshot: dict[str, Any], previous: "Build | None"
) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """The JSON of each section, and of each entry of the big ones. What a patch kept (the
    very same object as in ``previous``) reuses ``previous``'s text."""
    sections: dict[str, str] = {}
    entries: dict[str, dict[str, str]] = {}
    for key, value in snapshot.items():
        before = previous.snapshot.get(key) if previous is not None else None
        if key in _BY_ENTRY and isinstance(value, dict):
            old = previous.entries_json.get(key) if previous is not None else None
            if old is not None and before is value:
                texts = old
            else:
                kept = before if isinstance(before, dict) else {}
                known = old or {}
                texts = {
                    k: known[k] if k in known and kept.get(k) is v else json_text(v)
                    for k, v in value.items()
                }
            entries[key] = texts
            sections[key] = "{" + ",".join(f"{json_text(k)}:{t}" for k, t in texts.items()) + "}"
        elif previous is not None and before is value and key in previous.sections_json:
            sections[key] = previous.sections_json[key]
        else:
            sections[key] = json_text(value)
    return sections, entries


def _patched(snapshot: dict[str, Any], pending: changes.Pending) -> dict[str, Any]:
    """``snapshot`` with the principals and bindings (if ``pending.principals``), the grants of
    ``pending.grants_of`` and the entries of ``pending.datasets`` read again, and the datasets
    ``pending.removed`` dropped with the grants on them (a shallow copy: the previous build is
    left as it was)."""
    patched = dict(snapshot)
    if pending.principals:
        patched["principals"], patched["bindings"] = principals_and_bindings()
    if pending.grants_of:
        entries, principals = grants_of(set(pending.grants_of))
        grants = {p: g for p, g in snapshot["grants"].items() if p not in principals}
        grants.update(entries)
        patched["grants"] = grants
    if pending.datasets:
        patched["datasets"] = {**snapshot["datasets"], **datasets_of(set(pending.datasets))}
    if pending.removed:
        gone = fqns_gone(set(pending.removed))
        patched["datasets"] = {f: d for f, d in patched["datasets"].items() if f not in gone}
        remaining: dict[str, Any] = {}
        for who, by_fqn in patched["grants"].items():
            if gone.isdisjoint(by_fqn):
                remaining[who] = by_fqn
            elif kept := {f: g for f, g in by_fqn.items() if f not in gone}:
                remaining[who] = kept
        patched["grants"] = remaining
    if pending.principals:  # a renamed person's grants under the old name go
        principals = patched["principals"]
        if any(who not in principals for who in patched["grants"]):
            patched["grants"] = {w: g for w, g in patched["grants"].items() if w in principals}
    return patched


def _engine(
    resource_types: Iterable[str] = (),
) -> tuple[
    RegorusEngine | CompiledRegorusEngine | OpaEngine, str, int, dict[str, str], Build | None
]:
    """This thread's engine for requests on ``resource_types``, the policy revision, snapshot
    version, resource type -> query map and the build (None with OPA). The engine is reloaded
    (regorus engines belong to the thread that made them) when it holds neither the build's base
    nor a later build of that base (see ``_DELTA``), or, when one of the types is decided by a
    policy package that may read the snapshot (it reads it as the engine holds it: see
    ``packages.reads_snapshot``), the build itself.

    With ``DECISION_ENGINE=opa`` it is the process's client for the OPA server at ``OPA_URL``,
    which holds the policies and snapshot itself (from our bundle) and reports the revision
    with each answer; only the resource type map is read here.
    """
    if settings.DECISION_ENGINE == "opa":
        engine = opa_engine(
            settings.OPA_URL, timeout=settings.OPA_TIMEOUT_SECONDS, token=settings.OPA_TOKEN
        )
        if not _fresh(_state.checked_at, _state.generation):
            generation = _version["generation"]
            _state.queries = package_queries()
            _state.checked_at, _state.generation = time.monotonic(), generation
        return engine, "", 0, _state.queries, None
    build = current_build()
    current = build.base is not None and any(
        t in build.active.snapshot_types for t in resource_types
    )
    if current:
        held = _state.version == build.version
    else:
        held = _state.base == build.engine_build.version and _state.version <= build.version
    if _state.engine is None or not held:
        load = build if current else build.engine_build
        active = load.active
        if settings.DECISION_ENGINE == "interpreter":
            serving = {p: t for p, t in active.files.items() if not p.endswith("_test.rego")}
            _state.engine = RegorusEngine(serving, data_json=load.data_json)
        else:
            _state.engine = CompiledRegorusEngine(
                active.files, entry_points=active.entry_points, data_json=load.data_json
            )
        _state.version, _state.base = load.version, load.engine_build.version
    return _state.engine, build.active.revision, build.version, build.active.queries, build


_checked: dict[str, str | None] = {}


def policy_engine_check() -> str | None:
    """Readiness: the active policy (POLICIES_DIR and the loaded packages) compiles for the
    configured engine (cached per revision, so a probe does not compile on every call). None
    when fine."""
    active = active_policy()
    if active.revision not in _checked:
        data = {"steward": {"snapshot": {}, "packages": active.data}}
        try:
            if settings.DECISION_ENGINE == "interpreter":
                RegorusEngine(active.files, data)
            else:
                CompiledRegorusEngine(active.files, data, active.entry_points)
            _checked[active.revision] = None
        except EngineError as exc:
            _checked[active.revision] = f"policies do not compile: {exc}"
    if not any(p.endswith(".rego") and not p.endswith("_test.rego") for p in active.files):
        return "no policies found"
    return _checked[active.revision]


def _canonical(policy_input: dict[str, Any]) -> str:
    """The input's canonical JSON: what the engine is given and what the audit entry digests.
    Text with no UTF-8 form cannot be either: the request is malformed."""
    try:
        return canonical_json(policy_input)
    except ValueError as exc:
        raise ValidationFailed(
            "Malformed decision request: text must be valid Unicode"
            " (it holds an unpaired surrogate escape such as \\ud800).",
            code="invalid_request",
        ) from exc


# The embedded engine reads JSON nested at most this deep (the input object itself is level 1).
ENGINE_MAX_DEPTH = 127


def _deeper(value: Any, levels: int) -> bool:
    """Whether ``value`` (a JSON object or array is one level) nests more than ``levels`` deep.
    Walked only after the engine failed on it: ~1 us an input, not worth paying on every one."""
    if levels <= 0:
        return isinstance(value, dict | list)
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return any(isinstance(v, dict | list) and _deeper(v, levels - 1) for v in items)


def _too_deep() -> ValidationFailed:
    return ValidationFailed(
        f"Malformed decision request: it nests objects or arrays more than {ENGINE_MAX_DEPTH} "
        "levels deep, more than the engine reads.",
        code="invalid_request",
    )


def _of_item(exc: ValidationFailed, index: int, count: int) -> ValidationFailed:
    """``exc`` about the ``index``-th request of ``count``: named so when there are several."""
    if count == 1:
        return exc
    fields = {f"evaluations[{index}].{k}": v for k, v in exc.extra.get("fields", {}).items()}
    return ValidationFailed(
        f"evaluations[{index}]: {exc.message}", code=exc.code, extra={"fields": fields}
    )


def column_names(value: Any) -> bool:
    """Whether ``value`` is a list of column names: non-empty strings without NUL."""
    return isinstance(value, list) and all(
        isinstance(name, str) and name and "\x00" not in name for name in value
    )


def _shape(request: dict[str, Any], now: str) -> dict[str, Any]:
    """The policy input; a malformed request is refused before it reaches the engine."""
    problems: dict[str, list[str]] = {}
    for part, keys in (
        ("subject", ("type", "id")),
        ("action", ("name",)),
        ("resource", ("type", "id")),
    ):
        value = request.get(part)
        if not isinstance(value, dict):
            problems[part] = ["Required: an object."]
            continue
        for key in keys:
            text = value.get(key)
            if not isinstance(text, str) or not text:
                problems[f"{part}.{key}"] = ["Required: a non-empty string."]
            elif "\x00" in text:
                problems[f"{part}.{key}"] = ["Must not contain NUL (\\u0000) characters."]
        properties = value.get("properties")  # null is as good as absent
        if properties is not None and not isinstance(properties, dict):
            problems[f"{part}.properties"] = ["Must be an object."]
    if not problems and request["resource"]["type"] == "dataset":
        # The columns the query reads: masks are answered for those alone (governance.rego).
        columns = (request["resource"].get("properties") or {}).get("columns")
        if columns is not None and not column_names(columns):
            problems["resource.properties.columns"] = [
                "Must be a list of column names (non-empty strings without NUL)."
            ]
    context = request.get("context", {})
    if not isinstance(context, dict):
        problems["context"] = ["Must be an object."]
    if problems:
        raise ValidationFailed(
            f"Malformed decision request: {', '.join(sorted(problems))}.",
            code="invalid_request",
            extra={"fields": problems},
        )
    return {
        "subject": request["subject"],
        "action": request["action"],
        "resource": request["resource"],
        "context": {"time": now, **context},
    }


def decision_from_result(raw: Any) -> tuple[bool, list[str], dict[str, Any]]:
    """(allow, reasons, obligations) from a ``decision`` value; anything but a well-formed
    object is a deny with ``policy_undefined`` / ``policy_malformed``."""
    if raw is None:
        return False, ["policy_undefined"], {}
    if (
        not isinstance(raw, dict)
        or not isinstance(raw.get("allow"), bool)
        or not isinstance(raw.get("reasons"), list)
        or not isinstance(raw.get("obligations", {}), dict)
    ):
        return False, ["policy_malformed"], {}
    return raw["allow"], [str(r) for r in raw["reasons"]], raw.get("obligations", {})


# The variant digit of an RFC 9562 UUID (binary 10xx) for each hex digit drawn at random.
_VARIANT = {h: "89ab"[int(h, 16) & 3] for h in "0123456789abcdef"}


def decision_ids(n: int) -> list[str]:
    """``n`` random (version 4) UUIDs as text, from one read of the OS's random source:
    ``uuid.uuid4()`` reads it once per id and builds an object (2.5 us an id on this machine,
    a batch of 100 spent 0.25 ms on them); this takes ~0.6 us an id."""
    digits = os.urandom(16 * n).hex()
    ids = []
    for at in range(0, 32 * n, 32):
        d = digits[at : at + 32]
        ids.append(f"{d[:8]}-{d[8:12]}-4{d[13:16]}-{_VARIANT[d[16]]}{d[17:20]}-{d[20:]}")
    return ids


def _decide(
    engine: PolicyEngine,
    policy_input: dict[str, Any],
    input_json: str,
    revision: str,
    version: int,
    query: str,
    decision_id: str,
) -> Decision:
    try:
        if isinstance(engine, OpaEngine):  # remote: the revision is the bundle OPA evaluated
            raw, revision = engine.evaluate_with_revision(query, policy_input)
        else:
            raw = engine.evaluate(query, policy_input, input_json=input_json)
        allow, reasons, obligations = decision_from_result(raw)
    except EngineError:
        allow, reasons, obligations = False, ["engine_error"], {}
    return Decision(
        allow=allow,
        reasons=reasons,
        obligations=obligations,
        decision_id=decision_id,
        policy_revision=revision,
        snapshot_version=version,
    )


def _entry(policy_input: dict[str, Any], input_json: str, decision: Decision) -> Entry:
    digest = hashlib.sha256(input_json.encode()).hexdigest()
    resource = policy_input["resource"]
    changes = {
        "decision_id": decision.decision_id,
        "subject": f"{policy_input['subject']['type']}:{policy_input['subject']['id']}",
        "action": policy_input["action"]["name"],
        "allow": decision.allow,
        "reasons": decision.reasons,
        "obligations": decision.obligations,
        "input_sha256": digest,
        "policy_revision": decision.policy_revision,
        "snapshot_version": decision.snapshot_version,
    }
    if resource["type"] == "dataset" and resource.get("properties"):
        # The columns asked for, which the input digest alone would not tell.
        columns = resource["properties"].get("columns")
        if columns is not None:
            changes["columns"] = columns
    return Entry(
        action="decision.evaluate",
        target=Target(f"decision.{resource['type']}", resource["id"][:64], resource["id"]),
        changes=changes,
        outcome="success" if decision.allow else "denied",
    )


def _unrecorded(decision: Decision) -> Decision:
    return Decision(
        allow=False,
        reasons=["audit_unavailable"],
        decision_id=decision.decision_id,
        policy_revision=decision.policy_revision,
        snapshot_version=decision.snapshot_version,
    )


def _engine_or(
    engine: Any, inputs: list[dict[str, Any]]
) -> tuple[Any, str, int, dict[str, str], Build | None]:
    if engine is not None:
        return engine, "", 0, {}, None
    try:
        return _engine(i["resource"]["type"] for i in inputs)
    except EngineError:
        return None, "", 0, {}, None


def decision_evaluate(*, caller: Any, request: dict[str, Any], engine: Any = None) -> Decision:
    """Decide, record, answer. ``engine`` overrides the process engine (contract tests)."""
    return decision_evaluate_many(caller=caller, requests=[request], engine=engine)[0]


SEMANTICS = ("execute_all", "deny_on_first_deny", "permit_on_first_permit")
MAX_BATCH = 1000


def decision_evaluate_many(
    *,
    caller: Any,
    requests: list[dict[str, Any]],
    semantic: str = "execute_all",
    engine: Any = None,
) -> list[Decision]:
    """Several decisions in order, all recorded in one commit. Every request is validated
    before any is evaluated (one malformed item refuses the batch). ``deny_on_first_deny`` /
    ``permit_on_first_permit`` stop after the first deny / permit and answer up to it."""
    if semantic not in SEMANTICS:
        raise ValidationFailed(
            f"evaluations_semantic must be one of: {', '.join(SEMANTICS)}.",
            extra={"fields": {"options.evaluations_semantic": ["Unknown value."]}},
        )
    if not 1 <= len(requests) <= MAX_BATCH:
        raise ValidationFailed(
            f"A batch holds 1 to {MAX_BATCH} evaluations.",
            extra={"fields": {"evaluations": ["Wrong size."]}},
        )
    inputs, texts = [], []
    now = format_ts(dt.datetime.now(dt.UTC))  # context.time when the caller gives none
    for index, request in enumerate(requests):
        try:
            inputs.append(policy_input := _shape(request, now))
            # One canonical text per input: what the engine is given and the audit digests.
            texts.append(_canonical(policy_input))
        except ValidationFailed as exc:
            raise _of_item(exc, index, len(requests)) from exc
    engine, revision, version, queries, build = _engine_or(engine, inputs)
    decisions: list[Decision] = []
    for index, (policy_input, input_json, decision_id) in enumerate(
        zip(inputs, texts, decision_ids(len(inputs)), strict=True)
    ):
        if engine is None:
            decision = Decision(False, ["engine_error"], decision_id=decision_id)
        else:
            query = queries.get(policy_input["resource"]["type"], DECISION_QUERY)
            engine_json = input_json  # the audit entry digests the request's own text
            view = (
                None if build is None else request_view(build.snapshot, build.changed, policy_input)
            )
            if view is not None:
                engine_json = f'{input_json[:-1]},"delta":{json_text(view)}}}'
            decision = _decide(
                engine, policy_input, engine_json, revision, version, query, decision_id
            )
            if decision.reasons == ["engine_error"] and _deeper(policy_input, ENGINE_MAX_DEPTH):
                # Nothing is recorded yet: the request is refused, as one malformed.
                raise _of_item(_too_deep(), index, len(requests))
        decisions.append(decision)
        if (semantic == "deny_on_first_deny" and not decision.allow) or (
            semantic == "permit_on_first_permit" and decision.allow
        ):
            break
    try:
        audit_record_committed_many(
            actor=caller,
            entries=[_entry(*e) for e in zip(inputs, texts, decisions, strict=False)],
            read_ids=False,
        )
    except ServiceUnavailable:
        return [_unrecorded(d) for d in decisions]
    return decisions
