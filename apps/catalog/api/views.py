"""REST API for the catalog: sources, datasets, columns, lineage, suggestions.

Each operation is one ``<Entity><Action>Api``: it validates input, resolves the objects it
names through actor-narrowed selectors (missing and forbidden are both 404), calls one service
(which checks the permission, writes, audits, and raises ``ApplicationError``s), and
serializes. Referenced access-controlled objects (datasets, columns, sources) answer 404 when
unknown; taxonomy keys answer 400 ``unknown_sensitivity`` / ``unknown_category`` / ``unknown_tag``.
"""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.catalog import selectors, services
from apps.catalog.api.serializers import (
    ColumnLineageEdgeOutputSerializer,
    ColumnListItemSerializer,
    ColumnOutputSerializer,
    DatasetDetailSerializer,
    DatasetListItemSerializer,
    DatasetRefSerializer,
    LineageEdgeOutputSerializer,
    RowFilterSerializer,
    SourceListItemSerializer,
    SourceOutputSerializer,
    SuggestionOutputSerializer,
)
from apps.catalog.models import ClassificationSuggestion, Dataset, DataSource
from apps.core.api.schema import (
    PAGE_PARAMETERS,
    ApiSerializer,
    error_responses,
    paginated,
    paginated_response,
)
from apps.core.errors import NotFound

CATALOG = ["catalog"]


def _nullable_text(**kwargs: Any) -> serializers.CharField:
    return serializers.CharField(required=False, allow_null=True, allow_blank=True, **kwargs)


@extend_schema_field(serializers.ListField(child=serializers.CharField()))
class _PurposesField(serializers.JSONField):
    """Any JSON: ``services.usage`` checks it whole, with codes a person can act on."""


@extend_schema_field(RowFilterSerializer(allow_null=True))
class _RowFilterField(serializers.JSONField):
    """Any JSON: ``services.usage`` checks it whole, with codes a person can act on."""


def _keys(help_text: str) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.CharField(max_length=63), required=False, help_text=help_text
    )


# ---------------------------------------------------------------------------------------------
# Sources


class SourceListApi(APIView):
    @extend_schema(
        operation_id="sources_list",
        tags=CATALOG,
        parameters=PAGE_PARAMETERS,
        responses={200: paginated(SourceListItemSerializer), **error_responses()},
    )
    def get(self, request: Request) -> Response:
        return paginated_response(
            request=request,
            view=self,
            queryset=selectors.source_list(actor=request.user),
            serializer_class=SourceListItemSerializer,
        )


