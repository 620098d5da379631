import pytest

from apps.decisions.services import snapshot_invalidate


@pytest.fixture(autouse=True)
def _fresh_snapshot():
    """Each test's decisions read its own catalog, not a snapshot cached by an earlier test
    (the live server's thread lives across tests)."""
    snapshot_invalidate()
    yield
    snapshot_invalidate()
