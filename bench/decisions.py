#!/usr/bin/env python
"""The embedded decision engine at size: load time and per-decision latency.

    python bench/decisions.py                     # 10k datasets, 100k grants, 20k decisions
    python bench/decisions.py --datasets 1000 --grants 10000 --decisions 5000
    python bench/decisions.py --against HEAD~1   # is the policy change faster? (interleaved)

Builds a governance snapshot of the shape apps/decisions/snapshot.py produces (datasets keyed
by FQN with ten columns each, a tenth of them with a row filter, principals, role bindings,
grants keyed principal -> dataset -> id), loads it with the policies in policies/ into the
embedded engine (regorus), and times ``data.steward.governance.decision`` for a mix of
requests: owners, viewers, grant holders (some expired), strangers, unknown datasets; a quarter
of those on known datasets name three columns they read. In-process, no HTTP and no audit
write: the engine's share of a decision. Goal (decisions issue): p50 <= 50 us, p99 <= 150 us.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "controlplane.settings.test")

LEVELS = {"public": 10, "internal": 20, "confidential": 30, "restricted": 40}
NOW_NS = 1_795_000_000 * 10**9  # 2026-11-18, fixed so runs compare


def synthetic_snapshot(datasets: int, grants: int, principals: int, rng: random.Random) -> dict:
    users = [f"user:u{i}" for i in range(principals)]
    groups = [f"group:g{i}" for i in range(max(1, principals // 20))]
    levels = list(LEVELS)
    snap: dict = {
        "levels": LEVELS,
        "default_clearance": "internal",
        "principals": {
            u: {"groups": rng.sample(groups, 2), "roles": [], "clearance": rng.choice(levels)}
            for u in users
        },
        "datasets": {},
        "grants": {},
    }
    for i in range(datasets):
        owner = rng.choice(users) if rng.random() < 0.7 else rng.choice(groups)
        snap["datasets"][f"src{i % 7}.schema{i % 13}.table_{i}"] = {
            "source": f"src{i % 7}",
            "sensitivity": rng.choice(levels),
            "owners": {owner: "owner"},
            "viewers": {rng.choice(users): True for _ in range(rng.randint(0, 3))},
            "purposes": [] if rng.random() < 0.8 else ["analytics", "support"],
            "columns": {
                f"col_{c}": {
                    "sensitivity": rng.choice(levels),
                    "categories": ["contact"] if c == 1 else [],
                }
                for c in range(10)
            },
        }
    # A tenth of the datasets filter rows by col_0, for three groups each (drawn from a separate
    # generator, so the rest of the snapshot is what it was before row filters existed).
    filters = random.Random(datasets * 7919 + principals)
    for entry in snap["datasets"].values():
        if filters.random() < 0.1:
            entry["row_filter"] = {
                "column": "col_0",
                "values": {g: [f"r{filters.randrange(20)}"] for g in filters.sample(groups, 3)},
            }
    fqns = list(snap["datasets"])
    # Role bindings as bench/decisions_http.py seeds them: analyst (data.read) on one source for
    # a fifth of the groups, a source's steward for 2% of the users, data_owner of one dataset
    # for 1%; everyone else holds none.
    bindings: dict = {}
    for group in rng.sample(groups, max(1, len(groups) // 5)):
        bindings.setdefault(group, {})[f"source:src{rng.randrange(7)}"] = ["data.read"]
    for user in rng.sample(users, max(1, len(users) // 50)):
        bindings.setdefault(user, {})[f"source:src{rng.randrange(7)}"] = [
            "access.approve",
            "access.revoke",
            "catalog.edit",
            "data.read",
        ]
    for user in rng.sample(users, max(1, len(users) // 100)):
        bindings.setdefault(user, {})[f"dataset:{rng.choice(fqns)}"] = [
            "access.approve",
            "access.revoke",
            "catalog.edit",
            "data.export",
            "data.read",
            "data.write",
        ]
    snap["bindings"] = bindings
    for g in range(grants):
        who, fqn = rng.choice(users), rng.choice(fqns)
        expires = NOW_NS + rng.randint(-3600, 7 * 86400) * 10**9
        snap["grants"].setdefault(who, {}).setdefault(fqn, {})[f"g{g}"] = {
            "access": rng.choice(["read", "read", "write", "export"]),
            "expires_at_ns": expires,
        }
    return snap


def requests(snap: dict, n: int, rng: random.Random) -> list[dict]:
    fqns = list(snap["datasets"])
    grant_pairs = [(p, f) for p, by in snap["grants"].items() for f in by]
    out = []
    for _ in range(n):
        kind = rng.random()
        if kind < 0.4 and grant_pairs:
            principal, fqn = rng.choice(grant_pairs)
        elif kind < 0.7:
            fqn = rng.choice(fqns)
            principal = next(iter(snap["datasets"][fqn]["owners"]))
        elif kind < 0.95:
            principal, fqn = rng.choice(list(snap["principals"])), rng.choice(fqns)
        else:
            principal, fqn = rng.choice(list(snap["principals"])), "nowhere.no.table"
        ptype, pid = principal.split(":", 1)
        out.append(
            {
                "subject": {"type": ptype, "id": pid},
                "action": {"name": rng.choice(["read", "read", "read", "write", "export"])},
                "resource": {"type": "dataset", "id": fqn},
                "context": {"time": "2026-11-18T00:00:00Z", "purpose": "analytics"},
            }
        )
    return out


def name_columns(reqs: list[dict], snap: dict, share: float, rng: random.Random) -> None:
    """``share`` of the requests on known datasets name three of its columns, as a query engine
    asks for the columns a query reads (``resource.properties.columns``). Drawn with an rng of
    their own, so the rest of the mix is the one earlier runs had."""
    for r in reqs:
        dataset = snap["datasets"].get(r["resource"]["id"])
        if dataset and rng.random() < share:
            r["resource"]["properties"] = {"columns": rng.sample(sorted(dataset["columns"]), 3)}


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--datasets", type=int, default=10_000)
    parser.add_argument("--grants", type=int, default=100_000)
    parser.add_argument("--principals", type=int, default=2_000)
    parser.add_argument("--decisions", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--against",
        metavar="REV",
        help="also time the policies at git revision REV against the working tree's, interleaved",
    )
    parser.add_argument("--compare-decisions", type=int, default=3_000)
    parser.add_argument(
        "--columns-share",
        type=float,
        default=0.25,
        help="share of requests on known datasets that name the columns they read",
    )
    args = parser.parse_args()

    import django

    django.setup()
    from apps.decisions.engines.embedded import RegorusEngine
    from apps.decisions.policies import policy_files

    rng = random.Random(args.seed)
    started = time.perf_counter()
    snap = synthetic_snapshot(args.datasets, args.grants, args.principals, rng)
    built = time.perf_counter() - started
    size = len(json.dumps(snap))
    started = time.perf_counter()
    engine = RegorusEngine(policy_files(), {"steward": {"snapshot": snap}})
    loaded = time.perf_counter() - started
    reqs = requests(snap, args.decisions, rng)
    name_columns(reqs, snap, args.columns_share, random.Random(args.seed + 1))
    for r in reqs[:500]:  # warm-up
        engine.evaluate("data.steward.governance.decision", r)
    times, allowed = [], 0
    for r in reqs:
        t0 = time.perf_counter_ns()
        d = engine.evaluate("data.steward.governance.decision", r)
        times.append((time.perf_counter_ns() - t0) / 1000)
        allowed += bool(d and d["allow"])
    print(
        f"snapshot: {args.datasets:,} datasets x 10 columns, {args.principals:,} principals,"
        f" {args.grants:,} grants; {size / 1e6:.1f} MB JSON; generated in {built:.2f} s"
    )
    print(f"engine load (policies + snapshot): {loaded:.2f} s")
    print(
        f"interpreter (DECISION_ENGINE=interpreter), {len(times):,} decisions"
        f" ({allowed / len(times):.0%} allowed): p50 {statistics.median(times):.0f} us,"
        f" p99 {pct(times, 0.99):.0f} us, max {max(times):.0f} us  (goal p50 <= 50 us, p99 <= 150 us)"
    )

    # regorus's compiled mode (RVM): the same policy compiled once for the decision entry point.
    import regorus

    modules = [
        (path, text) for path, text in policy_files().items() if not path.endswith("_test.rego")
    ]
    data = json.dumps({"steward": {"snapshot": snap}})
    started = time.perf_counter()
    program = regorus.Program.compile_from_modules(
        data, modules, ["data.steward.governance.decision"]
    )
    vm = regorus.Rvm()
    vm.load_program(program)
    vm.set_data_json(data)
    compiled_s = time.perf_counter() - started
    compiled, mismatches = [], 0
    for i, r in enumerate(reqs):
        vm.set_input_json(json.dumps(r))
        t0 = time.perf_counter_ns()
        out = vm.execute()
        compiled.append((time.perf_counter_ns() - t0) / 1000)
        if i < 2000 and json.loads(out) != engine.evaluate("data.steward.governance.decision", r):
            mismatches += 1
    print(
        f"compiled (RVM): compile + load {compiled_s:.2f} s; p50 {statistics.median(compiled):.0f} us,"
        f" p99 {pct(compiled, 0.99):.0f} us (execute only); {mismatches} of 2,000 decisions differ"
        " from the interpreter"
    )

    # What decision_evaluate calls (the default engine): input JSON in, answer JSON out.
    from apps.decisions.engines.embedded import CompiledRegorusEngine

    started = time.perf_counter()
    service = CompiledRegorusEngine(
        dict(modules), entry_points=("data.steward.governance.decision",), data_json=data
    )
    service_load = time.perf_counter() - started
    for r in reqs[:500]:
        service.evaluate("data.steward.governance.decision", r)
    end_to_end, differ = [], 0
    for i, r in enumerate(reqs):
        t0 = time.perf_counter_ns()
        d = service.evaluate("data.steward.governance.decision", r)
        end_to_end.append((time.perf_counter_ns() - t0) / 1000)
        if i < 2000 and d != engine.evaluate("data.steward.governance.decision", r):
            differ += 1
    print(
        f"compiled, as the service builds and calls it (CompiledRegorusEngine): load"
        f" {service_load:.2f} s; evaluate (input and answer as JSON) p50"
        f" {statistics.median(end_to_end):.0f} us, p99 {pct(end_to_end, 0.99):.0f} us"
        f"  (goal p50 <= 50 us, p99 <= 150 us); {differ} of 2,000 decisions differ"
    )
    if args.against:
        compare_policies(args.against, dict(modules), data, reqs[: args.compare_decisions])
    return 0


def policies_at(rev: str) -> dict[str, str]:
    """The policy modules (not the tests) under ``policies/`` at git revision ``rev``."""

    def git(*argv: str) -> str:
        return subprocess.run(  # noqa: S603 - git from PATH, the revision from our option
            ["git", *argv],  # noqa: S607
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    names = git("ls-tree", "-r", "--name-only", rev, "policies/").split()
    return {
        name.removeprefix("policies/"): git("show", f"{rev}:{name}")
        for name in names
        if name.endswith(".rego") and not name.endswith("_test.rego")
    }


def compare_policies(rev: str, modules: dict[str, str], data: str, reqs: list[dict]) -> None:
    """The compiled decision under the working tree's policies and under ``rev``'s, each request
    evaluated by both in turn (the order flipped every request, so machine drift and cache
    effects fall on both): time per ``execute`` and the decisions that differ."""
    import regorus

    query = "data.steward.governance.decision"
    vms = {}
    for name, mods in (("working tree", modules), (rev, policies_at(rev))):
        vm = regorus.Rvm()
        vm.load_program(regorus.Program.compile_from_modules("{}", sorted(mods.items()), [query]))
        vm.set_data_json(data)
        vms[name] = vm
    texts = [json.dumps(r) for r in reqs]
    times: dict[str, list[float]] = {name: [] for name in vms}
    answers: dict[str, list[object]] = {name: [] for name in vms}
    order = list(vms)
    for rnd in range(3):  # the first round warms up
        for text in texts:
            for name in order:
                vm = vms[name]
                t0 = time.perf_counter_ns()
                vm.set_input_json(text)
                out = vm.execute_entry_point(query)
                if rnd:
                    times[name].append((time.perf_counter_ns() - t0) / 1000)
                else:
                    answers[name].append(json.loads(out))
            order.reverse()
    differ = sum(a != b for a, b in zip(*answers.values(), strict=True))
    print(f"policies compared, {len(texts):,} requests x 2 rounds, interleaved (input + execute):")
    for name, values in times.items():
        print(
            f"  {name:>14}: p50 {statistics.median(values):.1f} us, mean"
            f" {statistics.mean(values):.1f} us, p99 {pct(values, 0.99):.0f} us"
        )
    print(f"  {differ} of {len(texts):,} decisions differ")


if __name__ == "__main__":
    sys.exit(main())
