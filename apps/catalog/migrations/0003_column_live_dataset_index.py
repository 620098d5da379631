"""A covering index from a live column's id to its dataset, for the catalog's category filter.

"Datasets with a column in category X" maps every matching ``catalog_column_categories`` row
(tens of thousands for a common category at 1M columns) to its column's ``dataset_id``. With
this index each lookup is an index-only probe instead of a heap fetch from the 1M-row table.

PostgreSQL only (partial index with INCLUDE); on SQLite, the embedded default, it is skipped.
"""

from django.db import migrations

FORWARD = [
    "CREATE INDEX IF NOT EXISTS column_live_dataset_idx ON catalog_column (id) "
    "INCLUDE (dataset_id) WHERE removed_at IS NULL",
]
BACKWARD = ["DROP INDEX IF EXISTS column_live_dataset_idx"]


def _run(statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for sql in statements:
            schema_editor.execute(sql)

    return apply


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_search_indexes")]
    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
