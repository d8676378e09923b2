from django.db import migrations

from qcity.core.dbguards import install_audit_guards, remove_audit_guards


def install(apps, schema_editor):
    install_audit_guards(schema_editor.connection)


def remove(apps, schema_editor):
    remove_audit_guards(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunPython(install, remove)]
