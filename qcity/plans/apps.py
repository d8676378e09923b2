from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "qcity.plans"
    label = "plans"
    verbose_name = "质量强市实施方案"
