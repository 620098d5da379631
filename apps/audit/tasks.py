"""Scheduled audit work (django-celery-beat rows created by ``apps.audit.schedules``).

- ``audit_seal_task`` every ``AUDIT_SEAL_MILLISECONDS`` (200 ms): entries are sealed into a
  batch within about that long.
- ``audit_checkpoint_task`` every few minutes: signs the head if it moved.
- ``audit_verify_task`` hourly: walks the log; a break is logged at ERROR, mailed to ADMINS
  and itself recorded (outcome ``error``).
- ``audit_retention_task`` daily: archives then prunes entries past retention.

All are idempotent: the sealer and the archiver take the same advisory lock and re-read state.
"""

import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import mail_admins

from apps.audit.services import (
    Target,
    audit_checkpoint_create,
    audit_record_alone,
    audit_seal_pending,
)

logger = logging.getLogger(__name__)

_TASK = {"acks_late": True, "ignore_result": True}


@shared_task(**_TASK)
def audit_seal_task() -> int:
    return sum(batch.size for batch in audit_seal_pending())


@shared_task(**_TASK)
def audit_checkpoint_task() -> int | None:
    checkpoint = audit_checkpoint_create(only_if_new=True)
    return checkpoint.pk if checkpoint else None


@shared_task(**_TASK)
def audit_verify_task() -> bool:
    from apps.audit.verify import verify_log

    report = verify_log()
    summary: dict[str, object] = {
        "entries": report.entries,
        "batches": report.batches,
        "checkpoints": report.checkpoints,
        "stale_unsealed": report.stale_unsealed,
        "seconds": round(report.seconds, 3),
    }
    if report.problem is not None:
        summary.update(kind=report.problem.kind, message=report.problem.message)
        logger.error("audit log verification FAILED: %s", report.problem.message)
        mail_admins(
            "Audit log verification failed",
            f"{report.problem.kind}: {report.problem.message}\n\nRun `manage.py audit_verify`.",
            fail_silently=True,
        )
    elif report.stale_unsealed:
        logger.warning("audit log: %s", "; ".join(report.notes))
    audit_record_alone(
        actor="audit verifier",
        action="audit.verify",
        target=Target("audit.log", "chain", "audit log"),
        changes=summary,
        outcome="success" if report.ok else "error",
    )
    return report.ok


@shared_task(**_TASK)
def audit_retention_task() -> int:
    from apps.audit.retention import audit_archive_and_prune

    archive = audit_archive_and_prune(
        older_than_days=settings.AUDIT_RETENTION_DAYS, directory=settings.AUDIT_ARCHIVE_DIR
    )
    return archive.entries if archive else 0
