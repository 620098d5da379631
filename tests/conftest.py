import os

import pytest

from tests.factories import UserFactory

# Playwright's sync API runs an event loop in the test thread; the Django ORM calls the tests make
# beside it are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session", autouse=True)
def _stop_audit_appender(django_db_setup):
    """The group-commit appender thread holds a connection; release it before teardown drops
    the test database."""
    yield
    from apps.audit.appender import stop_appender

    stop_appender()


@pytest.fixture
def user_factory(db):
    from tests.factories import UserFactory

    return UserFactory


# The people most tests need: an admin, a dataset owner, a read-only viewer and a stranger.


@pytest.fixture
def admin(db):
    return UserFactory(username="admin", is_superuser=True, is_staff=True)


@pytest.fixture
def owner(db):
    return UserFactory(username="olivia")


@pytest.fixture
def stranger(db):
    return UserFactory(username="stan")


@pytest.fixture
def viewer(db):
    return UserFactory(username="vera")


@pytest.fixture
def real_worker(transactional_db):
    """A Celery worker thread consuming this test run's Redis broker. It has its own database
    connection, so it sees committed data only (hence transactional tests)."""
    from celery.contrib.testing.worker import start_worker

    from controlplane.celery import app
    from tests.workers import broker_reset

    broker_reset()  # messages left by an earlier, interrupted run, queued or unacknowledged
    with start_worker(app, perform_ping_check=False, pool="solo", shutdown_timeout=30) as w:
        yield w


@pytest.fixture
def worker_processes(transactional_db, tmp_path):
    """Real ``celery worker`` processes a test starts, SIGKILLs and replaces (tests/workers.py);
    all are killed, and the test broker emptied, when the test ends."""
    from tests.workers import WorkerProcesses

    with WorkerProcesses(log_dir=tmp_path) as workers:
        yield workers
