"""The decision API, AuthZEN Authorization API 1.0 (contract in ../shared/DESIGN.md).

Callers authenticate with a service credential carrying ``decisions:evaluate``: none or an
invalid one is 401, one without the scope 403, a malformed body 400; an engine or audit
failure is a deny (``decision: false`` with its reason code), never a 500.
"""

from collections.abc import Iterable
from typing import Any

from django.http import HttpResponse, HttpResponseBase
from django.urls import reverse
from django.utils.cache import get_conditional_response
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.parsers import FastJSONParser
from apps.core.api.renderers import FastJSONRenderer
from apps.core.api.schema import error_responses
from apps.core.errors import ValidationFailed
from apps.decisions.api.authentication import BearerCredentialAuthentication, HasScope
from apps.decisions.bundles import bundle_get
from apps.decisions.decision_logs import decision_log_ingest
from apps.decisions.models import ServiceCredential
from apps.decisions.services import SEMANTICS, Decision, decision_evaluate, decision_evaluate_many

TAGS = ["decisions"]


def _name() -> serializers.Field:
    """A non-empty string without NUL, as the API takes names (type, id, action name)."""
    return serializers.RegexField(r"^[^\x00]+$")


def _entity(properties: str = "") -> dict[str, serializers.Field]:
    return {
        "type": _name(),
        "id": _name(),
        "properties": serializers.DictField(  # null is taken as absent
            required=False, allow_null=True, help_text=properties
        ),
    }


RESOURCE_PROPERTIES = (
    'For a dataset, {"columns": [names]}: the columns the query reads. Masks are then answered'
    " for those alone, and a named column the catalog does not hold is redacted."
)


def _answer(decision: Decision) -> dict[str, Any]:
    return {
        "decision": decision.allow,
        "context": {
            "decision_id": decision.decision_id,
            "reason_codes": decision.reasons,
            "obligations": decision.obligations,
            "policy_revision": decision.policy_revision,
        },
    }


class _DecisionApi(APIView):
    """A service credential with ``decisions:evaluate``; the body must be a JSON object."""

    authentication_classes = [BearerCredentialAuthentication]
    permission_classes = [HasScope]
    renderer_classes = [FastJSONRenderer]  # a batch answer is 100 objects: 0.02 ms, not 0.22
    # JSON only (AuthZEN's media type): a form cannot carry the nested objects a request is, and
    # DRF's default form parsers had the schema offer form bodies. DRF's parser, read faster.
    parser_classes = [FastJSONParser]
    required_scope = ServiceCredential.Scope.EVALUATE

    @staticmethod
    def body(request: Request) -> dict[str, Any]:
        if not isinstance(request.data, dict):
            raise ValidationFailed("The body must be a JSON object.", code="invalid_request")
        return request.data


class EvaluationApi(_DecisionApi):
    @extend_schema(
        operation_id="access_evaluation",
        tags=TAGS,
        request=inline_serializer(
            "EvaluationRequest",
            {
                "subject": inline_serializer("Subject", _entity()),
                "action": inline_serializer("Action", {"name": _name(), "properties": serializers.DictField(required=False, allow_null=True)}),
                "resource": inline_serializer("Resource", _entity(RESOURCE_PROPERTIES)),
                "context": serializers.DictField(required=False, help_text="e.g. purpose, time (RFC 3339)"),
            },
        ),
        responses={
            200: inline_serializer(
                "EvaluationResponse",
                {
                    "decision": serializers.BooleanField(),
                    "context": inline_serializer(
                        "EvaluationContext",
                        {
                            "decision_id": serializers.CharField(),
                            "reason_codes": serializers.ListField(child=serializers.CharField()),
                            "obligations": serializers.DictField(),
                            "policy_revision": serializers.CharField(),
                        },
                    ),
                },
            ),
            **error_responses(400, 403, 413, 415),
        },
    )  # fmt: skip
    def post(self, request: Request) -> Response:
        return Response(_answer(decision_evaluate(caller=request.user, request=self.body(request))))


_PARTS = ("subject", "action", "resource", "context")


