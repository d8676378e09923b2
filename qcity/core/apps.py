from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "qcity.core"
    label = "core"
    verbose_name = "基础平台"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from qcity.core import signals  # noqa: F401  (connects auth audit receivers)

        post_migrate.connect(_reinstall_audit_guards, sender=self)


def _reinstall_audit_guards(sender, using: str = "default", **kwargs) -> None:
    # SQLite drops a table's triggers whenever a migration rebuilds the table (any
    # AlterField on an audit table), so the guards are put back after every migrate.
    from django.db import connections

    from qcity.core.dbguards import install_audit_guards

    install_audit_guards(connections[using])
