"""The Ed25519 key that signs audit checkpoints.

``STEWARD_AUDIT_SIGNING_KEY`` holds the 32-byte private seed, base64url-encoded (production
requires it). Local and test settings derive one from SECRET_KEY so the embedded run needs no
setup. The public key is exported (PEM) so anyone holding it can verify checkpoints offline;
each checkpoint names the key it was signed with by ``key_id`` (first 16 hex digits of
SHA-256 over the raw public key). Keys that signed earlier checkpoints stay verifiable through
``STEWARD_AUDIT_PREVIOUS_PUBLIC_KEYS`` (PEM texts).
"""

import base64
import functools
import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@functools.cache
def _private_key() -> Ed25519PrivateKey:
    configured = getattr(settings, "STEWARD_AUDIT_SIGNING_KEY", "")
    if configured:
        seed = base64.urlsafe_b64decode(configured + "=" * (-len(configured) % 4))
        if len(seed) != 32:
            raise ImproperlyConfigured(
                "STEWARD_AUDIT_SIGNING_KEY must be a 32-byte Ed25519 seed, base64url-encoded"
            )
    else:
        seed = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"steward audit checkpoints"
        ).derive(settings.SECRET_KEY.encode())
    return Ed25519PrivateKey.from_private_bytes(seed)


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_key() -> Ed25519PublicKey:
    return _private_key().public_key()


def public_key_pem(key: Ed25519PublicKey | None = None) -> str:
    return (
        (key or public_key())
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def current_key_id() -> str:
    return key_id(public_key())


def sign(message: bytes) -> tuple[str, bytes]:
    """``(key_id, signature)`` over ``message`` with the current signing key."""
    return current_key_id(), _private_key().sign(message)


@functools.cache
def trusted_public_keys() -> dict[str, Ed25519PublicKey]:
    """Every key a checkpoint may have been signed with, by key id."""
    keys = {current_key_id(): public_key()}
    for pem in getattr(settings, "STEWARD_AUDIT_PREVIOUS_PUBLIC_KEYS", []):
        loaded = serialization.load_pem_public_key(pem.encode())
        if not isinstance(loaded, Ed25519PublicKey):
            raise ImproperlyConfigured("STEWARD_AUDIT_PREVIOUS_PUBLIC_KEYS holds a non-Ed25519 key")
        keys[key_id(loaded)] = loaded
    return keys


def signature_valid(key: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        key.verify(signature, message)
    except InvalidSignature:
        return False
    return True
