"""One exception handler: every API error is ``{"error": {"code", "message", "fields"?}}``."""

import re
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import SuspiciousOperation, TooManyFieldsSent, TooManyFilesSent
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response

from apps.core.errors import ApplicationError

_DRF_CODES = {
    exceptions.ParseError: "malformed_request",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
}


def _error(code: str, message: str, http_status: int, **extra: Any) -> Response:
    body: dict[str, Any] = {"code": code, "message": message}
    body.update({k: v for k, v in extra.items() if v})
    return Response({"error": _writable(body)}, status=http_status)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _writable(value: Any) -> Any:
    """Messages and field names may quote the input, and a JSON escape can carry half a
    surrogate pair, which has no UTF-8 form to answer with: it is written as U+FFFD."""
    if isinstance(value, str):
        return value if value.isascii() else _SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_writable(k): _writable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_writable(v) for v in value]
    return value


def _first_message(detail: Any) -> str:
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    if isinstance(detail, dict) and detail:
        key, value = next(iter(detail.items()))
        inner = _first_message(value)
        return inner if key == "non_field_errors" else f"{key}: {inner}"
    return str(detail)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, RecursionError):
        # Reading or writing JSON nested deeper than Python's stack allows (DRF's parser only
        # catches ValueError); raised before anything is written, or inside the transaction
        # that rolls it back.
        return _error(
            "malformed_request",
            "The request nests arrays or objects too deeply; flatten it.",
            status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        # A form body or query string with more parameters than Django parses (raised when the
        # view first reads them, before anything is written).
        limit = (
            f"{settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} fields"
            if isinstance(exc, TooManyFieldsSent)
            else f"{settings.DATA_UPLOAD_MAX_NUMBER_FILES} files"
        )
        return _error(
            "malformed_request",
            f"The request carries more than {limit}; send the data as a JSON body.",
            status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, SuspiciousOperation):
        return _error(
            "malformed_request", "The request could not be read.", status.HTTP_400_BAD_REQUEST
        )
    if isinstance(exc, ApplicationError):
        return _error(exc.code, exc.message, exc.status, fields=exc.extra.get("fields"))
    if isinstance(exc, Http404):
        return _error("not_found", "Not found.", status.HTTP_404_NOT_FOUND)
    if isinstance(exc, DjangoPermissionDenied):
        return _error("permission_denied", "You do not have permission.", 403)
    if isinstance(exc, exceptions.ValidationError):
        return _error(
            "invalid",
            _first_message(exc.detail),
            status.HTTP_400_BAD_REQUEST,
            fields=exc.detail if isinstance(exc.detail, dict) else None,
        )
    if isinstance(exc, exceptions.ParseError):
        return _error(
            "malformed_request", f"The request body could not be parsed: {exc.detail}", 400
        )
    if isinstance(exc, exceptions.APIException):
        code = next((c for t, c in _DRF_CODES.items() if isinstance(exc, t)), "error")
        response = _error(code, str(exc.detail), exc.status_code)
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            response["WWW-Authenticate"] = (
                getattr(exc, "auth_header", None) or 'Token realm="steward"'
            )
        return response
    return None
