"""The name index of the entity register (ADR 0030): bigrams, GIN on PostgreSQL, FTS5 on SQLite."""

from django.db import migrations


def forwards(apps, schema_editor):
    from qcity.registry.search import create_index

    create_index(schema_editor)


def backwards(apps, schema_editor):
    from qcity.registry.search import drop_index

    drop_index(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
