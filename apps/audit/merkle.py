"""The audit log's hashing rules, with no Django import so an outside verifier can reuse them.

Entries are sealed in batches. Each batch is a Merkle tree over its entries in sequence order,
built exactly as RFC 6962 (section 2.1) builds a tree head, with domain-separated hashes:

- leaf  = SHA-256(0x00 || entry body)   where the body is the entry's canonical JSON, UTF-8;
- node  = SHA-256(0x01 || left || right);
- batch = SHA-256(0x02 || previous batch hash || first seq || last seq || root || columns),
  the two sequence numbers as 8-byte big-endian integers, ``columns`` the SHA-256 over the
  batch's per-entry digests of its query columns (see ``apps.audit.services``; it lets the
  database check a million entries' columns quickly). Batch 1 chains from 32 zero bytes.

A checkpoint signs ``checkpoint_message(...)`` with Ed25519, pinning the chain head.
"""

import hashlib
from collections.abc import Sequence
from typing import Any

from apps.core.jsontext import canonical_json

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
BATCH_PREFIX = b"\x02"
GENESIS_HASH = bytes(32)
CHECKPOINT_CONTEXT = "steward-audit-checkpoint/v1"


def canonical_body(fields: dict[str, Any]) -> str:
    """The canonical JSON text of an entry: sorted keys, no whitespace, UTF-8 kept as is."""
    return canonical_json(fields)


def leaf_hash(body: str | bytes) -> bytes:
    raw = body.encode() if isinstance(body, str) else body
    return hashlib.sha256(LEAF_PREFIX + raw).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """RFC 6962 tree head over leaf hashes (already ``leaf_hash``-ed).

    Built bottom-up, promoting a level's odd last node unchanged: that yields the same head as
    the RFC's recursive split at the largest power of two below n.
    """
    if not leaves:
        return hashlib.sha256(b"").digest()
    level = list(leaves)
    sha = hashlib.sha256
    while len(level) > 1:
        paired = [
            sha(NODE_PREFIX + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def _largest_power_of_two_below(n: int) -> int:
    k = 1
    while k << 1 < n:
        k <<= 1
    return k


def audit_path(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """RFC 6962 PATH(m, D[n]): the sibling hashes proving leaf ``index`` is in the tree."""
    if not 0 <= index < len(leaves):
        raise IndexError("leaf index outside the tree")
    if len(leaves) == 1:
        return []
    k = _largest_power_of_two_below(len(leaves))
    if index < k:
        return [*audit_path(index, leaves[:k]), merkle_root(leaves[k:])]
    return [*audit_path(index - k, leaves[k:]), merkle_root(leaves[:k])]


def root_from_path(index: int, size: int, leaf: bytes, path: Sequence[bytes]) -> bytes:
    """The tree head implied by ``leaf`` at ``index`` of a ``size``-leaf tree and its path."""
    if not 0 <= index < size:
        raise ValueError("leaf index outside the tree")
    return _root_from_path(index, size, leaf, list(path))


def _root_from_path(index: int, size: int, leaf: bytes, path: list[bytes]) -> bytes:
    if size == 1:
        if path:
            raise ValueError("audit path is longer than the tree is deep")
        return leaf
    if not path:
        raise ValueError("audit path is shorter than the tree is deep")
    k = _largest_power_of_two_below(size)
    sibling = path.pop()  # the path lists the deepest sibling first, the top one last
    if index < k:
        return node_hash(_root_from_path(index, k, leaf, path), sibling)
    return node_hash(sibling, _root_from_path(index - k, size - k, leaf, path))


def batch_hash(
    prev_hash: bytes, first_seq: int, last_seq: int, root: bytes, columns_root: bytes
) -> bytes:
    return hashlib.sha256(
        BATCH_PREFIX
        + prev_hash
        + first_seq.to_bytes(8, "big")
        + last_seq.to_bytes(8, "big")
        + root
        + columns_root
    ).digest()


def columns_root(digests: Sequence[bytes | None]) -> bytes:
    """SHA-256 over a batch's per-entry column digests, in sequence order (absent: empty)."""
    return hashlib.sha256(b"".join(d or b"" for d in digests)).digest()


def checkpoint_message(*, batch: int, last_seq: int, head_hash: bytes, created_at: str) -> bytes:
    """The exact bytes a checkpoint's Ed25519 signature covers."""
    return (
        f"{CHECKPOINT_CONTEXT}\nbatch={batch}\nlast_seq={last_seq}\n"
        f"head={head_hash.hex()}\ncreated_at={created_at}\n"
    ).encode()
