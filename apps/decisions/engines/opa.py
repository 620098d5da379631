"""The opa engine: a real OPA server over HTTP, via opa-python-client.

OPA gets the policy and the governance snapshot from our bundle endpoint
(``/bundles/steward.tar.gz``, see ``apps.decisions.bundles``); this adapter only asks it
``POST /v1/data/steward/governance/decision?provenance`` with ``{"input": ...}``.

``OpaClient`` gives a ``requests`` session with a pooled connection adapter; it is built with
``retries=0`` (its default retries 500/502/504 with backoff, which would multiply the time a
caller waits for a deny) and the timeout from settings, which ``requests`` applies to the
connect and to each read. One client per process, shared by its threads (urllib3's pool is
thread-safe). Anything but a 200 with a JSON object is an ``EngineError``: the caller denies.
"""

import threading
from typing import Any
from urllib.parse import urlsplit

import requests
from opa_client import OpaClient

from apps.decisions.engines import EngineError

BUNDLE = "steward"


class OpaEngine:
    def __init__(self, url: str, *, timeout: float, token: str = "") -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise EngineError(f"OPA_URL must be an http(s) URL, not {url!r}")
        https = parts.scheme == "https"
        self.url = url
        self._client = OpaClient(
            host=parts.hostname,
            port=parts.port or (443 if https else 80),
            ssl=https,
            token=token or None,
            retries=0,
            timeout=timeout,
        )

    def evaluate_with_revision(self, query: str, input: dict[str, Any]) -> tuple[Any, str]:
        """The value of ``query`` (``None`` when undefined) and the revision of the ``steward``
        bundle OPA evaluated it with (from ``provenance``; ``""`` if OPA has none)."""
        if not query.startswith("data."):
            raise EngineError(f"OPA answers data queries only, not {query!r}")
        try:
            answer = self._client.query_rule(
                input_data=input,
                package_path=query.removeprefix("data."),
                query_params={"provenance": True},
            )
        except (requests.RequestException, ValueError) as exc:
            raise EngineError(f"OPA at {self.url}: {type(exc).__name__}: {exc}"[:500]) from exc
        if not isinstance(answer, dict):
            raise EngineError(f"OPA at {self.url} answered {type(answer).__name__}, not an object")
        provenance = answer.get("provenance")
        bundles = provenance.get("bundles") if isinstance(provenance, dict) else None
        bundle = bundles.get(BUNDLE) if isinstance(bundles, dict) else None
        revision = bundle.get("revision") if isinstance(bundle, dict) else None
        return answer.get("result"), revision if isinstance(revision, str) else ""

    def evaluate(self, query: str, input: dict[str, Any], *, input_json: str | None = None) -> Any:
        # (opa-python-client sends a dict: ``input_json`` is of no use here.)
        return self.evaluate_with_revision(query, input)[0]

    def close(self) -> None:
        self._client.close_connection()


_shared: dict[tuple[str, float, str], OpaEngine] = {}
_shared_lock = threading.Lock()


def opa_engine(url: str, *, timeout: float, token: str = "") -> OpaEngine:
    """The process's engine for this OPA (one connection pool, kept across decisions)."""
    key = (url, timeout, token)
    with _shared_lock:
        if key not in _shared:
            _shared[key] = OpaEngine(url, timeout=timeout, token=token)
        return _shared[key]
