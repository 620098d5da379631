"""Make the real database fail where it matters (every audit insert, or the writes to another
table), on purpose, for a while."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

FAILURES = {
    "refused": "RAISE EXCEPTION 'disk full (simulated)';",
    # What stopping Postgres does to each open connection: its backend is terminated.
    "connection_killed": "PERFORM pg_terminate_backend(pg_backend_pid());",
}


def fail_writes(kind: str, *, table: str = "audit_auditevent", event: str = "INSERT") -> None:
    """Install a trigger that fails every ``event`` on ``table`` (undo with ``allow_writes``)."""
    with connection.cursor() as cur:
        cur.execute(
            f"CREATE FUNCTION test_fail_{table}() RETURNS trigger LANGUAGE plpgsql AS $$"
            f" BEGIN {FAILURES[kind]} RETURN NEW; END $$"
        )
        cur.execute(
            f"CREATE TRIGGER test_fail_{table} BEFORE {event} ON {table}"
            f" FOR EACH ROW EXECUTE FUNCTION test_fail_{table}()"
        )


def allow_writes(*, table: str = "audit_auditevent") -> None:
    with connection.cursor() as cur:
        cur.execute(f"DROP TRIGGER IF EXISTS test_fail_{table} ON {table}")
        cur.execute(f"DROP FUNCTION IF EXISTS test_fail_{table}()")


@contextmanager
def audit_inserts_failing(kind: str = "refused") -> Iterator[None]:
    fail_writes(kind)
    try:
        yield
    finally:
        allow_writes()
