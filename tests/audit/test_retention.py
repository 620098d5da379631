"""Retention: export a verifiable segment, prune, and the chain still verifies across the gap."""

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from apps.audit import signing
from apps.audit.models import AuditArchive, AuditEvent
from apps.audit.offline import ProofError, verify_segment
from apps.audit.retention import audit_archive_and_prune
from apps.audit.services import audit_seal_pending
from apps.audit.verify import verify_log
from tests.audit.conftest import record

pytestmark = pytest.mark.django_db

LATER = timezone.now() + dt.timedelta(days=400)


def test_nothing_young_is_archived(admin, tmp_path):
    record(admin, 5)
    assert audit_archive_and_prune(older_than_days=365, directory=tmp_path) is None
    assert AuditEvent.objects.filter(action="test.write").count() == 5
    assert AuditArchive.objects.count() == 0


def test_old_entries_are_exported_then_pruned_and_the_chain_still_verifies(admin, tmp_path):
    record(admin, 12)
    audit_seal_pending(limit=5)
    archive = audit_archive_and_prune(older_than_days=365, directory=tmp_path, now=LATER)
    assert archive is not None
    assert (archive.first_seq, archive.last_seq, archive.entries) == (1, 12, 12)
    assert not AuditEvent.objects.filter(seal__seq__lte=12).exists()
    report = verify_log()
    assert report.ok, report.problem
    assert report.pruned_through_seq == 12
    # The segment file stands on its own.
    with open(archive.path) as f:
        assert verify_segment(f, signing.public_key_pem()) == {
            "first_seq": 1,
            "last_seq": 12,
            "entries": 12,
        }
    # The pruning itself is on the record.
    assert AuditEvent.objects.filter(action="audit.archive", target_id=str(archive.pk)).exists()

    # Later entries chain on from the pruned boundary, and the next archive starts there.
    record(admin, 3)
    second = audit_archive_and_prune(older_than_days=365, directory=tmp_path, now=LATER)
    assert second.first_seq == 13
    assert verify_log().ok


def test_a_doctored_segment_fails_offline(admin, tmp_path):
    record(admin, 6)
    archive = audit_archive_and_prune(older_than_days=365, directory=tmp_path, now=LATER)
    lines = Path(archive.path).read_text().splitlines()
    entry_at = next(i for i, line in enumerate(lines) if '"type":"entry"' in line)
    doctored = json.loads(lines[entry_at])
    doctored["body"] = doctored["body"].replace("new", "NEW")
    with pytest.raises(ProofError, match="do not hash to its root"):
        verify_segment(
            [*lines[:entry_at], json.dumps(doctored), *lines[entry_at + 1 :]],
            signing.public_key_pem(),
        )
    with pytest.raises(ProofError, match="missing"):
        verify_segment([*lines[:entry_at], *lines[entry_at + 1 :]], signing.public_key_pem())


def test_the_command_and_the_offline_cli(admin, tmp_path, capsys):
    record(admin, 4)
    call_command("audit_archive", "--older-than-days", "-400", "--dir", str(tmp_path))
    assert "archived seq 1-" in capsys.readouterr().out
    archive = AuditArchive.objects.get()
    (tmp_path / "key.pem").write_text(signing.public_key_pem())
    result = subprocess.run(  # noqa: S603 - fixed argv
        [
            sys.executable,
            "-m",
            "apps.audit.offline",
            "segment",
            archive.path,
            str(tmp_path / "key.pem"),
        ],
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(settings.BASE_DIR)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK: segment seq 1-")
