"""Per-entry digests of the query columns, bound by each batch header (a fast column check).

Batches sealed before this keep an empty ``columns_root``, which leaves their header hash as it
was. The append-only trigger now lets the sealer set ``columns_md5`` with ``seq``.
"""

from django.db import migrations, models


GUARD = """
CREATE OR REPLACE FUNCTION audit_event_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.seq IS NULL AND NEW.seq IS NOT NULL AND NEW.leaf_hash IS NOT NULL
           AND to_jsonb(NEW) - 'seq' - 'leaf_hash' - 'columns_md5'
               = to_jsonb(OLD) - 'seq' - 'leaf_hash' - 'columns_md5' THEN
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
"""


def guard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GUARD, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0004_changes_in_body'),
    ]

    operations = [
        migrations.AddField(
            model_name='auditbatch',
            name='columns_root',
            field=models.BinaryField(default=b'', max_length=32),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='auditevent',
            name='columns_md5',
            field=models.BinaryField(blank=True, max_length=16, null=True),
        ),
        migrations.RunPython(guard, migrations.RunPython.noop),
    ]
