"""The dashboard's scheduled job (core.jobs): registered from ``DashboardConfig.ready``."""

from __future__ import annotations

from django_tasks import task

from qcity.core import jobs


@task()
def refresh_dashboard() -> int:
    """Rebuild every open cycle's counts once a day: a safety net under the report
    events and the check the page makes (idempotent)."""
    from qcity.dashboard import services

    return services.refresh_open_cycles()


def register() -> None:
    jobs.periodic("dashboard.refresh", refresh_dashboard, hours=24)
