"""Local run with embedded defaults: SQLite, a filesystem broker, no outside services."""

import os

from .base import *  # noqa: F403
from .base import BASE_DIR, env

DEBUG = env.bool("DEBUG", default=True)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
SECRET_KEY = env("SECRET_KEY", default="local-only-insecure-key-never-use-in-production")
STEWARD_SECRETS_KEY = env(
    "STEWARD_SECRETS_KEY", default="bG9jYWwtb25seS1rZXktMzItYnl0ZXMtbG9uZyEhISE="
)

(BASE_DIR / "var").mkdir(exist_ok=True)  # the SQLite database and embedded broker live here
_celery_dir = BASE_DIR / "var" / "celery"
if "CELERY_BROKER_URL" not in os.environ and "REDIS_URL" not in os.environ:
    # kombu's filesystem transport: a real broker between processes, with no server to run.
    for sub in ("queue", "processed", "control"):
        (_celery_dir / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_celery_dir / "queue"),
        "data_folder_out": str(_celery_dir / "queue"),
        "processed_folder": str(_celery_dir / "processed"),
        "control_folder": str(_celery_dir / "control"),  # else kombu writes ./control
        "store_processed": False,
    }
