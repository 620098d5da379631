"""Policy packages: Rego an admin loads beside the governance policy, with its own static data
(like an OPA bundle), deciding for the resource types mapped to it.

A package named ``billing`` holds Rego in ``package steward.ext.billing`` (or below it), must
define ``decision`` there (``{allow, reasons, obligations?}``, the governance shape), reads its
data at ``data.steward.packages.billing``, and ships ``*_test.rego`` tests. Loading compiles it
together with the governance policy (errors name file and line) and runs its tests; only then
does it replace the package's previous version, in one transaction with its audit entry.
Requests whose ``resource.type`` is mapped to it are answered by its ``decision``; everything
else (``dataset`` always) by the governance policy.

The **active policy** is the governance files plus every package: its revision, returned with
each decision and shown in the UI, changes whenever any of them does.
"""

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.audit.services import audit_record
from apps.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from apps.decisions.engines import EngineError
from apps.decisions.engines.embedded import CompiledRegorusEngine, RegorusEngine
from apps.decisions.models import PolicyPackage
from apps.decisions.policies import policy_files, policy_revision, run_policy_tests

GOVERNANCE_QUERY = "data.steward.governance.decision"
GOVERNED_TYPES = {"dataset"}  # always the governance policy's
NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
RESOURCE_TYPE = re.compile(r"^[a-z][a-z0-9_.:-]{0,62}$")
PATH = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./-]{0,199}\.rego$")
PACKAGE_LINE = re.compile(r"^package\s+([\w.]+)", re.MULTILINE)
DECISION_RULE = re.compile(r"^(default\s+)?decision\b", re.MULTILINE)
MAX_FILES = 50
MAX_BYTES = 1_000_000
MAX_TYPES = 20


def query_for(name: str) -> str:
    return f"data.steward.ext.{name}.decision"


@dataclass(frozen=True)
class ActivePolicy:
    """What decisions are made from: the Rego files (packages under ``packages/<name>/``),
    the packages' data (mounted at ``data.steward.packages``), resource type -> query."""

    files: dict[str, str]
    data: dict[str, Any]
    queries: dict[str, str] = field(default_factory=dict)
    revision: str = ""
    # resource types whose package may read data.steward.snapshot (see ``reads_snapshot``)
    snapshot_types: frozenset[str] = frozenset()

    @property
    def entry_points(self) -> tuple[str, ...]:
        return (GOVERNANCE_QUERY, *sorted(set(self.queries.values())))

    def query(self, resource_type: str) -> str:
        return self.queries.get(resource_type, GOVERNANCE_QUERY)


def _compose(base: dict[str, str], packages: list[PolicyPackage]) -> ActivePolicy:
    files = dict(base)
    data: dict[str, Any] = {}
    queries: dict[str, str] = {}
    snapshot_types: set[str] = set()
    for package in packages:
        for path, text in package.files.items():
            files[f"packages/{package.name}/{path}"] = text
        data[package.name] = package.data
        for resource_type in package.resource_types:
            queries[resource_type] = query_for(package.name)
        if reads_snapshot(package.name, package.files):
            snapshot_types.update(package.resource_types)
    return ActivePolicy(
        files=files,
        data=data,
        queries=queries,
        revision=policy_revision(files, data),
        snapshot_types=frozenset(snapshot_types),
    )


def reads_snapshot(name: str, files: dict[str, str]) -> bool:
    """Whether package ``name``'s Rego (its tests included: they load beside it) may read
    anything under ``data`` besides the packages' data (``data.steward.packages``) and its own
    rules (``data.steward.ext.<name>``), above all the governance snapshot. Engines patched
    after a change hold an older snapshot than the current one (the governance policy is sent
    what changed with each request, a package is not), so a package that may read it is
    decided on an engine holding the current one; one that cannot is decided on any.

    Read from the parsed modules, not the text: every reference rooted at ``data`` is checked
    by its leading fixed keys (``data.steward.packages[x]`` is the packages' data whatever ``x``
    is; ``data.steward[k]`` may be the snapshot); ``data`` alone (``walk(data, ...)``, ``d :=
    data``) or an import of anything else counts as reading it. Unparseable files count too.
    """
    return _reads_snapshot(name, tuple(sorted(files.items())))


@lru_cache(maxsize=64)
def _reads_snapshot(name: str, files: tuple[tuple[str, str], ...]) -> bool:
    try:
        modules = RegorusEngine(dict(files)).modules()
    except EngineError:
        return True
    own = (["steward", "packages"], ["steward", "ext", name])
    return any(_reads_outside(module["ast"], own) for module in modules)


