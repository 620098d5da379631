"""Polling for what another process (a worker, a server) does, with a generous deadline."""

import time
from collections.abc import Callable

WAIT_SECONDS = 60


def wait_until(predicate: Callable[[], object], seconds: float = WAIT_SECONDS) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False
