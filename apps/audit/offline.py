"""Check an inclusion proof with nothing but the proof, the public key and ``cryptography``.

An outside party runs ``python -m apps.audit.offline proof.json public-key.pem`` (this file
and ``merkle.py`` import nothing from Django or the database). It proves: the entry's body
hashes to a leaf at its position in its batch; the batch's root and the batches after it chain
to the head that a checkpoint signed; and the signature is valid under the given key.
``python -m apps.audit.offline segment FILE.jsonl public-key.pem`` does the same for every
entry of an archived segment (see ``apps.audit.retention``).
"""

import json
import sys
from collections.abc import Iterable
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from apps.audit import merkle


class ProofError(Exception):
    pass


def verify_inclusion_proof(proof: dict[str, Any], public_key_pem: str) -> None:
    """Raise ``ProofError`` naming the first step that does not hold."""
    try:
        entry, batch, checkpoint = proof["entry"], proof["batch"], proof["checkpoint"]
        index = entry["seq"] - batch["first_seq"]
        size = batch["last_seq"] - batch["first_seq"] + 1
        path = [bytes.fromhex(h) for h in proof["audit_path"]]
        prev_hash = bytes.fromhex(batch["prev_hash"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ProofError(f"malformed proof: {exc}") from exc
    leaf = merkle.leaf_hash(entry["body"])
    try:
        root = merkle.root_from_path(index, size, leaf, path)
    except ValueError as exc:
        raise ProofError(f"audit path does not fit the batch: {exc}") from exc
    if root != bytes.fromhex(batch["root"]):
        raise ProofError("the entry is not in its batch: the audit path leads to another root")
    head = merkle.batch_hash(
        prev_hash, batch["first_seq"], batch["last_seq"], root, bytes.fromhex(batch["columns_root"])
    )
    head_id, head_last = batch["id"], batch["last_seq"]
    for later in proof.get("later_batches", []):
        if later["id"] != head_id + 1 or later["first_seq"] != head_last + 1:
            raise ProofError(f"batch {later['id']} does not follow batch {head_id}")
        head = merkle.batch_hash(
            head,
            later["first_seq"],
            later["last_seq"],
            bytes.fromhex(later["root"]),
            bytes.fromhex(later["columns_root"]),
        )
        head_id, head_last = later["id"], later["last_seq"]
    if head_id != checkpoint["batch"] or head.hex() != checkpoint["head_hash"]:
        raise ProofError("the batch chain does not reach the head the checkpoint signed")
    _verify_signature(checkpoint, head, public_key_pem)


def _verify_signature(checkpoint: dict[str, Any], head: bytes, public_key_pem: str) -> None:
    message = merkle.checkpoint_message(
        batch=checkpoint["batch"],
        last_seq=checkpoint["last_seq"],
        head_hash=head,
        created_at=checkpoint["created_at"],
    )
    key = serialization.load_pem_public_key(public_key_pem.encode())
    if not isinstance(key, Ed25519PublicKey):
        raise ProofError("the public key is not an Ed25519 key")
    try:
        key.verify(bytes.fromhex(checkpoint["signature"]), message)
    except InvalidSignature as exc:
        raise ProofError("the checkpoint signature is not valid under this public key") from exc


def verify_segment(lines: Iterable[str], public_key_pem: str) -> dict[str, int]:
    """Check an archived segment (see apps/audit/retention.py); returns its seq range."""
    records = [json.loads(line) for line in lines if line.strip()]
    if not records or records[0].get("type") != "segment":
        raise ProofError("not an audit segment: the first line is not a segment header")
    header = records[0]
    batches = [r for r in records if r["type"] == "batch"]
    entries = {r["seq"]: r for r in records if r["type"] == "entry"}
    checkpoints = [r for r in records if r["type"] == "checkpoint"]
    if not batches or len(checkpoints) != 1:
        raise ProofError("a segment holds its batch headers and exactly one checkpoint")
    head = bytes.fromhex(batches[0]["prev_hash"])
    expected_first = header["first_seq"]
    for batch in batches:
        if batch["first_seq"] != expected_first:
            raise ProofError(f"batch {batch['id']} does not follow the one before it")
        root = bytes.fromhex(batch["root"])
        if batch["last_seq"] <= header["last_seq"]:
            leaves = []
            for seq in range(batch["first_seq"], batch["last_seq"] + 1):
                entry = entries.get(seq)
                if entry is None:
                    raise ProofError(f"entry at seq {seq} is missing from the segment")
                leaves.append(merkle.leaf_hash(entry["body"]))
            if merkle.merkle_root(leaves) != root:
                raise ProofError(f"entries of batch {batch['id']} do not hash to its root")
        head = merkle.batch_hash(
            head, batch["first_seq"], batch["last_seq"], root, bytes.fromhex(batch["columns_root"])
        )
        if head.hex() != batch["hash"]:
            raise ProofError(f"batch {batch['id']}'s header does not hash to its recorded hash")
        expected_first = batch["last_seq"] + 1
    checkpoint = checkpoints[0]
    if checkpoint["batch"] != batches[-1]["id"] or checkpoint["head_hash"] != head.hex():
        raise ProofError("the batch chain does not reach the head the checkpoint signed")
    _verify_signature(checkpoint, head, public_key_pem)
    return {
        "first_seq": header["first_seq"],
        "last_seq": header["last_seq"],
        "entries": len(entries),
    }


def main(argv: list[str]) -> int:
    if len(argv) == 4 and argv[1] == "segment":
        with open(argv[2]) as f, open(argv[3]) as k:
            try:
                summary = verify_segment(f, k.read())
            except ProofError as exc:
                print(f"INVALID: {exc}")
                return 1
        print(
            f"OK: segment seq {summary['first_seq']}-{summary['last_seq']}, {summary['entries']} entries"
        )
        return 0
    if len(argv) != 3:
        print(
            "usage: python -m apps.audit.offline PROOF.json PUBLIC_KEY.pem\n"
            "       python -m apps.audit.offline segment SEGMENT.jsonl PUBLIC_KEY.pem",
            file=sys.stderr,
        )
        return 2
    with open(argv[1]) as f:
        proof = json.load(f)
    with open(argv[2]) as f:
        pem = f.read()
    try:
        verify_inclusion_proof(proof, pem)
    except ProofError as exc:
        print(f"INVALID: {exc}")
        return 1
    cp = proof["checkpoint"]
    print(
        f"OK: entry at seq {proof['entry']['seq']} is covered by checkpoint {cp['id']} ({cp['created_at']})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
