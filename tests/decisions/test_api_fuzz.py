"""Seeded random damage to well-formed bodies of the decision and decision-log endpoints: every
answer is a decision or a 4xx with a stable code and a message, never a 5xx, and no decision is
denied for want of an audit entry the database would not take."""

import json
import random
from typing import Any

import pytest
from django.test import Client

from apps.decisions.credentials import credential_create
from apps.decisions.models import ServiceCredential
from tests.fuzzing import damaged

pytestmark = pytest.mark.django_db(transaction=True)

REQUEST = {
    "subject": {"type": "user", "id": "olivia", "properties": {"department": "sales"}},
    "action": {"name": "read", "properties": {"method": "GET"}},
    "resource": {
        "type": "dataset",
        "id": "crm.public.leads",
        "properties": {"columns": ["email", "id"]},
    },
    "context": {"purpose": "support", "time": "2026-12-01T10:00:00Z"},
}
LOG_EVENT = {
    "decision_id": "d-1",
    "path": "steward/governance/decision",
    "input": REQUEST,
    "result": {"allow": True, "reasons": ["owner"], "obligations": {"mask": {}}},
    "bundles": {"steward": {"revision": "r-1"}},
    "labels": {"id": "agent-1"},
    "timestamp": "2026-12-01T10:00:00Z",
}
EXTRA_KEYS = ("id", "type", "evaluations", "options", "extra")


def _bodies(rng: random.Random, n: int) -> list[tuple[str, Any]]:
    bodies: list[tuple[str, Any]] = []
    for i in range(n):
        if i % 3 == 0:
            bodies.append(("/access/v1/evaluation", damaged(REQUEST, rng, extra_keys=EXTRA_KEYS)))
        elif i % 3 == 1:
            semantic = rng.choice(["execute_all", "deny_on_first_deny", "permit_on_first_permit"])
            batch = {
                **REQUEST,
                "evaluations": [
                    {},
                    damaged(REQUEST, rng, extra_keys=EXTRA_KEYS),
                    {"resource": {"id": "x"}},
                ],
                "options": {"evaluations_semantic": semantic},
            }
            bodies.append(("/access/v1/evaluations", damaged(batch, rng, extra_keys=EXTRA_KEYS)))
        else:
            bodies.append(
                (
                    "/logs",
                    damaged(
                        [LOG_EVENT, dict(LOG_EVENT, decision_id="d-2")], rng, extra_keys=EXTRA_KEYS
                    ),
                )
            )
    return bodies


def test_damaged_bodies_get_a_decision_or_a_4xx_with_a_code(admin, leads):
    token = credential_create(
        actor=admin,
        name="fuzz",
        scopes=[ServiceCredential.Scope.EVALUATE, ServiceCredential.Scope.LOG],
    )[1]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", raise_request_exception=False)
    statuses: dict[int, int] = {}
    wrong: list[tuple[str, str, int, bytes]] = []
    for path, body in _bodies(random.Random(20261201), 1500):  # noqa: S311 - seeded damage
        text = json.dumps(body)  # half surrogates are written as \\ud800 escapes
        response = client.post(path, text, content_type="application/json")
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        if response.status_code >= 500:
            wrong.append((path, text[:200], response.status_code, response.content[:200]))
        elif response.status_code >= 400:
            error = response.json()["error"]
            if not (error.get("code") and error.get("message")):
                wrong.append((path, text[:200], response.status_code, response.content[:200]))
        elif "audit_unavailable" in response.content.decode():
            wrong.append((path, text[:200], response.status_code, response.content[:200]))
    assert not wrong, wrong[:5]
    assert statuses.get(400, 0) > 100  # the damage reached the checks
    assert statuses.get(200, 0) + statuses.get(204, 0) > 100  # and left many bodies usable
