import datetime as dt

import pytest
from django.utils import timezone

from apps.access import services as access
from apps.access.models import Grant, Role
from tests.access.conftest import (  # noqa: F401 - fixtures shared with the access tests
    _seeded,
    customers,
    events,
    growth,
    rick,
    sam,
)
from tests.factories import UserFactory


def make_grant(user, dataset, *, hours: int = 24, access: str = "read") -> Grant:
    """An active grant (set up directly: these tests are about reviewing it)."""
    now = timezone.now()
    return Grant.objects.create(
        user=user,
        dataset=dataset,
        access=access,
        purpose="quarterly analysis",
        starts_at=now,
        expires_at=now + dt.timedelta(hours=hours),
    )


@pytest.fixture
def ana(db):
    return UserFactory(username="ana", email="ana@example.com")


@pytest.fixture
def bindings(admin, ana, customers, events):  # noqa: F811 - the imported fixtures
    """ana: analyst on the crm source and on web.public.events; admin role everywhere for a
    service credential-less user dave."""
    analyst = Role.objects.get(key="analyst")
    dave = UserFactory(username="dave")
    return {
        "source": access.role_binding_create(
            actor=admin, role=analyst, user=ana, source=customers.source
        ),
        "dataset": access.role_binding_create(actor=admin, role=analyst, user=ana, dataset=events),
        "everywhere": access.role_binding_create(
            actor=admin, role=Role.objects.get(key="admin"), user=dave
        ),
    }
