from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplaintsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "qcity.complaints"
    verbose_name = _("12315投诉举报")

    def ready(self) -> None:
        from qcity.complaints import escalation, odr

        escalation.register()

        # ODR cases past their period go back to the bureau (core.jobs timer, ADR 0039).
        odr.register()
