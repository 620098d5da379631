"""The access pages through Django's test client: break-glass form and review, roles page."""

import pytest
from django.test import Client

from apps.access import services
from apps.access.models import BreakGlassReview, Grant, Role, RoleBinding
from tests.access.conftest import filter_rows_by_region

pytestmark = pytest.mark.django_db(transaction=True)

WHY = "Production incident 8812: payments failing for EU customers"


def _as(user):
    client = Client()
    client.force_login(user)
    return client


def test_break_glass_from_the_page_and_its_review_in_the_owners_inbox(
    customers, rick, owner, admin
):
    assert "break-glass-form" not in _as(rick).get("/access/").content.decode()
    services.role_binding_create(actor=admin, role=Role.objects.get(key="break_glass"), user=rick)
    page = _as(rick).get("/access/").content.decode()
    assert "break-glass-form" in page

    response = _as(rick).post(
        "/access/break-glass/",
        {"bg-dataset": customers.fqn, "bg-access": "read", "bg-duration_seconds": "900",
         "bg-justification": WHY},
    )  # fmt: skip
    assert response.status_code == 302
    grant = Grant.objects.get(origin=Grant.Origin.BREAK_GLASS)
    assert (grant.expires_at - grant.starts_at).total_seconds() == 900

    inbox = _as(owner).get("/access/inbox/").content.decode()
    assert "Break-glass use to review" in inbox
    assert WHY in inbox
    review = BreakGlassReview.objects.get(grant=grant)
    _as(owner).post(f"/access/break-glass/{review.pk}/review/", {"outcome": "unjustified"})
    grant.refresh_from_db()
    assert grant.revoked_at is not None


def test_a_short_justification_is_refused_on_the_page(customers, rick, admin):
    services.role_binding_create(actor=admin, role=Role.objects.get(key="break_glass"), user=rick)
    response = _as(rick).post(
        "/access/break-glass/",
        {"bg-dataset": customers.fqn, "bg-access": "read", "bg-duration_seconds": "900",
         "bg-justification": "urgent"},
        follow=True,
    )  # fmt: skip
    assert "at least 20 characters" in response.content.decode()
    assert not Grant.objects.exists()


def test_the_roles_page_is_for_managers_only(admin, rick, events):
    assert _as(rick).get("/access/roles/").status_code == 404
    response = _as(admin).post(
        "/access/roles/",
        {"role": "analyst", "principal_kind": "user", "principal": "rick",
         "scope_kind": "source", "scope": events.source.name},
    )  # fmt: skip
    assert response.status_code == 302
    binding = RoleBinding.objects.get()
    assert binding.scope_label == f"source {events.source.name}"
    bad = _as(admin).post(
        "/access/roles/",
        {"role": "analyst", "principal_kind": "user", "principal": "nobody", "scope_kind": ""},
    )
    assert bad.status_code == 400
    assert "No user named" in bad.content.decode()
    assert RoleBinding.objects.count() == 1


def test_rows_asked_for_on_the_page_are_shown_to_the_approver(events, rick, owner, admin):
    from apps.access.models import AccessRequest

    mine = _as(rick).post(
        "/access/",
        {"dataset": events.fqn, "access": "read", "duration_seconds": "86400",
         "rows": "ACME", "purpose": "ticket 4711"},
    )  # fmt: skip
    assert mine.status_code == 400
    assert "has no row filter" in mine.content.decode()

    filter_rows_by_region(events, admin)
    _as(rick).post(
        "/access/",
        {"dataset": events.fqn, "access": "read", "duration_seconds": "86400",
         "rows": "ACME, GLOBEX", "purpose": "ticket 4711"},
    )  # fmt: skip
    assert AccessRequest.objects.get().rows == ["ACME", "GLOBEX"]
    inbox = _as(owner).get("/access/inbox/").content.decode()
    assert "rows where region is ACME, GLOBEX" in inbox
    services.access_request_decide(
        actor=owner, request=AccessRequest.objects.get(), verdict="approve"
    )
    assert "rows: ACME, GLOBEX" in _as(rick).get("/access/").content.decode()  # its holder
    assert "rows: ACME, GLOBEX" in _as(owner).get("/access/").content.decode()  # its owner
