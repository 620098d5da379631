"""Real ``celery -A controlplane worker`` processes that a test can SIGKILL and replace.

The ``real_worker`` fixture runs a worker *thread*, which cannot be killed. Tests of "a worker
killed mid-task loses nothing and duplicates nothing" need a process: each ``WorkerProcess`` is
a separate ``celery worker`` in its own process group (so a prefork pool's children die with it),
on this test run's Postgres test database and Redis broker, with the test settings' short
visibility timeout, so the broker hands a killed worker's unacknowledged task to the next worker
within seconds.

Use the ``worker_processes`` fixture (tests/conftest.py)::

    first = worker_processes.start()
    some_task.delay(...)
    ...                               # wait until it is part-way through
    first.kill()                      # SIGKILL; returns once its database sessions are gone
    assert broker_unacked() == 1      # the task was taken and never acknowledged
    worker_processes.start()          # the broker redelivers it to this one

Every worker is killed and the broker emptied (queue and unacknowledged messages) when the test
ends. Tests using it must be transactional: the workers see committed data only.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Self
from urllib.parse import quote, urlencode

from django.conf import settings
from django.db import connection

from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parent.parent
START_SECONDS = 60  # a cold Django + Celery start on a busy two-core machine
GONE_SECONDS = 15


def database_url(db: dict[str, Any], *, application_name: str) -> str:
    """A ``DATABASE_URL`` for the database this process uses (the test database pytest-django
    created, whatever its suffix), tagged with ``application_name`` so its sessions can be found
    in ``pg_stat_activity``."""
    if db["ENGINE"] != "django.db.backends.postgresql":
        raise RuntimeError("worker processes need the Postgres test database")
    user = quote(db.get("USER") or "", safe="")
    password = quote(str(db.get("PASSWORD") or ""), safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    options = {k: v for k, v in (db.get("OPTIONS") or {}).items() if isinstance(v, str | int)}
    options["application_name"] = application_name
    return f"postgres://{auth}{host}:{port}/{quote(db['NAME'], safe='')}?{urlencode(options)}"


def celery_env(application_name: str) -> dict[str, str]:
    """The environment of a ``celery`` process on this test run's database and broker."""
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "controlplane.settings.test",
        "DATABASE_URL": database_url(
            settings.DATABASES["default"], application_name=application_name
        ),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_VISIBILITY_TIMEOUT": str(options["visibility_timeout"]),
    }


@contextlib.contextmanager
def beat_process(*, log_dir: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A real ``celery beat`` (the database scheduler, as deployed) sending this test database's
    periodic tasks to the test broker; killed, and the broker emptied, on exit."""
    log_path = log_dir / "beat.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "controlplane", "beat", "--loglevel", "INFO"],
            cwd=ROOT,
            env=celery_env("test-beat"),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=GONE_SECONDS)
        broker_reset()


def _channel_keys(channel: Any) -> tuple[str, str, str]:
    return channel.unacked_key, channel.unacked_index_key, channel.unacked_mutex_key


def broker_unacked() -> int:
    """How many messages workers have taken from the Redis broker and not yet acknowledged
    (with ``acks_late``: tasks running, or abandoned by a dead worker)."""
    from controlplane.celery import app

    with app.connection_for_write() as conn:
        channel = conn.default_channel
        return int(channel.client.hlen(channel.unacked_key))


def broker_reset() -> None:
    """Empty the test broker: queued messages and unacknowledged ones (which a worker would
    otherwise redeliver into a later test)."""
    from controlplane.celery import app

    app.control.purge()
    with app.connection_for_write() as conn:
        channel = conn.default_channel
        channel.client.delete(*_channel_keys(channel))


class WorkerProcess:
    """One ``celery worker`` process: prefork with ``concurrency`` children, as deployed.

    Not the solo pool for kill tests: it runs the task inside the worker's event loop, which also
    sends acknowledgements (``call_soon``), so even a task *without* ``acks_late`` stays
    unacknowledged until it ends, and a test on solo cannot tell the two apart.
    """

    def __init__(self, *, log_dir: Path, pool: str = "prefork", concurrency: int = 1) -> None:
        self.name = f"killable-{uuid.uuid4().hex[:8]}"
        self.pool = pool
        self.concurrency = concurrency
        self.log_path = log_dir / f"{self.name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def hostname(self) -> str:
        return f"{self.name}@localhost"

    def _env(self) -> dict[str, str]:
        return celery_env(self.name)

    def start(self) -> Self:
        """Start the worker and return once it answers a ping over the broker."""
        from controlplane.celery import app

        command = [
            sys.executable, "-m", "celery", "-A", "controlplane", "worker",
            "--hostname", self.hostname, "--pool", self.pool,
            "--concurrency", str(self.concurrency), "--loglevel", "INFO",
            # No cluster chatter to wait for at start-up: this worker is alone.
            "--without-mingle", "--without-gossip", "--without-heartbeat",
        ]  # fmt: skip
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own command line, no shell
                command,
                cwd=ROOT,
                env=self._env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, killed as one
            )
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker {self.name} exited at start-up:\n{self.log_tail()}")
            if app.control.ping(destination=[self.hostname], timeout=0.5):
                return self
        self.kill()
        raise RuntimeError(f"worker {self.name} not ready in {START_SECONDS}s:\n{self.log_tail()}")

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the worker's process group (no warm shutdown: nothing is acknowledged or put
        back) and return once Postgres has dropped its sessions, so the rows it had locked are
        free again, as they would be for a worker started after a crash."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):  # already gone
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=GONE_SECONDS)
        if not wait_until(lambda: not self._sessions(), seconds=GONE_SECONDS):
            raise RuntimeError(f"worker {self.name}'s database sessions outlived it")

    def _sessions(self) -> int:
        with connection.cursor() as cur:
            cur.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [self.name]
            )
            return int(cur.fetchone()[0])

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


class WorkerProcesses:
    """The workers one test starts; all killed, and the broker emptied, on exit."""

    def __init__(self, *, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.started: list[WorkerProcess] = []

    def __enter__(self) -> Self:
        broker_reset()  # leftovers of an earlier, interrupted run
        return self

    def start(self, *, pool: str = "prefork", concurrency: int = 1) -> WorkerProcess:
        worker = WorkerProcess(log_dir=self.log_dir, pool=pool, concurrency=concurrency)
        self.started.append(worker)
        return worker.start()

    def __exit__(self, *exc: object) -> None:
        for worker in self.started:
            worker.kill()
        broker_reset()
