from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ReviewsConfig(AppConfig):
    name = "apps.reviews"
    label = "reviews"
    verbose_name = "Access reviews"

    def ready(self) -> None:
        from apps.reviews.schedules import ensure_schedules

        post_migrate.connect(ensure_schedules, sender=self, dispatch_uid="reviews-schedules")
