"""Stopping the database in the middle of a request: the change fails, never lands unrecorded.

A private Postgres cluster (initdb into a temporary directory, its own port) serves a real
``manage.py runserver``; an audit-insert trigger holds the request just after the catalog row
was updated, and the cluster is stopped (``pg_ctl stop -m fast``) while it waits. After a
restart, the row is unchanged and no entry exists.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

PG_BIN = Path("/usr/lib/postgresql/15/bin")
# Debian's PostgreSQL 15 server binaries: the same package that serves the test suite.


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(*args: str) -> list[str]:
    # initdb and the server refuse to run as root; the tests may run as root (CI does).
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else list(args)


class Cluster:
    def __init__(self, root: Path):
        self.data = root / "data"
        self.port = _free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/steward"

    def pg_ctl(self, *args: str) -> None:
        subprocess.run(  # noqa: S603 - fixed argv
            _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), *args),
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.pg_ctl("-o", opts, "-l", str(self.data / "log"), "-w", "start")


@pytest.fixture
def cluster():
    # Not under pytest's tmp_path: its parents are private to root, and the server runs as postgres.
    root = Path(tempfile.mkdtemp(prefix="steward-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    c = Cluster(root)
    subprocess.run(  # noqa: S603 - fixed argv
        _as_postgres(str(PG_BIN / "initdb"), "-D", str(c.data), "-A", "trust", "-U", "postgres"),
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    c.start()
    with psycopg.connect(
        f"postgres://postgres@127.0.0.1:{c.port}/postgres", autocommit=True
    ) as conn:
        conn.execute("CREATE DATABASE steward")
    yield c
    subprocess.run(  # noqa: S603 - fixed argv
        _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(c.data), "-m", "immediate", "stop"),
        check=False, capture_output=True, timeout=60,
    )  # fmt: skip
    shutil.rmtree(root, ignore_errors=True)


def _manage(url: str, *args: str) -> str:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "controlplane.settings.test",
        "DATABASE_URL": url,
    }
    result = subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, "manage.py", *args], cwd=settings.BASE_DIR, env=env,
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    return result.stdout


SETUP = """
from rest_framework.authtoken.models import Token
from apps.catalog.models import DataSource, Dataset
from django.contrib.auth import get_user_model
owner = get_user_model().objects.create_user("olivia")
source = DataSource.objects.create(name="crm", kind="postgres")
ds = Dataset.objects.create(source=source, schema_name="public", table_name="leads",
                            fqn="crm.public.leads", owner=owner, description="before")
print(ds.pk, Token.objects.create(user=owner).key)
"""


def test_stopping_the_database_mid_request_fails_the_change(cluster):
    _manage(cluster.url, "migrate", "-v0")
    dataset_id, token = _manage(cluster.url, "shell", "-c", SETUP).strip().splitlines()[-1].split()
    with psycopg.connect(
        cluster.url, autocommit=True
    ) as conn:  # hold the request at the audit write
        conn.execute(
            "CREATE FUNCTION test_hold() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN PERFORM pg_sleep(30); RETURN NEW; END $$"
        )
        conn.execute(
            "CREATE TRIGGER test_hold BEFORE INSERT ON audit_auditevent"
            " FOR EACH ROW EXECUTE FUNCTION test_hold()"
        )
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "controlplane.settings.test",
        "DATABASE_URL": cluster.url,
    }
    server = subprocess.Popen(  # noqa: S603 - fixed argv
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=settings.BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=2)  # noqa: S310
                break
            except OSError:
                time.sleep(0.2)
        result: dict = {}

        def patch() -> None:
            req = urllib.request.Request(  # noqa: S310
                f"{base}/api/v1/datasets/{dataset_id}/",
                data=json.dumps({"description": "after"}).encode(),
                method="PATCH",
                headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
            )
            try:
                with urllib.request.urlopen(req, timeout=60) as resp:  # noqa: S310
                    result["status"], result["body"] = resp.status, json.loads(resp.read())
            except urllib.error.HTTPError as err:
                result["status"], result["body"] = err.code, json.loads(err.read())

        request = threading.Thread(target=patch)
        request.start()
        with psycopg.connect(cluster.url, autocommit=True) as conn:  # wait until it is held
            for _ in range(100):
                held = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'INSERT INTO \"audit_auditevent\"%%'"
                ).fetchone()[0]
                if held:
                    break
                time.sleep(0.1)
        assert held, "the request never reached the audit write"
        cluster.pg_ctl("-m", "fast", "-w", "stop")  # the database goes away mid-request
        request.join(60)

        assert result["status"] == 503
        assert result["body"]["error"]["code"] in {"audit_unavailable", "database_unavailable"}
    finally:
        server.terminate()
        server.wait(30)
    cluster.start()
    with psycopg.connect(cluster.url) as conn:
        description = conn.execute(
            "SELECT description FROM catalog_dataset WHERE id = %s", [int(dataset_id)]
        ).fetchone()[0]
        recorded = conn.execute(
            "SELECT count(*) FROM audit_auditevent WHERE action LIKE 'catalog.dataset.%%'"
        ).fetchone()[0]
    assert description == "before"
    assert recorded == 0
