"""Signed bundles: ``/.signatures.json`` as OPA verifies it, checked with the real OPA Go
engine's own JWT verification."""

import base64
import hashlib
import json

import pytest
from django.core.management import CommandError, call_command
from opa_bindings import OpaEngine

from apps.decisions.bundle_signing import _load, generate_key, public_key_pem
from apps.decisions.bundles import bundle_build
from apps.decisions.policies import policy_files
from tests.decisions.test_bundles import URL, _get, _members, bundle_token  # noqa: F401

SNAPSHOT = {"datasets": {"crm.public.leads": {"sensitivity": "internal", "note": "a\u2028b <x>"}}}


@pytest.fixture
def key_file(tmp_path):
    path = tmp_path / "bundle-signing.pem"
    path.write_bytes(generate_key())
    return path


def _payload(token: str) -> dict:
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def _opa_verifies(token: str, pem: str) -> bool:
    """``io.jwt.verify_es256`` in the OPA Go engine: OPA's own ES256 verification."""
    engine = OpaEngine()
    try:
        rows = engine.eval_query(
            "ok := io.jwt.verify_es256(input.token, input.pem)", {"token": token, "pem": pem}
        )
    finally:
        engine.close()
    return bool(rows and rows[0]["ok"])


def test_a_signed_bundle_lists_every_file_with_its_hash_and_opa_verifies_it(key_file):
    key = _load(str(key_file))
    bundle = bundle_build(
        policies=policy_files(),
        snapshot=SNAPSHOT,
        packages={"billing": {"clerks": ["carla"]}},
        signer=(key, "steward"),
    )
    files = _members(bundle.body)
    signatures = json.loads(files.pop("/.signatures.json"))
    [token] = signatures["signatures"]
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header == {"alg": "ES256", "kid": "steward", "typ": "JWT"}

    listed = {f["name"]: f for f in _payload(token)["files"]}
    assert set(listed) == {name.lstrip("/") for name in files}  # every file, exactly
    for name, content in files.items():
        entry = listed[name.lstrip("/")]
        assert entry["algorithm"] == "SHA-256"
        assert entry["hash"] == hashlib.sha256(content).hexdigest()
        if name.endswith(".json"):  # OPA hashes JSON re-encoded: sorted, compact, as written
            reencoded = json.dumps(
                json.loads(content), sort_keys=True, separators=(",", ":"), ensure_ascii=False
            ).replace("\u2028", "\\u2028")
            assert reencoded.encode() == content

    pem = public_key_pem(key)
    assert _opa_verifies(token, pem)
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert not _opa_verifies(forged, pem)
    other = public_key_pem(_load(str(_other_key(key_file))))
    assert not _opa_verifies(token, other)
    # Deterministic (RFC 6979): the same content gives the same bytes.
    assert (
        bundle_build(
            policies=policy_files(),
            snapshot=SNAPSHOT,
            packages={"billing": {"clerks": ["carla"]}},
            signer=(key, "steward"),
        ).body
        == bundle.body
    )


def _other_key(key_file):
    other = key_file.with_name("other.pem")
    other.write_bytes(generate_key())
    return other


@pytest.mark.django_db(transaction=True)
def test_the_endpoint_signs_when_a_key_is_configured(
    client,
    leads,
    bundle_token,  # noqa: F811
    key_file,
    settings,
):
    assert "/.signatures.json" not in _members(_get(client, bundle_token).content)
    settings.STEWARD_BUNDLE_SIGNING_KEY = str(key_file)
    settings.STEWARD_BUNDLE_SIGNING_KEY_ID = "steward-2026"
    files = _members(_get(client, bundle_token).content)
    [token] = json.loads(files["/.signatures.json"])["signatures"]
    assert json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))["kid"] == (
        "steward-2026"
    )
    assert _opa_verifies(token, public_key_pem(_load(str(key_file))))


def test_the_command_generates_a_key_and_prints_the_opa_configuration(tmp_path, settings, capsys):
    path = tmp_path / "k.pem"
    call_command("bundle_signing_key", generate=str(path))
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    with pytest.raises(CommandError):
        call_command("bundle_signing_key", generate=str(path))  # never overwrites a key
    settings.STEWARD_BUNDLE_SIGNING_KEY = ""
    with pytest.raises(CommandError):
        call_command("bundle_signing_key")
    settings.STEWARD_BUNDLE_SIGNING_KEY = str(path)
    call_command("bundle_signing_key")
    out = capsys.readouterr().out
    assert out.startswith("-----BEGIN PUBLIC KEY-----")
    assert "algorithm: ES256" in out
    assert "keyid: steward" in out
