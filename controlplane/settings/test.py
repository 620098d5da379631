"""Test settings: real Postgres and Redis on 127.0.0.1 (standard ports)."""

from .base import *  # noqa: F403
from .base import env, redis_transport_options

DEBUG = False
ALLOWED_HOSTS = ["*"]
SECRET_KEY = env("SECRET_KEY", default="test-only-key")
STEWARD_SECRETS_KEY = env(
    "STEWARD_SECRETS_KEY", default="dGVzdC1vbmx5LWtleS0zMi1ieXRlcy1sb25nISEhISE="
)
DATABASES = {
    "default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/steward")
}
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="redis://127.0.0.1:6379/15")
# A task whose worker was killed comes back within seconds (tests/workers.py). Still longer than
# any task or countdown in the tests, which would otherwise also start again while running.
CELERY_BROKER_TRANSPORT_OPTIONS = redis_transport_options(
    env.int("CELERY_VISIBILITY_TIMEOUT", default=10)
)
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast user creation
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
# Static files come straight from the apps (no collectstatic before tests).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
