"""Entries are never updated: an entry's place in the chain moves to a table of its own.

Sealing used to UPDATE each entry (``seq``, ``leaf_hash``, ``columns_md5``), which rewrites the
whole row and all its index entries and leaves a dead copy of every entry behind. Now the sealer
INSERTs a narrow ``audit_auditseal`` row per entry, and its queue is ``audit_auditpending``, filled
by a trigger on every insert into the log. Measured on Postgres 15 (1,000 appends of 100 entries,
sealed every 10 appends): sealing 64-76 us a row before, 32-33 after; the log's table and indexes
98 MB instead of 210 MB.

The triggers change with it: the log refuses every UPDATE, and DELETE unless an archive covers
the entry's seal; seals refuse UPDATE, and DELETE unless archived. (On SQLite, removing columns
rebuilds the table, which drops its triggers; they are created again here, with the batch
table's, which an earlier rebuild had dropped.)
"""

import importlib

import django.db.models.deletion
from django.db import migrations, models

ARCHIVED = "(SELECT coalesce(max(last_seq), 0) FROM audit_auditarchive)"

PG_FORWARD = f"""
CREATE OR REPLACE FUNCTION audit_event_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND EXISTS (
        SELECT 1 FROM audit_auditseal s WHERE s.entry_id = OLD.id AND s.seq <= {ARCHIVED}
    ) THEN
        RETURN OLD;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit log is append-only: DELETE of entry % refused (not archived)', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RAISE EXCEPTION 'audit log is append-only: UPDATE of entry % refused', OLD.id
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_event_guard();

CREATE FUNCTION audit_seal_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND OLD.seq <= {ARCHIVED} THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit log is append-only: % of the seal at seq % refused', TG_OP, OLD.seq
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_seal_append_only BEFORE UPDATE OR DELETE ON audit_auditseal
    FOR EACH ROW EXECUTE FUNCTION audit_seal_guard();

-- One statement-level trigger: an append of 100 entries queues them in one INSERT.
CREATE FUNCTION audit_event_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO audit_auditpending (entry_id) SELECT id FROM appended;
    RETURN NULL;
END
$$;
CREATE TRIGGER audit_event_enqueue AFTER INSERT ON audit_auditevent
    REFERENCING NEW TABLE AS appended FOR EACH STATEMENT EXECUTE FUNCTION audit_event_enqueue();
"""

PG_REVERSE = """
DROP TRIGGER audit_event_enqueue ON audit_auditevent;
DROP FUNCTION audit_event_enqueue();
DROP TRIGGER audit_seal_append_only ON audit_auditseal;
DROP FUNCTION audit_seal_guard();
DROP TRIGGER audit_event_append_only ON audit_auditevent;
"""

SQLITE_FORWARD = {
    "audit_event_no_update": (
        "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_auditevent"
        " BEGIN SELECT RAISE(ABORT, 'audit log is append-only: UPDATE refused'); END"
    ),
    "audit_event_no_delete": (
        "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_auditevent WHEN NOT EXISTS ("
        f"SELECT 1 FROM audit_auditseal s WHERE s.entry_id = OLD.id AND s.seq <= {ARCHIVED})"
        " BEGIN SELECT RAISE(ABORT, 'audit log is append-only: DELETE refused (not archived)');"
        " END"
    ),
    "audit_event_enqueue": (
        "CREATE TRIGGER audit_event_enqueue AFTER INSERT ON audit_auditevent"
        " BEGIN INSERT INTO audit_auditpending (entry_id) VALUES (NEW.id); END"
    ),
    "audit_auditseal_no_update": (
        "CREATE TRIGGER audit_auditseal_no_update BEFORE UPDATE ON audit_auditseal"
        " BEGIN SELECT RAISE(ABORT, 'audit log is append-only: UPDATE refused'); END"
    ),
    "audit_auditseal_no_delete": (
        f"CREATE TRIGGER audit_auditseal_no_delete BEFORE DELETE ON audit_auditseal WHEN OLD.seq > {ARCHIVED}"
        " BEGIN SELECT RAISE(ABORT, 'audit log is append-only: DELETE refused (not archived)');"
        " END"
    ),
    # Lost when 0005 rebuilt the batch table on SQLite (a column added), restored here.
    **{
        f"audit_auditbatch_no_{op.lower()}": (
            f"CREATE TRIGGER audit_auditbatch_no_{op.lower()} BEFORE {op} ON audit_auditbatch"
            f" BEGIN SELECT RAISE(ABORT, 'audit log is append-only: {op} refused'); END"
        )
        for op in ("UPDATE", "DELETE")
    },
}


