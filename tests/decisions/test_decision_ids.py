"""Decision ids: random (version 4) UUIDs, written as ``str(uuid.UUID)`` writes them."""

import collections
import uuid

from apps.decisions.services import decision_ids


def test_each_id_is_a_random_uuid_in_its_canonical_text():
    ids = decision_ids(5000)
    assert len(ids) == 5000
    for text in ids:
        parsed = uuid.UUID(text)
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
        assert str(parsed) == text


def test_ids_do_not_repeat_and_every_random_digit_varies():
    ids = decision_ids(20_000) + decision_ids(20_000)
    assert len(set(ids)) == len(ids)
    # 122 random bits: each hex position but the version digit takes all 16 values (the variant
    # digit its 4), each about equally often; a position copied or left fixed would not.
    for position in range(36):
        counts = collections.Counter(text[position] for text in ids)
        if position in (8, 13, 18, 23):
            assert set(counts) == {"-"}
        elif position == 14:
            assert set(counts) == {"4"}
        elif position == 19:
            assert set(counts) == set("89ab")
        else:
            assert set(counts) == set("0123456789abcdef")
            assert min(counts.values()) > len(ids) / 16 * 0.9


def test_none_asked_none_given():
    assert decision_ids(0) == []
