"""Output shapes shared by several catalog operations (inputs stay nested in their views).

Classifications appear as stable keys, people as usernames, groups as names; the source's
password is never shown, only whether one is set.
"""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.catalog.models import Dataset
from apps.catalog.services.usage import row_filter_named
from apps.core.api.schema import ApiSerializer


class KeyListField(serializers.ListField):
    """A many-to-many of keyed objects (tags, categories) as a list of keys; reads the prefetch."""

    child = serializers.CharField()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, data: Any) -> list[str]:
        return [obj.key for obj in data.all()]


def _ref(source: str, **kwargs: Any) -> serializers.CharField:
    """A read-only key / username / name of a nullable relation."""
    return serializers.CharField(source=source, read_only=True, allow_null=True, **kwargs)


class SourceOutputSerializer(ApiSerializer):
    id = serializers.IntegerField()
    uid = serializers.UUIDField()
    name = serializers.CharField()
    kind = serializers.CharField()
    description = serializers.CharField()
    host = serializers.CharField()
    port = serializers.IntegerField(allow_null=True)
    database = serializers.CharField()
    username = serializers.CharField()
    has_password = serializers.BooleanField(
        help_text="Whether a password is stored. The password itself is never returned."
    )
    owner = _ref("owner.username")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    last_synced_at = serializers.DateTimeField(allow_null=True)
    last_sync_summary = serializers.DictField()
    last_scanned_at = serializers.DateTimeField(allow_null=True)
    last_scan_summary = serializers.DictField()


class SourceListItemSerializer(SourceOutputSerializer):
    dataset_count = serializers.IntegerField(help_text="Datasets still present at the source.")


class DatasetRefSerializer(ApiSerializer):
    id = serializers.IntegerField()
    fqn = serializers.CharField()


class DatasetListItemSerializer(ApiSerializer):
    id = serializers.IntegerField()
    fqn = serializers.CharField(help_text="source.schema.table")
    # Declared fields leave the class body (metaclass); the stubs see Field.source.
    source = serializers.CharField(source="source.name")  # type: ignore[assignment]
    schema_name = serializers.CharField()
    table_name = serializers.CharField()
    kind = serializers.CharField()
    description = serializers.CharField()
    owner = _ref("owner.username")
    owner_group = _ref("owner_group.name")
    steward = _ref("steward.username")
    steward_group = _ref("steward_group.name")
    effective_sensitivity = _ref(
        "effective_sensitivity.key",
        help_text="max(declared, most sensitive live column); null = unclassified.",
    )
    tags = KeyListField()
    removed_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField()


class RowFilterRuleSerializer(ApiSerializer):
    group = serializers.CharField(required=False, help_text="Group name (or user).")
    user = serializers.CharField(required=False, help_text="Username (or group).")
    values = serializers.ListField(child=serializers.CharField())


class RowFilterSerializer(ApiSerializer):
    column = serializers.CharField()
    rules = RowFilterRuleSerializer(many=True)


class DatasetDetailSerializer(DatasetListItemSerializer):
    provenance = serializers.CharField()
    sensitivity = _ref("sensitivity.key", help_text="Declared at dataset level.")
    categories = KeyListField()
    purposes = serializers.ListField(
        child=serializers.CharField(), help_text="Purposes of use it may be read for; [] = any."
    )
    row_filter = serializers.SerializerMethodField(
        help_text="Which rows each principal sees (owners and admins: all); null = no filter."
    )
    created_at = serializers.DateTimeField()

    @extend_schema_field(RowFilterSerializer(allow_null=True))
    def get_row_filter(self, obj: Dataset) -> dict[str, Any] | None:
        return row_filter_named(obj)


class ColumnOutputSerializer(ApiSerializer):
    id = serializers.IntegerField()
    dataset_id = serializers.IntegerField()
    name = serializers.CharField()
    data_type = serializers.CharField()
    is_nullable = serializers.BooleanField()
    ordinal = serializers.IntegerField()
    description = serializers.CharField()
    sensitivity = _ref("sensitivity.key")
    categories = KeyListField()
    classified_by = _ref(
        "classified_by.username", help_text="Set when a person classified the column."
    )
    classified_at = serializers.DateTimeField(allow_null=True)
    removed_at = serializers.DateTimeField(allow_null=True)


class PendingSuggestionSerializer(ApiSerializer):
    id = serializers.IntegerField()
    category = serializers.CharField(source="category.key")
    sensitivity = _ref("sensitivity.key")
    detector = serializers.CharField()
    confidence = serializers.FloatField()


class ColumnListItemSerializer(ColumnOutputSerializer):
    pending_suggestions = PendingSuggestionSerializer(source="pending", many=True)


class ColumnRefSerializer(ApiSerializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    dataset = DatasetRefSerializer()


class SuggestionOutputSerializer(ApiSerializer):
    id = serializers.IntegerField()
    column = ColumnRefSerializer()
    category = serializers.CharField(source="category.key")
    sensitivity = _ref("sensitivity.key")
    detector = serializers.CharField()
    confidence = serializers.FloatField()
    evidence = serializers.DictField(help_text="Counts and masked examples; never raw values.")
    status = serializers.CharField()
    decided_by = _ref("decided_by.username")
    decided_at = serializers.DateTimeField(allow_null=True)
    note = serializers.CharField()
    created_at = serializers.DateTimeField()


class LineageEdgeOutputSerializer(ApiSerializer):
    id = serializers.IntegerField()
    upstream = DatasetRefSerializer()
    downstream = DatasetRefSerializer()
    description = serializers.CharField()
    created_at = serializers.DateTimeField()


class ColumnLineageEdgeOutputSerializer(ApiSerializer):
    id = serializers.IntegerField()
    upstream = ColumnRefSerializer()
    downstream = ColumnRefSerializer()
    description = serializers.CharField()
    created_at = serializers.DateTimeField()
