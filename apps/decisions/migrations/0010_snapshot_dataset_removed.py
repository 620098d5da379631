"""A soft-removed dataset patches the snapshot (its entry and grants dropped, bindings read
again) instead of rebuilding it."""

from django.db import migrations, models

from apps.decisions.changes import install_dataset_removed, remove_dataset_removed


class Migration(migrations.Migration):

    dependencies = [
        ('decisions', '0009_snapshot_dataset_created'),
    ]

    operations = [
        migrations.AlterField(
            model_name='snapshotchange',
            name='kind',
            field=models.CharField(choices=[('any', 'Any'), ('grants_of', 'Grants Of'), ('dataset', 'Dataset'), ('principals', 'Principals'), ('person', 'Person'), ('dataset_removed', 'Dataset Removed')], db_default='any', max_length=16),
        ),
        migrations.RunPython(install_dataset_removed, remove_dataset_removed),
    ]
