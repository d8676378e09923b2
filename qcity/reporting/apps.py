from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "qcity.reporting"
    verbose_name = _("进展报送")

    def ready(self) -> None:
        from qcity.reporting import jobs

        # Reminders and escalations (core.jobs timers) and the recomputation of
        # provisional due dates when a year's holidays are entered (ADR 0026).
        jobs.register()
