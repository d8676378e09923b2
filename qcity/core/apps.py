from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "qcity.core"
    label = "core"
    verbose_name = "基础平台"

    def ready(self) -> None:
        from qcity import deploy  # noqa: F401  (registers the production start-up check)
        from qcity.core import signals  # noqa: F401  (connects auth audit receivers)
