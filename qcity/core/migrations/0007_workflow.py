"""The workflow history table, and OrgUnit.status for the unit-confirmation workflow.

Existing units get a status derived from what was stored before: ``confirmed`` units
are confirmed; an unconfirmed unit whose name is now an alias of another unit was
mapped (map_unit wrote that alias and disabled it); any other is still unconfirmed.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models




def derive_status(apps, schema_editor):
    OrgUnit = apps.get_model("core", "OrgUnit")
    UnitAlias = apps.get_model("core", "UnitAlias")
    OrgUnit.objects.filter(confirmed=True).update(status="confirmed")
    unconfirmed = OrgUnit.objects.filter(confirmed=False)
    mapped_names = UnitAlias.objects.filter(name__in=unconfirmed.values("name")).values("name")
    unconfirmed.update(status="unconfirmed")
    unconfirmed.filter(name__in=mapped_names, disabled_on__isnull=False).update(status="mapped")


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('core', '0005_calendar_versions'),
    ]

    operations = [
        migrations.CreateModel(
            name='Transition',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('object_id', models.CharField(max_length=64)),
                ('workflow', models.CharField(max_length=100, verbose_name='流程')),
                ('step', models.CharField(max_length=50, verbose_name='步骤')),
                ('from_state', models.CharField(max_length=50, verbose_name='原状态')),
                ('to_state', models.CharField(max_length=50, verbose_name='新状态')),
                ('time', models.DateTimeField(verbose_name='时间')),
                ('reason', models.TextField(blank=True, verbose_name='理由')),
                ('details', models.JSONField(blank=True, default=dict)),
                ('deadline_due', models.DateField(blank=True, null=True, verbose_name='办理期限')),
                ('deadline_rule', models.CharField(blank=True, max_length=100, verbose_name='期限依据')),
                ('deadline_calendar_version', models.CharField(blank=True, max_length=64)),
                ('deadline_provisional', models.BooleanField(default=False)),
            ],
            options={
                'verbose_name': '流转记录',
                'verbose_name_plural': '流转记录',
                'ordering': ['time', 'pk'],
            },
        ),
        migrations.AddField(
            model_name='orgunit',
            name='status',
            field=models.CharField(choices=[('unconfirmed', '待确认'), ('confirmed', '已确认'), ('mapped', '已映射')], default='confirmed', editable=False, max_length=20, verbose_name='确认状态'),
        ),
        migrations.RunPython(derive_status, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='orgunit',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('confirmed', True), ('status', 'confirmed')), models.Q(('confirmed', False), ('status__in', ['unconfirmed', 'mapped'])), _connector='OR'), name='orgunit_status_matches_confirmed'),
        ),
        migrations.AddField(
            model_name='transition',
            name='actor',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='transition',
            name='content_type',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='contenttypes.contenttype'),
        ),
        migrations.AddIndex(
            model_name='transition',
            index=models.Index(fields=['content_type', 'object_id', 'time'], name='core_transi_content_b6fbb8_idx'),
        ),
    ]
