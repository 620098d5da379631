"""A person deactivated or reactivated patches the snapshot (principals, their grants, the
datasets naming them) instead of rebuilding it; people's updates are compared per row."""

from django.db import migrations, models

from apps.decisions.changes import install_person_triggers, remove_person_triggers


class Migration(migrations.Migration):

    dependencies = [
        ('decisions', '0007_snapshot_principal_changes'),
    ]

    operations = [
        migrations.AlterField(
            model_name='snapshotchange',
            name='kind',
            field=models.CharField(choices=[('any', 'Any'), ('grants_of', 'Grants Of'), ('dataset', 'Dataset'), ('principals', 'Principals'), ('person', 'Person')], db_default='any', max_length=16),
        ),
        migrations.RunPython(install_person_triggers, remove_person_triggers),
    ]
