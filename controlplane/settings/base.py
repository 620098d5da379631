"""Settings shared by every environment; values come from the environment (django-environ)."""

from email.utils import parseaddr
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# SECRET_KEY and STEWARD_SECRETS_KEY: each environment module sets them (production: no default).
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS: list[str] = env.list("ALLOWED_HOSTS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "django_celery_beat",
    "apps.core",
    "apps.audit",
    "apps.decisions",
    "apps.keys",
    "apps.classification",
    "apps.catalog",
    "apps.access",
    "apps.reviews",
    "apps.ui",
]

MIDDLEWARE = [
    "apps.core.middleware.ServerTimingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "apps.core.middleware.RequestContextMiddleware",
    "apps.core.middleware.PayloadLimitMiddleware",
    "apps.core.middleware.UnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "controlplane.urls"
WSGI_APPLICATION = "controlplane.wsgi.application"
ASGI_APPLICATION = "controlplane.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'steward.sqlite3'}")
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False


def sqlite_options() -> dict[str, object]:
    """SQLite options for the local run, where the server, an embedded worker and beat (which
    seals the audit log every few hundred ms) all write to one file. A transaction takes the
    write lock when it begins and waits up to 20 s for it; with SQLite's default (the lock taken
    at the first write) a transaction that had already read was refused at once with "database
    is locked" whenever another process wrote meanwhile: edits in the demo answered 503 now and
    then. WAL lets readers go on while one process writes."""
    return {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
    }


if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(sqlite_options())
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "catalog:dataset-list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Bodies larger than this are refused with 413 before any parsing (see core.middleware).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("MAX_REQUEST_BYTES", default=1024 * 1024)


REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so an unauthenticated API call answers 401 with WWW-Authenticate.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "apps.core.api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "apps.core.api.exceptions.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Steward API",
    "DESCRIPTION": "Governance control plane: data catalog, classifications, lineage.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Two choice sets share the field name "kind"; name them instead of a hash-suffixed guess.
    "ENUM_NAME_OVERRIDES": {
        "SourceKindEnum": "apps.catalog.models.DataSource.Kind",
        "DatasetKindEnum": "apps.catalog.models.Dataset.Kind",
        "AccessLevelEnum": "apps.access.models.AccessLevel",
        "BreakGlassOutcomeEnum": "apps.access.models.BreakGlassReview.Outcome",
    },
}

CELERY_BROKER_URL = env(
    "CELERY_BROKER_URL", default=env("REDIS_URL", default="redis://127.0.0.1:6379/0")
)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"


