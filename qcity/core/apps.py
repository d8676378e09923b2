from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "qcity.core"
    label = "core"
    verbose_name = "基础平台"

    def ready(self) -> None:
        from qcity.core import checks, signals  # noqa: F401  (registers checks, connects receivers)
