from django.apps import AppConfig


class DecisionsConfig(AppConfig):
    name = "apps.decisions"
    label = "decisions"

    def ready(self) -> None:
        from apps.core.health import READINESS_CHECKS
        from apps.decisions.services import policy_engine_check

        READINESS_CHECKS["policy_engine"] = policy_engine_check