def redis_transport_options(visibility_timeout: int) -> dict[str, object]:
    """Redis broker options. A task a worker took but never acknowledged (``acks_late``: the
    worker died mid-task) goes back on the queue ``visibility_timeout`` seconds after it was
    taken. Keep it longer than the longest task and the longest retry countdown, or such a task
    also starts on a second worker; a shorter one only makes recovery after a crash faster."""
    return {
        "visibility_timeout": visibility_timeout,
        # How often workers look for such tasks: kombu's default, every 100 s, suits the
        # default hour; a short timeout needs a sweep about as often as it expires.
        "unacked_restore_interval": max(1, min(10, visibility_timeout // 10)),
        "unacked_restore_throttle": 1 if visibility_timeout < 600 else 10,
    }


CELERY_BROKER_TRANSPORT_OPTIONS = redis_transport_options(
    env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
)

# How many values per column the PII scanner samples (bounded: never a full table read).
PII_SAMPLE_ROWS = env.int("PII_SAMPLE_ROWS", default=200)
# Statement timeout (ms) for queries the control plane runs against registered data sources.
SOURCE_QUERY_TIMEOUT_MS = env.int("SOURCE_QUERY_TIMEOUT_MS", default=15000)

# Audit log (apps/audit). Checkpoints are signed with STEWARD_AUDIT_SIGNING_KEY (a 32-byte
# Ed25519 seed, base64url; production requires it, local/test derive one from SECRET_KEY).
STEWARD_AUDIT_SIGNING_KEY = env("STEWARD_AUDIT_SIGNING_KEY", default="")
# PEM public keys of earlier signing keys, so their checkpoints still verify after rotation.
STEWARD_AUDIT_PREVIOUS_PUBLIC_KEYS: list[str] = [
    pem
    for pem in env("STEWARD_AUDIT_PREVIOUS_PUBLIC_KEYS", default="").split("\n\n")
    if pem.strip()
]
AUDIT_CHECKPOINT_MINUTES = env.int("AUDIT_CHECKPOINT_MINUTES", default=5)
# How often beat seals what was appended: small, frequent seals keep each one's burst of Postgres
# work short (bench/README.md: sealing once a second doubled the decision API's p99).
AUDIT_SEAL_MILLISECONDS = env.int("AUDIT_SEAL_MILLISECONDS", default=200)
if not 10 <= AUDIT_SEAL_MILLISECONDS <= 60_000:
    raise ValueError(f"AUDIT_SEAL_MILLISECONDS must be 10 to 60000, not {AUDIT_SEAL_MILLISECONDS}")
# Entries are kept this long, then exported to AUDIT_ARCHIVE_DIR as a verifiable segment and pruned.
AUDIT_RETENTION_DAYS = env.int("AUDIT_RETENTION_DAYS", default=365)
AUDIT_ARCHIVE_DIR = env("AUDIT_ARCHIVE_DIR", default=str(BASE_DIR / "var" / "audit-archive"))

# Decisions: the sensitivity level a principal without its own clearance is cleared for.
DECISION_DEFAULT_CLEARANCE = env("DECISION_DEFAULT_CLEARANCE", default="internal")
# Where the Rego lives (policies/ in this repository).
POLICIES_DIR = env("POLICIES_DIR", default=str(BASE_DIR / "policies"))
# "compiled" (regorus RVM, default) or "interpreter" (regorus Engine), see bench/decisions.py;
# or "opa": ask the OPA server at OPA_URL, which pulls /bundles/steward.tar.gz (deploy/opa/).
DECISION_ENGINE = env("DECISION_ENGINE", default="compiled")
OPA_URL = env("OPA_URL", default="http://127.0.0.1:8181")
# Connect and read timeout for each OPA query; past it the decision is a deny (engine_error).
OPA_TIMEOUT_SECONDS = env.float("OPA_TIMEOUT_SECONDS", default=0.5)
# Bearer token, when the OPA server runs with --authentication=token.
OPA_TOKEN = env("OPA_TOKEN", default="")
# An OPA decision-log upload (POST /logs) may inflate to at most this many bytes (gzip bombs).
DECISION_LOG_MAX_BYTES = env.int("DECISION_LOG_MAX_BYTES", default=5 * 1024 * 1024)
# Uploaded decision ids are remembered this long, so a batch OPA sends again is recorded once.
DECISION_LOG_DEDUPE_HOURS = env.int("DECISION_LOG_DEDUPE_HOURS", default=24)
# How often a process asks whether anything the governance snapshot reads changed (it rebuilds
# only when something did): the most a decision can lag behind a committed change.
DECISION_SNAPSHOT_REFRESH_SECONDS = env.float("DECISION_SNAPSHOT_REFRESH_SECONDS", default=0.25)
# After a change the engines keep the snapshot they hold and requests that read a changed entry
# carry it (loading the whole snapshot stalls a process ~0.3-0.6 s at 10k datasets / 100k
# grants); they load it again, after a response, once this many entries changed since.
DECISION_DELTA_MAX_KEYS = env.int("DECISION_DELTA_MAX_KEYS", default=5000)
# How long a process trusts a service credential it has read (revocations made in another
# process take effect within this; in the same process at once).
DECISION_CREDENTIAL_CACHE_SECONDS = env.float("DECISION_CREDENTIAL_CACHE_SECONDS", default=1.0)
# A live service credential expiring within this many days is mailed about, once per expiry
# (apps.decisions.credentials.credentials_warn_expiring, hourly on beat).
DECISION_CREDENTIAL_WARN_DAYS = env.int("DECISION_CREDENTIAL_WARN_DAYS", default=14)
if not 1 <= DECISION_CREDENTIAL_WARN_DAYS <= 90:
    raise ValueError(
        f"DECISION_CREDENTIAL_WARN_DAYS must be 1 to 90, not {DECISION_CREDENTIAL_WARN_DAYS}"
    )

# Mail (access notifications, audit alerts): EMAIL_URL such as smtp+tls://user:pass@host:587;
# by default mails are printed to the console. ADMINS: "Name <a@b>, Other <c@d>".
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="steward@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
ADMINS = [parseaddr(a) for a in env.list("ADMINS", default=[])]

# Catalog: PostgreSQL sources are synced and then scanned for personal data when their last
# sync is older than this (a beat task checks hourly); 0 turns the periodic refresh off.
CATALOG_REFRESH_HOURS = env.int("CATALOG_REFRESH_HOURS", default=24)

# OPA bundles are signed (ES256, /.signatures.json) when this names a PEM file with an EC P-256
# private key (manage.py bundle_signing_key --generate PATH makes one); agents verify with the
# public key under STEWARD_BUNDLE_SIGNING_KEY_ID.
STEWARD_BUNDLE_SIGNING_KEY = env("STEWARD_BUNDLE_SIGNING_KEY", default="")
STEWARD_BUNDLE_SIGNING_KEY_ID = env("STEWARD_BUNDLE_SIGNING_KEY_ID", default="steward")

# Access: how long approvers have to act on a request before it expires.
ACCESS_REQUEST_RESPONSE_HOURS = env.int("ACCESS_REQUEST_RESPONSE_HOURS", default=72)
# Break-glass: the longest emergency grant, and how long owners have to review its use.
BREAK_GLASS_MAX_HOURS = env.int("BREAK_GLASS_MAX_HOURS", default=4)
BREAK_GLASS_REVIEW_HOURS = env.int("BREAK_GLASS_REVIEW_HOURS", default=48)
# Access reviews: reviewers with items still open are reminded this long before the due date.
REVIEW_REMINDER_HOURS = env.int("REVIEW_REMINDER_HOURS", default=72)
# The address people reach the web UI at (links in notification mails).
STEWARD_BASE_URL = env("STEWARD_BASE_URL", default="http://127.0.0.1:8000")

GUARDIAN_RAISE_403 = False
ANONYMOUS_USER_NAME = None

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}