class SourceCreateApi(APIView):
    class InputSerializer(ApiSerializer):
        name = serializers.CharField(max_length=63)
        kind = serializers.ChoiceField(choices=DataSource.Kind.choices)
        description = serializers.CharField(required=False, allow_blank=True)
        host = serializers.CharField(required=False, allow_blank=True, max_length=255)
        port = serializers.IntegerField(
            required=False, allow_null=True, min_value=1, max_value=65535
        )
        database = serializers.CharField(required=False, allow_blank=True, max_length=255)
        username = serializers.CharField(required=False, allow_blank=True, max_length=255)
        password = serializers.CharField(
            required=False,
            allow_blank=True,
            write_only=True,
            trim_whitespace=False,
            style={"input_type": "password"},
            help_text="Stored encrypted; never returned.",
        )

    @extend_schema(
        operation_id="sources_create",
        tags=CATALOG,
        request=InputSerializer,
        responses={201: SourceOutputSerializer, **error_responses(400, 403, 409, 413)},
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        source = services.source_create(actor=request.user, **serializer.validated_data)
        return Response(SourceOutputSerializer(source).data, status=status.HTTP_201_CREATED)


class SourceDetailApi(APIView):
    @extend_schema(
        operation_id="sources_retrieve",
        tags=CATALOG,
        responses={200: SourceOutputSerializer, **error_responses(404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        source = selectors.source_get(actor=request.user, pk=pk)
        return Response(SourceOutputSerializer(source).data)


class SourceUpdateApi(APIView):
    class InputSerializer(ApiSerializer):
        name = serializers.CharField(required=False, max_length=63)
        kind = serializers.ChoiceField(required=False, choices=DataSource.Kind.choices)
        description = serializers.CharField(required=False, allow_blank=True)
        host = serializers.CharField(required=False, allow_blank=True, max_length=255)
        port = serializers.IntegerField(
            required=False, allow_null=True, min_value=1, max_value=65535
        )
        database = serializers.CharField(required=False, allow_blank=True, max_length=255)
        username = serializers.CharField(required=False, allow_blank=True, max_length=255)
        password = serializers.CharField(
            required=False,
            allow_blank=True,
            write_only=True,
            trim_whitespace=False,
            style={"input_type": "password"},
            help_text='Absent: keep the stored password; "": clear it; otherwise replace it.',
        )

    @extend_schema(
        operation_id="sources_partial_update",
        tags=CATALOG,
        request=InputSerializer,
        responses={200: SourceOutputSerializer, **error_responses(400, 403, 404, 409, 413)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        source = selectors.source_get(actor=request.user, pk=pk)
        source = services.source_update(
            actor=request.user, source=source, **serializer.validated_data
        )
        return Response(SourceOutputSerializer(source).data)


# ---------------------------------------------------------------------------------------------
# Datasets


class DatasetListApi(APIView):
    class FilterSerializer(ApiSerializer):
        reject_unknown_fields = False  # the query string also carries page / page_size
        q = serializers.CharField(
            required=False, allow_blank=True, help_text="Part of the FQN or description."
        )
        source = serializers.CharField(  # type: ignore[assignment]  # a field, not Field.source
            required=False, allow_blank=True, help_text="Source name."
        )
        sensitivity = serializers.CharField(
            required=False, allow_blank=True, help_text="Effective sensitivity key."
        )
        category = serializers.CharField(
            required=False,
            allow_blank=True,
            help_text="Category key, on the dataset or any live column.",
        )
        owner = serializers.CharField(
            required=False, allow_blank=True, help_text="Username or group name (owner or steward)."
        )
        tag = serializers.CharField(required=False, allow_blank=True, help_text="Tag key.")
        unclassified = serializers.BooleanField(
            required=False, default=False, help_text="Only datasets with no sensitivity."
        )
        include_removed = serializers.BooleanField(
            required=False, default=False, help_text="Include datasets gone from the source."
        )

    @extend_schema(
        operation_id="datasets_list",
        tags=CATALOG,
        parameters=[FilterSerializer, *PAGE_PARAMETERS],
        responses={200: paginated(DatasetListItemSerializer), **error_responses(400)},
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        datasets = selectors.dataset_list(
            actor=request.user, filters=selectors.DatasetFilters(**filters.validated_data)
        )
        return paginated_response(
            request=request,
            view=self,
            queryset=datasets,
            serializer_class=DatasetListItemSerializer,
        )


class DatasetCreateApi(APIView):
    class InputSerializer(ApiSerializer):
        source = serializers.CharField(  # type: ignore[assignment]  # a field, not Field.source
            help_text="Name of the data source."
        )
        schema_name = serializers.CharField(max_length=255)
        table_name = serializers.CharField(max_length=255)
        kind = serializers.ChoiceField(
            choices=Dataset.Kind.choices, required=False, default=Dataset.Kind.TABLE
        )
        description = serializers.CharField(required=False, allow_blank=True, default="")
        owner = serializers.CharField(required=False, allow_null=True, help_text="Username.")
        steward = serializers.CharField(required=False, allow_null=True, help_text="Username.")

    @extend_schema(
        operation_id="datasets_create",
        tags=CATALOG,
        request=InputSerializer,
        responses={201: DatasetDetailSerializer, **error_responses(400, 403, 404, 409, 413)},
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        source = selectors.source_get_by_name(actor=request.user, name=data.pop("source"))
        dataset = services.dataset_create(actor=request.user, source=source, **data)
        return Response(DatasetDetailSerializer(dataset).data, status=status.HTTP_201_CREATED)


class DatasetDetailApi(APIView):
    @extend_schema(
        operation_id="datasets_retrieve",
        tags=CATALOG,
        responses={200: DatasetDetailSerializer, **error_responses(404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        dataset = selectors.dataset_get(actor=request.user, pk=pk)
        return Response(DatasetDetailSerializer(dataset).data)


class DatasetUpdateApi(APIView):
    class InputSerializer(ApiSerializer):
        description = _nullable_text()
        provenance = _nullable_text()
        kind = serializers.ChoiceField(choices=Dataset.Kind.choices, required=False)
        owner = _nullable_text(help_text="Username; null clears.")
        owner_group = _nullable_text(help_text="Group name; null clears.")
        steward = _nullable_text(help_text="Username; null clears.")
        steward_group = _nullable_text(help_text="Group name; null clears.")
        sensitivity = serializers.CharField(
            required=False, allow_null=True, help_text="Sensitivity key; null clears."
        )
        categories = _keys("Category keys (replaces the set).")
        tags = _keys("Tag keys (replaces the set).")
        purposes = _PurposesField(
            required=False,
            help_text="Purpose keys it may be read for (replaces the list; [] admits any).",
        )
        row_filter = _RowFilterField(
            required=False,
            allow_null=True,
            help_text='Which rows each principal sees: {"column": name, "rules": [{"group" | '
            '"user": name, "values": [text]}]}; null removes it. Owners and admins see all.',
        )

    @extend_schema(
        operation_id="datasets_partial_update",
        tags=CATALOG,
        request=InputSerializer,
        responses={200: DatasetDetailSerializer, **error_responses(400, 403, 404, 413)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        dataset = selectors.dataset_get(actor=request.user, pk=pk)
        dataset = services.dataset_update(
            actor=request.user, dataset=dataset, **serializer.validated_data
        )
        return Response(DatasetDetailSerializer(dataset).data)


class DatasetByFqnApi(APIView):
    @extend_schema(
        operation_id="datasets_by_fqn",
        tags=CATALOG,
        parameters=[
            OpenApiParameter("fqn", OpenApiTypes.STR, OpenApiParameter.PATH, description="FQN")
        ],
        responses={200: DatasetDetailSerializer, **error_responses(404)},
    )
    def get(self, request: Request, fqn: str) -> Response:
        dataset = selectors.dataset_get_by_fqn(actor=request.user, fqn=fqn)
        return Response(DatasetDetailSerializer(dataset).data)


class DatasetColumnListApi(APIView):
    class FilterSerializer(ApiSerializer):
        reject_unknown_fields = False
        include_removed = serializers.BooleanField(required=False, default=False)

    @extend_schema(
        operation_id="datasets_columns_list",
        tags=CATALOG,
        parameters=[FilterSerializer, *PAGE_PARAMETERS],
        responses={200: paginated(ColumnListItemSerializer), **error_responses(400, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        dataset = selectors.dataset_get(actor=request.user, pk=pk)
        return paginated_response(
            request=request,
            view=self,
            queryset=selectors.column_list(dataset=dataset, **filters.validated_data),
            serializer_class=ColumnListItemSerializer,
        )


class DatasetLineageApi(APIView):
    class OutputSerializer(ApiSerializer):
        class UpstreamSerializer(ApiSerializer):
            edge_id = serializers.IntegerField(source="id", help_text="For DELETE /lineage/{id}/.")
            dataset = DatasetRefSerializer(source="upstream")
            effective_sensitivity = serializers.CharField(
                source="upstream.effective_sensitivity.key", allow_null=True
            )
            description = serializers.CharField()

        class DownstreamSerializer(ApiSerializer):
            edge_id = serializers.IntegerField(source="id", help_text="For DELETE /lineage/{id}/.")
            dataset = DatasetRefSerializer(source="downstream")
            effective_sensitivity = serializers.CharField(
                source="downstream.effective_sensitivity.key", allow_null=True
            )
            description = serializers.CharField()

        upstream = UpstreamSerializer(many=True, help_text="Datasets feeding this one.")
        downstream = DownstreamSerializer(many=True, help_text="Datasets fed by this one.")

    @extend_schema(
        operation_id="datasets_lineage",
        tags=CATALOG,
        description="Direct neighbours the caller may see (at most 50 each way).",
        responses={200: OutputSerializer, **error_responses(404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        dataset = selectors.dataset_get(actor=request.user, pk=pk)
        edges = selectors.lineage_edges(actor=request.user, dataset=dataset)
        return Response(self.OutputSerializer(edges).data)


class DatasetHistoryApi(APIView):
    class FilterSerializer(ApiSerializer):
        reject_unknown_fields = False
        limit = serializers.IntegerField(required=False, default=100, min_value=1, max_value=500)

    class OutputSerializer(ApiSerializer):
        id = serializers.IntegerField()
        created_at = serializers.DateTimeField()
        actor = serializers.CharField(source="actor_repr")
        action = serializers.CharField()
        target_type = serializers.CharField()
        target_id = serializers.CharField()
        target = serializers.CharField(source="target_repr")
        outcome = serializers.CharField()
        request_id = serializers.CharField()
        changes = serializers.DictField(help_text="{field: {before, after}}")

    @extend_schema(
        operation_id="datasets_history",
        tags=CATALOG,
        description="The most recent audit events recorded against the dataset, its columns, "
        "lineage and suggestions, newest first (at most `limit`).",
        parameters=[FilterSerializer],
        responses={200: OutputSerializer(many=True), **error_responses(400, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        dataset = selectors.dataset_get(actor=request.user, pk=pk)
        events = selectors.dataset_history(
            actor=request.user, dataset=dataset, limit=filters.validated_data["limit"]
        )
        return Response(self.OutputSerializer(events, many=True).data)


class DatasetViewerAddApi(APIView):
    class InputSerializer(ApiSerializer):
        user = serializers.CharField(required=False, help_text="Username.")
        group = serializers.CharField(required=False, help_text="Group name.")

    @extend_schema(
        operation_id="datasets_viewers_add",
        tags=CATALOG,
        description="Let one user or group (exactly one) read this dataset.",
        request=InputSerializer,
        responses={204: None, **error_responses(400, 403, 404, 413)},
    )
    def post(self, request: Request, pk: int) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        dataset = selectors.dataset_get(actor=request.user, pk=pk)
        services.dataset_viewer_add(
            actor=request.user, dataset=dataset, **serializer.validated_data
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class DatasetViewerRemoveApi(APIView):
    KINDS = {"users": "user", "groups": "group"}

    @extend_schema(
        operation_id="datasets_viewers_remove",
        tags=CATALOG,
        parameters=[
            OpenApiParameter("kind", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(KINDS)),
            OpenApiParameter(
                "name", OpenApiTypes.STR, OpenApiParameter.PATH, description="Username or group"
            ),
        ],
        responses={204: None, **error_responses(400, 403, 404)},
    )
    def delete(self, request: Request, pk: int, kind: str, name: str) -> Response:
        if kind not in self.KINDS:
            raise NotFound(
                "Viewers are addressed as viewers/users/<name> or viewers/groups/<name>."
            )
        dataset = selectors.dataset_get(actor=request.user, pk=pk)
        services.dataset_viewer_remove(
            actor=request.user, dataset=dataset, **{self.KINDS[kind]: name}
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


# ---------------------------------------------------------------------------------------------
# Columns


class ColumnUpdateApi(APIView):
    class InputSerializer(ApiSerializer):
        sensitivity = serializers.CharField(
            required=False, allow_null=True, help_text="Sensitivity key; null declassifies."
        )
        categories = _keys("Category keys (replaces the set).")
        description = _nullable_text()

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            if not attrs:
                raise serializers.ValidationError(
                    "Give at least one of sensitivity, categories, description."
                )
            return attrs

    @extend_schema(
        operation_id="columns_partial_update",
        tags=CATALOG,
        request=InputSerializer,
        responses={200: ColumnOutputSerializer, **error_responses(400, 403, 404, 413)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        column = selectors.column_get(actor=request.user, pk=pk)
        column = services.column_classify(
            actor=request.user, column=column, **serializer.validated_data
        )
        return Response(ColumnOutputSerializer(column).data)


class ColumnBulkClassifyApi(APIView):
    class InputSerializer(ApiSerializer):
        column_ids = serializers.ListField(
            child=serializers.IntegerField(min_value=1), min_length=1, max_length=1000
        )
        sensitivity = serializers.CharField(
            required=False, allow_null=True, help_text="Sensitivity key; null declassifies."
        )
        add_categories = _keys("Category keys added to each column.")

    class OutputSerializer(ApiSerializer):
        changed = serializers.IntegerField(help_text="How many columns changed.")

    @extend_schema(
        operation_id="columns_bulk_classify",
        tags=CATALOG,
        description="Classify many columns at once: all or nothing.",
        request=InputSerializer,
        responses={200: OutputSerializer, **error_responses(400, 403, 404, 413)},
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        changed = services.columns_bulk_classify(actor=request.user, **serializer.validated_data)
        return Response(self.OutputSerializer({"changed": changed}).data)


# ---------------------------------------------------------------------------------------------
# Lineage


def _dataset_by_id_or_fqn(actor: Any, ref: str) -> Dataset:
    if ref.isdigit():
        return selectors.dataset_get(actor=actor, pk=int(ref))
    return selectors.dataset_get_by_fqn(actor=actor, fqn=ref)


class LineageEdgeCreateApi(APIView):
    class InputSerializer(ApiSerializer):
        upstream = serializers.CharField(help_text="Dataset id or fully qualified name.")
        downstream = serializers.CharField(help_text="Dataset id or fully qualified name.")
        description = serializers.CharField(
            required=False, allow_blank=True, default="", max_length=400
        )

    @extend_schema(
        operation_id="lineage_create",
        tags=CATALOG,
        description="Data flows from upstream into downstream. Refused (`lineage_cycle`) if it "
        "would close a cycle.",
        request=InputSerializer,
        responses={201: LineageEdgeOutputSerializer, **error_responses(400, 403, 404, 409, 413)},
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        edge = services.lineage_edge_create(
            actor=request.user,
            upstream=_dataset_by_id_or_fqn(request.user, data["upstream"]),
            downstream=_dataset_by_id_or_fqn(request.user, data["downstream"]),
            description=data["description"],
        )
        return Response(LineageEdgeOutputSerializer(edge).data, status=status.HTTP_201_CREATED)


class LineageEdgeDeleteApi(APIView):
    @extend_schema(
        operation_id="lineage_delete",
        tags=CATALOG,
        responses={204: None, **error_responses(403, 404)},
    )
    def delete(self, request: Request, pk: int) -> Response:
        edge = selectors.lineage_edge_get(actor=request.user, pk=pk)
        services.lineage_edge_delete(actor=request.user, edge=edge)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ColumnLineageEdgeCreateApi(APIView):
    class InputSerializer(ApiSerializer):
        upstream = serializers.IntegerField(help_text="Column id.")
        downstream = serializers.IntegerField(help_text="Column id.")
        description = serializers.CharField(
            required=False, allow_blank=True, default="", max_length=400
        )

    @extend_schema(
        operation_id="column_lineage_create",
        tags=CATALOG,
        request=InputSerializer,
        responses={
            201: ColumnLineageEdgeOutputSerializer,
            **error_responses(400, 403, 404, 409, 413),
        },
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        edge = services.column_lineage_edge_create(
            actor=request.user,
            upstream=selectors.column_get(actor=request.user, pk=data["upstream"]),
            downstream=selectors.column_get(actor=request.user, pk=data["downstream"]),
            description=data["description"],
        )
        return Response(
            ColumnLineageEdgeOutputSerializer(edge).data, status=status.HTTP_201_CREATED
        )


# ---------------------------------------------------------------------------------------------
# Suggestions


class SuggestionListApi(APIView):
    class FilterSerializer(ApiSerializer):
        reject_unknown_fields = False
        status = serializers.ChoiceField(
            choices=[*ClassificationSuggestion.Status.values, "all"],
            required=False,
            default=ClassificationSuggestion.Status.PENDING,
        )
        dataset = serializers.IntegerField(required=False, help_text="Dataset id.")

    @extend_schema(
        operation_id="suggestions_list",
        tags=CATALOG,
        parameters=[FilterSerializer, *PAGE_PARAMETERS],
        responses={200: paginated(SuggestionOutputSerializer), **error_responses(400, 404)},
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        dataset_id = data.get("dataset")
        suggestions = selectors.suggestion_list(
            actor=request.user,
            status="" if data["status"] == "all" else data["status"],
            dataset=(
                selectors.dataset_get(actor=request.user, pk=dataset_id)
                if dataset_id is not None
                else None
            ),
        )
        return paginated_response(
            request=request,
            view=self,
            queryset=suggestions,
            serializer_class=SuggestionOutputSerializer,
        )


class _SuggestionDecisionInput(ApiSerializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=400)


class SuggestionAcceptApi(APIView):
    class InputSerializer(_SuggestionDecisionInput):
        pass

    @extend_schema(
        operation_id="suggestions_accept",
        tags=CATALOG,
        description="Apply the suggested category (raising, never lowering, the column's "
        "sensitivity) as the caller's own classification.",
        request=InputSerializer,
        responses={200: SuggestionOutputSerializer, **error_responses(400, 403, 404, 409, 413)},
    )
    def post(self, request: Request, pk: int) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        suggestion = selectors.suggestion_get(actor=request.user, pk=pk)
        suggestion = services.suggestion_accept(
            actor=request.user, suggestion=suggestion, **serializer.validated_data
        )
        return Response(SuggestionOutputSerializer(suggestion).data)


class SuggestionRejectApi(APIView):
    class InputSerializer(_SuggestionDecisionInput):
        pass

    @extend_schema(
        operation_id="suggestions_reject",
        tags=CATALOG,
        request=InputSerializer,
        responses={200: SuggestionOutputSerializer, **error_responses(400, 403, 404, 409, 413)},
    )
    def post(self, request: Request, pk: int) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        suggestion = selectors.suggestion_get(actor=request.user, pk=pk)
        suggestion = services.suggestion_reject(
            actor=request.user, suggestion=suggestion, **serializer.validated_data
        )
        return Response(SuggestionOutputSerializer(suggestion).data)
