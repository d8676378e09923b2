from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "qcity.plans"
    label = "plans"
    verbose_name = "质量强市实施方案"

    def ready(self) -> None:
        from qcity.core.references import register_mappable_unit_reference
        from qcity.plans import jobs
        from qcity.plans.models import Plan, Responsibility

        # Both come from names written in the plan text, so they follow a mapped name.
        register_mappable_unit_reference(Responsibility, "org_unit")
        register_mappable_unit_reference(Plan, "owner_unit")
        jobs.register()
