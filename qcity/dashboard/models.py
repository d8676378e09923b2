"""What the dashboard precomputes (ADR 0023).

One row per (reporting cycle, reporting unit, chapter): how many reports the unit owes
in that chapter for that cycle, how many it has sent, how many on time, and how the
sent ones rate their progress. The rows are a pure function of the progress reports:
``dashboard.services.refresh_cycle`` rebuilds a cycle's rows from them, so the rows can
always be thrown away and rebuilt (``qcity refresh_dashboard``). The dashboard reads
only these rows for its counts, whatever the number of years of reports.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import pgettext_lazy

from qcity.core.models import OrgUnit


class UnitCycleCount(models.Model):
    cycle = models.ForeignKey(
        "reporting.ReportingCycle",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=pgettext_lazy("dashboard", "报送周期"),
    )
    org_unit = models.ForeignKey(
        OrgUnit,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=pgettext_lazy("dashboard", "单位"),
    )
    chapter = models.ForeignKey(
        "plans.Chapter",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=pgettext_lazy("dashboard", "章节"),
    )
    # The county bureau that pre-approves this unit's reports (reports' county_review_unit):
    # it sees these rows as it sees those reports.
    review_unit = models.ForeignKey(
        OrgUnit,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=pgettext_lazy("dashboard", "县区预审单位"),
    )
    # Copied from the cycle so that the dashboard's range queries need no join.
    period_end = models.DateField(pgettext_lazy("dashboard", "周期截止"))
    expected = models.PositiveIntegerField(pgettext_lazy("dashboard", "应报"), default=0)
    received = models.PositiveIntegerField(pgettext_lazy("dashboard", "已报"), default=0)
    on_time = models.PositiveIntegerField(pgettext_lazy("dashboard", "按时报送"), default=0)
    approved = models.PositiveIntegerField(pgettext_lazy("dashboard", "已审核"), default=0)
    on_track = models.PositiveIntegerField(pgettext_lazy("dashboard", "按计划推进"), default=0)
    at_risk = models.PositiveIntegerField(pgettext_lazy("dashboard", "存在风险"), default=0)
    blocked = models.PositiveIntegerField(pgettext_lazy("dashboard", "受阻"), default=0)
    done = models.PositiveIntegerField(pgettext_lazy("dashboard", "已完成"), default=0)
    refreshed_at = models.DateTimeField(pgettext_lazy("dashboard", "计算时间"))

    class Meta:
        verbose_name = pgettext_lazy("dashboard", "报送统计")
        verbose_name_plural = pgettext_lazy("dashboard", "报送统计")
        # Not unique: a cycle's rows are only ever replaced all together (services).
        indexes = [
            models.Index(fields=["cycle", "org_unit"], name="unitcyclecount_cycle_unit"),
            # A unit's own rows over the years (a liaison's dashboard).
            models.Index(fields=["org_unit", "period_end"], name="unitcyclecount_unit_end"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.cycle_id}/{self.org_unit_id}/{self.chapter_id}: {self.received}/{self.expected}"
        )

    @classmethod
    def scope_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        # As the reports they count: a unit sees its own, the county bureau those it
        # pre-approves, the plan's owner every unit's.
        return (
            Q(org_unit__in=units) | Q(review_unit__in=units) | Q(cycle__plan__owner_unit__in=units)
        )


class CycleCountState(models.Model):
    """When a cycle's rows were last rebuilt, and from which state of its reports.

    Its row is also the lock that serialises two rebuilds of one cycle (services), taken
    after any report lock, never before one.
    """

    scope_exempt = "bookkeeping of the precomputation: never shown, read only by services"

    cycle = models.OneToOneField(
        "reporting.ReportingCycle",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="+",
        verbose_name=pgettext_lazy("dashboard", "报送周期"),
    )
    refreshed_at = models.DateTimeField(
        pgettext_lazy("dashboard", "计算时间"), null=True, blank=True
    )
    # The reports as they were when counted: how many, and the latest change among them.
    report_count = models.PositiveIntegerField(pgettext_lazy("dashboard", "报告数"), default=0)
    reports_changed_at = models.DateTimeField(
        pgettext_lazy("dashboard", "报告最近变更"), null=True, blank=True
    )

    class Meta:
        verbose_name = pgettext_lazy("dashboard", "报送统计状态")
        verbose_name_plural = pgettext_lazy("dashboard", "报送统计状态")

    def __str__(self) -> str:
        return f"{self.cycle_id}: {self.refreshed_at}"
