from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InspectionsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "qcity.inspections"
    verbose_name = _("双随机、一公开")

    def ready(self) -> None:
        # Indicators computed from inspections (ADR 0031): metrics imports no app; we come to it.
        from qcity.inspections import calculators

        calculators.register_all()
