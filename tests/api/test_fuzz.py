"""Every operation in the OpenAPI schema, sent bodies built from its own request schema and then
damaged at random (seeded), and odd query parameters: the answer is never a 5xx, and a JSON
4xx is the error envelope with a code and a message. New endpoints are covered as they appear
in the schema."""

import json
import random
import re
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.fuzzing import ODD, damaged

pytestmark = pytest.mark.django_db(transaction=True)

# A query string cannot carry half a surrogate pair (the client would have to encode it).
ODD_QUERY = [v for v in ODD if v != "\ud800"]
QUERY_KEYS = ["q", "page", "ordering", "since", "until", "limit", "cursor", "action", "status"]
FORMATS = {
    "date-time": "2026-12-01T00:00:00Z",
    "date": "2026-12-01",
    "email": "a@example.com",
    "uri": "https://example.com/",
    "uuid": "00000000-0000-0000-0000-000000000001",
    "duration": "P1D",
}


def _example(schema: dict[str, Any], spec: dict[str, Any], rng: random.Random, depth=0) -> Any:
    """A value of ``schema``'s shape (read-only properties left out)."""
    if "$ref" in schema:
        return _example(
            spec["components"]["schemas"][schema["$ref"].split("/")[-1]], spec, rng, depth + 1
        )
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            value = _example(part, spec, rng, depth + 1)
            merged.update(value if isinstance(value, dict) else {})
        return merged
    if "oneOf" in schema or "anyOf" in schema:
        return _example(rng.choice(schema.get("oneOf") or schema["anyOf"]), spec, rng, depth + 1)
    if "enum" in schema:
        return rng.choice([e for e in schema["enum"] if e is not None] or [None])
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        if depth > 5:
            return {}
        if not schema.get("properties"):
            return {"k": "v", "n": {"m": [1, "x"]}}
        return {
            k: _example(v, spec, rng, depth + 1)
            for k, v in schema["properties"].items()
            if not v.get("readOnly")
        }
    if kind == "array":
        return [_example(schema.get("items", {}), spec, rng, depth + 1)]
    return {"integer": 1, "number": 1.5, "boolean": True}.get(
        kind or "", FORMATS.get(schema.get("format", ""), "crm.public.customers")
    )


def test_no_operation_answers_a_5xx_to_damaged_input(admin, dataset, other_dataset):
    api = APIClient(raise_request_exception=False)
    api.force_authenticate(admin)
    spec = api.get("/api/schema/?format=json").json()
    rng = random.Random(20261201)  # noqa: S311 - seeded damage, not secrets
    ids = [dataset.pk, other_dataset.pk, 1, 999999, "crm.public.customers", "abc", "0"]
    wrong: list[tuple[str, str, int, str]] = []
    sent = 0
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            content = operation.get("requestBody", {}).get("content", {})
            schema = content.get("application/json", {}).get("schema")
            for _ in range(60 if schema else 8):
                url = re.sub(r"\{\w+\}", lambda _: str(rng.choice(ids)), path)
                if method == "get":
                    query = {
                        k: v if isinstance(v, str) else json.dumps(v)
                        for k in QUERY_KEYS
                        if rng.random() < 0.3
                        for v in [rng.choice(ODD_QUERY)]
                    }
                    sent_text = str(query)
                    response = api.get(url, query)
                else:
                    body = damaged(_example(schema, spec, rng), rng) if schema else {}
                    sent_text = json.dumps(body)  # half surrogates as \\ud800 escapes
                    response = getattr(api, method)(url, sent_text, content_type="application/json")
                sent += 1
                is_json = response.get("Content-Type", "").startswith("application/json")
                if response.status_code >= 500 or (
                    response.status_code >= 400
                    and is_json
                    and not all(
                        response.json().get("error", {}).get(k) for k in ("code", "message")
                    )
                ):
                    wrong.append((method, url, response.status_code, sent_text[:200]))
    assert sent > 1000
    assert not wrong, wrong[:5]
