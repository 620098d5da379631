"""Group commit for entries that stand alone (decisions, uploaded decision logs).

Postgres on this class of machine commits a few thousand one-row transactions per second,
whatever the table: each commit waits for its WAL flush. Callers hand their entry to one
writer thread per process and wait; the thread inserts everything waiting (up to
``MAX_BATCH``) in one transaction and wakes each caller only after that commit, so an entry
reported as recorded is durable, and a failed commit fails every caller in it.
"""

import queue
import threading
from concurrent.futures import Future
from typing import Any

from django.db import connection, transaction

from apps.audit.models import AuditEvent

MAX_BATCH = 1000
# One INSERT for the whole batch, from one array per column (no per-row SQL to build or parse).
_COLUMNS = [
    ("id", "bigint"),
    ("created_at", "timestamptz"),
    ("actor_type", "text"),
    ("actor_id", "integer"),
    ("actor_repr", "text"),
    ("ip", "inet"),
    ("request_id", "text"),
    ("action", "text"),
    ("target_type", "text"),
    ("target_id", "text"),
    ("target_repr", "text"),
    ("scope", "text"),
    ("outcome", "text"),
    ("body", "text"),
]
_PG_INSERT = (
    f"INSERT INTO audit_auditevent ({', '.join(c for c, _ in _COLUMNS)})"  # noqa: S608 - constant
    f" SELECT * FROM unnest({', '.join(f'%s::{t}[]' for _, t in _COLUMNS)})"
)
_PG_IDS = (
    "SELECT nextval(pg_get_serial_sequence('audit_auditevent', 'id')) FROM generate_series(1, %s)"
)
Entry = dict[str, Any]


class GroupCommitAppender:
    def __init__(self, max_batch: int = MAX_BATCH):
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[tuple[Entry, Future[int]] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="audit-appender", daemon=True)
        self._thread.start()

    def append_many(self, entries: list[Entry], timeout: float) -> list[int]:
        """Queue entries' column values (they usually share one commit); return their ids once
        their transaction committed."""
        futures: list[Future[int]] = []
        for entry in entries:
            future: Future[int] = Future()
            self._queue.put((entry, future))
            futures.append(future)
        return [f.result(timeout=timeout) for f in futures]

    def stop(self) -> None:
        """Finish what is queued, close the thread's database connection and end the thread."""
        self._queue.put(None)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            batch = [] if first is None else [first]
            stopping = first is None
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                else:
                    batch.append(item)
            if batch:
                self._write(batch)
        connection.close()

    @staticmethod
    def _insert(entries: list[Entry]) -> list[int]:
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                # Ids first, so each caller learns its own without relying on RETURNING's order.
                cur.execute(_PG_IDS, [len(entries)])
                ids = [row[0] for row in cur.fetchall()]
                rows = [{**e, "id": pk} for e, pk in zip(entries, ids, strict=True)]
                cur.execute(_PG_INSERT, [[r[c] for r in rows] for c, _ in _COLUMNS])
                return ids
        events = AuditEvent.objects.bulk_create([AuditEvent(**e) for e in entries])
        return [event.pk for event in events]

    def _write(self, batch: list[tuple[Entry, "Future[int]"]]) -> None:
        try:
            with transaction.atomic():
                ids = self._insert([entry for entry, _ in batch])
        except Exception as exc:
            connection.close()  # a broken connection is not reused for the next batch
            for _, future in batch:
                future.set_exception(exc)
            return
        for (_, future), pk in zip(batch, ids, strict=True):
            future.set_result(pk)


_lock = threading.Lock()
_appender: GroupCommitAppender | None = None


def appender() -> GroupCommitAppender:
    """This process's appender, started on first use (after a fork, a new one starts)."""
    global _appender
    with _lock:
        if _appender is None or not _appender._thread.is_alive():
            _appender = GroupCommitAppender()
        return _appender


def stop_appender() -> None:
    """Stop this process's appender if one runs (tests, before dropping their database)."""
    global _appender
    with _lock:
        if _appender is not None:
            _appender.stop()
            _appender = None
