# Named 0005 by the integration plan; the integrator chains it after the other branches' 0004.

import uuid

from django.db import migrations, models


def create_version_row(apps, schema_editor):
    # The row exists from the start so bump_version() is always a single UPDATE.
    CalendarVersion = apps.get_model("core", "CalendarVersion")
    CalendarVersion.objects.get_or_create(pk=1, defaults={"version": 1, "stamp": uuid.uuid4().hex})


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0004_audit_chain'),
    ]

    operations = [
        migrations.CreateModel(
            name='CalendarVersion',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('version', models.PositiveBigIntegerField(default=0, verbose_name='日历版本')),
                ('stamp', models.CharField(blank=True, max_length=32, verbose_name='版本标记')),
                ('changed_at', models.DateTimeField(blank=True, null=True, verbose_name='修改时间')),
            ],
            options={
                'verbose_name': '日历版本',
                'verbose_name_plural': '日历版本',
                'constraints': [models.CheckConstraint(condition=models.Q(('pk', 1)), name='calendar_version_single_row')],
            },
        ),
        migrations.RunPython(create_version_row, migrations.RunPython.noop),
    ]
