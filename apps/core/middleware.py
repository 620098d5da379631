import logging
import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.html import escape

from apps.core import context
from apps.core.errors import ApplicationError

log = logging.getLogger(__name__)

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class ServerTimingMiddleware:
    """``Server-Timing: app;dur=<ms>`` (W3C Server Timing) on every response: the time the
    application spent on the request, so a caller (or a benchmark) can tell server time from
    the network and its own queueing. First in ``MIDDLEWARE``, so it covers all the others."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        response["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.2f}"
        return response


class RequestContextMiddleware:
    """Give every request a correlation id (honouring a sane incoming X-Request-ID)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
        token = context.set_current(
            context.RequestContext(request_id=request_id, ip=request.META.get("REMOTE_ADDR"))
        )
        try:
            response = self.get_response(request)
        finally:
            context.reset(token)
        response["X-Request-ID"] = request_id
        return response


class PayloadLimitMiddleware:
    """Refuse oversize bodies up front with 413 and a stable code, before anything parses them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if limit is not None and length > limit:
            return JsonResponse(
                {
                    "error": {
                        "code": "payload_too_large",
                        "message": f"Request body is {length} bytes; the limit is {limit} bytes.",
                    }
                },
                status=413,
            )
        return self.get_response(request)


class UnavailableMiddleware:
    """A lost database (or audit log) answers 503 with a stable code, never a 500 page.

    DRF views map ``ApplicationError`` themselves; this catches what escapes any view: a dropped
    database connection (``OperationalError``/``InterfaceError``) or an unhandled
    ``ApplicationError``. Whatever the view was doing was rolled back with its transaction.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, ApplicationError):
            code, message, status = exception.code, exception.message, exception.status
        elif isinstance(exception, OperationalError | InterfaceError):
            code, status = "database_unavailable", 503
            # The caller is told only that the database is unavailable; the cause goes to the log.
            log.warning(
                "%s %s answered 503 database_unavailable",
                request.method,
                request.path,
                exc_info=exception,
            )
            message = "The database is unavailable; nothing was changed. Try again shortly."
        else:
            return None
        if request.path.startswith(("/api/", "/access/")) or "json" in request.headers.get(
            "Accept", ""
        ):
            response: HttpResponse = JsonResponse(
                {"error": {"code": code, "message": message}}, status=status
            )
        else:
            response = HttpResponse(
                f"<!doctype html><title>Unavailable</title><h1>{status}</h1><p>{escape(message)}</p>",
                status=status,
            )
        if status == 503:
            response["Retry-After"] = "5"
        return response
