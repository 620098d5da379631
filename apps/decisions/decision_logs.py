"""Decision logs uploaded by OPA agents (``POST /logs``) into the audit log.

OPA's decision-log plugin uploads batches as a JSON array of events, usually gzip-compressed
(``Content-Encoding: gzip``); each event has ``decision_id``, ``path``, ``input``, ``result``,
``timestamp``, ``bundles`` (name → revision) and ``labels`` (the agent's id, version, ...).

Each event becomes one ``decision.remote`` audit entry shaped like a local decision's
(``decision.evaluate``): the resource as target, subject and action names, allow / reasons /
obligations read from ``result`` the way ``decision_evaluate`` reads its engine's answer, the
bundle revision as policy revision, the columns a dataset request named, and a SHA-256 of the
input instead of the rest of it (it may carry personal data). A batch is all or nothing: every
event is checked before any is recorded, and all are recorded in one commit. An event whose
``decision_id`` was recorded already (a batch the agent sends again) is skipped.
"""

import contextlib
import datetime as dt
import gzip
import hashlib
import io
import json
import time
import zlib
from typing import Any

from django.conf import settings
from django.utils import timezone

from apps.audit.services import Entry, Target, audit_record_committed_many
from apps.core.errors import PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from apps.core.jsontext import canonical_json
from apps.decisions.bundles import BUNDLE_NAME
from apps.decisions.models import RemoteDecision
from apps.decisions.services import column_names, decision_from_result

MAX_EVENTS = 10_000
_ID_MAX = 128


def _decompressed(body: bytes, content_encoding: str) -> bytes:
    """The upload's bytes, refusing more than ``DECISION_LOG_MAX_BYTES`` once inflated.

    ``GzipFile.read(n)`` inflates at most ``n`` bytes, in bounded chunks, so a gzip bomb costs
    no more memory than the limit."""
    limit = settings.DECISION_LOG_MAX_BYTES
    encoding = content_encoding.strip().lower()
    if encoding in ("", "identity"):
        data = body
    elif encoding == "gzip":
        try:
            data = gzip.GzipFile(fileobj=io.BytesIO(body)).read(limit + 1)
        except (OSError, EOFError, zlib.error) as exc:
            raise ValidationFailed(
                f"The body is not valid gzip: {exc}.", code="invalid_gzip"
            ) from exc
    else:
        raise UnsupportedMediaType(
            f"Content-Encoding {content_encoding!r} is not supported; send gzip or nothing.",
            code="unsupported_content_encoding",
        )
    if len(data) > limit:
        raise PayloadTooLarge(
            f"The decision log inflates to more than {limit} bytes; upload smaller batches.",
            code="payload_too_large",
        )
    return data


def _events(data: bytes) -> list[dict[str, Any]]:
    try:
        events = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise ValidationFailed(
            "The decision log is not valid JSON.", code="malformed_request"
        ) from exc
    if not isinstance(events, list):
        raise ValidationFailed(
            "The decision log must be a JSON array of decision events.",
            code="invalid_decision_log",
        )
    if len(events) > MAX_EVENTS:
        raise PayloadTooLarge(
            f"A decision log upload holds at most {MAX_EVENTS} events.",
            code="payload_too_large",
        )
    problems: dict[str, list[str]] = {}
    for index, event in enumerate(events):
        if not isinstance(event, dict):
            problems[f"[{index}]"] = ["Must be an object."]
            continue
        decision_id = event.get("decision_id")
        if not isinstance(decision_id, str) or not 0 < len(decision_id) <= _ID_MAX:
            problems[f"[{index}].decision_id"] = [f"Required: a string of 1 to {_ID_MAX}."]
        elif "\x00" in decision_id:
            problems[f"[{index}].decision_id"] = ["Must not contain NUL (\\u0000) characters."]
        try:  # what the entry copies from it (the input is only digested)
            canonical_json({k: v for k, v in event.items() if k != "input"})
        except ValueError:
            problems[f"[{index}]"] = [
                "Text must be valid Unicode (it holds an unpaired surrogate escape such as "
                "\\ud800)."
            ]
        for key in ("path", "timestamp"):
            if not isinstance(event.get(key, ""), str):
                problems[f"[{index}].{key}"] = ["Must be a string."]
        for key in ("bundles", "labels"):
            if not isinstance(event.get(key, {}), dict):
                problems[f"[{index}].{key}"] = ["Must be an object."]
    if problems:
        first = sorted(problems)[0]
        raise ValidationFailed(
            f"Malformed decision event {first}: {problems[first][0]}",
            code="invalid_decision_log",
            extra={"fields": problems},
        )
    return events


def _name(value: Any, key: str) -> str | None:
    if isinstance(value, dict) and isinstance(value.get(key), str):
        return str(value[key])
    return None


