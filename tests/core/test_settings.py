"""Production settings pass Django's deployment checklist with no warnings."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _check_deploy(extra_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SECRET_KEY"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "controlplane.settings.production",
            "ALLOWED_HOSTS": "steward.example.com",
            "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
            **extra_env,
        }
    )
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_check_deploy():
    result = _check_deploy(
        {
            "SECRET_KEY": "x9!c@v$d0-4u_Zq7mNp2Lr8sTw5yB1eGk3hJ6oF-aXiV2cQ9nE",
            "STEWARD_SECRETS_KEY": "Ipq0Mq2i4Lz9sN4F7m1pB2c3d4e5f6g7h8i9j0k1l2m=",
            "STEWARD_AUDIT_SIGNING_KEY": "hV3m1Zq8Yp0nW2rT6uK9sL4dF7gJ1aX5cB8eN2oQ3iM=",
        }
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = _check_deploy({"STEWARD_SECRETS_KEY": "Ipq0Mq2i4Lz9sN4F7m1pB2c3d4e5f6g7h8i9j0k1l2m="})
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_an_audit_signing_key():
    result = _check_deploy(
        {
            "SECRET_KEY": "x9!c@v$d0-4u_Zq7mNp2Lr8sTw5yB1eGk3hJ6oF-aXiV2cQ9nE",
            "STEWARD_SECRETS_KEY": "Ipq0Mq2i4Lz9sN4F7m1pB2c3d4e5f6g7h8i9j0k1l2m=",
        }
    )
    assert result.returncode != 0
    assert "STEWARD_AUDIT_SIGNING_KEY" in result.stderr
