"""The reports' events that keep the dashboard's counts true at once (ADR 0023)."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save

from qcity.dashboard import services


def report_saved(sender, instance, created: bool = False, **kwargs) -> None:
    # In the transaction of the save itself: a rolled-back step leaves the counts as
    # they were, a committed one is counted before anyone can read it. Only the unit's
    # rows: closing a cycle locks its reports one save at a time.
    services.refresh_unit(instance, created=created)


def report_deleted(sender, instance, **kwargs) -> None:
    services.refresh_cycle(instance.cycle_id)


def connect() -> None:
    from qcity.reporting.models import ProgressReport

    post_save.connect(report_saved, sender=ProgressReport, dispatch_uid="dashboard.report_saved")
    post_delete.connect(
        report_deleted, sender=ProgressReport, dispatch_uid="dashboard.report_deleted"
    )
