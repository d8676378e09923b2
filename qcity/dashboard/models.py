"""What the dashboard precomputes (ADR 0023).

Per (reporting cycle, reporting unit): how many reports the unit owes for that cycle,
how many it has sent, how many on time (``UnitCycleCount``); per (cycle, unit, chapter)
also how the sent ones rate their progress (``ChapterCycleCount``). The rows are a pure function of the progress reports:
``dashboard.services.refresh_cycle`` rebuilds a cycle's rows from them, so the rows can
always be thrown away and rebuilt (``qcity refresh_dashboard``). The dashboard reads
only these rows for its counts, whatever the number of years of reports.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import pgettext_lazy

from qcity.core.models import OrgUnit


class _Counts(models.Model):
    """What both count tables share: whose reports, in which cycle, and the scope rule."""

    cycle = models.ForeignKey(
        "reporting.ReportingCycle",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=pgettext_lazy("dashboard", "报送周期"),
    )
    # Copied from the cycle (which never changes plan), so that a plan's rows need no join.
    plan = models.ForeignKey(
        "plans.Plan",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=pgettext_lazy("dashboard", "实施方案"),
    )
    org_unit = models.ForeignKey(
        OrgUnit,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=pgettext_lazy("dashboard", "单位"),
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
    expected = models.PositiveIntegerField(pgettext_lazy("dashboard", "应报"), default=0)
    received = models.PositiveIntegerField(pgettext_lazy("dashboard", "已报"), default=0)
    refreshed_at = models.DateTimeField(pgettext_lazy("dashboard", "计算时间"))

    class Meta:
        abstract = True

    @classmethod
    def scope_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        # As the reports they count: a unit sees its own, the county bureau those it
        # pre-approves, the plan's owner every unit's. Each term a column of this table
        # against a subquery (no join), so that both databases can answer the OR from
        # indexes (a liaison's rows out of years of rows) instead of scanning the plan's.
        from qcity.plans.models import Plan

        owned = Plan.objects.filter(owner_unit__in=units).values("pk")
        return Q(org_unit__in=units) | Q(review_unit__in=units) | Q(plan__in=owned)


class UnitCycleCount(_Counts):
    """Per (cycle, unit): completeness and timeliness, the heat map and the trend."""

    on_time = models.PositiveIntegerField(pgettext_lazy("dashboard", "按时报送"), default=0)
    approved = models.PositiveIntegerField(pgettext_lazy("dashboard", "已审核"), default=0)

    class Meta:
        verbose_name = pgettext_lazy("dashboard", "报送统计")
        verbose_name_plural = pgettext_lazy("dashboard", "报送统计")
        # Not unique: a cycle's rows are only ever replaced all together (services).
        indexes = [
            models.Index(fields=["cycle", "org_unit"], name="unitcount_cycle_unit"),
            models.Index(fields=["org_unit", "plan"], name="unitcount_unit_plan"),
        ]

    def __str__(self) -> str:
        return f"{self.cycle_id}/{self.org_unit_id}: {self.received}/{self.expected}"


class ChapterCycleCount(_Counts):
    """Per (cycle, unit, chapter): how the sent reports rate their progress."""

    chapter = models.ForeignKey(
        "plans.Chapter",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=pgettext_lazy("dashboard", "章节"),
    )
    on_track = models.PositiveIntegerField(pgettext_lazy("dashboard", "按计划推进"), default=0)
    at_risk = models.PositiveIntegerField(pgettext_lazy("dashboard", "存在风险"), default=0)
    blocked = models.PositiveIntegerField(pgettext_lazy("dashboard", "受阻"), default=0)
    done = models.PositiveIntegerField(pgettext_lazy("dashboard", "已完成"), default=0)

    class Meta:
        verbose_name = pgettext_lazy("dashboard", "章节报送统计")
        verbose_name_plural = pgettext_lazy("dashboard", "章节报送统计")
        indexes = [
            models.Index(fields=["cycle", "org_unit"], name="chaptercount_cycle_unit"),
        ]

    def __str__(self) -> str:
        return f"{self.cycle_id}/{self.org_unit_id}/{self.chapter_id}: {self.received}"


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