def drop_entry_guard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER audit_event_append_only ON audit_auditevent")
    elif schema_editor.connection.vendor == "sqlite":
        for name in ("audit_event_no_update", "audit_event_no_delete"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")


def restore_entry_guard(apps, schema_editor):
    previous = importlib.import_module("apps.audit.migrations.0006_fewer_indexes")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(previous.GUARD, params=None)
        schema_editor.execute(
            "CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_auditevent"
            " FOR EACH ROW EXECUTE FUNCTION audit_event_guard()"
        )
    elif schema_editor.connection.vendor == "sqlite":
        older = importlib.import_module("apps.audit.migrations.0004_changes_in_body")
        for statement in older.SQLITE_TRIGGERS.values():
            schema_editor.execute(statement)


def move_seals(apps, schema_editor):
    """Every sealed entry's seq, leaf hash and column digest into a seal row; every unsealed
    entry into the queue."""
    schema_editor.execute(
        "INSERT INTO audit_auditseal (seq, entry_id, leaf_hash, columns_md5)"
        " SELECT seq, id, leaf_hash, columns_md5 FROM audit_auditevent WHERE seq IS NOT NULL"
    )
    schema_editor.execute(
        "INSERT INTO audit_auditpending (entry_id) SELECT id FROM audit_auditevent WHERE seq IS NULL"
    )


def move_seals_back(apps, schema_editor):
    schema_editor.execute(
        "UPDATE audit_auditevent SET"
        " seq = (SELECT s.seq FROM audit_auditseal s WHERE s.entry_id = audit_auditevent.id),"
        " leaf_hash = (SELECT s.leaf_hash FROM audit_auditseal s"
        "  WHERE s.entry_id = audit_auditevent.id),"
        " columns_md5 = (SELECT s.columns_md5 FROM audit_auditseal s"
        "  WHERE s.entry_id = audit_auditevent.id)"
    )


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        for name, statement in SQLITE_FORWARD.items():
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")
            schema_editor.execute(statement)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_REVERSE, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        for name in SQLITE_FORWARD:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("audit", "0007_seq_unique_when_sealed")]

    operations = [
        migrations.RunPython(drop_entry_guard, restore_entry_guard),
        migrations.CreateModel(
            name="AuditPending",
            fields=[
                ("entry_id", models.BigIntegerField(primary_key=True, serialize=False)),
            ],
        ),
        migrations.CreateModel(
            name="AuditSeal",
            fields=[
                ("seq", models.BigIntegerField(primary_key=True, serialize=False)),
                (
                    "entry",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="seal",
                        to="audit.auditevent",
                    ),
                ),
                ("leaf_hash", models.BinaryField(max_length=32)),
                ("columns_md5", models.BinaryField(blank=True, max_length=16, null=True)),
            ],
            options={"ordering": ["seq"]},
        ),
        migrations.RunPython(move_seals, move_seals_back),
        migrations.RemoveConstraint(model_name="auditevent", name="audit_seq_unique"),
        migrations.RemoveIndex(model_name="auditevent", name="audit_unsealed_idx"),
        migrations.RemoveField(model_name="auditevent", name="columns_md5"),
        migrations.RemoveField(model_name="auditevent", name="leaf_hash"),
        migrations.RemoveField(model_name="auditevent", name="seq"),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
