import uuid

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import JSONField, Q, Value
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from apps.classification.models import DataCategory, SensitivityLevel, Tag, key_validator


class DataSource(models.Model):
    """A system that holds data (a Postgres database, a warehouse, a bucket).

    Connection secrets are stored encrypted (``apps.keys``) and are never shown back.
    """

    class Kind(models.TextChoices):
        POSTGRES = "postgres", "PostgreSQL"
        MYSQL = "mysql", "MySQL"
        SNOWFLAKE = "snowflake", "Snowflake"
        BIGQUERY = "bigquery", "BigQuery"
        S3 = "s3", "S3 bucket"
        OTHER = "other", "Other"

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(
        max_length=63,
        unique=True,
        validators=[key_validator],
        help_text="Short stable name; the first part of every dataset's fully qualified name.",
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    description = models.TextField(blank=True)
    host = models.CharField(max_length=255, blank=True)
    port = models.PositiveIntegerField(null=True, blank=True)
    database = models.CharField(max_length=255, blank=True)
    username = models.CharField(max_length=255, blank=True)
    password_ciphertext = models.BinaryField(null=True, blank=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    last_sync_summary = models.JSONField(default=dict, blank=True)
    last_scanned_at = models.DateTimeField(null=True, blank=True)
    last_scan_summary = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def has_password(self) -> bool:
        return bool(self.password_ciphertext)

    @property
    def secret_context(self) -> str:
        return f"catalog.datasource:{self.uid}"


class Dataset(models.Model):
    """A table, view or file set, named ``source.schema.table`` (its fully qualified name)."""

    class Kind(models.TextChoices):
        TABLE = "table"
        VIEW = "view"
        MATERIALIZED_VIEW = "materialized_view", "materialized view"
        FILE = "file"
        TOPIC = "topic"
        OTHER = "other"

    source = models.ForeignKey(DataSource, on_delete=models.PROTECT, related_name="datasets")
    schema_name = models.CharField(max_length=255)
    table_name = models.CharField(max_length=255)
    fqn = models.CharField(max_length=800, unique=True, editable=False)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.TABLE)
    description = models.TextField(blank=True)
    provenance = models.TextField(blank=True, help_text="Where the data comes from and how.")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_datasets",
    )
    owner_group = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_datasets"
    )
    steward = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="stewarded_datasets",
    )
    steward_group = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.SET_NULL, related_name="stewarded_datasets"
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="datasets")
    sensitivity = models.ForeignKey(
        SensitivityLevel,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Declared at dataset level.",
    )
    # max(declared, most sensitive live column); maintained by services, null = unclassified.
    effective_sensitivity = models.ForeignKey(
        SensitivityLevel,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    categories = models.ManyToManyField(DataCategory, blank=True, related_name="datasets")
    # Usage policy the governance decision enforces (see services.datasets.dataset_update):
    # the purposes of use it may be read for (none: any), and which rows each principal sees:
    # {"column": name, "rules": [{"group_id" | "user_id": id, "values": [text, ...]}]}.
    # (A database default too: the benches and other bulk loaders COPY rows without it.)
    purposes = models.JSONField(default=list, db_default=Value([], JSONField()), blank=True)
    row_filter = models.JSONField(null=True, blank=True)
    removed_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when a schema sync no longer finds it at the source."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["fqn"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "schema_name", "table_name"], name="dataset_unique_in_source"
            ),
        ]
        indexes = [
            models.Index(fields=["effective_sensitivity", "fqn"], name="dataset_eff_sens_idx"),
            models.Index(fields=["source", "fqn"], name="dataset_source_fqn_idx"),
        ]

    def __str__(self) -> str:
        return self.fqn

    @staticmethod
    def make_fqn(source_name: str, schema_name: str, table_name: str) -> str:
        return f"{source_name}.{schema_name}.{table_name}"


class DatasetUserObjectPermission(UserObjectPermissionBase):
    """Direct-FK object permissions (guardian): joins stay cheap at 100k datasets."""

    content_object = models.ForeignKey(Dataset, on_delete=models.CASCADE)


class DatasetGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Dataset, on_delete=models.CASCADE)


class Column(models.Model):
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="columns")
    name = models.CharField(max_length=255)
    data_type = models.CharField(max_length=255, blank=True)
    is_nullable = models.BooleanField(default=True)
    ordinal = models.PositiveIntegerField(default=0)
    description = models.TextField(blank=True)
    sensitivity = models.ForeignKey(
        SensitivityLevel, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    categories = models.ManyToManyField(DataCategory, blank=True, related_name="columns")
    # Set when a person classifies the column; scanners never overwrite such a decision.
    classified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    classified_at = models.DateTimeField(null=True, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["dataset", "ordinal", "name"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "name"], name="column_unique_in_dataset"),
        ]
        indexes = [models.Index(fields=["sensitivity"], name="column_sensitivity_idx")]

    def __str__(self) -> str:
        return f"{self.dataset.fqn}.{self.name}" if self.dataset_id else self.name


class LineageEdge(models.Model):
    """Data flows from ``upstream`` into ``downstream``. The graph stays acyclic (services check)."""

    upstream = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="downstream_edges")
    downstream = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="upstream_edges")
    description = models.CharField(max_length=400, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["upstream", "downstream"], name="lineage_edge_unique"),
            models.CheckConstraint(
                condition=~Q(upstream=models.F("downstream")), name="lineage_edge_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.upstream} -> {self.downstream}"


class ColumnLineageEdge(models.Model):
    upstream = models.ForeignKey(Column, on_delete=models.CASCADE, related_name="downstream_edges")
    downstream = models.ForeignKey(Column, on_delete=models.CASCADE, related_name="upstream_edges")
    description = models.CharField(max_length=400, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["upstream", "downstream"], name="column_lineage_edge_unique"
            ),
            models.CheckConstraint(
                condition=~Q(upstream=models.F("downstream")), name="column_lineage_edge_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.upstream} -> {self.downstream}"


class ClassificationSuggestion(models.Model):
    """A scanner's proposal for a column; a steward accepts or rejects it."""

    class Status(models.TextChoices):
        PENDING = "pending"
        ACCEPTED = "accepted"
        REJECTED = "rejected"
        SUPERSEDED = "superseded"

    column = models.ForeignKey(Column, on_delete=models.CASCADE, related_name="suggestions")
    category = models.ForeignKey(DataCategory, on_delete=models.PROTECT, related_name="+")
    sensitivity = models.ForeignKey(
        SensitivityLevel, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    detector = models.CharField(max_length=63)
    confidence = models.FloatField()
    # Counts and masked examples only: never raw values.
    evidence = models.JSONField(default=dict)
    # Digest of the sampled content when suggested: a rejected suggestion is raised again only
    # when the column's content changed.
    content_digest = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=400, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["column", "category"],
                condition=Q(status="pending"),
                name="suggestion_one_pending_per_category",
            ),
        ]
        indexes = [models.Index(fields=["status", "column"], name="suggestion_status_idx")]

    def __str__(self) -> str:
        return f"{self.column}: {self.category} ({self.confidence:.0%})"
