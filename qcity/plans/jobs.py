"""The plan's scheduled jobs (core.jobs): registered from ``PlansConfig.ready``."""

from __future__ import annotations

from django_tasks import task

from qcity.core import jobs


@task()
def purge_expired_uploads() -> int:
    from qcity.plans import services

    return services.purge_expired_uploads()


def register() -> None:
    jobs.periodic("plans.purge_expired_uploads", purge_expired_uploads, hours=1)
