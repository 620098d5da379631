"""Make the real database fail where it matters: every audit insert, on purpose, for a while."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

FAILURES = {
    "refused": "RAISE EXCEPTION 'disk full (simulated)';",
    # What stopping Postgres does to each open connection: its backend is terminated.
    "connection_killed": "PERFORM pg_terminate_backend(pg_backend_pid());",
}


def fail_audit_inserts(kind: str) -> None:
    """Install a trigger that fails every audit insert (undo with ``allow_audit_inserts``)."""
    with connection.cursor() as cur:
        cur.execute(
            "CREATE FUNCTION test_fail_audit() RETURNS trigger LANGUAGE plpgsql AS $$"
            f" BEGIN {FAILURES[kind]} RETURN NEW; END $$"
        )
        cur.execute(
            "CREATE TRIGGER test_fail_audit BEFORE INSERT ON audit_auditevent"
            " FOR EACH ROW EXECUTE FUNCTION test_fail_audit()"
        )


def allow_audit_inserts() -> None:
    with connection.cursor() as cur:
        cur.execute("DROP TRIGGER IF EXISTS test_fail_audit ON audit_auditevent")
        cur.execute("DROP FUNCTION IF EXISTS test_fail_audit()")


@contextmanager
def audit_inserts_failing(kind: str = "refused") -> Iterator[None]:
    fail_audit_inserts(kind)
    try:
        yield
    finally:
        allow_audit_inserts()
