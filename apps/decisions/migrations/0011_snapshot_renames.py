"""Renaming a person or a group patches the snapshot instead of rebuilding it."""

from django.db import migrations, models

from apps.decisions.changes import install_renames, remove_renames


class Migration(migrations.Migration):

    dependencies = [
        ('decisions', '0010_snapshot_dataset_removed'),
    ]

    operations = [
        migrations.AlterField(
            model_name='snapshotchange',
            name='kind',
            field=models.CharField(choices=[('any', 'Any'), ('grants_of', 'Grants Of'), ('dataset', 'Dataset'), ('principals', 'Principals'), ('person', 'Person'), ('dataset_removed', 'Dataset Removed'), ('group', 'Group')], db_default='any', max_length=16),
        ),
        migrations.RunPython(install_renames, remove_renames),
    ]
