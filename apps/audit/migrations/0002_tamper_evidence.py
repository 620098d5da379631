"""Tamper evidence: canonical bodies, sealing columns, batches, checkpoints and archives.

Entries recorded before this migration get their canonical body here (timestamps cut to
milliseconds, as new entries are), so the sealer chains them like any other.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def backfill_bodies(apps, schema_editor):
    from apps.audit.merkle import canonical_body
    from apps.audit.services import format_ts

    AuditEvent = apps.get_model("audit", "AuditEvent")
    for event in AuditEvent.objects.filter(body="").order_by("id").iterator():
        created = event.created_at.replace(microsecond=event.created_at.microsecond // 1000 * 1000)
        actor_type = "user" if event.actor_id else "system"
        fields = {
            "v": 1,
            "ts": format_ts(created),
            "actor_type": actor_type,
            "actor_id": event.actor_id,
            "actor_repr": event.actor_repr,
            "ip": event.ip,
            "request_id": event.request_id,
            "action": event.action,
            "target_type": event.target_type,
            "target_id": event.target_id,
            "target_repr": event.target_repr,
            "scope": event.scope,
            "outcome": event.outcome,
            "changes": event.changes,
        }
        AuditEvent.objects.filter(pk=event.pk).update(
            created_at=created, actor_type=actor_type, body=canonical_body(fields)
        )


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='AuditArchive',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField()),
                ('first_seq', models.BigIntegerField()),
                ('last_seq', models.BigIntegerField()),
                ('last_batch', models.BigIntegerField()),
                ('entries', models.BigIntegerField()),
                ('path', models.CharField(max_length=500)),
                ('sha256', models.CharField(max_length=64)),
            ],
            options={
                'ordering': ['-last_seq'],
            },
        ),
        migrations.CreateModel(
            name='AuditBatch',
            fields=[
                ('id', models.BigIntegerField(primary_key=True, serialize=False)),
                ('first_seq', models.BigIntegerField(unique=True)),
                ('last_seq', models.BigIntegerField(unique=True)),
                ('root', models.BinaryField(max_length=32)),
                ('prev_hash', models.BinaryField(max_length=32)),
                ('hash', models.BinaryField(max_length=32)),
                ('sealed_at', models.DateTimeField()),
            ],
            options={
                'ordering': ['id'],
            },
        ),
        migrations.CreateModel(
            name='AuditCheckpoint',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField()),
                ('batch', models.BigIntegerField()),
                ('last_seq', models.BigIntegerField()),
                ('head_hash', models.BinaryField(max_length=32)),
                ('key_id', models.CharField(max_length=16)),
                ('signature', models.BinaryField(max_length=64)),
            ],
            options={
                'ordering': ['-id'],
            },
        ),
        migrations.AlterModelOptions(
            name='auditevent',
            options={'ordering': ['-created_at', '-id'], 'permissions': [('export_auditevent', 'Can export audit events')]},
        ),
        migrations.AddField(
            model_name='auditevent',
            name='actor_type',
            field=models.CharField(choices=[('user', 'User'), ('service', 'Service'), ('system', 'System'), ('anonymous', 'Anonymous')], default='system', max_length=16),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='auditevent',
            name='body',
            field=models.TextField(default=''),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='auditevent',
            name='leaf_hash',
            field=models.BinaryField(blank=True, max_length=32, null=True),
        ),
        migrations.AddField(
            model_name='auditevent',
            name='seq',
            field=models.BigIntegerField(blank=True, null=True, unique=True),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='action',
            field=models.CharField(db_index=True, max_length=80),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='actor',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['actor_repr', 'created_at'], name='audit_actor_idx'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(condition=models.Q(('seq__isnull', True)), fields=['id'], name='audit_unsealed_idx'),
        ),
        migrations.RunPython(backfill_bodies, migrations.RunPython.noop),
    ]
