"""Signing in, failing to, and signing out are on the record (never the password)."""

import pytest

from apps.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_sign_in_failure_and_sign_out_are_recorded(client, owner):
    owner.set_password("right-password")
    owner.save()

    client.post("/accounts/login/", {"username": owner.username, "password": "wrong-password"})
    client.post("/accounts/login/", {"username": owner.username, "password": "right-password"})
    client.post("/accounts/logout/")

    events = list(AuditEvent.objects.filter(action__startswith="auth.").order_by("id"))
    assert [(e.action, e.outcome) for e in events] == [
        ("auth.sign_in_failed", "denied"),
        ("auth.sign_in", "success"),
        ("auth.sign_out", "success"),
    ]
    failed, signed_in, _ = events
    assert (failed.actor_type, failed.target_repr) == ("anonymous", owner.username)
    assert (signed_in.actor_id, signed_in.actor_type) == (owner.pk, "user")
    assert all(e.ip == "127.0.0.1" and e.request_id for e in events)
    assert not any("password" in e.body for e in events)
