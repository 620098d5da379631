"""OPA bundles for edge agents: the governance policy and snapshot as one ``.tar.gz``.

OPA sidecars pull ``GET /bundles/steward.tar.gz`` (their ``bundles`` config) and decide
locally. The bundle holds (OPA bundle format, https://www.openpolicyagent.org/docs/management-bundles):

- ``/.manifest``: ``{"revision", "roots": ["steward"], "rego_version": 1}``. The roots claim
  the whole ``data.steward`` tree for this bundle, so OPA refuses any other source writing into it.
- ``/steward/snapshot/data.json``: the governance snapshot. OPA loads a ``data.json`` at the
  path of the directory that holds it, so this lands at ``data.steward.snapshot``, where the
  policy reads it. (A root ``/data.json`` holding ``{"steward": {"snapshot": ...}}`` would load
  the same, but the directory form says where the data goes without opening the file, and is
  what ``opa build`` emits for data under a root.)
- the non-test ``.rego`` files of ``POLICIES_DIR`` under their relative paths, and those of
  each policy package under ``packages/<name>/``, with the package's data at
  ``/steward/packages/<name>/data.json`` (``data.steward.packages.<name>``).

The revision is ``<policy revision>-<data digest>`` (snapshot and packages' data): it changes
exactly when what OPA would decide from could change. The bytes are deterministic for the same content (sorted entries,
fixed mtimes/owners in the tar, gzip mtime 0), and the ETag is the quoted revision.
"""

import gzip
import hashlib
import io
import json
import tarfile
import threading
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from apps.core.errors import NotFound
from apps.decisions.packages import active_policy
from apps.decisions.services import policy_revision, snapshot_generation
from apps.decisions.snapshot import build_snapshot

BUNDLE_NAME = "steward"
ROOT = "steward"
SNAPSHOT_PATH = "steward/snapshot/data.json"


@dataclass(frozen=True)
class Bundle:
    revision: str
    body: bytes

    @property
    def etag(self) -> str:
        return f'"{self.revision}"'


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _tar_gz(files: dict[str, bytes]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(files):
            info = tarfile.TarInfo(name)
            info.size = len(files[name])
            info.mode = 0o644
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(files[name]))
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=6) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def bundle_build(
    *,
    policies: dict[str, str],
    snapshot: dict[str, Any],
    packages: dict[str, Any] | None = None,
) -> Bundle:
    """The bundle for these policies, this snapshot and these policy packages' data (pure: no
    database, no cache)."""
    return _build(policies, _canonical(snapshot), _canonical(packages or {}))


def _build(policies: dict[str, str], data: bytes, packages: bytes) -> Bundle:
    digest = hashlib.sha256(data + b"\0" + packages).hexdigest()[:12]
    revision = f"{policy_revision(policies)}-{digest}"
    manifest = {"revision": revision, "roots": [ROOT], "rego_version": 1}
    files = {"/.manifest": _canonical(manifest), f"/{SNAPSHOT_PATH}": data}
    for name, value in json.loads(packages).items():
        files[f"/{ROOT}/packages/{name}/data.json"] = _canonical(value)
    for path, text in policies.items():
        if path.endswith(".rego") and not path.endswith("_test.rego"):
            files[f"/{path}"] = text.encode()
    return Bundle(revision=revision, body=_tar_gz(files))


class _Cache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.bundle: Bundle | None = None
        self.key: tuple[str, str] = ("", "")
        self.checked_at = 0.0
        self.generation = -1


_cache = _Cache()


def bundle_get(*, name: str) -> Bundle:
    """The current bundle called ``name``.

    Polls are cheap: within ``DECISION_SNAPSHOT_REFRESH_SECONDS`` of the last check (and with
    no ``snapshot_invalidate`` since) the cached bundle is served without a query; after that
    the snapshot is rebuilt and, if neither it nor the policies changed, the cached bytes are
    still served (the tar is built once per policy revision and snapshot digest).
    """
    if name != BUNDLE_NAME:
        raise NotFound(
            f"No bundle named {name!r}; there is {BUNDLE_NAME!r}.", code="unknown_bundle"
        )
    with _cache.lock:
        generation = snapshot_generation()  # read first: an invalidation during the build wins
        fresh = time.monotonic() - _cache.checked_at <= settings.DECISION_SNAPSHOT_REFRESH_SECONDS
        if _cache.bundle is not None and fresh and _cache.generation == generation:
            return _cache.bundle
        active = active_policy()
        data = _canonical(build_snapshot())
        packages = _canonical(active.data)
        key = (active.revision, hashlib.sha256(data).hexdigest())
        if _cache.bundle is None or key != _cache.key:
            _cache.bundle = _build(active.files, data, packages)
            _cache.key = key
        _cache.checked_at = time.monotonic()
        _cache.generation = generation
        return _cache.bundle
