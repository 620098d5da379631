"""The hashing rules, against RFC 6962's recursive definitions written out independently."""

import hashlib

import pytest

from apps.audit import merkle


def _rfc_mth(leaves: list[bytes]) -> bytes:
    """MTH(D[n]) exactly as RFC 6962 section 2.1 states it (over raw data, not leaf hashes)."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + _rfc_mth(leaves[:k]) + _rfc_mth(leaves[k:])).digest()


@pytest.mark.parametrize("size", [0, 1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 100])
def test_root_matches_the_rfc_definition(size):
    data = [f"entry {i}".encode() for i in range(size)]
    assert merkle.merkle_root([merkle.leaf_hash(d) for d in data]) == _rfc_mth(data)


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13, 33])
def test_every_audit_path_leads_back_to_the_root(size):
    leaves = [merkle.leaf_hash(f"e{i}") for i in range(size)]
    root = merkle.merkle_root(leaves)
    for index in range(size):
        path = merkle.audit_path(index, leaves)
        assert merkle.root_from_path(index, size, leaves[index], path) == root


def test_a_path_for_one_leaf_does_not_prove_another():
    leaves = [merkle.leaf_hash(f"e{i}") for i in range(6)]
    root = merkle.merkle_root(leaves)
    path = merkle.audit_path(2, leaves)
    assert merkle.root_from_path(2, 6, leaves[3], path) != root
    assert merkle.root_from_path(3, 6, leaves[2], path) != root
    with pytest.raises(ValueError, match="shorter"):
        merkle.root_from_path(2, 6, leaves[2], path[:-1])


def test_leaf_and_node_hashes_are_domain_separated():
    a, b = merkle.leaf_hash("a"), merkle.leaf_hash("b")
    # A node's preimage as a leaf body must not produce the node's hash (second preimage).
    assert merkle.leaf_hash(a + b) != merkle.node_hash(a, b)


def test_canonical_body_is_key_order_independent_and_compact():
    one = merkle.canonical_body({"b": 1, "a": {"y": "é", "x": None}})
    two = merkle.canonical_body({"a": {"x": None, "y": "é"}, "b": 1})
    assert one == two == '{"a":{"x":null,"y":"é"},"b":1}'


def test_batch_hash_binds_the_range_and_the_previous_hash():
    root = merkle.merkle_root([merkle.leaf_hash("x")])
    cols = merkle.columns_root([b"d" * 16])
    base = merkle.batch_hash(merkle.GENESIS_HASH, 1, 1, root, cols)
    assert merkle.batch_hash(merkle.GENESIS_HASH, 1, 2, root, cols) != base
    assert merkle.batch_hash(b"\x01" * 32, 1, 1, root, cols) != base
    assert merkle.batch_hash(merkle.GENESIS_HASH, 1, 1, root, merkle.columns_root([None])) != base
