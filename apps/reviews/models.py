"""Access reviews: campaigns that ask dataset owners to re-check the access that remains.

A campaign covers a scope (datasets at or above a sensitivity, one source, one team's
access) and holds one item per active grant and per role binding in it, each assigned to the
dataset's owner (or the campaign's fallback reviewer). Reviewers certify or revoke; at the due
date the items nobody answered are revoked or flagged, as each item says.
"""

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q

from apps.access.models import Grant, RoleBinding
from apps.catalog.models import Dataset, DataSource
from apps.classification.models import SensitivityLevel


class NonResponse(models.TextChoices):
    AUTO = "auto", "revoke on the most sensitive level, flag elsewhere"
    REVOKE = "revoke", "revoke"
    FLAG = "flag", "flag for follow-up"


class ReviewScope(models.Model):
    """What a campaign covers and how it treats silence (shared by campaigns and schedules).

    Filters combine: datasets at or above ``min_sensitivity``, in ``source``; access held by
    members of ``team`` (and bindings to the team itself). No filter: everything.
    """

    min_sensitivity = models.ForeignKey(
        SensitivityLevel, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    source = models.ForeignKey(
        DataSource, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    team = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    include_grants = models.BooleanField(default=True)
    include_bindings = models.BooleanField(default=True)
    non_response = models.CharField(
        max_length=8, choices=NonResponse.choices, default=NonResponse.AUTO
    )
    fallback_reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    duration_days = models.PositiveSmallIntegerField(default=14)

    class Meta:
        abstract = True

    @property
    def scope_label(self) -> str:
        parts = []
        if self.min_sensitivity is not None:
            parts.append(f"{self.min_sensitivity.key} and above")
        if self.source is not None:
            parts.append(f"source {self.source.name}")
        if self.team is not None:
            parts.append(f"team {self.team.name}")
        return ", ".join(parts) or "everything"


class ReviewSchedule(ReviewScope):
    """A campaign started by Celery beat on a crontab (e.g. quarterly)."""

    name = models.CharField(max_length=200, unique=True)
    crontab = models.CharField(max_length=100, help_text="minute hour day-of-month month weekday")
    periodic_task = models.OneToOneField(
        "django_celery_beat.PeriodicTask",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Campaign(ReviewScope):
    class Status(models.TextChoices):
        GENERATING = "generating"
        OPEN = "open"
        CLOSED = "closed"

    name = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.GENERATING)
    schedule = models.ForeignKey(
        ReviewSchedule, null=True, blank=True, on_delete=models.SET_NULL, related_name="campaigns"
    )
    # The schedule's firing this campaign answers (its UTC date): a redelivered start is a no-op.
    period = models.CharField(max_length=20, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    opened_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField()
    reminded_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["schedule", "period"],
                condition=Q(schedule__isnull=False),
                name="campaign_once_per_schedule_period",
            )
        ]

    def __str__(self) -> str:
        return self.name


class ReviewItem(models.Model):
    """One grant or role binding to certify or revoke.

    What it was is copied in (``principal``, ``access_label``, ``dataset_fqn``) so the evidence
    survives the grant or binding it names being revoked or deleted.
    """

    class Kind(models.TextChoices):
        GRANT = "grant"
        BINDING = "binding", "role binding"

    class Outcome(models.TextChoices):
        PENDING = "pending"
        CERTIFIED = "certified"
        REVOKED = "revoked"
        FLAGGED = "flagged"

    class Verdict(models.TextChoices):
        CERTIFY = "certify"
        REVOKE = "revoke"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    # The grant's or binding's id; with ``kind`` unique per campaign (generation is re-runnable).
    ref_id = models.BigIntegerField()
    grant = models.ForeignKey(
        Grant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    binding = models.ForeignKey(
        RoleBinding, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    dataset = models.ForeignKey(
        Dataset, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    principal = models.CharField(max_length=200)
    principal_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    access_label = models.CharField(max_length=300)
    dataset_fqn = models.CharField(max_length=800, blank=True)
    sensitivity = models.CharField(max_length=63, blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewer_group = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What happens if nobody answers by the due date (resolved from the campaign's setting).
    on_no_response = models.CharField(
        max_length=8, choices=[(NonResponse.REVOKE, "revoke"), (NonResponse.FLAG, "flag")]
    )
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=1000, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "kind", "ref_id"], name="reviewitem_once_per_campaign"
            )
        ]
        indexes = [
            models.Index(fields=["campaign", "outcome"], name="reviewitem_campaign_outcome"),
            models.Index(
                fields=["reviewer"],
                name="reviewitem_pending_reviewer",
                condition=Q(outcome="pending"),
            ),
            models.Index(
                fields=["reviewer_group"],
                name="reviewitem_pending_group",
                condition=Q(outcome="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.principal}: {self.access_label}"
