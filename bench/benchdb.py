"""A throwaway, migrated Postgres database for a benchmark (shared by the bench scripts)."""

import os
import subprocess
import sys
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent


def recreate_db(pg: str, name: str) -> str:
    """Drop and create ``name`` on the server ``pg`` (its name must contain "bench"), run the
    migrations with the test settings, and return its URL."""
    if "bench" not in name:
        raise SystemExit("--db must contain 'bench' (this script drops it)")
    with psycopg.connect(f"{pg}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{pg}/{name}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "controlplane.settings.test",
        "DATABASE_URL": url,
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    return url
