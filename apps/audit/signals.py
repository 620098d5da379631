"""Sign-in, failed sign-in and sign-out go to the audit log like any other action.

A failed attempt records the username that was tried (never the password: Django strips it
from ``credentials``); if the record cannot be written, the sign-in fails with it.
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from apps.audit.models import AuditEvent
from apps.audit.services import Target, audit_record_alone


def _user_target(user: Any) -> Target:
    return Target(get_user_model()._meta.label_lower, str(user.pk), user.get_username())


@receiver(user_logged_in, dispatch_uid="audit-sign-in")
def _signed_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit_record_alone(actor=user, action="auth.sign_in", target=_user_target(user))


@receiver(user_logged_out, dispatch_uid="audit-sign-out")
def _signed_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is None:  # signing out without a session
        return
    audit_record_alone(actor=user, action="auth.sign_out", target=_user_target(user))


@receiver(user_login_failed, dispatch_uid="audit-sign-in-failed")
def _sign_in_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    username = str(credentials.get("username", ""))[:150]
    audit_record_alone(
        actor=AnonymousUser(),
        action="auth.sign_in_failed",
        target=Target("auth.user", username or "-", username or "(no username)"),
        outcome=AuditEvent.Outcome.DENIED,
    )
