"""The draw's index: each risk class's codes in bytewise order, covering (inspections.draw).

On PostgreSQL ``code`` is indexed with COLLATE "C" (bytewise, the order population.csv
uses), so an index-only scan hands each stratum over already sorted, whatever the
database's own collation; SQLite's default BINARY collation is bytewise already.
"""

from django.db import migrations, models

NAME = "entity_status_class_code"


def create(apps, schema_editor):
    code = 'code COLLATE "C"' if schema_editor.connection.vendor == "postgresql" else "code"
    schema_editor.execute(
        f"CREATE INDEX {NAME} ON registry_marketentity (status, risk_class, {code})"
    )


def drop(apps, schema_editor):
    schema_editor.execute(f"DROP INDEX {NAME}")


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0002_search"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(create, drop)],
            state_operations=[
                migrations.AddIndex(
                    model_name="marketentity",
                    index=models.Index(fields=["status", "risk_class", "code"], name=NAME),
                ),
            ],
        ),
    ]
