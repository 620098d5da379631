"""Celery tasks for sync and scan, run by a real worker on the Redis broker, and the requests
that queue them."""

import importlib

import pytest

from apps.audit.models import AuditEvent
from apps.catalog import services, tasks
from apps.catalog.models import ClassificationSuggestion, DataSource
from apps.core.errors import PermissionDenied, SourceUnavailable, ValidationFailed
from tests.factories import UserFactory
from tests.waiting import wait_until as _wait_until


@pytest.fixture
def worker(real_worker):
    """The shared real worker, with the migrated taxonomy loaded again: a transactional test's
    flush empties it (the data migration's own function is idempotent)."""
    from django.apps import apps as django_apps

    importlib.import_module("apps.classification.migrations.0002_default_taxonomy").forwards(
        django_apps, None
    )
    return real_worker


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_queued_sync(worker, source):
    tasks.source_sync_task.delay(source.pk)

    assert _wait_until(
        lambda: DataSource.objects.filter(pk=source.pk, last_synced_at__isnull=False).exists()
    )
    source.refresh_from_db()
    assert source.last_sync_summary["datasets"]["created"] == 5
    event = AuditEvent.objects.get(action="catalog.source.sync")
    assert event.actor_repr == "system"


@pytest.mark.django_db(transaction=True)
def test_requests_queue_sync_then_scan_after_commit(worker, admin, source):
    services.source_sync_request(actor=admin, source=source)
    assert _wait_until(
        lambda: DataSource.objects.filter(pk=source.pk, last_synced_at__isnull=False).exists()
    )

    services.source_scan_request(actor=admin, source=source)

    assert _wait_until(
        lambda: DataSource.objects.filter(pk=source.pk, last_scanned_at__isnull=False).exists()
    )
    assert ClassificationSuggestion.objects.filter(status="pending").exists()
    requested = AuditEvent.objects.filter(action__endswith="_requested").values_list(
        "action", "actor__username"
    )
    assert sorted(requested) == [
        ("catalog.source.scan_requested", "admin"),
        ("catalog.source.sync_requested", "admin"),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "request_fn",
    [
        pytest.param(services.source_sync_request, id="sync"),
        pytest.param(services.source_scan_request, id="scan"),
    ],
)
def test_a_request_queues_exactly_one_task_on_commit(
    admin, source, request_fn, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        request_fn(actor=admin, source=source)

    assert len(callbacks) == 1
    assert AuditEvent.objects.filter(action__endswith="_requested").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "request_fn",
    [
        pytest.param(services.source_sync_request, id="sync"),
        pytest.param(services.source_scan_request, id="scan"),
    ],
)
def test_a_person_without_the_admin_role_cannot_request(
    source, request_fn, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=False) as callbacks,
        pytest.raises(PermissionDenied),
    ):
        request_fn(actor=UserFactory(), source=source)

    assert callbacks == []
    assert not AuditEvent.objects.filter(action__endswith="_requested").exists()


@pytest.mark.django_db
def test_a_non_postgres_source_cannot_be_requested(admin):
    bucket = services.source_create(actor=admin, name="lake", kind="s3")

    with pytest.raises(ValidationFailed) as err:
        services.source_sync_request(actor=admin, source=bucket)

    assert err.value.code == "sync_not_supported"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "task",
    [
        pytest.param(tasks.source_sync_task, id="sync"),
        pytest.param(tasks.source_scan_task, id="scan"),
    ],
)
def test_a_task_for_a_deleted_source_does_nothing(task):
    assert task(987654321) is None
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    "task",
    [
        pytest.param(tasks.source_sync_task, id="sync"),
        pytest.param(tasks.source_scan_task, id="scan"),
    ],
)
def test_tasks_retry_only_an_unreachable_source_with_backoff_and_a_cap(task):
    assert task.acks_late is True
    assert task.autoretry_for == (SourceUnavailable,)
    assert task.retry_backoff is True
    assert task.max_retries == 3


@pytest.mark.django_db(transaction=True)
def test_the_periodic_refresh_syncs_then_scans_sources_that_are_due(worker, admin, source):
    import datetime as dt

    from django.test import override_settings
    from django.utils import timezone

    services.source_create(actor=admin, name="lake", kind="s3")  # cannot be synced: never due
    services.source_create(actor=admin, name="nohost", kind="postgres")  # nothing to reach
    assert services.sources_due_for_refresh() == [source.pk]

    tasks.sources_refresh_task.delay()  # (no result backend: watch the source instead)
    assert _wait_until(
        lambda: DataSource.objects.filter(pk=source.pk, last_scanned_at__isnull=False).exists()
    )
    source.refresh_from_db()
    assert source.last_synced_at <= source.last_scanned_at
    assert source.last_sync_summary["datasets"]["created"] == 5
    assert services.sources_due_for_refresh() == []  # synced just now
    later = timezone.now() + dt.timedelta(hours=25)
    assert services.sources_due_for_refresh(now=later) == [source.pk]
    with override_settings(CATALOG_REFRESH_HOURS=0):
        assert services.sources_due_for_refresh(now=later) == []
