"""Shared by the UI and browser tests."""

import importlib

from django.apps import apps as django_apps

from apps.classification.models import SensitivityLevel


def ensure_default_taxonomy() -> None:
    """Live-server tests flush tables between tests, taking the migration-seeded taxonomy with
    them; put it back (the migration's own function, idempotent)."""
    if SensitivityLevel.objects.exists():
        return
    migration = importlib.import_module("apps.classification.migrations.0002_default_taxonomy")
    migration.forwards(django_apps, None)
