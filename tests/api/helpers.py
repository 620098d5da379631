"""Helpers for the API tests (plain functions; fixtures live in conftest.py)."""

from typing import Any

from django.contrib.auth.models import Permission

from apps.audit.models import AuditEvent
from apps.catalog.models import ClassificationSuggestion, Column
from apps.classification.models import DataCategory, SensitivityLevel
from tests.factories import ColumnFactory


def grant(user: Any, *codenames: str) -> Any:
    """Give ``user`` global permissions (``app_label.codename``)."""
    for name in codenames:
        app_label, codename = name.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return user


def audit_count() -> int:
    """Recorded changes, not counting sign-ins (each test client's force_login records one)."""
    return AuditEvent.objects.exclude(action__startswith="auth.").count()


def make_suggestion(
    column: Column, category: str = "contact", sensitivity: str | None = "confidential"
) -> ClassificationSuggestion:
    """What the PII scanner leaves behind (its service is not part of the API under test)."""
    return ClassificationSuggestion.objects.create(
        column=column,
        category=DataCategory.objects.get(key=category),
        sensitivity=SensitivityLevel.objects.get(key=sensitivity) if sensitivity else None,
        detector="regex.email",
        confidence=0.93,
        evidence={"matches": 17, "sampled": 20, "examples": ["j***@example.com"]},
    )


def make_columns(dataset: Any, *names: str) -> list[Column]:
    return [ColumnFactory(dataset=dataset, name=name) for name in names]


def error_code(response: Any) -> str:
    return response.json()["error"]["code"]
