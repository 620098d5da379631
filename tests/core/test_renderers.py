"""The decision API's renderer writes what DRF's JSON renderer writes."""

import datetime as dt
import random
import uuid
from decimal import Decimal

import pytest
from rest_framework.renderers import JSONRenderer

from apps.core.api.renderers import FastJSONRenderer
from tests.core.test_jsontext import _document


def test_plain_data_is_written_byte_for_byte_as_drf_writes_it():
    rng = random.Random(8)  # noqa: S311 - test data, not secrets
    for _ in range(2000):
        document = {"k": _document(rng), "\u2028": ["\u2029"], "z": "é", "a": uuid.UUID(int=7)}
        assert FastJSONRenderer().render(document) == JSONRenderer().render(document)


@pytest.mark.parametrize(
    "value",
    [
        {"at": dt.datetime(2026, 12, 1, 13, 0, tzinfo=dt.UTC)},  # DRF: "2026-12-01T13:00:00Z"
        {"amount": Decimal("1.10")},
        {"n": 2**70},
        None,
    ],
)
def test_what_orjson_would_write_differently_goes_to_drf(value):
    assert FastJSONRenderer().render(value) == JSONRenderer().render(value)


def test_an_indented_answer_is_indented_as_drf_indents_it():
    data = {"b": [1, {"c": None}], "a": "x"}
    media_type = "application/json; indent=2"
    rendered = FastJSONRenderer().render(data, media_type)
    assert rendered == JSONRenderer().render(data, media_type)
    assert b"\n  " in rendered
