from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AuditConfig(AppConfig):
    name = "apps.audit"
    label = "audit"

    def ready(self) -> None:
        from apps.audit import signals  # noqa: F401 - sign-in / sign-out recording
        from apps.audit.schedules import ensure_schedules

        post_migrate.connect(ensure_schedules, sender=self, dispatch_uid="audit-schedules")
