"""The built-in roles (``apps.access.permissions.BUILTIN_ROLES``); admins may add their own."""

from typing import Any

from django.db import migrations

# Frozen here: a later change to BUILTIN_ROLES needs its own migration.
ROLES = {
    "admin": (
        "Administrator",
        [
            "access.approve",
            "access.break_glass",
            "access.revoke",
            "audit.read",
            "catalog.edit",
            "data.export",
            "data.read",
            "data.write",
            "incidents.manage",
            "roles.manage",
        ],
    ),
    "data_owner": (
        "Data owner",
        ["data.read", "data.write", "data.export", "catalog.edit", "access.approve", "access.revoke"],
    ),
    "steward": ("Data steward", ["data.read", "catalog.edit", "access.approve", "access.revoke"]),
    "analyst": ("Analyst", ["data.read"]),
    "auditor": ("Auditor", ["audit.read"]),
    "legal": ("Legal", ["audit.read", "incidents.manage"]),
    "break_glass": ("Break-glass responder", ["access.break_glass"]),
}


def create(apps: Any, schema_editor: Any) -> None:
    Role = apps.get_model("access", "Role")
    for key, (name, permissions) in ROLES.items():
        Role.objects.update_or_create(
            key=key, defaults={"name": name, "permissions": sorted(permissions), "builtin": True}
        )


class Migration(migrations.Migration):
    dependencies = [("access", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
