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
from dataclasses import dataclass
from typing import Any

from apps.core.errors import NotFound
from apps.core.jsontext import canonical_json
from apps.decisions.bundle_signing import SIGNATURES_FILE, signatures_file, signing_key
from apps.decisions.policies import policy_revision
from apps.decisions.services import current_build

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
    """Sorted keys, no whitespace, UTF-8: also the form OPA hashes a signed JSON file in (Go's
    encoder, which escapes U+2028 and U+2029 where Python would not)."""
    text = canonical_json(value)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()


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
    signer: tuple[Any, str] | None = None,
) -> Bundle:
    """The bundle for these policies, this snapshot and these policy packages' data, signed
    with ``signer`` (private key, key id) if given (pure: no database, no cache)."""
    return _build(policies, _canonical(snapshot), _canonical(packages or {}), signer)


def _build(
    policies: dict[str, str], data: bytes, packages: bytes, signer: tuple[Any, str] | None
) -> Bundle:
    digest = hashlib.sha256(data + b"\0" + packages).hexdigest()[:12]
    revision = f"{policy_revision(policies)}-{digest}"
    manifest = {"revision": revision, "roots": [ROOT], "rego_version": 1}
    files = {"/.manifest": _canonical(manifest), f"/{SNAPSHOT_PATH}": data}
    for name, value in json.loads(packages).items():
        files[f"/{ROOT}/packages/{name}/data.json"] = _canonical(value)
    for path, text in policies.items():
        if path.endswith(".rego") and not path.endswith("_test.rego"):
            files[f"/{path}"] = text.encode()
    if signer is not None:
        files[SIGNATURES_FILE] = signatures_file(files, *signer)
    return Bundle(revision=revision, body=_tar_gz(files))


class _Cache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.bundle: Bundle | None = None
        self.version = -1  # the build it was made from
        self.key: tuple[str, str, str] = ("", "", "")


_cache = _Cache()


def bundle_get(*, name: str) -> Bundle:
    """The current bundle called ``name``.

    Made from the process's current build (``current_build``: rebuilt only when something it
    reads changed), once per build; a poll with nothing changed costs one small query at
    most. The revision, and so the ETag, depends only on the content, so every process serves
    the same one for the same policies and data.
    """
    if name != BUNDLE_NAME:
        raise NotFound(
            f"No bundle named {name!r}; there is {BUNDLE_NAME!r}.", code="unknown_bundle"
        )
    build = current_build()
    signer = signing_key()
    key_id = signer[1] if signer else ""
    with _cache.lock:
        if _cache.bundle is not None and (_cache.version, _cache.key[2]) == (build.version, key_id):
            return _cache.bundle
        snapshot = {k: v for k, v in build.snapshot.items() if k != "version"}
        data = _canonical(snapshot)
        key = (build.active.revision, hashlib.sha256(data).hexdigest(), key_id)
        if _cache.bundle is None or key != _cache.key:
            _cache.bundle = _build(build.active.files, data, _canonical(build.active.data), signer)
            _cache.key = key
        _cache.version = build.version
        return _cache.bundle
