"""Settings for ``bench/decisions_http.py`` only: never deploy with them.

The product's settings plus a baseline endpoint (``controlplane.bench_urls``) that the HTTP
throughput bench compares the decision API against. Fixed, public keys; Postgres required.
"""

from .base import *  # noqa: F403
from .base import env

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]  # testserver: in-process timing
SECRET_KEY = "bench-only-key"  # noqa: S105 - the bench's own throwaway database
STEWARD_SECRETS_KEY = "YmVuY2gtb25seS1rZXktMzItYnl0ZXMtbG9uZyEhISE="  # the same: bench only
DATABASES = {
    "default": env.db(
        "DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/steward_bench_http"
    )
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
ROOT_URLCONF = "controlplane.bench_urls"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Static files straight from the apps, indexed once at start (no collectstatic, no per-request scan).
WHITENOISE_USE_FINDERS = True
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
