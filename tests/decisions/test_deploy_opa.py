"""deploy/opa: the OPA agent configuration points at the endpoints this control plane serves."""

from pathlib import Path

import yaml
from django.conf import settings
from django.urls import resolve, reverse

from apps.decisions.api import views
from apps.decisions.bundles import BUNDLE_NAME

DEPLOY = Path(settings.BASE_DIR) / "deploy" / "opa"


def _load(name: str):
    return list(yaml.safe_load_all((DEPLOY / name).read_text()))


def test_the_agent_pulls_our_bundle_and_uploads_to_our_log_endpoint():
    (config,) = _load("config.yaml")
    bundle = config["bundles"][BUNDLE_NAME]
    assert bundle["resource"] == reverse("bundle-download", kwargs={"name": BUNDLE_NAME})
    assert resolve(bundle["resource"]).func.view_class is views.BundleDownloadApi
    assert config["decision_logs"]["resource"] == reverse("decision-log-upload")
    assert bundle["service"] == config["decision_logs"]["service"] == "steward"
    assert config["services"]["steward"]["credentials"]["bearer"]["token"] == "${STEWARD_TOKEN}"
    limit = config["decision_logs"]["reporting"]["upload_size_limit_bytes"]
    assert limit <= min(settings.DATA_UPLOAD_MAX_MEMORY_SIZE, settings.DECISION_LOG_MAX_BYTES)


def test_compose_and_kubernetes_run_the_same_opa_image_with_that_config():
    (compose,) = _load("compose.yaml")
    deployment = next(d for d in _load("kubernetes.yaml") if d["kind"] == "Deployment")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert compose["services"]["opa"]["image"] == container["image"]
    assert container["image"].startswith("openpolicyagent/opa:")
    assert "--config-file=/config/config.yaml" in container["args"]
    assert compose["services"]["opa"]["command"] == container["args"]
    assert compose["services"]["web"]["environment"]["DECISION_ENGINE"] == "opa"
    (kustomization,) = _load("kustomization.yaml")
    assert kustomization["configMapGenerator"][0]["files"] == ["config.yaml"]
