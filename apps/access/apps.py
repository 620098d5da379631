from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccessConfig(AppConfig):
    name = "apps.access"
    label = "access"
    verbose_name = "Access"

    def ready(self) -> None:
        from apps.access.schedules import ensure_schedules

        post_migrate.connect(ensure_schedules, sender=self, dispatch_uid="access-schedules")
