"""The OpenAPI schema: generates without warnings, validates, and documents every endpoint."""

import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db

PATHS = {
    "/api/v1/sources/": {"get", "post"},
    "/api/v1/sources/{id}/": {"get", "patch"},
    "/api/v1/datasets/": {"get", "post"},
    "/api/v1/datasets/{id}/": {"get", "patch"},
    "/api/v1/datasets/by-fqn/{fqn}/": {"get"},
    "/api/v1/datasets/{id}/columns/": {"get"},
    "/api/v1/datasets/{id}/lineage/": {"get"},
    "/api/v1/datasets/{id}/history/": {"get"},
    "/api/v1/datasets/{id}/viewers/": {"post"},
    "/api/v1/datasets/{id}/viewers/{kind}/{name}/": {"delete"},
    "/api/v1/columns/{id}/": {"patch"},
    "/api/v1/columns/bulk-classify": {"post"},
    "/api/v1/lineage/": {"post"},
    "/api/v1/lineage/{id}/": {"delete"},
    "/api/v1/column-lineage/": {"post"},
    "/api/v1/suggestions/": {"get"},
    "/api/v1/suggestions/{id}/accept": {"post"},
    "/api/v1/suggestions/{id}/reject": {"post"},
    "/api/v1/sensitivity-levels/": {"get", "post"},
    "/api/v1/categories/": {"get", "post"},
    "/api/v1/tags/": {"get", "post"},
    "/api/v1/audit/events/": {"get"},
    "/api/v1/audit/events/{entry_id}/": {"get"},
    "/api/v1/audit/events/{entry_id}/proof": {"get"},
    "/api/v1/audit/checkpoints/": {"get", "post"},
    "/api/v1/audit/public-key": {"get"},
    "/api/v1/access/break-glass/": {"post"},
    "/api/v1/access/break-glass/reviews/": {"get"},
    "/api/v1/access/break-glass/reviews/{id}/": {"post"},
    "/access/v1/evaluation": {"post"},
    "/access/v1/evaluations": {"post"},
    "/.well-known/authzen-configuration": {"get"},
}
# Metadata anyone may read (AuthZEN discovery): no 401 to document.
PUBLIC = {"/.well-known/authzen-configuration"}


@pytest.fixture(scope="module")
def schema(tmp_path_factory, django_db_blocker):
    path = tmp_path_factory.mktemp("openapi") / "schema.yaml"
    with django_db_blocker.unblock():
        # Raises on any generator warning, and validates against the OpenAPI 3 JSON schema.
        call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))
    return yaml.safe_load(path.read_text())


def test_every_endpoint_is_documented(schema):
    documented = {
        path: {m for m in ops if m in {"get", "post", "patch", "put", "delete"}}
        for path, ops in schema["paths"].items()
    }
    for path, methods in PATHS.items():
        assert documented.get(path, set()) >= methods, path


def test_every_operation_documents_its_errors_with_the_shared_envelope(schema):
    for path in PATHS:
        for method, operation in schema["paths"][path].items():
            responses = operation["responses"]
            if path not in PUBLIC:
                assert "401" in responses, (method, path)
            errors = [code for code in responses if code.startswith(("4", "5"))]
            for code in errors:
                ref = responses[code]["content"]["application/json"]["schema"]["$ref"]
                assert ref == "#/components/schemas/Error", (method, path, code)
            if "{id}" in path or "{fqn}" in path:
                assert "404" in responses, (method, path)


def test_the_password_is_write_only_in_the_schema(schema):
    components = schema["components"]["schemas"]
    assert "password" in components["SourceCreateInputRequest"]["properties"]
    for name in ("SourceOutput", "SourceListItem"):
        assert "password" not in components[name]["properties"]
        assert "password_ciphertext" not in components[name]["properties"]
        assert "has_password" in components[name]["properties"]


def test_schema_and_docs_are_served(client):
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200
