"""The decision API's parser reads what DRF's JSON parser reads, and refuses what it refuses."""

import io
import json
import random

import pytest
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from apps.core.api.parsers import FastJSONParser
from tests.core.test_jsontext import _document


def _both(raw: bytes, encoding: str = "utf-8"):
    """What each parser makes of ``raw``: its value, or its ParseError's message."""
    out = []
    for parser in (FastJSONParser(), JSONParser()):
        try:
            out.append(repr(parser.parse(io.BytesIO(raw), None, {"encoding": encoding})))
        except ParseError as exc:
            out.append(f"ParseError: {exc.detail}")
    return out


def test_it_reads_documents_as_drf_reads_them():
    rng = random.Random(9)  # noqa: S311 - test data, not secrets
    for _ in range(2000):
        document = {"evaluations": [_document(rng)], "x": _document(rng)}
        for text in (json.dumps(document), json.dumps(document, ensure_ascii=False, indent=1)):
            fast, drf = _both(text.encode())
            assert not drf.startswith("ParseError")
            assert fast == drf


@pytest.mark.parametrize(
    "raw",
    [
        f'{{"n": {2**80}, "m": {-(2**70)}}}'.encode(),  # orjson alone would read floats
        b'{"s": "\\ud800"}',  # an unpaired surrogate escape: DRF reads it, orjson refuses it
        b'{"x": NaN}',  # DRF's strict JSON refuses it
        b'{"x": 1e400}',
        b'{"a": 1,}',
        b"\xef\xbb\xbf{}",  # a byte order mark
        b'{"a": "\xff"}',  # not UTF-8
        b'{"a": 1} {"b": 2}',
        b"",
    ],
)
def test_where_orjson_differs_or_refuses_drf_decides(raw):
    fast, drf = _both(raw)
    assert fast == drf


def test_other_charsets_are_read_by_drf():
    raw = json.dumps({"name": "é"}, ensure_ascii=False).encode("latin-1")
    fast, drf = _both(raw, "latin-1")
    assert fast == drf == repr({"name": "é"})


@pytest.mark.parametrize("encoding", ["no-such-charset", "bz2_codec"])
def test_a_charset_drf_refuses_is_refused(encoding):
    fast, drf = _both(b"{}", encoding)
    assert fast == drf
    assert fast.startswith("ParseError")
