#!/usr/bin/env python
"""The audit log under load: sustained append throughput with tamper evidence on, and the
time to verify a million entries.

    python bench/audit_log.py                         # both parts, defaults below
    python bench/audit_log.py --writers 8 --seconds 20
    python bench/audit_log.py --skip-verify           # append throughput only
    python bench/audit_log.py --verify-entries 200000 # a quicker verify run

Append: ``--writers`` processes each record entries through ``audit_record`` (the same
service every action uses), one entry per transaction, for ``--seconds``; a sealer process
meanwhile seals them into Merkle batches exactly as the beat task does. Reported: committed
appends/s, how far the sealer lagged, and a full verify of the result. For comparison the same
writers then append to a single hash chain (``SELECT ... FOR UPDATE`` on the head, hash,
insert, update the head): the design the batching replaces.

Verify: ``--verify-entries`` entries are loaded with COPY (bodies built by the same canonical
encoder), sealed by ``audit_seal_pending`` (timed too), signed, then ``verify_log`` is timed.

Runs against a throwaway database ``--db`` (default ``steward_bench_audit``, recreated each run)
on the local Postgres. Targets: >= 5,000 appends/s; verify 1M entries <= 10 s.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchdb import recreate_db  # noqa: E402 - beside this script

APPEND_TARGET = 5000.0
GROUP_THREADS = 32  # request threads per writer process in the group-commit run
VERIFY_TARGET_S = 10.0


def _setup_django(db_url: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "controlplane.settings.test"
    os.environ["DATABASE_URL"] = db_url
    import django

    django.setup()


# --- append -----------------------------------------------------------------------------


def _writer(
    db_url: str,
    index: int,
    start_at: float,
    seconds: float,
    mode: str,
    out: mp.Queue,
    threads_per_writer: int = GROUP_THREADS,
) -> None:
    _setup_django(db_url)
    from django.db import connection, transaction

    from apps.audit.services import Target, audit_record, audit_record_committed

    while time.time() < start_at:
        time.sleep(0.001)
    deadline = start_at + seconds
    count = 0
    actor = f"bench-writer-{index}"
    if mode == "group":  # many request threads, each waiting for its own durable entry
        import threading

        counts = [0] * threads_per_writer

        def caller(t: int) -> None:
            n = 0
            while time.time() < deadline:
                audit_record_committed(
                    actor=actor,
                    action="decision.evaluate",
                    target=Target("catalog.dataset", f"{t}-{n}"),
                    changes={"decision": "allow", "reasons": ["owner"]},
                )
                n += 1
            counts[t] = n

        threads = [threading.Thread(target=caller, args=(t,)) for t in range(threads_per_writer)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        out.put(sum(counts))
        return
    while time.time() < deadline:
        changes = {"description": {"before": f"v{count}", "after": f"v{count + 1}"}}
        if mode == "batched":
            with transaction.atomic():
                audit_record(
                    actor=actor,
                    action="bench.append",
                    target=Target("bench.thing", f"{index}-{count}", f"thing {count}"),
                    changes=changes,
                )
        elif mode == "bare":  # the floor: one plain row per transaction, no audit code at all
            with transaction.atomic(), connection.cursor() as cur:
                cur.execute("INSERT INTO bench_bare (body) VALUES (%s)", [f"{actor} {count}" * 20])
        else:  # one hash chain, one head row: every writer waits for the one before it
            body = f'{{"actor":"{actor}","n":{count}}}'
            with transaction.atomic(), connection.cursor() as cur:
                cur.execute("SELECT hash FROM bench_chain_head WHERE id = 1 FOR UPDATE")
                (prev,) = cur.fetchone()
                digest = hashlib.sha256(bytes(prev) + body.encode()).digest()
                cur.execute("INSERT INTO bench_chain (body, hash) VALUES (%s, %s)", [body, digest])
                cur.execute("UPDATE bench_chain_head SET hash = %s WHERE id = 1", [digest])
        count += 1
    out.put(count)


def _sealer(db_url: str, stop_at: float, out: mp.Queue) -> None:
    _setup_django(db_url)
    from apps.audit.models import AuditEvent
    from apps.audit.services import audit_seal_pending

    batches = sealed = 0
    max_pending = 0
    while True:
        pending = AuditEvent.objects.filter(seal__isnull=True).count()
        max_pending = max(max_pending, pending)
        done = audit_seal_pending()
        batches += len(done)
        sealed += sum(b.size for b in done)
        if not done:
            if time.time() > stop_at and pending == 0:
                break
            time.sleep(0.02)
    out.put((batches, sealed, max_pending, time.time()))


def bench_append(
    db_url: str, writers: int, seconds: float, mode: str, threads: int = GROUP_THREADS
) -> dict[str, float]:
    ctx = mp.get_context("spawn")
    out: mp.Queue = ctx.Queue()
    start_at = time.time() + 4.0  # let every process import Django first
    procs = [
        ctx.Process(target=_writer, args=(db_url, i, start_at, seconds, mode, out, threads))
        for i in range(writers)
    ]
    sealer_out: mp.Queue = ctx.Queue()
    sealer = None
    if mode in ("batched", "group"):
        sealer = ctx.Process(target=_sealer, args=(db_url, start_at + seconds, sealer_out))
        sealer.start()
    for p in procs:
        p.start()
    total = sum(out.get() for _ in procs)
    for p in procs:
        p.join()
    result = {"appends": total, "per_second": total / seconds}
    if sealer is not None:
        batches, sealed, max_pending, finished = sealer_out.get()
        sealer.join()
        result.update(
            batches=batches,
            sealed=sealed,
            max_pending=max_pending,
            drained_after_s=max(0.0, finished - (start_at + seconds)),
        )
    return result


# --- verify -----------------------------------------------------------------------------


def _load_entries(db_url: str, n: int) -> float:
    """COPY ``n`` entries whose bodies come from the same canonical encoder as audit_record."""
    import datetime as dt

    from apps.audit.merkle import canonical_body
    from apps.audit.services import format_ts

    started = time.perf_counter()
    base = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=1)
    columns = (
        "created_at, actor_type, actor_id, actor_repr, ip, request_id, action, target_type,"
        " target_id, target_repr, scope, outcome, body"
    )
    with psycopg.connect(db_url) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY audit_auditevent ({columns}) FROM STDIN") as copy:
            for i in range(n):
                ts = base + dt.timedelta(milliseconds=i)
                changes = {"description": {"before": f"old {i}", "after": f"new {i}"}}
                fields = {
                    "v": 1,
                    "ts": format_ts(ts),
                    "actor_type": "system",
                    "actor_id": None,
                    "actor_repr": f"loader-{i % 50}",
                    "ip": f"10.0.{i % 250}.{i % 200}",
                    "request_id": f"req-{i:08d}",
                    "action": "catalog.dataset.update",
                    "target_type": "catalog.dataset",
                    "target_id": str(i % 100_000),
                    "target_repr": f"warehouse.mart.table_{i % 100_000}",
                    "scope": f"catalog.dataset:{i % 100_000}",
                    "outcome": "success",
                    "changes": changes,
                }
                copy.write_row(
                    (
                        ts,
                        fields["actor_type"],
                        None,
                        fields["actor_repr"],
                        fields["ip"],
                        fields["request_id"],
                        fields["action"],
                        fields["target_type"],
                        fields["target_id"],
                        fields["target_repr"],
                        fields["scope"],
                        fields["outcome"],
                        canonical_body(fields),
                    )
                )
        conn.commit()
        cur.execute("ANALYZE audit_auditevent")
    return time.perf_counter() - started


def bench_verify(db_url: str, n: int, runs: int) -> dict[str, float]:
    _setup_django(db_url)
    from apps.audit.services import audit_checkpoint_create, audit_seal_pending
    from apps.audit.verify import verify_log

    load_s = _load_entries(db_url, n)
    started = time.perf_counter()
    batches = audit_seal_pending()
    seal_s = time.perf_counter() - started
    audit_checkpoint_create()
    times = []
    for _ in range(runs):
        report = verify_log()
        if not report.ok:
            raise SystemExit(f"verify found a problem in untouched data: {report.problem}")
        times.append(report.seconds)
    return {
        "entries": report.entries,
        "batches": len(batches),
        "load_s": load_s,
        "seal_s": seal_s,
        "seal_per_second": n / seal_s,
        "verify_s": min(times),
        "verify_runs": runs,
        "verify_per_million_s": min(times) * 1_000_000 / max(report.entries, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--pg", default=os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
    )
    parser.add_argument("--db", default="steward_bench_audit")
    parser.add_argument(
        "--writers", type=int, default=8, help="processes, one entry per transaction"
    )
    parser.add_argument("--group-writers", type=int, default=4, help="processes for group commit")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--verify-entries", type=int, default=1_000_000)
    parser.add_argument("--verify-runs", type=int, default=3)
    parser.add_argument("--skip-append", action="store_true")
    parser.add_argument(
        "--threads",
        type=int,
        default=GROUP_THREADS,
        help="request threads per process (group commit)",
    )
    parser.add_argument("--skip-verify", action="store_true")
    args = parser.parse_args()
    ok = True
    print(f"machine: {os.cpu_count()} CPUs; Postgres at {args.pg}")

    if not args.skip_append:
        db_url = recreate_db(args.pg, args.db)
        batched = bench_append(db_url, args.writers, args.seconds, "batched")
        _setup_django(db_url)
        from apps.audit.verify import verify_log

        report = verify_log()
        print(
            f"append, Merkle batches: {batched['per_second']:,.0f} appends/s"
            f" ({batched['appends']:,} entries, {args.writers} writers, {args.seconds:g} s, one entry"
            f" per transaction); sealed in {batched['batches']:,} batches, at most"
            f" {batched['max_pending']:,} waiting, all sealed {batched['drained_after_s']:.2f} s after"
            f" the last append; verify {'OK' if report.ok else 'BROKEN'} ({report.entries:,} entries)"
        )
        group = bench_append(db_url, args.group_writers, args.seconds, "group", args.threads)
        report = verify_log()
        print(
            f"append, group commit (standalone entries, e.g. decisions): {group['per_second']:,.0f}"
            f" appends/s ({group['appends']:,} entries, {args.group_writers} processes x {args.threads}"
            f" threads, each waiting for its entry's commit); at most {group['max_pending']:,}"
            f" waiting to be sealed, all sealed {group['drained_after_s']:.2f} s after the last;"
            f" verify {'OK' if report.ok else 'BROKEN'} ({report.entries:,} entries)"
        )
        ok &= group["per_second"] >= APPEND_TARGET and report.ok
        from django.db import connection

        with connection.cursor() as cur:
            cur.execute(
                "CREATE TABLE bench_chain (id bigserial PRIMARY KEY, body text, hash bytea)"
            )
            cur.execute("CREATE TABLE bench_chain_head (id int PRIMARY KEY, hash bytea)")
            cur.execute("INSERT INTO bench_chain_head VALUES (1, %s)", [bytes(32)])
            cur.execute("CREATE TABLE bench_bare (id bigserial PRIMARY KEY, body text)")
        connection.close()
        bare = bench_append(db_url, args.writers, args.seconds, "bare")
        print(
            f"baseline, a bare one-row INSERT + COMMIT (no audit code): {bare['per_second']:,.0f}/s"
            f" ({args.writers} writers): the commit rate this machine allows one entry per transaction"
        )
        chained = bench_append(db_url, args.writers, args.seconds, "chain")
        print(
            f"append, single hash chain (for comparison): {chained['per_second']:,.0f} appends/s"
            f" ({chained['appends']:,} entries, same writers)"
        )

    if not args.skip_verify:
        db_url = recreate_db(args.pg, args.db)
        result = bench_verify(db_url, args.verify_entries, args.verify_runs)
        print(
            f"verify: {result['entries']:,} entries in {result['batches']:,} batches:"
            f" best of {result['verify_runs']} = {result['verify_s']:.2f} s"
            f" ({result['verify_per_million_s']:.2f} s per million);"
            f" loaded in {result['load_s']:.1f} s, sealed in {result['seal_s']:.1f} s"
            f" ({result['seal_per_second']:,.0f} entries/s)"
        )
        ok &= result["verify_per_million_s"] <= VERIFY_TARGET_S
    print(
        f"targets: >= {APPEND_TARGET:,.0f} appends/s, verify 1M <= {VERIFY_TARGET_S:g} s: {'MET' if ok else 'NOT MET'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