def _reads_outside(node: Any, own: tuple[list[str], ...]) -> bool:
    if isinstance(node, list):
        return any(_reads_outside(item, own) for item in node)
    if not isinstance(node, dict):
        return False
    if "RefDot" in node or "RefBrack" in node:
        keys: list[str | None] = []
        indexes: list[Any] = []
        while "RefDot" in node or "RefBrack" in node:
            if "RefDot" in node:
                keys.append(node["RefDot"]["field"][-1])
                node = node["RefDot"]["refr"]
            else:
                index = node["RefBrack"]["index"]
                indexes.append(index)
                keys.append(index["String"]["value"] if "String" in index else None)
                node = node["RefBrack"]["refr"]
        if _reads_outside(indexes, own):
            return True
        if node.get("Var", {}).get("value") != "data":
            return _reads_outside(node, own)
        keys.reverse()
        fixed = keys[: keys.index(None)] if None in keys else keys
        return not any(fixed[: len(prefix)] == prefix for prefix in own)
    if node.get("Var", {}).get("value") == "data":
        return True
    return any(_reads_outside(value, own) for value in node.values())


def active_policy() -> ActivePolicy:
    """The governance files from POLICIES_DIR and the loaded packages, as of now."""
    return _compose(policy_files(), list(PolicyPackage.objects.all()))


def package_queries() -> dict[str, str]:
    """Resource type -> query of the loaded packages (what the OPA adapter needs)."""
    return {
        t: query_for(name)
        for name, types in PolicyPackage.objects.values_list("name", "resource_types")
        for t in types
    }


def may_manage(actor: Any) -> bool:
    return bool(getattr(actor, "is_authenticated", False)) and actor.has_perm(
        "decisions.change_policypackage"
    )


def _own(name: str, package: str) -> bool:
    root = f"steward.ext.{name}"
    return package in (root, f"{root}_test") or package.startswith((f"{root}.", f"{root}_test."))


def _check_files(name: str, files: Any) -> dict[str, str]:
    if not isinstance(files, dict) or not files:
        raise ValidationFailed("Upload at least one .rego file.", code="no_policy_files")
    if len(files) > MAX_FILES:
        raise ValidationFailed(f"A package holds at most {MAX_FILES} files.", code="too_many_files")
    root = f"steward.ext.{name}"
    checked: dict[str, str] = {}
    for path, text in files.items():
        if not isinstance(path, str) or not PATH.match(path) or ".." in path.split("/"):
            raise ValidationFailed(
                f"{path!r} is not a relative path ending in .rego.", code="invalid_policy_path"
            )
        if not isinstance(text, str):
            raise ValidationFailed(f"{path}: the file must be text.", code="invalid_policy_file")
        match = PACKAGE_LINE.search(text)
        declared = match.group(1) if match else ""
        if not _own(name, declared):
            raise ValidationFailed(
                f"{path}: declares package {declared or '(none)'}; a package named {name!r} "
                f"must keep its Rego in package {root} (or below it, or {root}_test).",
                code="policy_package_outside_root",
            )
        checked[path] = text
    if sum(len(t.encode()) for t in checked.values()) > MAX_BYTES:
        raise ValidationFailed(
            f"The package's files exceed {MAX_BYTES:,} bytes.", code="package_too_large"
        )
    serving = {p: t for p, t in checked.items() if not p.endswith("_test.rego")}
    if not any(
        PACKAGE_LINE.search(t).group(1) == root and DECISION_RULE.search(t)  # type: ignore[union-attr]
        for t in serving.values()
    ):
        raise ValidationFailed(
            f"No rule `decision` in package {root} (outside the tests): that is what answers "
            "requests for its resource types.",
            code="policy_decision_missing",
        )
    if len(serving) == len(checked):
        raise ValidationFailed(
            "The package has no *_test.rego file: its tests run before it becomes active.",
            code="policy_tests_missing",
        )
    return checked


