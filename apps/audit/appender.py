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

from django.db import connection, transaction

from apps.audit.models import AuditEvent

MAX_BATCH = 1000


class GroupCommitAppender:
    def __init__(self, max_batch: int = MAX_BATCH):
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[tuple[AuditEvent, Future[int]] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="audit-appender", daemon=True)
        self._thread.start()

    def append(self, event: AuditEvent, timeout: float) -> int:
        future: Future[int] = Future()
        self._queue.put((event, future))
        return future.result(timeout=timeout)

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
    def _write(batch: list[tuple[AuditEvent, "Future[int]"]]) -> None:
        try:
            with transaction.atomic():
                AuditEvent.objects.bulk_create([event for event, _ in batch])
        except Exception as exc:
            connection.close()  # a broken connection is not reused for the next batch
            for _, future in batch:
                future.set_exception(exc)
            return
        for event, future in batch:
            future.set_result(event.pk)


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
