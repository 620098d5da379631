"""Append-only, enforced by the database.

UPDATE is refused except the sealer's one transition (``seq`` and ``leaf_hash`` from NULL to a
value, every other column unchanged); DELETE is refused unless an archive row already covers
the entry's sequence number (pruning after export). Batches, checkpoints and archives refuse
both. TRUNCATE is refused by privileges: the application role is never granted it (see
deploy/postgres/app-role.sql); only the owner of the tables can disable these triggers.
"""

from django.db import migrations

PG_FORWARD = """
CREATE FUNCTION audit_event_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.seq IS NULL AND NEW.seq IS NOT NULL AND NEW.leaf_hash IS NOT NULL
           AND to_jsonb(NEW) - 'seq' - 'leaf_hash' = to_jsonb(OLD) - 'seq' - 'leaf_hash' THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'audit log is append-only: UPDATE of entry % refused', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF OLD.seq IS NOT NULL
       AND OLD.seq <= (SELECT coalesce(max(last_seq), 0) FROM audit_auditarchive) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit log is append-only: DELETE of entry % refused (not archived)', OLD.id
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_event_guard();

CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_batch_append_only BEFORE UPDATE OR DELETE ON audit_auditbatch
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_checkpoint_append_only BEFORE UPDATE OR DELETE ON audit_auditcheckpoint
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_archive_append_only BEFORE UPDATE OR DELETE ON audit_auditarchive
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
"""

PG_REVERSE = """
DROP TRIGGER audit_archive_append_only ON audit_auditarchive;
DROP TRIGGER audit_checkpoint_append_only ON audit_auditcheckpoint;
DROP TRIGGER audit_batch_append_only ON audit_auditbatch;
DROP FUNCTION audit_refuse_change();
DROP TRIGGER audit_event_append_only ON audit_auditevent;
DROP FUNCTION audit_event_guard();
"""

_EVENT_COLUMNS = (
    "id created_at actor_type actor_id actor_repr ip request_id action target_type target_id"
    " target_repr scope outcome changes body"
).split()
SQLITE_FORWARD = [
    "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_auditevent WHEN NOT ("
    "OLD.seq IS NULL AND NEW.seq IS NOT NULL AND NEW.leaf_hash IS NOT NULL AND "
    + " AND ".join(f"NEW.{c} IS OLD.{c}" for c in _EVENT_COLUMNS)
    + ") BEGIN SELECT RAISE(ABORT, 'audit log is append-only: UPDATE refused'); END",
    "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_auditevent WHEN NOT ("
    "OLD.seq IS NOT NULL AND OLD.seq <= (SELECT coalesce(max(last_seq), 0) FROM audit_auditarchive)"
    ") BEGIN SELECT RAISE(ABORT, 'audit log is append-only: DELETE refused (not archived)'); END",
    *(
        f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, 'audit log is append-only: {op} refused'); END"
        for table in ("audit_auditbatch", "audit_auditcheckpoint", "audit_auditarchive")
        for op in ("UPDATE", "DELETE")
    ),
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement)


def reverse(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_REVERSE, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            name = statement.split()[2]
            schema_editor.execute(f"DROP TRIGGER {name}")


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_tamper_evidence")]

    operations = [migrations.RunPython(forward, reverse)]
