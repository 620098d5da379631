"""Notification mail, sent once the change it reports has committed."""

import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

log = logging.getLogger(__name__)


def notify_after_commit(subject: str, body: str, recipients: Iterable[str]) -> None:
    """Mail ``recipients`` after the current transaction commits; a mail failure is logged and
    never undoes the change it reports (the UI shows the same thing anyway)."""
    to = sorted({r for r in recipients if r})
    if not to:
        return

    def send() -> None:
        try:
            send_mail(subject, body, None, to)
        except Exception:
            log.exception("notification could not be sent: %s", subject)

    transaction.on_commit(send)


def site_url(path: str) -> str:
    """An absolute link into the web UI (``STEWARD_BASE_URL``), for mails."""
    return settings.STEWARD_BASE_URL.rstrip("/") + path