def _check_types(name: str, resource_types: Any) -> list[str]:
    if not isinstance(resource_types, list) or not 1 <= len(resource_types) <= MAX_TYPES:
        raise ValidationFailed(
            f"Map 1 to {MAX_TYPES} resource types to the package.", code="invalid_resource_types"
        )
    types = sorted(set(resource_types))
    for resource_type in types:
        if not isinstance(resource_type, str) or not RESOURCE_TYPE.match(resource_type):
            raise ValidationFailed(
                f"{resource_type!r} is not a resource type (lowercase letters, digits, _.:-).",
                code="invalid_resource_types",
            )
        if resource_type in GOVERNED_TYPES:
            raise ValidationFailed(
                f"Resource type {resource_type!r} is always decided by the governance policy.",
                code="resource_type_reserved",
            )
    taken = {
        t: p.name
        for p in PolicyPackage.objects.exclude(name=name)
        for t in p.resource_types
        if t in types
    }
    if taken:
        raise Conflict(
            ", ".join(f"{t!r} is mapped to package {p!r}" for t, p in sorted(taken.items()))
            + "; remove it there first.",
            code="resource_type_taken",
        )
    return types


@transaction.atomic
def package_load(
    *, actor: Any, name: str, files: Any, data: Any = None, resource_types: Any
) -> PolicyPackage:
    """Validate, compile, test, then activate ``name`` (a new one, or a new version of it)."""
    if not may_manage(actor):
        raise PermissionDenied("Loading policy packages needs the policy administrator role.")
    if not isinstance(name, str) or not NAME.match(name):
        raise ValidationFailed(
            "A package name is lowercase letters, digits and _ (starting with a letter).",
            code="invalid_package_name",
        )
    data = {} if data is None else data
    if not isinstance(data, dict):
        raise ValidationFailed("The package's data must be a JSON object.", code="invalid_data")
    if len(json.dumps(data)) > MAX_BYTES:
        raise ValidationFailed(
            f"The package's data exceeds {MAX_BYTES:,} bytes.", code="package_too_large"
        )
    checked = _check_files(name, files)
    types = _check_types(name, resource_types)
    others = list(PolicyPackage.objects.select_for_update().exclude(name=name))
    candidate = PolicyPackage(name=name, files=checked, data=data, resource_types=types)
    active = _compose(policy_files(), [*others, candidate])
    serving = {p: t for p, t in active.files.items() if not p.endswith("_test.rego")}
    engine_data = {"steward": {"snapshot": {}, "packages": active.data}}
    try:
        CompiledRegorusEngine(serving, engine_data, active.entry_points)
    except EngineError as exc:
        raise ValidationFailed(
            f"The package does not compile: {str(exc).removeprefix(f'packages/{name}/')}",
            code="policy_compile_error",
        ) from exc
    own_tests = {
        p: t for p, t in active.files.items() if p.startswith(f"packages/{name}/") or p in serving
    }
    try:
        results = [
            r
            for r in run_policy_tests(own_tests, engine_data)
            if r.package.startswith(f"steward.ext.{name}")
        ]
    except EngineError as exc:
        raise ValidationFailed(
            f"The package's tests could not run: {exc}", code="policy_compile_error"
        ) from exc
    failed = [f"{r.package}.{r.name}" for r in results if not r.passed]
    if failed or not results:
        raise ValidationFailed(
            f"The package's tests fail: {', '.join(failed) or 'no test_* rules found'}. "
            "Nothing was loaded.",
            code="policy_tests_failed",
            extra={"failed": failed},
        )
    existing = PolicyPackage.objects.select_for_update().filter(name=name).first()
    before = (
        {"revision": existing.revision, "resource_types": existing.resource_types}
        if existing
        else None
    )
    package = existing or PolicyPackage(name=name)
    package.files, package.data, package.resource_types = checked, data, types
    package.revision = policy_revision(checked, data)
    package.tests_passed = sorted(f"{r.package}.{r.name}" for r in results)
    package.loaded_at, package.loaded_by = timezone.now(), actor
    package.save()
    audit_record(
        actor=actor,
        action="decisions.package.load",
        target=package,
        changes={
            "before": before,
            "after": {"revision": package.revision, "resource_types": types},
            "tests_passed": len(results),
            "policy_revision": active.revision,
        },
    )
    _changed()
    return package


@transaction.atomic
def package_delete(*, actor: Any, name: str) -> None:
    if not may_manage(actor):
        raise PermissionDenied("Removing policy packages needs the policy administrator role.")
    package = PolicyPackage.objects.select_for_update().filter(name=name).first()
    if package is None:
        raise NotFound(f"No policy package {name!r}.")
    audit_record(
        actor=actor,
        action="decisions.package.delete",
        target=package,
        changes={"revision": package.revision, "resource_types": package.resource_types},
    )
    package.delete()
    _changed()


def _changed() -> None:
    from apps.decisions.services import snapshot_invalidate

    transaction.on_commit(snapshot_invalidate)
