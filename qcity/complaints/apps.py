from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplaintsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "qcity.complaints"
    verbose_name = _("12315投诉举报")

    def ready(self) -> None:
        from qcity.complaints import calculators, disclosure_jobs, escalation, odr, retention

        # Overdue cases are flagged once to their bureau and the city (core.jobs timer).
        escalation.register()
        # ODR cases past their period go back to the bureau (core.jobs timer, ADR 0039).
        odr.register()
        # Indicators computed from complaints: metrics imports no app; we come to it.
        calculators.register_all()
        # 投诉信息公示: the previous month on the first working day (core.jobs timer).
        disclosure_jobs.register()
        # Encrypted fields for key rotation, and the daily erasure of expired personal data.
        retention.register()
