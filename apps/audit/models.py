from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    """One recorded change: who did what to which object, with before/after, when.

    Written only by ``apps.audit.services.audit_record`` inside the caller's transaction, so a
    change and its record commit or roll back together. (The hash chain and the append-only
    trigger are the tamper-evidence issue's; they plug in behind the same service.)
    """

    class Outcome(models.TextChoices):
        SUCCESS = "success"
        DENIED = "denied"
        ERROR = "error"

    created_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_repr = models.CharField(max_length=200)
    ip = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=64)
    action = models.CharField(max_length=80)
    target_type = models.CharField(max_length=80)
    target_id = models.CharField(max_length=64)
    target_repr = models.CharField(max_length=400)
    # "catalog.dataset:42": the object whose history this event belongs to (a column's change
    # shows in its dataset's history).
    scope = models.CharField(max_length=120, db_index=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.SUCCESS)
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"], name="audit_target_idx")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_repr} {self.action} {self.target_repr}"
