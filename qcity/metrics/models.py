"""Indicators and their values (design guide §4.5).

An indicator is reference data (disabled, never deleted). Its values are kept per
period and per org unit, with provenance; every change of a value leaves a
revision row. ``metrics`` never imports ``plans``: a plan's target points at an
indicator (``plans.Target.indicator``), not the other way (ADR 0021).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from qcity.core.models import EnabledQuerySet, OrgUnit, ReferenceModel, Role


class Direction(models.TextChoices):
    HIGHER = "higher", _("越高越好")
    LOWER = "lower", _("越低越好")


class PeriodType(models.TextChoices):
    MONTHLY = "monthly", _("月度")
    QUARTERLY = "quarterly", _("季度")
    YEARLY = "yearly", _("年度")


class ValueSource(models.TextChoices):
    MANUAL = "manual", _("手工填报")
    CALCULATOR = "calculator", _("自动计算")


class Indicator(ReferenceModel):
    code = models.CharField(_("指标代码"), max_length=40, unique=True)
    name = models.CharField(_("指标名称"), max_length=200)
    unit = models.CharField(_("计量单位"), max_length=20, blank=True)
    direction = models.CharField(_("方向"), max_length=10, choices=Direction.choices)
    period_type = models.CharField(_("统计周期"), max_length=10, choices=PeriodType.choices)
    owner_unit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="indicators", verbose_name=_("责任单位")
    )
    # Empty: entered by hand by the owning unit; otherwise the code of a calculator
    # that an operational app registers with metrics.calculators.register().
    calculator = models.CharField(_("计算器"), max_length=60, blank=True)
    min_value = models.DecimalField(
        _("允许最小值"), max_digits=18, decimal_places=4, null=True, blank=True
    )
    max_value = models.DecimalField(
        _("允许最大值"), max_digits=18, decimal_places=4, null=True, blank=True
    )
    description = models.TextField(_("说明"), blank=True)

    objects = EnabledQuerySet.as_manager()

    class Meta:
        verbose_name = _("指标")
        verbose_name_plural = _("指标")
        ordering = ["sort_order", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_value__isnull=True)
                | Q(max_value__isnull=True)
                | Q(min_value__lte=models.F("max_value")),
                name="indicator_min_le_max",
                violation_error_message=_("允许最小值不能大于允许最大值。"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.unit}）" if self.unit else self.name

    @property
    def range_display(self) -> str:
        def show(bound: Decimal | None) -> str:
            return "—" if bound is None else format(Decimal(bound).normalize(), "f")

        return f"{show(self.min_value)} ～ {show(self.max_value)}"

    @property
    def source(self) -> str:
        return ValueSource.CALCULATOR if self.calculator else ValueSource.MANUAL

    @classmethod
    def scope_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        # The catalogue is readable by every internal user whatever their unit:
        # who may *enter* values is scope_write_q.
        return Q()

    @classmethod
    def scope_self_q(cls, user) -> Q:
        # Inspectors (仅本人) are internal staff too; enterprises are not.
        return Q() if getattr(user, "role", None) != Role.ENTERPRISE else Q(pk__in=[])

    @classmethod
    def scope_write_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        return Q(owner_unit__in=units)

    @classmethod
    def scope_self_write_q(cls, user) -> Q:
        return Q(pk__in=[])


class IndicatorValue(models.Model):
    indicator = models.ForeignKey(
        Indicator, on_delete=models.PROTECT, related_name="values", verbose_name=_("指标")
    )
    # "2025" (yearly), "2025Q1" (quarterly), "2025-03" (monthly): metrics.periods.
    period = models.CharField(_("统计期"), max_length=7)
    period_end = models.DateField(_("统计期末"))
    org_unit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="indicator_values", verbose_name=_("单位")
    )
    value = models.DecimalField(_("数值"), max_digits=18, decimal_places=4)
    source = models.CharField(_("来源"), max_length=10, choices=ValueSource.choices)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("填报人"),
    )
    entered_at = models.DateTimeField(_("填报时间"))
    # A note beside the evidence files; the files hang off the revision an entry wrote
    # (core.files), since each revision keeps the evidence it was entered with.
    evidence_note = models.TextField(_("佐证说明"), max_length=2000, blank=True)

    class Meta:
        verbose_name = _("指标值")
        verbose_name_plural = _("指标值")
        ordering = ["indicator", "period_end", "org_unit"]
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "period", "org_unit"], name="indicator_value_unique"
            )
        ]
        indexes = [models.Index(fields=["org_unit", "indicator"], name="indvalue_unit_ind")]

    def __str__(self) -> str:
        return f"{self.indicator.name} {self.period} {self.org_unit.name}：{self.value_display}"

    @property
    def value_display(self) -> str:
        return format(Decimal(self.value).normalize(), "f")

    @classmethod
    def scope_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        # A unit sees its own figures and every figure of the indicators it owns.
        return Q(org_unit__in=units) | Q(indicator__owner_unit__in=units)

    @classmethod
    def scope_write_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        # Values are entered by the indicator's owner (the coordinator's 全部 covers all).
        return Q(indicator__owner_unit__in=units)


class IndicatorValueRevision(models.Model):
    """One row per write of a value, the first included: the change history."""

    indicator_value = models.ForeignKey(
        IndicatorValue, on_delete=models.PROTECT, related_name="revisions"
    )
    value = models.DecimalField(_("数值"), max_digits=18, decimal_places=4)
    previous_value = models.DecimalField(
        _("原数值"), max_digits=18, decimal_places=4, null=True, blank=True
    )
    source = models.CharField(_("来源"), max_length=10, choices=ValueSource.choices)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("填报人"),
    )
    entered_at = models.DateTimeField(_("填报时间"))
    evidence_note = models.TextField(_("佐证说明"), max_length=2000, blank=True)

    class Meta:
        verbose_name = _("指标值修改记录")
        verbose_name_plural = _("指标值修改记录")
        ordering = ["indicator_value", "id"]

    def __str__(self) -> str:
        return f"{self.indicator_value_id} → {self.value_display}"

    @property
    def value_display(self) -> str:
        return format(Decimal(self.value).normalize(), "f")

    @property
    def previous_display(self) -> str:
        if self.previous_value is None:
            return ""
        return format(Decimal(self.previous_value).normalize(), "f")

    # A revision (and the evidence files hung on it, served by core.files through this
    # rule) is visible exactly where its value is: the same two conditions, through the
    # value's foreign keys (one row each, so no repeated rows). Inspectors and
    # enterprises (仅本人) see neither: like IndicatorValue, no scope_self_q.
    @classmethod
    def scope_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        return Q(indicator_value__org_unit__in=units) | Q(
            indicator_value__indicator__owner_unit__in=units
        )

    @classmethod
    def scope_write_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        # History is never edited; this only mirrors the value's rule for may_change().
        return Q(indicator_value__indicator__owner_unit__in=units)
