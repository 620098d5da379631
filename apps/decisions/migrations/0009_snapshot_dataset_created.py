"""A new live dataset patches the snapshot (its entry alone) instead of rebuilding it."""

from django.db import migrations

from apps.decisions.changes import install_dataset_created, remove_dataset_created


class Migration(migrations.Migration):

    dependencies = [
        ("decisions", "0008_snapshot_person_changes"),
    ]

    operations = [
        migrations.RunPython(install_dataset_created, remove_dataset_created),
    ]
