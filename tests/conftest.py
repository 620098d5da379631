import os

import pytest

# Playwright's sync API runs an event loop in the test thread; the Django ORM calls the tests make
# beside it are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def user_factory(db):
    from tests.factories import UserFactory

    return UserFactory
