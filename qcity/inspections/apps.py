from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InspectionsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "qcity.inspections"
    verbose_name = _("双随机、一公开")

    def ready(self) -> None:
        from qcity.core import files, workdays
        from qcity.inspections import draw, results

        # A draw's population snapshot has no attachment row: keep it from the orphan sweep.
        files.register_keeper(draw.STORAGE_PREFIX, draw.stored_draw_files)
        # Publish and follow-up deadlines computed past the known calendar are 暂定 and
        # are recomputed when the year's holidays are entered (ADR 0012, ADR 0032).
        workdays.register_provisional(results.recompute_provisional)

        # Indicators computed from inspections (ADR 0031): metrics imports no app; we come to it.
        from qcity.inspections import calculators

        calculators.register_all()

        # Reminders of results due for publication, or overdue (core.jobs timer).
        from qcity.inspections import publication_jobs

        publication_jobs.register()
