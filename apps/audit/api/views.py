"""REST API for the audit log: query entries, fetch inclusion proofs, checkpoints, public key.

Reading needs ``audit.view_auditevent``; creating a checkpoint ``audit.add_auditcheckpoint``
(superusers have both); others get 403 ``permission_denied``. Every read is recorded with the
filters it used. Lists page by id (``before``/``next``), never by counting millions of rows.
"""

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.audit import signing
from apps.audit.models import AuditCheckpoint, AuditEvent
from apps.audit.proofs import inclusion_proof
from apps.audit.selectors import AuditFilters, audit_event_get, audit_event_list
from apps.audit.services import Target, audit_checkpoint_create, audit_record_alone, format_ts
from apps.core.api.schema import ApiSerializer, error_responses, one_url
from apps.core.errors import Conflict, PermissionDenied, ValidationFailed

TAGS = ["audit"]


def _require(request: Request, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied("Reading the audit log needs the audit.view_auditevent permission."
                               if perm == "audit.view_auditevent"
                               else f"This needs the {perm} permission.")  # fmt: skip


def _record(request: Request, action: str, target: Target, **changes: Any) -> None:
    audit_record_alone(actor=request.user, action=action, target=target, changes=changes)


class AuditEventOutputSerializer(ApiSerializer):
    id = serializers.IntegerField()
    seq = serializers.IntegerField(
        allow_null=True, help_text="Position in the chain; null until sealed."
    )
    created_at = serializers.SerializerMethodField()
    actor_type = serializers.CharField()
    actor_id = serializers.IntegerField(allow_null=True)
    actor = serializers.CharField(source="actor_repr")
    ip = serializers.CharField(allow_null=True)
    request_id = serializers.CharField()
    action = serializers.CharField()
    target_type = serializers.CharField()
    target_id = serializers.CharField()
    target = serializers.CharField(source="target_repr")
    scope = serializers.CharField()
    outcome = serializers.CharField()
    changes = serializers.JSONField(
        help_text="Before/after digest; never secrets or raw personal data."
    )
    body = serializers.CharField(
        help_text="The canonical JSON the chain covers (leaf = SHA-256(0x00 || body))."
    )
    leaf_hash = serializers.SerializerMethodField()

    def get_created_at(self, event: AuditEvent) -> str:
        return format_ts(event.created_at)

    def get_leaf_hash(self, event: AuditEvent) -> str | None:
        return event.leaf_hash.hex() if event.leaf_hash is not None else None


class AuditEventListApi(APIView):
    class FilterSerializer(ApiSerializer):
        reject_unknown_fields = False
        actor = serializers.CharField(
            required=False, help_text="Actor name; a trailing * matches a prefix."
        )
        action = serializers.CharField(
            required=False, help_text="Action; a trailing . or * matches a prefix."
        )
        target_type = serializers.CharField(required=False)
        target_id = serializers.CharField(required=False)
        outcome = serializers.ChoiceField(choices=AuditEvent.Outcome.choices, required=False)
        since = serializers.DateTimeField(
            required=False, help_text="Inclusive, ISO 8601 (UTC if no offset)."
        )
        until = serializers.DateTimeField(required=False, help_text="Exclusive, ISO 8601.")
        before = serializers.IntegerField(
            required=False, min_value=1, help_text="Entries with a smaller id (the `next` cursor)."
        )
        limit = serializers.IntegerField(required=False, min_value=1, max_value=500, default=50)

    class OutputSerializer(ApiSerializer):
        results = AuditEventOutputSerializer(many=True)
        next = serializers.CharField(allow_null=True, help_text="URL of the next (older) page.")

    @extend_schema(
        operation_id="audit_events_list",
        tags=TAGS,
        parameters=[FilterSerializer],
        responses={200: OutputSerializer, **error_responses(400, 403)},
    )
    def get(self, request: Request) -> Response:
        _require(request, "audit.view_auditevent")
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        if data.get("since") and data.get("until") and data["since"] >= data["until"]:
            raise ValidationFailed(
                "`until` must be later than `since`.",
                extra={"fields": {"until": ["Must be later than since."]}},
            )
        filters = AuditFilters(
            **{
                k: data[k]
                for k in (
                    "actor",
                    "action",
                    "target_type",
                    "target_id",
                    "outcome",
                    "since",
                    "until",
                )
                if k in data
            }
        )
        qs = audit_event_list(filters=filters)
        if "before" in data:
            qs = qs.filter(pk__lt=data["before"])
        limit = data["limit"]
        events = list(qs[: limit + 1])
        next_url = None
        if len(events) > limit:
            events = events[:limit]
            query = request.query_params.copy()
            query["before"] = str(events[-1].pk)
            next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
        _record(request, "audit.read", Target("audit.log", "query", "audit log query (API)"),
                filters=filters.as_dict(), before=data.get("before"))  # fmt: skip
        return Response(
            {"results": AuditEventOutputSerializer(events, many=True).data, "next": next_url}
        )


class AuditEventDetailApi(APIView):
    @extend_schema(
        operation_id="audit_events_retrieve",
        tags=TAGS,
        responses={200: AuditEventOutputSerializer, **error_responses(403, 404)},
    )
    def get(self, request: Request, entry_id: int) -> Response:
        _require(request, "audit.view_auditevent")
        event = audit_event_get(entry_id=entry_id)
        _record(
            request, "audit.read", Target("audit.event", str(event.pk), f"audit entry {event.pk}")
        )
        return Response(AuditEventOutputSerializer(event).data)


class AuditEventProofApi(APIView):
    @extend_schema(
        operation_id="audit_events_proof",
        tags=TAGS,
        description="Inclusion proof: check it offline with `python -m apps.audit.offline proof.json key.pem`."
        " 409 `audit_entry_unsealed` / `audit_entry_not_checkpointed` until it is covered.",
        responses={
            200: inline_serializer("AuditProof", {"entry": serializers.DictField(), "batch": serializers.DictField(),
                                                  "audit_path": serializers.ListField(child=serializers.CharField()),
                                                  "later_batches": serializers.ListField(child=serializers.DictField()),
                                                  "checkpoint": serializers.DictField(), "public_key": serializers.CharField()}),
            **error_responses(403, 404, 409),
        },
    )  # fmt: skip
    def get(self, request: Request, entry_id: int) -> Response:
        _require(request, "audit.view_auditevent")
        proof = inclusion_proof(entry_id=entry_id)
        _record(
            request, "audit.proof", Target("audit.event", str(entry_id), f"audit entry {entry_id}")
        )
        return Response(proof)


class AuditCheckpointOutputSerializer(ApiSerializer):
    id = serializers.IntegerField()
    created_at = serializers.SerializerMethodField()
    batch = serializers.IntegerField()
    last_seq = serializers.IntegerField()
    head_hash = serializers.SerializerMethodField()
    key_id = serializers.CharField()
    signature = serializers.SerializerMethodField()

    def get_created_at(self, cp: AuditCheckpoint) -> str:
        return format_ts(cp.created_at)

    def get_head_hash(self, cp: AuditCheckpoint) -> str:
        return bytes(cp.head_hash).hex()

    def get_signature(self, cp: AuditCheckpoint) -> str:
        return bytes(cp.signature).hex()


class AuditCheckpointListApi(APIView):
    @extend_schema(
        operation_id="audit_checkpoints_list",
        tags=TAGS,
        parameters=[
            OpenApiParameter(
                "limit", int, description="At most this many, newest first (default 100)."
            )
        ],
        responses={200: AuditCheckpointOutputSerializer(many=True), **error_responses(403)},
    )
    def get(self, request: Request) -> Response:
        _require(request, "audit.view_auditevent")
        limit = request.query_params.get("limit", "100")
        if not limit.isdigit() or not 1 <= int(limit) <= 1000:
            raise ValidationFailed("`limit` must be a whole number from 1 to 1000.")
        checkpoints = AuditCheckpoint.objects.order_by("-id")[: int(limit)]
        return Response(AuditCheckpointOutputSerializer(checkpoints, many=True).data)


class AuditCheckpointCreateApi(APIView):
    @extend_schema(
        operation_id="audit_checkpoints_create",
        tags=TAGS,
        request=None,
        description="Seal pending entries and sign the chain head now.",
        responses={201: AuditCheckpointOutputSerializer, **error_responses(403, 409)},
    )
    def post(self, request: Request) -> Response:
        _require(request, "audit.add_auditcheckpoint")
        checkpoint = audit_checkpoint_create(actor=request.user)
        if checkpoint is None:
            raise Conflict(
                "The audit log is empty: there is nothing to sign yet.", code="audit_log_empty"
            )
        return Response(
            AuditCheckpointOutputSerializer(checkpoint).data, status=status.HTTP_201_CREATED
        )


class AuditPublicKeyApi(APIView):
    @extend_schema(
        operation_id="audit_public_key",
        tags=TAGS,
        responses={200: inline_serializer("AuditPublicKey", {"key_id": serializers.CharField(), "pem": serializers.CharField()}),
                   **error_responses(403)},
    )  # fmt: skip
    def get(self, request: Request) -> Response:
        _require(request, "audit.view_auditevent")
        return Response({"key_id": signing.current_key_id(), "pem": signing.public_key_pem()})


AuditCheckpointsApi = one_url(
    "AuditCheckpointsApi", AuditCheckpointListApi, AuditCheckpointCreateApi
)
