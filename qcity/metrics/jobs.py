"""The indicators' scheduled job (core.jobs): registered from ``MetricsConfig.ready``."""

from __future__ import annotations

from django_tasks import task

from qcity.core import jobs


@task()
def recompute_indicators() -> dict[str, int]:
    """Every calculated indicator for its current period, once a day (idempotent)."""
    from qcity.metrics import services

    result = services.recompute_indicators()
    return {
        "stored": result.stored,
        "unchanged": result.unchanged,
        "rejected": len(result.rejected),
    }


def register() -> None:
    jobs.periodic("metrics.recompute_indicators", recompute_indicators, hours=24)
