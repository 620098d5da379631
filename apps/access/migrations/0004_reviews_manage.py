"""The administrator role also runs access reviews (``reviews.manage``)."""

from typing import Any

from django.db import migrations

ADDED = {"admin": ["reviews.manage"]}


def add(apps: Any, schema_editor: Any) -> None:
    Role = apps.get_model("access", "Role")
    for key, names in ADDED.items():
        role = Role.objects.filter(key=key, builtin=True).first()
        if role is not None:
            role.permissions = sorted(set(role.permissions) | set(names))
            role.save(update_fields=["permissions"])


class Migration(migrations.Migration):
    dependencies = [("access", "0003_break_glass_review")]
    operations = [migrations.RunPython(add, migrations.RunPython.noop)]
