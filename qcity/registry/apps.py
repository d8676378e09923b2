from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "qcity.registry"
    verbose_name = _("检查对象与执法人员名录")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from qcity.registry.search import register_sqlite_functions

        # The SQLite triggers that keep the name index in step call a Python function.
        connection_created.connect(register_sqlite_functions, dispatch_uid="registry_search")
