"""Reporting cycles and progress reports: how the plan's responsible units report on it.

A cycle (月报/季报/半年报/年报) of one plan gives every responsible unit one report per
measure it is responsible for. A report moves through ``REPORT`` (reporting.services):
草稿 → 已报送 → (县区初审通过) → 审核通过 → 已锁定, with 退回 → 重新报送 in between.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from qcity.core.models import OrgUnit
from qcity.plans.models import Measure, Plan, PlanTextScope
from qcity.reporting.periods import Frequency


class ReportingCycle(PlanTextScope, models.Model):
    """One reporting period of one plan, with its due date in working days."""

    class Status(models.TextChoices):
        OPEN = "open", _("报送中")
        CLOSED = "closed", _("已关闭")

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="cycles")
    frequency = models.CharField(_("报送频次"), max_length=12, choices=Frequency.choices)
    year = models.PositiveIntegerField(_("年度"))
    period = models.PositiveSmallIntegerField(_("期数"))
    label = models.CharField(_("报送期"), max_length=40)
    period_start = models.DateField(_("期间开始"))
    period_end = models.DateField(_("期间结束"))
    # The due date is a count of working days after the period ends, kept with the rule
    # and the calendar version it was computed from (core.workdays.deadline).
    due_workdays = models.PositiveSmallIntegerField(_("报送时限（工作日）"))
    due_date = models.DateField(_("截止日期"))
    due_rule = models.CharField(max_length=100, blank=True)
    due_calendar_version = models.CharField(max_length=20, blank=True)
    due_provisional = models.BooleanField(_("暂定"), default=False)
    # A report first submitted by this day counts as on time (timeliness rate).
    on_time_workdays = models.PositiveSmallIntegerField(_("按时报送时限（工作日）"))
    on_time_by = models.DateField(_("按时报送截止"))
    reminder_workdays = models.PositiveSmallIntegerField(_("截止前提醒（工作日）"), default=3)
    escalation_workdays = models.PositiveSmallIntegerField(_("逾期督办间隔（工作日）"), default=2)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.OPEN)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    opened_at = models.DateTimeField(_("开启时间"))
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("报送周期")
        verbose_name_plural = _("报送周期")
        ordering = ["plan", "-period_start", "frequency"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "frequency", "year", "period"], name="cycle_plan_period_unique"
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")),
                name="cycle_period_ordered",
            ),
        ]
        indexes = [models.Index(fields=["plan", "status"], name="cycle_plan_status")]

    def __str__(self) -> str:
        return f"{self.label}{self.get_frequency_display()}"

    @classmethod
    def scope_write_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        # Opening and closing cycles is the plan owner's work; everyone reads them.
        return Q(plan__owner_unit__in=units)


class Progress(models.TextChoices):
    """What the unit says about its measure this period (typed by the unit, by design)."""

    ON_TRACK = "on_track", _("按计划推进")
    AT_RISK = "at_risk", _("存在风险")
    BLOCKED = "blocked", _("受阻")
    DONE = "done", _("已完成")


class ProgressReport(models.Model):
    """One unit's report on one measure for one cycle."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        SUBMITTED = "submitted", _("已报送")
        COUNTY_APPROVED = "county_approved", _("县区初审通过")
        RETURNED = "returned", _("已退回")
        RESUBMITTED = "resubmitted", _("重新报送")
        APPROVED = "approved", _("审核通过")
        LOCKED = "locked", _("已锁定")

    cycle = models.ForeignKey(ReportingCycle, on_delete=models.PROTECT, related_name="reports")
    measure = models.ForeignKey(Measure, on_delete=models.PROTECT, related_name="reports")
    org_unit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="reports", verbose_name=_("报送单位")
    )
    is_lead = models.BooleanField(_("牵头"), default=False)
    # The county bureau that approves first when the unit lies in a county (DHIS2's
    # bottom-up approval); empty when the city reviews directly.
    county_review_unit = models.ForeignKey(
        OrgUnit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("县区初审单位"),
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    progress = models.CharField(_("推进情况"), max_length=10, choices=Progress.choices, blank=True)
    narrative = models.TextField(_("进展情况"), blank=True)
    # [{"name": "抽检批次", "value": "1200", "unit": "批次"}]: the unit's key figures.
    figures = models.JSONField(_("关键数据"), default=list, blank=True)
    # The deadline of whoever must act next (the unit, then the reviewer).
    due_date = models.DateField(_("办理时限"), null=True, blank=True)
    first_submitted_at = models.DateTimeField(_("首次报送时间"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("最近报送时间"), null=True, blank=True)
    on_time = models.BooleanField(_("按时报送"), null=True, blank=True)
    approved_at = models.DateTimeField(_("审核通过时间"), null=True, blank=True)
    return_count = models.PositiveSmallIntegerField(_("退回次数"), default=0)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("进展报告")
        verbose_name_plural = _("进展报告")
        ordering = ["cycle", "measure__seq", "-is_lead", "org_unit__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["cycle", "measure", "org_unit"], name="report_cycle_measure_unit_unique"
            )
        ]
        indexes = [
            models.Index(fields=["org_unit", "cycle"], name="report_unit_cycle"),
            models.Index(fields=["cycle", "status"], name="report_cycle_status"),
            models.Index(fields=["county_review_unit", "status"], name="report_county_status"),
        ]

    def __str__(self) -> str:
        return f"{self.cycle.label} {self.measure.number} {self.org_unit.name}"

    # States in which the unit still writes the report.
    EDITABLE = frozenset({Status.DRAFT, Status.RETURNED})
    # States in which the report has reached the reviewer (received, for completeness).
    RECEIVED = frozenset(
        {
            Status.SUBMITTED,
            Status.COUNTY_APPROVED,
            Status.RESUBMITTED,
            Status.APPROVED,
            Status.LOCKED,
        }
    )

    @property
    def editable(self) -> bool:
        return self.status in self.EDITABLE and self.cycle.status == ReportingCycle.Status.OPEN

    @classmethod
    def scope_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        # A unit sees its own reports, a county bureau those it approves first, the plan's
        # owner every report of its plan. All three are single-valued foreign keys.
        return (
            Q(org_unit__in=units)
            | Q(county_review_unit__in=units)
            | Q(cycle__plan__owner_unit__in=units)
        )

    @classmethod
    def scope_self_q(cls, user) -> Q:
        # 仅本人 (inspectors, enterprises) has no reports of its own.
        return Q(pk__in=[])
