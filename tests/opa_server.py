"""A stand-in for an OPA server, for tests: the OPA binary cannot be installed on our machines.

It implements the part of OPA's REST API that Steward's ``opa`` engine adapter uses, and
loads its policy and data the way OPA does, by pulling our bundle:

- bundle pull: ``GET <bundle_url>`` with ``Authorization: Bearer <token>`` every
  ``poll_seconds``, sending ``If-None-Match`` with the last ETag; a 200 is unpacked (``.manifest``
  revision, ``.rego`` modules, each ``data.json`` at the path of its directory) and activated
  whole; a 304 keeps what is active.
- ``POST /v1/data/{path}`` with ``{"input": ...}`` → ``{"result": ...}``, or ``{}`` when the
  document is undefined; ``?provenance`` adds ``{"provenance": {"bundles": {name: {"revision"}}}}``.
- ``GET /health`` → 200 ``{}``; ``GET /health?bundles`` → 500 until a bundle is active.

Evaluation is done by the real OPA Go engine (``opa-golib-python-bindings``, OPA v1 embedded
through ctypes), so tests that compare our embedded engine with this server compare it with
OPA's own semantics. ``fault`` makes it misbehave for fail-closed tests: ``"sleep"`` (answer
after ``sleep_seconds``), ``"garbage"`` (200 with a non-JSON body), ``"error"`` (500).

Run by hand against a control plane: ``python -m tests.opa_server --bundle-url
http://127.0.0.1:8000/bundles/steward.tar.gz --token stw_... --port 8181``.
"""

import argparse
import io
import json
import posixpath
import tarfile
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from opa_bindings import OpaEngine, OpaError, OpaUndefinedError


class BundleError(Exception):
    pass


def load_bundle(body: bytes) -> tuple[str, OpaEngine]:
    """A fresh OPA engine holding the bundle's policies and data, and the bundle's revision."""
    try:
        with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as tar:
            files: dict[str, bytes] = {}
            for member in tar.getmembers():
                extracted = tar.extractfile(member)
                if extracted is not None:
                    files[member.name.lstrip("/")] = extracted.read()
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BundleError(f"not a bundle: {exc}") from exc
    manifest = json.loads(files.get(".manifest", b"{}"))
    engine = OpaEngine()
    try:
        for name, content in sorted(files.items()):
            if name.endswith(".rego"):
                engine.add_policy(name, content.decode())
            elif posixpath.basename(name) == "data.json":
                path = posixpath.dirname(name).replace("/", ".")
                engine.add_data(json.loads(content), path=path)
    except OpaError as exc:
        engine.close()
        raise BundleError(f"bundle does not load: {exc}") from exc
    return str(manifest.get("revision", "")), engine


class OpaTestServer:
    def __init__(
        self,
        *,
        bundle_url: str = "",
        token: str = "",
        poll_seconds: float = 0.2,
        bundle_name: str = "steward",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.bundle_url, self.token, self.poll_seconds = bundle_url, token, poll_seconds
        self.bundle_name = bundle_name
        self.revision = ""
        self.etag = ""
        self.pulls: list[int] = []  # HTTP status of each bundle download, in order
        self.fault: str | None = None
        self.sleep_seconds = 2.0
        self._engine: OpaEngine | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._httpd = ThreadingHTTPServer((host, port), self._handler())
        self._httpd.daemon_threads = True
        self.url = f"http://{host}:{self._httpd.server_address[1]}"
        self._threads: list[threading.Thread] = []

    # -- bundle ----------------------------------------------------------------------

    def activate(self, body: bytes) -> None:
        revision, engine = load_bundle(body)
        with self._lock:
            old, self._engine, self.revision = self._engine, engine, revision
        if old is not None:
            old.close()

    def pull(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        if self.etag:
            headers["If-None-Match"] = self.etag
        request = urllib.request.Request(self.bundle_url, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                body, etag = response.read(), response.headers.get("ETag", "")
            self.activate(body)
            self.etag = etag
            self.pulls.append(200)
        except urllib.error.HTTPError as err:
            self.pulls.append(err.code)
        except (urllib.error.URLError, OSError, BundleError):
            self.pulls.append(0)

    def _poll(self) -> None:
        while not self._stop.is_set():
            self.pull()
            self._stop.wait(self.poll_seconds)

    def wait_for_bundle(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.revision:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no bundle activated; pulls: {self.pulls}")
            time.sleep(0.05)

    # -- queries ---------------------------------------------------------------------

    def query(self, path: str, input: Any, provenance: bool) -> tuple[int, dict[str, Any]]:
        with self._lock:
            engine, revision = self._engine, self.revision
        answer: dict[str, Any] = {}
        if engine is not None:
            try:
                answer["result"] = engine.eval_document(path.strip("/").replace("/", "."), input)
            except OpaUndefinedError:
                pass
            except OpaError as exc:
                return 500, {"code": "internal_error", "message": str(exc)}
        if provenance:
            bundles = {self.bundle_name: {"revision": revision}} if revision else {}
            answer["provenance"] = {"version": "opa-golib-python-bindings", "bundles": bundles}
        return 200, answer

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, like OPA: the client's pool reuses it

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _send(self, status: int, body: bytes, kind: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _json(self, status: int, value: Any) -> None:
                self._send(status, json.dumps(value).encode())

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                if url.path != "/health":
                    return self._json(404, {"code": "resource_not_found"})
                if "bundles" in parse_qs(url.query, keep_blank_values=True) and not server.revision:
                    return self._json(500, {"error": "bundle not activated"})
                return self._json(200, {})

            def do_POST(self) -> None:
                url = urlsplit(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if server.fault == "sleep":
                    time.sleep(server.sleep_seconds)
                elif server.fault == "garbage":
                    return self._send(200, b"<html>upstream proxy error</html>", "text/html")
                elif server.fault == "error":
                    return self._json(500, {"code": "internal_error", "message": "boom"})
                if not url.path.startswith("/v1/data"):
                    return self._json(404, {"code": "resource_not_found"})
                try:
                    document = json.loads(body or b"{}")
                except ValueError:
                    return self._json(400, {"code": "invalid_parameter", "message": "bad JSON"})
                if not isinstance(document, dict):
                    return self._json(400, {"code": "invalid_parameter", "message": "not object"})
                query = parse_qs(url.query, keep_blank_values=True)
                provenance = query.get("provenance", ["false"])[0].lower() in ("", "true")
                status, answer = server.query(
                    url.path.removeprefix("/v1/data"), document.get("input"), provenance
                )
                return self._json(status, answer)

        return Handler

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> "OpaTestServer":
        serve = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)
        serve.start()
        self._threads.append(serve)
        if self.bundle_url:
            poll = threading.Thread(target=self._poll, daemon=True)
            poll.start()
            self._threads.append(poll)
        return self

    def stop(self) -> None:
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        for thread in self._threads:
            thread.join(timeout=10)
        if self._engine is not None:
            self._engine.close()

    def __enter__(self) -> "OpaTestServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle-url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--port", type=int, default=8181)
    parser.add_argument("--poll-seconds", type=float, default=5.0)
    args = parser.parse_args()
    server = OpaTestServer(
        bundle_url=args.bundle_url, token=args.token, poll_seconds=args.poll_seconds, port=args.port
    ).start()
    print(f"serving OPA's data API on {server.url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
