from django.apps import AppConfig
from django.db.models.signals import post_migrate


class DecisionsConfig(AppConfig):
    name = "apps.decisions"
    label = "decisions"

    def ready(self) -> None:
        from django.core.signals import request_finished

        from apps.core.health import READINESS_CHECKS
        from apps.decisions.schedules import ensure_schedules
        from apps.decisions.services import policy_engine_check, reload_if_due

        post_migrate.connect(ensure_schedules, sender=self, dispatch_uid="decisions-schedules")

        READINESS_CHECKS["policy_engine"] = policy_engine_check
        # After a response, engines due to load the snapshot again do it (no request waits).
        request_finished.connect(reload_if_due, dispatch_uid="decisions.reload_if_due")
