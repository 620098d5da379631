"""Trigram indexes so catalog search (case-insensitive substring) stays fast at 100k datasets.

PostgreSQL only (pg_trgm); on SQLite, the embedded default, search scans, which is fine at demo size.
The expressions match what Django emits for ``icontains``: ``UPPER(col::text) LIKE UPPER(%s)``.
"""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS dataset_fqn_trgm ON catalog_dataset "
    "USING gin (UPPER(fqn::text) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS dataset_description_trgm ON catalog_dataset "
    "USING gin (UPPER(description::text) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS column_name_trgm ON catalog_column "
    "USING gin (UPPER(name::text) gin_trgm_ops)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS dataset_fqn_trgm",
    "DROP INDEX IF EXISTS dataset_description_trgm",
    "DROP INDEX IF EXISTS column_name_trgm",
]


def _run(statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for sql in statements:
            schema_editor.execute(sql)

    return apply


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]
    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
