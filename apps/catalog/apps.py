from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CatalogConfig(AppConfig):
    name = "apps.catalog"
    label = "catalog"

    def ready(self) -> None:
        from apps.catalog.schedules import ensure_schedules

        post_migrate.connect(ensure_schedules, sender=self, dispatch_uid="catalog-schedules")
