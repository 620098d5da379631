"""Signed OPA bundles: a ``/.signatures.json`` OPA verifies before it activates a bundle.

The format is OPA's (https://www.openpolicyagent.org/docs/management-bundles/#signing): one
compact JWS, ES256 here, whose payload lists every other file of the bundle with its SHA-256:
of the bytes for policy files and the manifest; for JSON files, of the document re-encoded with
sorted keys and no whitespace, which is exactly how ``bundles._canonical`` writes them (so it
is the hash of the file's bytes too). OPA agents are configured with the public key under the
same key id (``manage.py bundle_signing_key`` prints both).

Signing is on when ``STEWARD_BUNDLE_SIGNING_KEY`` names a PEM file holding an EC P-256 private
key; then every bundle carries the signature. Signatures are deterministic (RFC 6979), so a
bundle's bytes still depend only on its content.
"""

import base64
import hashlib
import json
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

SIGNATURES_FILE = "/.signatures.json"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@lru_cache(maxsize=4)
def _load(path: str) -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise ImproperlyConfigured(
            f"STEWARD_BUNDLE_SIGNING_KEY: cannot read an EC private key from {path}: {exc}"
        ) from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ImproperlyConfigured(
            "STEWARD_BUNDLE_SIGNING_KEY must hold an EC P-256 (prime256v1) private key for ES256."
        )
    return key


def signing_key() -> tuple[ec.EllipticCurvePrivateKey, str] | None:
    """(private key, key id) when bundles are to be signed, else None."""
    path = getattr(settings, "STEWARD_BUNDLE_SIGNING_KEY", "")
    if not path:
        return None
    return _load(path), settings.STEWARD_BUNDLE_SIGNING_KEY_ID


def public_key_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def generate_key() -> bytes:
    """A new EC P-256 private key, PEM (PKCS#8)."""
    return ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def signatures_file(files: dict[str, bytes], key: ec.EllipticCurvePrivateKey, key_id: str) -> bytes:
    """``/.signatures.json`` for a bundle made of ``files`` (tar path -> bytes)."""
    listed = [
        {
            "name": name.lstrip("/"),
            "hash": hashlib.sha256(content).hexdigest(),
            "algorithm": "SHA-256",
        }
        for name, content in sorted(files.items())
        if name != SIGNATURES_FILE
    ]
    header = {"alg": "ES256", "kid": key_id, "typ": "JWT"}
    signing_input = (
        _b64(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + _b64(json.dumps({"files": listed}, separators=(",", ":")).encode())
    )
    der = key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
    r, s = decode_dss_signature(der)
    token = f"{signing_input}.{_b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"
    return json.dumps({"signatures": [token]}, separators=(",", ":")).encode()
