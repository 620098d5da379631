"""Inclusion proofs check out offline, and only for what the checkpoint really covers."""

import json
import subprocess
import sys

import pytest
from django.conf import settings

from apps.audit import signing
from apps.audit.offline import ProofError, verify_inclusion_proof
from apps.audit.proofs import inclusion_proof
from apps.audit.services import audit_checkpoint_create, audit_seal_pending
from apps.core.errors import Conflict
from tests.audit.conftest import record

pytestmark = pytest.mark.django_db


def test_every_entry_has_a_proof_that_verifies(sealed_log):
    ids, checkpoint = sealed_log
    pem = signing.public_key_pem()
    for entry_id in ids:
        proof = inclusion_proof(entry_id=entry_id)
        verify_inclusion_proof(proof, pem)
        assert proof["checkpoint"]["id"] == checkpoint.pk


def test_the_offline_verifier_runs_without_django(sealed_log, tmp_path):
    ids, _ = sealed_log
    (tmp_path / "proof.json").write_text(json.dumps(inclusion_proof(entry_id=ids[13])))
    (tmp_path / "key.pem").write_text(signing.public_key_pem())
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(settings.BASE_DIR),
    }  # no DJANGO_SETTINGS_MODULE
    result = subprocess.run(
        [sys.executable, "-m", "apps.audit.offline", "proof.json", "key.pem"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK: entry at seq 14")


@pytest.mark.parametrize(
    "tamper",
    [
        lambda p: p["entry"].update(body=p["entry"]["body"].replace("new", "NEW")),
        lambda p: p["entry"].update(seq=p["entry"]["seq"] + 1),
        lambda p: p["audit_path"].pop(),
        lambda p: p["batch"].update(prev_hash="00" * 32),
        lambda p: p["checkpoint"].update(created_at="2020-01-01T00:00:00.000Z"),
        lambda p: p["checkpoint"].update(signature="00" * 64),
    ],
    ids=["body", "position", "path", "chain", "checkpoint-time", "signature"],
)
def test_a_doctored_proof_is_rejected(sealed_log, tamper):
    ids, _ = sealed_log
    proof = inclusion_proof(entry_id=ids[14])  # batch 2 of 3: every part of the proof matters
    tamper(proof)
    with pytest.raises(ProofError):
        verify_inclusion_proof(proof, signing.public_key_pem())


def test_a_proof_for_a_foreign_key_is_rejected(sealed_log):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    other = (
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    ids, _ = sealed_log
    with pytest.raises(ProofError, match="signature"):
        verify_inclusion_proof(inclusion_proof(entry_id=ids[0]), other.decode())


def test_unsealed_and_uncheckpointed_entries_say_why(admin):
    (entry_id,) = record(admin, 1)
    with pytest.raises(Conflict) as unsealed:
        inclusion_proof(entry_id=entry_id)
    assert unsealed.value.code == "audit_entry_unsealed"
    audit_seal_pending()
    with pytest.raises(Conflict) as uncovered:
        inclusion_proof(entry_id=entry_id)
    assert uncovered.value.code == "audit_entry_not_checkpointed"
    audit_checkpoint_create()
    verify_inclusion_proof(inclusion_proof(entry_id=entry_id), signing.public_key_pem())


def test_an_entry_sealed_before_a_later_checkpoint_is_proven_through_the_batch_chain(admin):
    (first,) = record(admin, 1)
    audit_seal_pending()
    record(admin, 5)
    audit_seal_pending(limit=2)
    audit_checkpoint_create()
    proof = inclusion_proof(entry_id=first)
    assert [b["id"] for b in proof["later_batches"]] == [2, 3, 4]
    verify_inclusion_proof(proof, signing.public_key_pem())