def _columns(resource: Any) -> list[str] | None:
    """The columns a dataset request named (``properties.columns``), as a local decision's entry
    lists them; None when there are none, or none the audit log could hold as text."""
    if not isinstance(resource, dict) or resource.get("type") != "dataset":
        return None
    properties = resource.get("properties")
    columns = properties.get("columns") if isinstance(properties, dict) else None
    if not column_names(columns):
        return None
    try:
        canonical_json(columns)  # an unpaired surrogate has no UTF-8 form
    except ValueError:
        return None
    return columns


def _entry(event: dict[str, Any]) -> Entry:
    policy_input = event.get("input")
    resource = policy_input.get("resource") if isinstance(policy_input, dict) else None
    subject = policy_input.get("subject") if isinstance(policy_input, dict) else None
    action = policy_input.get("action") if isinstance(policy_input, dict) else None
    obligations: dict[str, Any] = {}
    if event.get("error") is not None:
        allow, reasons = False, ["engine_error"]
    elif isinstance(event.get("result"), bool):
        allow, reasons = event["result"], []
    else:
        allow, reasons, obligations = decision_from_result(event.get("result"))
    resource_type, resource_id = _name(resource, "type"), _name(resource, "id")
    if resource_type and resource_id:
        target = Target(f"decision.{resource_type}", resource_id[:64], resource_id)
    else:
        target = Target("decision.remote", event["decision_id"][:64], event.get("path", ""))
    subject_type, subject_id = _name(subject, "type"), _name(subject, "id")
    bundle = event.get("bundles", {}).get(BUNDLE_NAME)
    labels = event.get("labels", {})
    digest = None
    if "input" in event:
        with contextlib.suppress(ValueError):  # no UTF-8 form (an unpaired surrogate): no digest
            digest = hashlib.sha256(canonical_json(policy_input).encode()).hexdigest()
    changes = {
        "decision_id": event["decision_id"],
        "path": event.get("path", ""),
        "decided_at": event.get("timestamp", ""),
        "agent": _name(labels, "id") or "",
        "subject": f"{subject_type}:{subject_id}" if subject_type and subject_id else "",
        "action": _name(action, "name") or "",
        "allow": allow,
        "reasons": reasons,
        "obligations": obligations,
        "input_sha256": digest,
        "policy_revision": _name(bundle, "revision") or "",
    }
    columns = _columns(resource)
    if columns is not None:
        changes["columns"] = columns
    return Entry(
        action="decision.remote",
        target=target,
        changes=changes,
        outcome="success" if allow else "denied",
    )


def decision_log_ingest(*, caller: Any, body: bytes, content_encoding: str = "") -> int:
    """Record an OPA decision-log upload; the number of events recorded.

    Refuses the whole upload (nothing recorded) when it is not valid (gzip) JSON, not an array
    of decision events, or inflates past ``DECISION_LOG_MAX_BYTES``; raises
    ``ServiceUnavailable`` when the audit log cannot take it (OPA keeps the batch and retries).
    """
    fresh = _not_yet_recorded(_events(_decompressed(body, content_encoding)))
    entries = [_entry(event) for event in fresh]
    if entries:
        audit_record_committed_many(actor=caller, entries=entries)
        RemoteDecision.objects.bulk_create(
            [RemoteDecision(decision_id=e["decision_id"]) for e in fresh],
            ignore_conflicts=True,
            batch_size=1000,
        )
    _prune()
    return len(entries)


def _not_yet_recorded(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events whose decision id is new (OPA re-sends a batch whose upload it thinks
    failed). Ids are noted after their entries commit, so an upload that fails is recorded
    in full when it comes again; only one that dies between the two commits, or arrives twice
    at the same moment, can be recorded twice: never lost."""
    ids = list(dict.fromkeys(e["decision_id"] for e in events))
    known: set[str] = set()
    for start in range(0, len(ids), 1000):
        known.update(
            RemoteDecision.objects.filter(decision_id__in=ids[start : start + 1000]).values_list(
                "decision_id", flat=True
            )
        )
    fresh: list[dict[str, Any]] = []
    for event in events:
        if event["decision_id"] not in known:
            known.add(event["decision_id"])
            fresh.append(event)
    return fresh


class _Pruning:
    last = 0.0


def _prune() -> None:
    """Forget recorded ids older than DECISION_LOG_DEDUPE_HOURS (OPA retries within minutes)."""
    if time.monotonic() - _Pruning.last < 600:
        return
    _Pruning.last = time.monotonic()
    horizon = timezone.now() - dt.timedelta(hours=settings.DECISION_LOG_DEDUPE_HOURS)
    RemoteDecision.objects.filter(recorded_at__lt=horizon).delete()
