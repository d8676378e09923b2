from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class DashboardConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "qcity.dashboard"
    verbose_name = pgettext_lazy("dashboard", "驾驶舱")

    def ready(self) -> None:
        from qcity.dashboard import jobs, signals

        signals.connect()
        jobs.register()
