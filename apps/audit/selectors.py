from django.db.models import QuerySet

from apps.audit.models import AuditEvent


def audit_history_for(
    *, scope_label: str, scope_id: int | str, limit: int = 100
) -> QuerySet[AuditEvent]:
    """Most recent events recorded against one object (and the objects scoped to it)."""
    return AuditEvent.objects.filter(scope=f"{scope_label}:{scope_id}").select_related("actor")[
        :limit
    ]
