"""Roles and bindings (RBAC), access requests with approvals, and time-bound grants."""

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import JSONField, Q, Value

from apps.catalog.models import Dataset, DataSource
from apps.classification.models import key_validator
from apps.decisions.models import ServiceCredential


class AccessLevel(models.TextChoices):
    READ = "read"
    WRITE = "write"
    EXPORT = "export"


class Role(models.Model):
    """A named set of permissions (``apps.access.permissions``)."""

    key = models.CharField(max_length=63, unique=True, validators=[key_validator])
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    permissions = models.JSONField(default=list)
    builtin = models.BooleanField(default=False, editable=False)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key


class RoleBinding(models.Model):
    """``role`` held by exactly one principal (user, group or service credential), everywhere or
    within one source or one dataset."""

    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="bindings")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="role_bindings",
    )
    group = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.CASCADE, related_name="role_bindings"
    )
    credential = models.ForeignKey(
        ServiceCredential,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="role_bindings",
    )
    source = models.ForeignKey(
        DataSource, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    dataset = models.ForeignKey(
        Dataset, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                name="rolebinding_one_principal",
                condition=(
                    Q(user__isnull=False, group__isnull=True, credential__isnull=True)
                    | Q(user__isnull=True, group__isnull=False, credential__isnull=True)
                    | Q(user__isnull=True, group__isnull=True, credential__isnull=False)
                ),
            ),
            models.CheckConstraint(
                name="rolebinding_at_most_one_scope",
                condition=Q(source__isnull=True) | Q(dataset__isnull=True),
            ),
            models.UniqueConstraint(
                fields=["role", "user", "group", "credential", "source", "dataset"],
                name="rolebinding_unique",
                nulls_distinct=False,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.role.key} → {self.principal_id} @ {self.scope_label}"

    @property
    def principal_id(self) -> str:
        if self.user is not None:
            return f"user:{self.user.get_username()}"
        if self.group is not None:
            return f"group:{self.group.name}"
        # (The check constraint leaves exactly one principal: here, the credential.)
        return f"service:{getattr(self.credential, 'name', '?')}"

    @property
    def scope_label(self) -> str:
        if self.dataset is not None:
            return self.dataset.fqn
        if self.source is not None:
            return f"source {self.source.name}"
        return "everywhere"


class AccessRequest(models.Model):
    """A person asking for time-bound access to a dataset (or some of its columns)."""

    class Status(models.TextChoices):
        PENDING = "pending"
        APPROVED = "approved"
        DENIED = "denied"
        EXPIRED = "expired"
        CANCELLED = "cancelled"

    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_requests"
    )
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="access_requests")
    columns = models.JSONField(default=list, blank=True)
    # Values of the dataset's row filter column whose rows it asks for, beyond those its rules
    # give (only on a dataset with a row filter; empty: none asked).
    rows = models.JSONField(default=list, db_default=Value([], JSONField()), blank=True)
    access = models.CharField(max_length=10, choices=AccessLevel.choices)
    purpose = models.CharField(max_length=500)
    duration_seconds = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    approvals_required = models.PositiveSmallIntegerField(default=0)
    policy_reasons = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField()
    # A pending request nobody acts on by then expires.
    respond_by = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "respond_by"])]

    def __str__(self) -> str:
        return f"{self.requester} → {self.access} {self.dataset.fqn}"


class Approval(models.Model):
    """One approver's verdict on a request (at most one each; never the requester)."""

    class Verdict(models.TextChoices):
        APPROVE = "approve"
        DENY = "deny"

    request = models.ForeignKey(AccessRequest, on_delete=models.CASCADE, related_name="approvals")
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    verdict = models.CharField(max_length=10, choices=Verdict.choices)
    note = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["request", "approver"], name="approval_once_each")
        ]

    def __str__(self) -> str:
        return f"{self.approver} {self.verdict}s request {self.request_id}"


class Grant(models.Model):
    """Time-bound access for one person to one dataset (all columns, or the listed ones).

    It is active from ``starts_at`` until ``expires_at`` unless revoked; the decision policy
    checks ``expires_at`` itself, so expiry does not wait for the cleanup task, which only
    records that the grant closed (``closed_at``).
    """

    class Origin(models.TextChoices):
        REQUEST = "request"
        BREAK_GLASS = "break_glass", "break-glass"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_grants"
    )
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="access_grants")
    columns = models.JSONField(default=list, blank=True)
    # Rows of a row-filtered dataset it shows beyond the holder's rules (filter column values).
    rows = models.JSONField(default=list, db_default=Value([], JSONField()), blank=True)
    access = models.CharField(max_length=10, choices=AccessLevel.choices)
    purpose = models.CharField(max_length=500)
    origin = models.CharField(max_length=12, choices=Origin.choices, default=Origin.REQUEST)
    request = models.OneToOneField(
        AccessRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="grant"
    )
    starts_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-starts_at", "-id"]
        indexes = [
            models.Index(
                fields=["expires_at"],
                name="grant_open_by_expiry",
                condition=Q(closed_at__isnull=True),
            )
        ]
        constraints = [
            models.CheckConstraint(
                name="grant_ends_after_it_starts", condition=Q(expires_at__gt=models.F("starts_at"))
            )
        ]

    def __str__(self) -> str:
        return (
            f"{self.user} {self.access} {self.dataset.fqn} until {self.expires_at:%Y-%m-%d %H:%M}"
        )


class BreakGlassReview(models.Model):
    """The follow-up every break-glass grant opens: an owner (or an admin) says whether the
    emergency access was justified. Overdue ones are escalated, once."""

    class Outcome(models.TextChoices):
        JUSTIFIED = "justified"
        UNJUSTIFIED = "unjustified"

    grant = models.OneToOneField(Grant, on_delete=models.CASCADE, related_name="follow_up")
    justification = models.TextField()
    due_at = models.DateTimeField()
    outcome = models.CharField(max_length=12, choices=Outcome.choices, blank=True)
    note = models.CharField(max_length=1000, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(
                fields=["due_at"],
                name="breakglass_open_by_due",
                condition=Q(reviewed_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"break-glass follow-up for grant {self.grant_id}"
