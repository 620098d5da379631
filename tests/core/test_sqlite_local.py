"""The local run's SQLite: two processes' transactions wait for each other instead of one being
refused with "database is locked" (the server, the embedded worker and beat share one file)."""

import threading

import pytest
from django.db import OperationalError, connections, transaction

from controlplane.settings.base import sqlite_options

ALIAS = "local_sqlite"


@pytest.fixture
def local_sqlite(tmp_path, django_db_blocker):
    configured = connections.configure_settings(
        {
            "default": connections.settings["default"],
            ALIAS: {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": str(tmp_path / "steward.sqlite3"),
                "OPTIONS": sqlite_options(),
            },
        }
    )
    connections.settings[ALIAS] = configured[ALIAS]
    with django_db_blocker.unblock():
        with connections[ALIAS].cursor() as cursor:
            cursor.execute("CREATE TABLE edits (who TEXT)")
        yield
        connections.close_all()
    del connections.settings[ALIAS]
    if hasattr(connections._connections, ALIAS):
        delattr(connections._connections, ALIAS)


def _count() -> int:
    with connections[ALIAS].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM edits")
        return int(cursor.fetchone()[0])


def test_a_transaction_that_read_first_is_not_refused_when_another_writes(local_sqlite):
    """A reads, then B writes and commits, then A writes: with SQLite's default deferred
    transactions A's write is refused ("database is locked"); with the write lock taken at
    BEGIN, B waits for A instead."""
    read, b_done = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def a() -> None:
        try:
            with transaction.atomic(using=ALIAS):
                seen = _count()
                read.set()
                b_done.wait(timeout=1)  # B finishes meanwhile, unless it waits for this one
                with connections[ALIAS].cursor() as cursor:
                    cursor.execute("INSERT INTO edits VALUES (%s)", [f"a after {seen}"])
        except OperationalError as exc:
            errors.append(exc)
        finally:
            read.set()
            connections[ALIAS].close()

    def b() -> None:
        read.wait(timeout=5)
        try:
            with transaction.atomic(using=ALIAS), connections[ALIAS].cursor() as cursor:
                cursor.execute("INSERT INTO edits VALUES ('b')")
        except OperationalError as exc:
            errors.append(exc)
        finally:
            b_done.set()
            connections[ALIAS].close()

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert _count() == 2
    with connections[ALIAS].cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
