"""Group commit for entries that stand alone (decisions, uploaded decision logs).

Postgres on this class of machine commits a few thousand one-row transactions per second,
whatever the table: each commit waits for its WAL flush. So a process writes these entries one
transaction at a time, many entries per transaction when callers are many:

- a caller that already holds a database connection and finds no audit write under way in the
  process writes its own entries on that connection, with whatever other callers queued (no
  hand-off to another thread: a lone request pays what any request's INSERT pays);
- otherwise it queues them for the process's writer thread, which inserts everything waiting
  (up to ``MAX_BATCH``) and wakes each caller only after that commit.

Each write is one INSERT (one entry) or COPY (several, after a ``nextval`` query) in autocommit:
one statement, atomic on its own, with no BEGIN/COMMIT round trips.

An entry reported as recorded is durable; a failed commit fails every caller in it. A caller
that gives up after its timeout withdraws its entries if the writer has not taken them yet (an
entry the writer already took is still written).
"""

import contextlib
import functools
import ipaddress
import queue
import threading
import time
from concurrent.futures import Future
from typing import Any

from django.db import connection

from apps.audit.models import AuditEvent

MAX_BATCH = 1000
_COLUMNS = [
    "created_at",
    "actor_type",
    "actor_id",
    "actor_repr",
    "ip",
    "request_id",
    "action",
    "target_type",
    "target_id",
    "target_repr",
    "scope",
    "outcome",
    "body",
]
_NAMES = ", ".join(_COLUMNS)
# One entry: a plain INSERT, one round trip.
_PG_INSERT_ONE = (
    f"INSERT INTO audit_auditevent ({_NAMES})"  # noqa: S608 - constant
    f" VALUES ({', '.join('%s' for _ in _COLUMNS)}) RETURNING id"
)
# Several: ids first, so each caller learns its own, then one COPY (one statement, atomic).
# COPY is ~3x faster here than INSERT ... SELECT FROM unnest(arrays) for 100 entries: psycopg
# escapes every quote of the JSON bodies in Python to build the array literals.
_PG_IDS = (
    "SELECT nextval(pg_get_serial_sequence('audit_auditevent', 'id')) FROM generate_series(1, %s)"
)
# In binary: Postgres takes each value as stored instead of parsing its text (100 decision
# entries: 2.3-3.2 ms against 3.2-4.2 ms in text, interleaved). Binary needs each column's type,
# and an address as an ipaddress object.
_PG_COPY = f"COPY audit_auditevent (id, {_NAMES}) FROM STDIN (FORMAT BINARY)"
_PG_COPY_NO_IDS = f"COPY audit_auditevent ({_NAMES}) FROM STDIN (FORMAT BINARY)"  # ids: default
_TYPES = {"created_at": "timestamptz", "actor_id": "int4", "ip": "inet", "body": "text"}
_COPY_TYPES = [_TYPES.get(c, "varchar") for c in _COLUMNS]
_IP = _COLUMNS.index("ip")
Entry = dict[str, Any]


