"""``changes`` lives only in the hashed body: one less column for verification to reconcile.

On SQLite, removing a column rebuilds the table, which drops its triggers; they are created
again here with the new column list.
"""

from django.db import migrations

_EVENT_COLUMNS = (
    "id created_at actor_type actor_id actor_repr ip request_id action target_type target_id"
    " target_repr scope outcome body"
).split()
SQLITE_TRIGGERS = {
    "audit_event_no_update": (
        "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_auditevent WHEN NOT ("
        "OLD.seq IS NULL AND NEW.seq IS NOT NULL AND NEW.leaf_hash IS NOT NULL AND "
        + " AND ".join(f"NEW.{c} IS OLD.{c}" for c in _EVENT_COLUMNS)
        + ") BEGIN SELECT RAISE(ABORT, 'audit log is append-only: UPDATE refused'); END"
    ),
    "audit_event_no_delete": (
        "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_auditevent WHEN NOT ("
        "OLD.seq IS NOT NULL AND OLD.seq <= (SELECT coalesce(max(last_seq), 0) FROM audit_auditarchive)"
        ") BEGIN SELECT RAISE(ABORT, 'audit log is append-only: DELETE refused (not archived)'); END"
    ),
}


def drop_sqlite_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for name in SQLITE_TRIGGERS:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")


def create_sqlite_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for name, statement in SQLITE_TRIGGERS.items():
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_append_only")]

    operations = [
        migrations.RunPython(drop_sqlite_triggers, create_sqlite_triggers),
        migrations.RemoveField(model_name="auditevent", name="changes"),
        migrations.RunPython(create_sqlite_triggers, drop_sqlite_triggers),
    ]
