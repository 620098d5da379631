"""Canonical JSON: the standard library's sorted, compact, UTF-8 text, written faster."""

import json
import random

import pytest

from apps.core.jsontext import canonical_json, json_text, parse_json


def _stdlib(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _text(rng: random.Random) -> str:
    pools = [(0x20, 0x7F), (0, 0x20), (0x80, 0xD800), (0xE000, 0x110000)]
    chars = []
    for _ in range(rng.randrange(0, 10)):
        low, high = rng.choice(pools)
        chars.append(chr(rng.randrange(low, high)))
    return "".join(chars) + rng.choice(["", '"', "\\", "\u2028", "\x7f", "é", "😀"])


def _document(rng: random.Random, depth: int = 0):
    kind = rng.randrange(6 if depth < 3 else 3)
    if kind == 0:
        return _text(rng)
    if kind == 1:
        return rng.randrange(-(2**63), 2**63)
    if kind == 2:
        return rng.choice([True, False, None])
    if kind == 3:
        return [_document(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {_text(rng): _document(rng, depth + 1) for _ in range(rng.randrange(4))}


def test_it_is_the_standard_librarys_canonical_text_for_everything_but_floats():
    rng = random.Random(4)  # noqa: S311 - test data, not secrets
    for _ in range(3000):
        document = _document(rng)
        assert canonical_json(document) == _stdlib(document)


def test_key_order_does_not_matter_and_non_ascii_stays_as_is():
    one = canonical_json({"b": 1, "a": {"y": "é", "x": None}})
    assert one == canonical_json({"a": {"x": None, "y": "é"}, "b": 1})
    assert one == '{"a":{"x":null,"y":"é"},"b":1}'


def test_integers_beyond_64_bits_are_written_in_full():
    assert canonical_json({"n": 2**80, "m": -(2**70)}) == f'{{"m":{-(2**70)},"n":{2**80}}}'


@pytest.mark.parametrize("value", ["\ud800", {"k": "a\udfffb"}, {"\ud83d": 1}, [2**70, "\ud800"]])
def test_text_with_an_unpaired_surrogate_is_refused(value):
    with pytest.raises(ValueError, match="surrogate"):
        canonical_json(value)


def test_json_text_keeps_key_order_and_reads_back_as_the_same_value():
    rng = random.Random(5)  # noqa: S311 - test data, not secrets
    for _ in range(1000):
        document = {"z": _document(rng), "a": [_document(rng)], 7: 2**70, "n": {3: "x"}}
        text = json_text(document)
        assert json.loads(text) == json.loads(json.dumps(document))
        assert text.index('"z"') < text.index('"a"') < text.index('"7"')
    assert json_text({"b": 1, "a": None}) == '{"b":1,"a":null}'


def test_parse_json_reads_what_the_standard_library_reads():
    rng = random.Random(6)  # noqa: S311 - test data, not secrets
    for _ in range(2000):
        document = _document(rng)
        for text in (json.dumps(document), json.dumps(document, indent=2, ensure_ascii=False)):
            assert parse_json(text) == json.loads(text)


@pytest.mark.parametrize(
    "text",
    [
        f'{{"n": {2**80}, "m": {-(2**70)}}}',  # orjson alone would read these as floats
        '{"id": "12345678901234567890123"}',  # 20 digits in a string: read by either, the same
        '"\\ud800"',  # an unpaired surrogate escape: orjson refuses it, the stdlib reads it
        '{"x": NaN}',  # not JSON, but what json.loads accepts
    ],
)
def test_parse_json_keeps_the_standard_librarys_reading_where_orjson_differs(text):
    assert repr(parse_json(text)) == repr(json.loads(text))  # repr: 2**80 is not 1.2e24
