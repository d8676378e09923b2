from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "qcity.core"
    label = "core"
    verbose_name = "基础平台"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate, pre_migrate

        from qcity import deploy  # noqa: F401  (registers the production start-up check)
        from qcity.core import (  # noqa: F401  (registers checks, connects receivers)
            checks,
            jobs,
            signals,
        )

        pre_migrate.connect(_lift_audit_guards, sender=self)
        post_migrate.connect(_reinstall_audit_guards, sender=self)


def _lift_audit_guards(sender, using: str = "default", **kwargs) -> None:
    # SQLite rebuilds a table for most schema changes; the head's trigger names the
    # event table, so a rebuild under the guards fails. Migrations run without them.
    from django.db import connections

    from qcity.core.dbguards import remove_audit_guards

    remove_audit_guards(connections[using])


def _reinstall_audit_guards(sender, using: str = "default", **kwargs) -> None:
    # ...and get them back after every migrate (a rebuilt table has lost its triggers).
    from django.db import connections

    from qcity.core.dbguards import install_audit_guards

    install_audit_guards(connections[using])