@functools.lru_cache(maxsize=1024)
def _inet(ip: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    return None if ip is None else ipaddress.ip_address(ip)


def _row(entry: Entry) -> list[Any]:
    row = [entry[c] for c in _COLUMNS]
    row[_IP] = _inet(row[_IP])
    return row


def _insert(entries: list[Entry], read_ids: bool = True) -> list[int]:
    """Write on this thread's connection; their ids. One entry: an INSERT; several: ids from
    the sequence, then one COPY (with ``read_ids=False``: the COPY alone, and ``[]``)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            if len(entries) == 1:
                cur.execute(_PG_INSERT_ONE, [entries[0][c] for c in _COLUMNS])
                return [row[0] for row in cur.fetchall()]
            if not read_ids:
                with cur.copy(_PG_COPY_NO_IDS) as copy:
                    copy.set_types(_COPY_TYPES)
                    for entry in entries:
                        copy.write_row(_row(entry))
                return []
            cur.execute(_PG_IDS, [len(entries)])
            ids = [row[0] for row in cur.fetchall()]
            with cur.copy(_PG_COPY) as copy:
                copy.set_types(["int8", *_COPY_TYPES])
                for pk, entry in zip(ids, entries, strict=True):
                    copy.write_row([pk, *_row(entry)])
            return ids
    events = AuditEvent.objects.bulk_create([AuditEvent(**e) for e in entries])
    return [event.pk for event in events]


def _commit(entries: list[Entry], read_ids: bool = True) -> list[int]:
    """Insert and commit. Outside any transaction each statement commits on its own, and the one
    INSERT or COPY that writes the entries is atomic, so no BEGIN/COMMIT round trips are spent."""
    try:
        return _insert(entries, read_ids)
    except Exception:
        connection.close()  # a broken connection is not reused (the next query reconnects)
        raise


Queued = tuple[Entry, "Future[int]"]


def _settle(queued: list[Queued], ids: list[int] | None, error: BaseException | None) -> None:
    if ids is None:
        for _, future in queued:
            future.set_exception(error or RuntimeError("audit write failed"))
        return
    for (_, future), pk in zip(queued, ids, strict=True):
        future.set_result(pk)


class GroupCommitAppender:
    def __init__(self, max_batch: int = MAX_BATCH):
        self.max_batch = max_batch
        # Held by whoever writes: the writer thread, or a caller writing on its own connection.
        self._writing = threading.Lock()
        self._queue: queue.SimpleQueue[Queued | None] = queue.SimpleQueue()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="audit-appender", daemon=True)
        self._thread.start()

    def append_many(self, entries: list[Entry], timeout: float, read_ids: bool = True) -> list[int]:
        """Record entries; return their ids once committed (``read_ids=False``: maybe ``[]``, when
        reading them would cost a round trip). Raises the write's error, or ``TimeoutError``
        when the writer thread did not commit them within ``timeout`` s."""
        if connection.connection is not None and self._writing.acquire(blocking=False):
            try:  # write here, taking along whatever other callers queued
                return self._write(entries, self._take(self.max_batch - len(entries)), read_ids)
            finally:
                self._writing.release()
        futures: list[Future[int]] = []
        for entry in entries:
            future: Future[int] = Future()
            self._queue.put((entry, future))
            futures.append(future)
        deadline = time.monotonic() + timeout
        try:
            return [f.result(timeout=max(0.0, deadline - time.monotonic())) for f in futures]
        except TimeoutError:
            for f in futures:
                f.cancel()  # withdrawn, unless a writer already took it
            raise

    def stop(self) -> None:
        """Finish what is queued, close the thread's database connection and end the thread."""
        self._stopping = True
        self._queue.put(None)
        self._thread.join(timeout=10)

    def _take(self, room: int) -> list[Queued]:
        """Up to ``room`` queued entries, without waiting; withdrawn ones are dropped, and the
        ones taken can no longer be withdrawn."""
        taken: list[Queued] = []
        while len(taken) < room:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:  # stop(): leave it for the writer thread
                self._queue.put(None)
                break
            if item[1].set_running_or_notify_cancel():
                taken.append(item)
        return taken

    @staticmethod
    def _write(own: list[Entry], queued: list[Queued], read_ids: bool = True) -> list[int]:
        """Commit ``own`` entries and the ``queued`` ones; settle the queued callers (who get
        their ids); the ids of ``own`` (``[]`` if unread: ``read_ids=False`` and none queued),
        or the write's error."""
        try:
            ids = _commit(own + [entry for entry, _ in queued], read_ids or bool(queued))
        except Exception as exc:
            _settle(queued, None, exc)
            raise
        _settle(queued, ids[len(own) :], None)
        return ids[: len(own)]

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            with self._writing:
                batch = (
                    [first] if first is not None and first[1].set_running_or_notify_cancel() else []
                )
                batch += self._take(self.max_batch - len(batch))
                if batch:
                    with contextlib.suppress(Exception):  # every caller in it got the error
                        self._write([], batch)
            if self._stopping and self._queue.empty():
                break
        connection.close()


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
