"""Secrets at rest: AES-256-GCM with a key from settings.

The envelope scheme (per-secret data keys wrapped by a versioned key-encryption key, rotation)
is the keys issue's; callers use only these two functions, so it plugs in behind them.
Ciphertext layout: ``b"v1" || nonce(12) || AES-GCM(ciphertext + tag)``.
"""

import base64
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

_VERSION = b"v1"


def _key() -> bytes:
    raw = base64.urlsafe_b64decode(settings.STEWARD_SECRETS_KEY)
    if len(raw) != 32:
        raise ValueError("STEWARD_SECRETS_KEY must be 32 bytes, base64url-encoded")
    return raw


def secret_encrypt(*, plaintext: str, context: str) -> bytes:
    """Encrypt ``plaintext``; ``context`` (e.g. ``"datasource:7"``) is bound as associated data."""
    nonce = os.urandom(12)
    return _VERSION + nonce + AESGCM(_key()).encrypt(nonce, plaintext.encode(), context.encode())


def secret_decrypt(*, ciphertext: bytes, context: str) -> str:
    blob = bytes(ciphertext)
    if blob[:2] != _VERSION:
        raise ValueError("unknown secret format")
    nonce, body = blob[2:14], blob[14:]
    return AESGCM(_key()).decrypt(nonce, body, context.encode()).decode()
