"""Domain errors. Services raise these; the API and UI map them to responses."""

from typing import Any


class ApplicationError(Exception):
    """A refusal a person can act on: a stable ``code``, a readable ``message``, an HTTP status."""

    code = "application_error"
    status = 400

    def __init__(
        self, message: str, *, code: str | None = None, extra: dict[str, Any] | None = None
    ):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.extra = extra or {}


class ValidationFailed(ApplicationError):
    code = "invalid"
    status = 400


class NotFound(ApplicationError):
    """Missing and forbidden look the same, so ids cannot be probed."""

    code = "not_found"
    status = 404


class Conflict(ApplicationError):
    code = "conflict"
    status = 409


class ServiceUnavailable(ApplicationError):
    """Something the action depends on (the database, the audit log) is down: nothing changed."""

    code = "service_unavailable"
    status = 503


class PermissionDenied(ApplicationError):
    code = "permission_denied"
    status = 403


class PayloadTooLarge(ApplicationError):
    code = "payload_too_large"
    status = 413


class UnsupportedMediaType(ApplicationError):
    code = "unsupported_media_type"
    status = 415


class SourceUnavailable(ApplicationError):
    """A registered data source could not be reached or queried."""

    code = "source_unavailable"
    status = 502


def full_clean_or_raise(obj: Any, **kwargs: Any) -> None:
    """``obj.full_clean(**kwargs)``, turning Django's ValidationError into ``ValidationFailed``."""
    from django.core.exceptions import ValidationError

    try:
        obj.full_clean(**kwargs)
    except ValidationError as exc:
        fields = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        first_field, messages = next(iter(fields.items()))
        prefix = "" if first_field == "__all__" else f"{first_field}: "
        raise ValidationFailed(f"{prefix}{messages[0]}", extra={"fields": fields}) from exc


def or_404(get: Any) -> Any:
    """``get()``, with a ``NotFound`` it raises turned into Django's ``Http404`` (views)."""
    from django.http import Http404

    try:
        return get()
    except ApplicationError as exc:
        if exc.status == 404:
            raise Http404(exc.message) from exc
        raise
