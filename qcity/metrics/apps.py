from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MetricsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "qcity.metrics"
    verbose_name = _("指标")

    def ready(self) -> None:
        from qcity.metrics import jobs

        jobs.register()
