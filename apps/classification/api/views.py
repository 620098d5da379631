"""REST API for the classification taxonomy: sensitivity levels, data categories, tags.

Everything is referenced by its stable key. Reading is open to any signed-in person;
creating needs ``MANAGE_TAXONOMY`` (levels, categories) or ``MANAGE_TAGS`` (tags), which the
services check.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.classification import selectors, services
from apps.core.api.schema import (
    PAGE_PARAMETERS,
    ApiSerializer,
    error_responses,
    paginated,
    paginated_response,
)


def _key_field() -> serializers.CharField:
    return serializers.CharField(
        max_length=63, help_text="Stable key: lowercase letters, digits, '-', '_'."
    )


class SensitivityLevelOutputSerializer(ApiSerializer):
    key = serializers.CharField()
    name = serializers.CharField()
    rank = serializers.IntegerField(help_text="Higher is more sensitive.")
    description = serializers.CharField()
    color = serializers.CharField()


class CategoryOutputSerializer(ApiSerializer):
    key = serializers.CharField()
    name = serializers.CharField()
    # Declared fields leave the class body (metaclass); the stubs see Field.parent.
    parent = serializers.CharField(  # type: ignore[assignment]
        source="parent.key", read_only=True, allow_null=True
    )
    description = serializers.CharField()
    default_sensitivity = serializers.CharField(
        source="default_sensitivity.key", read_only=True, allow_null=True
    )


class TagOutputSerializer(ApiSerializer):
    key = serializers.CharField()
    description = serializers.CharField()


class SensitivityLevelListApi(APIView):
    @extend_schema(
        operation_id="sensitivity_levels_list",
        tags=["classification"],
        parameters=PAGE_PARAMETERS,
        responses={200: paginated(SensitivityLevelOutputSerializer), **error_responses()},
    )
    def get(self, request: Request) -> Response:
        return paginated_response(
            request=request,
            view=self,
            queryset=selectors.sensitivity_level_list(actor=request.user),
            serializer_class=SensitivityLevelOutputSerializer,
        )


class SensitivityLevelCreateApi(APIView):
    class InputSerializer(ApiSerializer):
        key = _key_field()
        name = serializers.CharField(max_length=100)
        rank = serializers.IntegerField(min_value=0, max_value=32767)
        description = serializers.CharField(required=False, allow_blank=True, default="")
        color = serializers.RegexField(r"^#[0-9a-fA-F]{6}$", required=False, default="#6b7280")

    @extend_schema(
        operation_id="sensitivity_levels_create",
        tags=["classification"],
        request=InputSerializer,
        responses={
            201: SensitivityLevelOutputSerializer,
            **error_responses(400, 403, 409, 413),
        },
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        level = services.sensitivity_level_create(actor=request.user, **serializer.validated_data)
        return Response(
            SensitivityLevelOutputSerializer(level).data, status=status.HTTP_201_CREATED
        )


class CategoryListApi(APIView):
    @extend_schema(
        operation_id="categories_list",
        tags=["classification"],
        parameters=PAGE_PARAMETERS,
        responses={200: paginated(CategoryOutputSerializer), **error_responses()},
    )
    def get(self, request: Request) -> Response:
        return paginated_response(
            request=request,
            view=self,
            queryset=selectors.category_list(actor=request.user),
            serializer_class=CategoryOutputSerializer,
        )


class CategoryCreateApi(APIView):
    class InputSerializer(ApiSerializer):
        key = _key_field()
        name = serializers.CharField(max_length=100)
        parent = serializers.CharField(  # type: ignore[assignment]  # see CategoryOutput.parent
            required=False, allow_null=True, help_text="Key of the parent category."
        )
        description = serializers.CharField(required=False, allow_blank=True, default="")
        default_sensitivity = serializers.CharField(
            required=False, allow_null=True, help_text="Key of a sensitivity level."
        )

    @extend_schema(
        operation_id="categories_create",
        tags=["classification"],
        request=InputSerializer,
        responses={201: CategoryOutputSerializer, **error_responses(400, 403, 409, 413)},
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        category = services.category_create(actor=request.user, **serializer.validated_data)
        return Response(CategoryOutputSerializer(category).data, status=status.HTTP_201_CREATED)


class TagListApi(APIView):
    class FilterSerializer(ApiSerializer):
        reject_unknown_fields = False
        q = serializers.CharField(
            required=False, allow_blank=True, default="", help_text="Part of the key."
        )

    @extend_schema(
        operation_id="tags_list",
        tags=["classification"],
        parameters=[FilterSerializer, *PAGE_PARAMETERS],
        responses={200: paginated(TagOutputSerializer), **error_responses(400)},
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        return paginated_response(
            request=request,
            view=self,
            queryset=selectors.tag_list(actor=request.user, **filters.validated_data),
            serializer_class=TagOutputSerializer,
        )


class TagCreateApi(APIView):
    class InputSerializer(ApiSerializer):
        key = _key_field()
        description = serializers.CharField(
            required=False, allow_blank=True, default="", max_length=400
        )

    @extend_schema(
        operation_id="tags_create",
        tags=["classification"],
        request=InputSerializer,
        responses={201: TagOutputSerializer, **error_responses(400, 403, 409, 413)},
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tag = services.tag_create(actor=request.user, **serializer.validated_data)
        return Response(TagOutputSerializer(tag).data, status=status.HTTP_201_CREATED)
