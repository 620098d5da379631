"""REST API for access: requests and approvals, grants, break-glass, roles and role bindings.

Like the catalog API: each operation validates strictly, resolves what it names (unknown or
invisible objects are 404, unknown keys in a body 400 with a stable code), calls one service,
and serializes.
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.access import permissions, selectors, services
from apps.access.models import (
    AccessLevel,
    AccessRequest,
    Approval,
    BreakGlassReview,
    Role,
    RoleBinding,
)
from apps.catalog.models import Dataset, DataSource
from apps.catalog.services import usage
from apps.core.api.schema import (
    PAGE_PARAMETERS,
    ApiSerializer,
    error_responses,
    paginated,
    paginated_response,
)
from apps.core.errors import NotFound, PermissionDenied, ValidationFailed
from apps.decisions.models import ServiceCredential

TAGS = ["access"]


class ApprovalSerializer(ApiSerializer):
    approver = serializers.CharField(source="approver.username")
    verdict = serializers.CharField()
    note = serializers.CharField()
    created_at = serializers.DateTimeField()


def _rows_field(more: str) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.CharField(max_length=usage.MAX_VALUE_CHARS),
        required=False,
        max_length=usage.MAX_VALUES,
        help_text="On a dataset with a row filter: values of its filter column whose rows you "
        f"need, {more}",
    )


class AccessRequestSerializer(ApiSerializer):
    id = serializers.IntegerField()
    requester = serializers.CharField(source="requester.username")
    dataset = serializers.CharField(source="dataset.fqn")
    columns = serializers.ListField(child=serializers.CharField())
    rows = serializers.ListField(
        child=serializers.CharField(), help_text="Row filter values asked for (none: [])."
    )
    access = serializers.CharField()
    purpose = serializers.CharField()
    duration_seconds = serializers.IntegerField()
    status = serializers.CharField()
    approvals_required = serializers.IntegerField()
    policy_reasons = serializers.ListField(child=serializers.CharField())
    created_at = serializers.DateTimeField()
    respond_by = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    approvals = ApprovalSerializer(many=True, source="approvals.all")
    grant_id = serializers.SerializerMethodField()

    def get_grant_id(self, obj: AccessRequest) -> int | None:
        # (querysets select_related("grant"); a request without one has no grant attribute)
        grant = getattr(obj, "grant", None)
        return grant.pk if grant is not None else None


class GrantSerializer(ApiSerializer):
    id = serializers.IntegerField()
    user = serializers.CharField(source="user.username")
    dataset = serializers.CharField(source="dataset.fqn")
    columns = serializers.ListField(child=serializers.CharField())
    rows = serializers.ListField(
        child=serializers.CharField(), help_text="Row filter values whose rows it adds."
    )
    access = serializers.CharField()
    purpose = serializers.CharField()
    origin = serializers.CharField()
    request_id = serializers.IntegerField(allow_null=True)
    starts_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)


class BreakGlassFollowUpSerializer(ApiSerializer):
    """The follow-up review a break-glass grant opens (without the grant)."""

    id = serializers.IntegerField()
    justification = serializers.CharField()
    due_at = serializers.DateTimeField(help_text="Escalated to ADMINS if not reviewed by then.")
    escalated_at = serializers.DateTimeField(allow_null=True)
    outcome = serializers.CharField(
        allow_null=True, help_text="justified or unjustified; null until reviewed."
    )
    note = serializers.CharField()
    reviewed_at = serializers.DateTimeField(allow_null=True)
    reviewed_by = serializers.CharField(source="reviewed_by.username", allow_null=True)

    def to_representation(self, instance: BreakGlassReview) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["outcome"] = data["outcome"] or None
        return data


class BreakGlassReviewSerializer(BreakGlassFollowUpSerializer):
    """A break-glass use to review: the follow-up and the grant it is about."""

    grant = GrantSerializer()


class RoleSerializer(ApiSerializer):
    key = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    permissions = serializers.ListField(child=serializers.CharField())
    builtin = serializers.BooleanField()


class RoleBindingSerializer(ApiSerializer):
    id = serializers.IntegerField()
    role = serializers.CharField(source="role.key")
    principal = serializers.CharField(source="principal_id")
    scope = serializers.CharField(source="scope_label")
    created_at = serializers.DateTimeField()


def _dataset(fqn: str) -> Dataset:
    dataset = (
        Dataset.objects.select_related("effective_sensitivity")
        .filter(fqn=fqn, removed_at__isnull=True)
        .first()
    )
    if dataset is None:
        raise NotFound(f"No dataset {fqn!r} in the catalog.", code="unknown_dataset")
    return dataset


def _one(model: Any, label: str, **lookup: Any) -> Any:
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        value = next(iter(lookup.values()))
        raise ValidationFailed(f"Unknown {label} {value!r}.", code=f"unknown_{label}")
    return obj


# ---------------------------------------------------------------------------------------------
# Requests


class AccessRequestsApi(APIView):
    class InputSerializer(ApiSerializer):
        dataset = serializers.CharField(max_length=800, help_text="The dataset's FQN.")
        access = serializers.CharField(max_length=10, help_text="read, write or export")
        purpose = serializers.CharField(max_length=services.PURPOSE_MAX)
        duration_seconds = serializers.IntegerField(min_value=1, max_value=10 * 365 * 86400)
        columns = serializers.ListField(
            child=serializers.CharField(max_length=255), required=False, max_length=1000
        )
        rows = _rows_field("beyond those its rules give you.")

    @extend_schema(
        operation_id="access_requests_list",
        tags=TAGS,
        parameters=[
            OpenApiParameter(
                "box",
                OpenApiTypes.STR,
                enum=["mine", "inbox"],
                description="mine (default): your requests; inbox: pending ones you may decide",
            ),
            *PAGE_PARAMETERS,
        ],
        responses={200: paginated(AccessRequestSerializer), **error_responses(400)},
    )
    def get(self, request: Request) -> Response:
        box = request.query_params.get("box", "mine")
        if box not in ("mine", "inbox"):
            raise ValidationFailed("box is one of mine, inbox.", code="invalid_box")
        queryset = (
            selectors.request_inbox(actor=request.user)
            if box == "inbox"
            else selectors.request_mine(actor=request.user)
        ).prefetch_related("approvals__approver")
        return paginated_response(
            request=request,
            view=self,
            queryset=queryset,
            serializer_class=AccessRequestSerializer,
        )

    @extend_schema(
        operation_id="access_requests_create",
        tags=TAGS,
        request=InputSerializer,
        responses={201: AccessRequestSerializer, **error_responses(400, 403, 404, 409, 413)},
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        req = services.access_request_create(
            actor=request.user,
            dataset=_dataset(data["dataset"]),
            access=data["access"],
            purpose=data["purpose"],
            duration_seconds=data["duration_seconds"],
            columns=data.get("columns", []),
            rows=data.get("rows", []),
        )
        return Response(AccessRequestSerializer(req).data, status=status.HTTP_201_CREATED)


class AccessRequestApi(APIView):
    @extend_schema(
        operation_id="access_requests_retrieve",
        tags=TAGS,
        responses={200: AccessRequestSerializer, **error_responses(404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        req = selectors.request_get(actor=request.user, pk=pk)
        return Response(AccessRequestSerializer(req).data)


class AccessRequestDecisionApi(APIView):
    class InputSerializer(ApiSerializer):
        verdict = serializers.ChoiceField(choices=Approval.Verdict.choices)
        note = serializers.CharField(required=False, allow_blank=True, max_length=services.NOTE_MAX)

    @extend_schema(
        operation_id="access_requests_decide",
        tags=TAGS,
        request=InputSerializer,
        responses={200: AccessRequestSerializer, **error_responses(400, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        req = selectors.request_get(actor=request.user, pk=pk)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        req = services.access_request_decide(
            actor=request.user,
            request=req,
            verdict=serializer.validated_data["verdict"],
            note=serializer.validated_data.get("note", ""),
        )
        return Response(AccessRequestSerializer(req).data)


class AccessRequestCancelApi(APIView):
    @extend_schema(
        operation_id="access_requests_cancel",
        tags=TAGS,
        request=None,
        responses={200: AccessRequestSerializer, **error_responses(404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        req = selectors.request_get(actor=request.user, pk=pk)
        req = services.access_request_cancel(actor=request.user, request=req)
        return Response(AccessRequestSerializer(req).data)


# ---------------------------------------------------------------------------------------------
# Grants


class GrantsApi(APIView):
    @extend_schema(
        operation_id="access_grants_list",
        tags=TAGS,
        parameters=[
            OpenApiParameter(
                "all", OpenApiTypes.BOOL, description="Include revoked and expired grants."
            ),
            *PAGE_PARAMETERS,
        ],
        responses={200: paginated(GrantSerializer)},
    )
    def get(self, request: Request) -> Response:
        active_only = request.query_params.get("all", "").lower() not in ("1", "true", "yes")
        return paginated_response(
            request=request,
            view=self,
            queryset=selectors.grant_list(actor=request.user, active_only=active_only),
            serializer_class=GrantSerializer,
        )


class GrantRevokeApi(APIView):
    class InputSerializer(ApiSerializer):
        reason = serializers.CharField(
            required=False, allow_blank=True, max_length=services.NOTE_MAX
        )

    @extend_schema(
        operation_id="access_grants_revoke",
        tags=TAGS,
        request=InputSerializer,
        responses={200: GrantSerializer, **error_responses(400, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        grant = selectors.grant_get(actor=request.user, pk=pk)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        grant = services.grant_revoke(
            actor=request.user, grant=grant, reason=serializer.validated_data.get("reason", "")
        )
        return Response(GrantSerializer(grant).data)


# ---------------------------------------------------------------------------------------------
# Break-glass


class BreakGlassOpenApi(APIView):
    class InputSerializer(ApiSerializer):
        dataset = serializers.CharField(max_length=800, help_text="The dataset's FQN.")
        access = serializers.ChoiceField(choices=AccessLevel.choices)
        duration_seconds = serializers.IntegerField(
            min_value=1, help_text="At most BREAK_GLASS_MAX_HOURS (4 h by default)."
        )
        justification = serializers.CharField(
            help_text=f"Why this is an emergency, at least {services.JUSTIFICATION_MIN} characters."
        )
        rows = _rows_field("(emergency access is filtered like any grant).")

    class OutputSerializer(ApiSerializer):
        grant = GrantSerializer(source="*")
        review = BreakGlassFollowUpSerializer(source="follow_up")

    @extend_schema(
        operation_id="access_break_glass_open",
        tags=TAGS,
        description="Emergency access for a holder of the break-glass role (`access.break_glass`"
        " in the dataset's scope): granted at once, owners alerted, and a follow-up review "
        "opened that someone else must complete. No break-glass role: 403 `permission_denied`.",
        request=InputSerializer,
        responses={201: OutputSerializer, **error_responses(400, 403, 404)},
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        grant = services.break_glass_open(
            actor=request.user,
            dataset=_dataset(data["dataset"]),
            access=data["access"],
            duration_seconds=data["duration_seconds"],
            justification=data["justification"],
            rows=data.get("rows", []),
        )
        return Response(self.OutputSerializer(grant).data, status=status.HTTP_201_CREATED)


class BreakGlassReviewsApi(APIView):
    @extend_schema(
        operation_id="access_break_glass_reviews_list",
        tags=TAGS,
        description="Unreviewed break-glass use the caller may review (owners, stewards and "
        "revokers of the dataset; never their own), soonest due first.",
        parameters=PAGE_PARAMETERS,
        responses={200: paginated(BreakGlassReviewSerializer), **error_responses()},
    )
    def get(self, request: Request) -> Response:
        return paginated_response(
            request=request,
            view=self,
            queryset=selectors.break_glass_open_reviews(actor=request.user),
            serializer_class=BreakGlassReviewSerializer,
        )


class BreakGlassReviewApi(APIView):
    class InputSerializer(ApiSerializer):
        outcome = serializers.ChoiceField(choices=BreakGlassReview.Outcome.choices)
        note = serializers.CharField(required=False, allow_blank=True, max_length=services.NOTE_MAX)

    @extend_schema(
        operation_id="access_break_glass_review",
        tags=TAGS,
        description="Say whether a break-glass use was justified; `unjustified` also ends the "
        "grant if it is still running. Your own use: 403 `self_approval`; not an owner, steward "
        "or revoker of the dataset: 403 `not_a_reviewer`; already reviewed: 409 "
        "`already_reviewed`.",
        request=InputSerializer,
        responses={200: BreakGlassReviewSerializer, **error_responses(400, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        review = selectors.break_glass_review_get(actor=request.user, pk=pk)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        review = services.break_glass_review(
            actor=request.user,
            review=review,
            outcome=serializer.validated_data["outcome"],
            note=serializer.validated_data.get("note", ""),
        )
        return Response(BreakGlassReviewSerializer(review).data)


# ---------------------------------------------------------------------------------------------
# Roles and bindings


def _require_manager(request: Request) -> None:
    if not services.has_permission(request.user, permissions.ROLES_MANAGE):
        raise PermissionDenied("Managing roles needs the roles.manage permission.")


class RolesApi(APIView):
    class InputSerializer(ApiSerializer):
        key = serializers.CharField(max_length=63)
        name = serializers.CharField(max_length=100)
        description = serializers.CharField(required=False, allow_blank=True)
        permissions = serializers.ListField(child=serializers.CharField(max_length=63))

    @extend_schema(
        operation_id="access_roles_list",
        tags=TAGS,
        parameters=PAGE_PARAMETERS,
        responses={200: paginated(RoleSerializer), **error_responses(403)},
    )
    def get(self, request: Request) -> Response:
        _require_manager(request)
        return paginated_response(
            request=request, view=self, queryset=Role.objects.all(), serializer_class=RoleSerializer
        )

    @extend_schema(
        operation_id="access_roles_create",
        tags=TAGS,
        request=InputSerializer,
        responses={201: RoleSerializer, **error_responses(400, 403, 409)},
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        role = services.role_create(
            actor=request.user,
            key=data["key"],
            name=data["name"],
            description=data.get("description", ""),
            permissions_=data["permissions"],
        )
        return Response(RoleSerializer(role).data, status=status.HTTP_201_CREATED)


class RoleBindingsApi(APIView):
    class InputSerializer(ApiSerializer):
        role = serializers.CharField(max_length=63)
        user = serializers.CharField(required=False, max_length=150)
        group = serializers.CharField(required=False, max_length=150)
        credential = serializers.CharField(required=False, max_length=100)
        source = serializers.CharField(required=False, max_length=63)  # type: ignore[assignment]
        dataset = serializers.CharField(required=False, max_length=800)

    @extend_schema(
        operation_id="access_bindings_list",
        tags=TAGS,
        parameters=PAGE_PARAMETERS,
        responses={200: paginated(RoleBindingSerializer), **error_responses(403)},
    )
    def get(self, request: Request) -> Response:
        _require_manager(request)
        queryset = RoleBinding.objects.select_related(
            "role", "user", "group", "credential", "source", "dataset"
        )
        return paginated_response(
            request=request, view=self, queryset=queryset, serializer_class=RoleBindingSerializer
        )

    @extend_schema(
        operation_id="access_bindings_create",
        tags=TAGS,
        request=InputSerializer,
        responses={201: RoleBindingSerializer, **error_responses(400, 403, 409)},
    )
    def post(self, request: Request) -> Response:
        _require_manager(request)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user_model = get_user_model()
        binding = services.role_binding_create(
            actor=request.user,
            role=_one(Role, "role", key=data["role"]),
            user=_one(user_model, "user", username=data["user"]) if "user" in data else None,
            group=_one(Group, "group", name=data["group"]) if "group" in data else None,
            credential=_one(ServiceCredential, "credential", name=data["credential"])
            if "credential" in data
            else None,
            source=_one(DataSource, "source", name=data["source"]) if "source" in data else None,
            dataset=_one(Dataset, "dataset", fqn=data["dataset"], removed_at__isnull=True)
            if "dataset" in data
            else None,
        )
        return Response(RoleBindingSerializer(binding).data, status=status.HTTP_201_CREATED)


class RoleBindingApi(APIView):
    @extend_schema(
        operation_id="access_bindings_destroy",
        tags=TAGS,
        responses={204: None, **error_responses(403, 404)},
    )
    def delete(self, request: Request, pk: int) -> Response:
        _require_manager(request)
        binding = RoleBinding.objects.filter(pk=pk).first()
        if binding is None:
            raise NotFound("No such role binding.")
        services.role_binding_delete(actor=request.user, binding=binding)
        return Response(status=status.HTTP_204_NO_CONTENT)
