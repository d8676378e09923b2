from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplaintsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "qcity.complaints"
    verbose_name = _("12315投诉举报")

    def ready(self) -> None:
        from qcity.complaints import retention

        # Encrypted fields for key rotation, and the daily erasure of expired personal data.
        retention.register()
