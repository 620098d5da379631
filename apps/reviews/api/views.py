"""REST API for access reviews: campaigns (start, list, progress), items, bulk verdicts,
schedules. Thin: validate, call one service or selector, serialize."""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.schema import (
    PAGE_PARAMETERS,
    ApiSerializer,
    error_responses,
    paginated,
    paginated_response,
)
from apps.core.errors import NotFound, ValidationFailed
from apps.reviews import selectors, services
from apps.reviews.models import NonResponse, ReviewItem, ReviewSchedule

TAGS = ["reviews"]


class ProgressSerializer(ApiSerializer):
    total = serializers.IntegerField()
    done = serializers.IntegerField()
    pending = serializers.IntegerField()
    certified = serializers.IntegerField()
    revoked = serializers.IntegerField()
    flagged = serializers.IntegerField()


class CampaignSerializer(ApiSerializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    status = serializers.CharField()
    scope = serializers.CharField(source="scope_label")
    include_grants = serializers.BooleanField()
    include_bindings = serializers.BooleanField()
    non_response = serializers.CharField()
    created_at = serializers.DateTimeField()
    opened_at = serializers.DateTimeField(allow_null=True)
    due_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
    progress = serializers.SerializerMethodField()

    def get_progress(self, obj: Any) -> ProgressSerializer:
        counts = self.context.get("progress", {}).get(obj.pk)
        if counts is None:
            counts = selectors.progress([obj])[obj.pk]
        return counts  # type: ignore[no-any-return]


class ItemSerializer(ApiSerializer):
    id = serializers.IntegerField()
    campaign_id = serializers.IntegerField()
    kind = serializers.CharField()
    principal = serializers.CharField()
    access = serializers.CharField(source="access_label")
    dataset = serializers.CharField(source="dataset_fqn")
    sensitivity = serializers.CharField()
    reviewer = serializers.SerializerMethodField()
    if_no_response = serializers.CharField(source="on_no_response")
    outcome = serializers.CharField()
    decided_by = serializers.SerializerMethodField()
    decided_at = serializers.DateTimeField(allow_null=True)
    note = serializers.CharField()

    def get_reviewer(self, obj: ReviewItem) -> str | None:
        if obj.reviewer_group_id:
            return f"group:{obj.reviewer_group.name}"  # type: ignore[union-attr]
        return obj.reviewer.get_username() if obj.reviewer else None

    def get_decided_by(self, obj: ReviewItem) -> str | None:
        return obj.decided_by.get_username() if obj.decided_by else None


class ScopeInput(ApiSerializer):
    name = serializers.CharField(max_length=services.NAME_MAX)
    min_sensitivity = serializers.CharField(required=False, allow_null=True, max_length=63)
    source = serializers.CharField(required=False, allow_null=True, max_length=63)  # type: ignore[assignment]
    team = serializers.CharField(required=False, allow_null=True, max_length=150)
    include_grants = serializers.BooleanField(required=False, default=True)
    include_bindings = serializers.BooleanField(required=False, default=True)
    non_response = serializers.ChoiceField(
        choices=NonResponse.choices, required=False, default=NonResponse.AUTO
    )
    fallback_reviewer = serializers.CharField(required=False, allow_null=True, max_length=150)
    duration_days = serializers.IntegerField(
        required=False, default=14, min_value=1, max_value=services.DURATION_DAYS_MAX
    )


class CampaignsApi(APIView):
    class InputSerializer(ScopeInput):
        pass

    @extend_schema(
        operation_id="reviews_campaigns_list",
        tags=TAGS,
        parameters=PAGE_PARAMETERS,
        responses={200: paginated(CampaignSerializer)},
    )
    def get(self, request: Request) -> Response:
        return paginated_response(
            request=request,
            view=self,
            queryset=selectors.campaign_list(actor=request.user),
            serializer_class=CampaignSerializer,
            context_for=lambda page: {"progress": selectors.progress(list(page))},
        )

    @extend_schema(
        operation_id="reviews_campaigns_start",
        tags=TAGS,
        request=InputSerializer,
        responses={201: CampaignSerializer, **error_responses(400, 403)},
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        campaign = services.campaign_start(actor=request.user, **serializer.validated_data)
        return Response(CampaignSerializer(campaign).data, status=status.HTTP_201_CREATED)


class CampaignApi(APIView):
    @extend_schema(
        operation_id="reviews_campaigns_retrieve",
        tags=TAGS,
        responses={200: CampaignSerializer, **error_responses(404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        campaign = selectors.campaign_get(actor=request.user, pk=pk)
        return Response(CampaignSerializer(campaign).data)


class ItemsApi(APIView):
    @extend_schema(
        operation_id="reviews_items_list",
        tags=TAGS,
        parameters=[
            OpenApiParameter(
                "campaign",
                OpenApiTypes.INT,
                description="A campaign's items (those you may see); without it, your open items.",
            ),
            OpenApiParameter("outcome", OpenApiTypes.STR, enum=selectors.OUTCOMES),
            *PAGE_PARAMETERS,
        ],
        responses={200: paginated(ItemSerializer), **error_responses(400, 404)},
    )
    def get(self, request: Request) -> Response:
        outcome = request.query_params.get("outcome") or None
        if outcome is not None and outcome not in selectors.OUTCOMES:
            raise ValidationFailed(
                f"outcome is one of {', '.join(selectors.OUTCOMES)}.", code="invalid_outcome"
            )
        campaign_id = request.query_params.get("campaign")
        if campaign_id:
            if not campaign_id.isdigit():
                raise ValidationFailed("campaign is a campaign id.", code="invalid_campaign")
            campaign = selectors.campaign_get(actor=request.user, pk=int(campaign_id))
            items = selectors.campaign_items(actor=request.user, campaign=campaign, outcome=outcome)
        else:
            items = selectors.items_to_review(actor=request.user)
            if outcome:
                items = items.filter(outcome=outcome)
        return paginated_response(
            request=request,
            view=self,
            queryset=items.select_related("reviewer", "reviewer_group", "decided_by"),
            serializer_class=ItemSerializer,
        )


class ItemsDecisionApi(APIView):
    class InputSerializer(ApiSerializer):
        items = serializers.ListField(
            child=serializers.IntegerField(min_value=1),
            min_length=1,
            max_length=services.BULK_MAX,
        )
        verdict = serializers.ChoiceField(choices=ReviewItem.Verdict.choices)
        note = serializers.CharField(required=False, allow_blank=True, max_length=services.NOTE_MAX)

    @extend_schema(
        operation_id="reviews_items_decide",
        tags=TAGS,
        request=InputSerializer,
        responses={200: ItemSerializer(many=True), **error_responses(400, 403, 404, 409)},
        description="Certify or revoke items, all of them or (on any refusal) none.",
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        items = services.items_decide(
            actor=request.user,
            item_ids=data["items"],
            verdict=data["verdict"],
            note=data.get("note", ""),
        )
        return Response(ItemSerializer(items, many=True).data)


class ScheduleSerializer(ApiSerializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    crontab = serializers.CharField()
    scope = serializers.CharField(source="scope_label")
    non_response = serializers.CharField()
    duration_days = serializers.IntegerField()


class SchedulesApi(APIView):
    class InputSerializer(ScopeInput):
        crontab = serializers.CharField(
            max_length=100, help_text="monthly, quarterly, yearly or five crontab fields (UTC)"
        )

    @extend_schema(
        operation_id="reviews_schedules_list",
        tags=TAGS,
        parameters=PAGE_PARAMETERS,
        responses={200: paginated(ScheduleSerializer), **error_responses(403)},
    )
    def get(self, request: Request) -> Response:
        services.require_manager(request.user)
        return paginated_response(
            request=request,
            view=self,
            queryset=selectors.schedule_list(),
            serializer_class=ScheduleSerializer,
        )

    @extend_schema(
        operation_id="reviews_schedules_create",
        tags=TAGS,
        request=InputSerializer,
        responses={201: ScheduleSerializer, **error_responses(400, 403, 409)},
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        schedule = services.review_schedule_create(actor=request.user, **serializer.validated_data)
        return Response(ScheduleSerializer(schedule).data, status=status.HTTP_201_CREATED)


class ScheduleApi(APIView):
    @extend_schema(
        operation_id="reviews_schedules_delete",
        tags=TAGS,
        responses={204: None, **error_responses(403, 404)},
    )
    def delete(self, request: Request, pk: int) -> Response:
        services.require_manager(request.user)
        schedule = ReviewSchedule.objects.filter(pk=pk).first()
        if schedule is None:
            raise NotFound("No such review schedule.")
        services.review_schedule_delete(actor=request.user, schedule=schedule)
        return Response(status=status.HTTP_204_NO_CONTENT)