class EvaluationsApi(_DecisionApi):
    """Batch: top-level subject/action/resource/context are defaults each item may override."""

    @extend_schema(
        operation_id="access_evaluations",
        tags=TAGS,
        request=inline_serializer(
            "EvaluationsRequest",
            {
                "subject": serializers.DictField(required=False),
                "action": serializers.DictField(required=False),
                "resource": serializers.DictField(
                    required=False,
                    help_text="The resource of each evaluation that names none. "
                    + RESOURCE_PROPERTIES,
                ),
                "context": serializers.DictField(required=False),
                "evaluations": serializers.ListField(child=serializers.DictField(), required=False),
                "options": inline_serializer(
                    "EvaluationsOptions",
                    {
                        "evaluations_semantic": serializers.ChoiceField(
                            choices=SEMANTICS, required=False
                        )
                    },
                    required=False,
                ),
            },
        ),
        responses={
            200: inline_serializer(
                "EvaluationsResponse",
                {"evaluations": serializers.ListField(child=serializers.DictField())},
            ),
            **error_responses(400, 403, 413, 415),
        },
    )
    def post(self, request: Request) -> Response:
        body = self.body(request)
        items = body.get("evaluations")
        options = body.get("options") or {}
        if not isinstance(options, dict) or (items is not None and not isinstance(items, list)):
            raise ValidationFailed(
                "`evaluations` must be a list and `options` an object.", code="invalid_request"
            )
        defaults = {k: body[k] for k in _PARTS if k in body}
        if not items:  # AuthZEN: no list means one evaluation, answered like /evaluation
            return Response(_answer(decision_evaluate(caller=request.user, request=defaults)))
        if not all(isinstance(item, dict) for item in items):
            raise ValidationFailed("Each evaluation must be an object.", code="invalid_request")
        merged = [{**defaults, **{k: item[k] for k in _PARTS if k in item}} for item in items]
        decisions = decision_evaluate_many(
            caller=request.user,
            requests=merged,
            semantic=options.get("evaluations_semantic", "execute_all"),
        )
        return Response({"evaluations": [_answer(d) for d in decisions]})


class ConfigurationApi(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="authzen_configuration",
        tags=TAGS,
        responses={
            200: inline_serializer(
                "AuthzenConfiguration",
                {
                    "policy_decision_point": serializers.URLField(),
                    "access_evaluation_endpoint": serializers.URLField(),
                    "access_evaluations_endpoint": serializers.URLField(),
                },
            )
        },
    )
    def get(self, request: Request) -> Response:
        base = request.build_absolute_uri("/").rstrip("/")
        return Response(
            {
                "policy_decision_point": base,
                "access_evaluation_endpoint": base + reverse("access-evaluation"),
                "access_evaluations_endpoint": base + reverse("access-evaluations"),
            }
        )


class _FirstRenderer(BaseContentNegotiation):
    """Ignore ``Accept``: the endpoint answers a tarball (or a JSON error) whatever is asked."""

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        first = next(iter(renderers))
        return first, first.media_type


class BundleDownloadApi(APIView):
    """An OPA bundle (policy + governance snapshot) for edge agents; ``If-None-Match`` → 304.

    Needs a service credential with ``bundles:read``."""

    authentication_classes = [BearerCredentialAuthentication]
    permission_classes = [HasScope]
    required_scope = ServiceCredential.Scope.BUNDLES
    content_negotiation_class = _FirstRenderer

    @extend_schema(
        operation_id="bundle_download",
        tags=TAGS,
        responses={
            (200, "application/gzip"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The bundle; `ETag` is its quoted revision."
            ),
            304: OpenApiResponse(description="`If-None-Match` names the current revision."),
            **error_responses(403, 404),
        },
    )
    def get(self, request: Request, name: str) -> HttpResponseBase:
        bundle = bundle_get(name=name)
        response = HttpResponse(bundle.body, content_type="application/gzip")
        response["ETag"] = bundle.etag
        response["Cache-Control"] = "no-cache"  # revalidate every time: the ETag makes it cheap
        conditional = get_conditional_response(
            request._request, etag=bundle.etag, response=response
        )
        return conditional or response


# An OPA decision-log event as far as the upload reads it (OPA sends more: metrics, ...).
DECISION_EVENT = {
    "type": "object",
    "required": ["decision_id"],
    "properties": {
        "decision_id": {
            "type": "string",
            "minLength": 1,
            "maxLength": 128,
            "pattern": "^[^\\u0000]+$",
        },
        "path": {"type": "string"},
        "timestamp": {"type": "string", "description": "RFC 3339"},
        "input": {"description": "the request decided (digested, not stored)"},
        "result": {"description": "the decision: a `decision` object, or a boolean"},
        "error": {"description": "present when OPA failed to decide (recorded as a deny)"},
        "bundles": {"type": "object", "description": 'e.g. {"steward": {"revision": ...}}'},
        "labels": {"type": "object", "description": "the agent's labels; `id` is recorded"},
    },
    "additionalProperties": True,
}


class DecisionLogUploadApi(APIView):
    """OPA decision-log uploads (a JSON array of decision events, gzip or plain) into the audit
    log. Needs a service credential with ``decisions:log``; 204 when every event is recorded."""

    authentication_classes = [BearerCredentialAuthentication]
    permission_classes = [HasScope]
    required_scope = ServiceCredential.Scope.LOG

    @extend_schema(
        operation_id="decision_log_upload",
        tags=TAGS,
        request={"application/json": {"type": "array", "items": DECISION_EVENT}},
        responses={204: None, **error_responses(400, 403, 413, 415)},
    )
    def post(self, request: Request) -> Response:
        decision_log_ingest(
            caller=request.user,
            body=request.body,
            content_encoding=request.headers.get("Content-Encoding", ""),
        )
        return Response(status=204)
