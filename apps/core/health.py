"""Liveness and readiness probes."""

from collections.abc import Callable

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from controlplane.celery import app as celery_app


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is up and serving requests; touches nothing else."""
    return JsonResponse({"status": "ok"})


def _check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def _check_broker() -> str | None:
    try:
        with celery_app.connection_for_write(settings.CELERY_BROKER_URL) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


# Other apps add their own checks here (AppConfig.ready): name -> None if fine, else why not.
READINESS_CHECKS: dict[str, Callable[[], str | None]] = {}


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Ready when the database, the broker and every registered check answer; 503 names what
    is down."""
    checks = {"database": _check_database(), "broker": _check_broker()}
    for name, check in READINESS_CHECKS.items():
        try:
            checks[name] = check()
        except Exception as exc:
            checks[name] = f"{type(exc).__name__}: {exc}"
    body = {
        "status": "ok" if not any(checks.values()) else "unavailable",
        "checks": {name: ("ok" if err is None else err) for name, err in checks.items()},
    }
    return JsonResponse(body, status=200 if body["status"] == "ok" else 503)
