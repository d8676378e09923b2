"""The plan as the platform runs it: chapters, measures, responsible units, targets."""

from __future__ import annotations

from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from qcity.core.models import OrgUnit


class Plan(models.Model):
    title = models.CharField(_("标题"), max_length=300)
    issuer = models.CharField(_("发布机关"), max_length=100)
    owner_unit = models.ForeignKey(
        OrgUnit,
        on_delete=models.PROTECT,
        related_name="owned_plans",
        verbose_name=_("牵头管理单位"),
    )
    source_name = models.CharField(_("来源文件"), max_length=255, blank=True)
    source_sha256 = models.CharField(max_length=64, blank=True)
    imported_at = models.DateTimeField(_("导入时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("实施方案")
        verbose_name_plural = _("实施方案")
        ordering = ["-imported_at"]
        constraints = [
            models.UniqueConstraint(fields=["issuer", "title"], name="plan_issuer_title_unique")
        ]

    def __str__(self) -> str:
        return self.title

    @classmethod
    def scope_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        # The owning unit sees the plan; so does every unit responsible for one of its
        # measures. Exists(), not a join: a join would repeat the plan once per measure.
        return Q(owner_unit__in=units) | Exists(
            Responsibility.objects.filter(
                measure__plan=OuterRef("pk"), measure__withdrawn=False, org_unit__in=units
            )
        )

    @classmethod
    def scope_write_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        # Being responsible for one measure lets a unit read the plan, not change it.
        return Q(owner_unit__in=units)


class Chapter(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="chapters")
    number = models.PositiveIntegerField(_("序号"))
    heading = models.CharField(_("标题"), max_length=200)

    class Meta:
        verbose_name = _("章节")
        verbose_name_plural = _("章节")
        ordering = ["plan", "number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="chapter_plan_number_unique")
        ]

    def __str__(self) -> str:
        return self.heading

    @classmethod
    def scope_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        # A chapter heading is part of the plan text: visible with its plan.
        return Q(plan__in=Plan.objects.filter(Plan.scope_q(units)))

    @classmethod
    def scope_write_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        return Q(plan__in=Plan.objects.filter(Plan.scope_write_q(units)))


class Measure(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="measures")
    chapter = models.ForeignKey(Chapter, on_delete=models.PROTECT, related_name="measures")
    # Position in the document, unique per plan even when numbering restarts per chapter.
    seq = models.PositiveIntegerField(_("顺序"))
    number = models.PositiveIntegerField(_("编号"))
    title = models.CharField(_("标题"), max_length=300)
    text = models.TextField(_("内容"))
    units_text = models.CharField(_("责任单位原文"), max_length=1000, blank=True)
    withdrawn = models.BooleanField(
        _("已撤销"), default=False, help_text=_("重新导入的文本中已不再有此项措施")
    )

    class Meta:
        verbose_name = _("具体举措")
        verbose_name_plural = _("具体举措")
        ordering = ["plan", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "seq"], name="measure_plan_seq_unique")
        ]

    def __str__(self) -> str:
        return f"{self.number}. {self.title}"

    @property
    def lead_names(self) -> list[str]:
        # Reads the prefetched responsibilities, so a list of measures costs no extra query.
        return [r.written_name for r in self.responsibilities.all() if r.is_lead]

    @classmethod
    def scope_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        # The plan's owner and every responsible unit see (and report on) the measure.
        return Q(plan__owner_unit__in=units) | Exists(
            Responsibility.objects.filter(measure=OuterRef("pk"), org_unit__in=units)
        )


class Responsibility(models.Model):
    # Indexed through Meta.indexes (and the (measure, order) constraint), not one column each.
    measure = models.ForeignKey(
        Measure, on_delete=models.CASCADE, related_name="responsibilities", db_index=False
    )
    org_unit = models.ForeignKey(
        OrgUnit,
        on_delete=models.PROTECT,
        related_name="responsibilities",
        verbose_name=_("单位"),
        db_index=False,
    )
    written_name = models.CharField(_("原文写法"), max_length=100)
    is_lead = models.BooleanField(_("牵头"), default=False)
    order = models.PositiveIntegerField(_("排列顺序"))

    class Meta:
        verbose_name = _("责任分工")
        verbose_name_plural = _("责任分工")
        ordering = ["measure", "order"]
        constraints = [
            models.UniqueConstraint(fields=["measure", "order"], name="responsibility_order_unique")
        ]
        indexes = [
            # Data scope, both ways round and index-only: "the measures of these units"
            # (PostgreSQL's hashed semi-join for a list) and "is this measure one of
            # theirs" (the per-row EXISTS probe, and a single object's lookup).
            models.Index(fields=["org_unit", "measure"], name="responsibility_unit_measure"),
            models.Index(fields=["measure", "org_unit"], name="responsibility_measure_unit"),
        ]

    def __str__(self) -> str:
        return f"{self.measure.number} {self.written_name}"

    @classmethod
    def scope_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        # Who is responsible for a measure is visible with the measure.
        return Q(measure__in=Measure.objects.filter(Measure.scope_q(units)))

    @classmethod
    def scope_write_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        # The division of labour is the plan owner's decision, not the responsible unit's.
        return Q(measure__plan__in=Plan.objects.filter(Plan.scope_write_q(units)))


class Target(models.Model):
    class Comparator(models.TextChoices):
        GE = ">=", "≥"
        LE = "<=", "≤"
        EQ = "=", _("达到")
        GT = ">", ">"
        LT = "<", "<"

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="targets")
    measure = models.ForeignKey(
        Measure,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="targets",
        help_text=_("空表示方案总体目标"),
    )
    seq = models.PositiveIntegerField(_("顺序"))
    indicator_name = models.CharField(_("指标"), max_length=200)
    text = models.CharField(_("目标原文"), max_length=500)
    sentence = models.TextField(_("出处句子"), blank=True)
    value = models.DecimalField(_("目标值"), max_digits=18, decimal_places=4)
    unit = models.CharField(_("单位"), max_length=20, blank=True)
    comparator = models.CharField(_("比较"), max_length=2, choices=Comparator.choices)
    year = models.PositiveIntegerField(_("目标年份"), null=True, blank=True)
    withdrawn = models.BooleanField(_("已撤销"), default=False)
    # Plans point at indicators, never the other way (ADR 0021): set only when the
    # coordinator confirms the link qcity proposes (plans.target_links).
    indicator = models.ForeignKey(
        "metrics.Indicator",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("关联指标"),
    )

    class Meta:
        verbose_name = _("目标")
        verbose_name_plural = _("目标")
        ordering = ["plan", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "seq"], name="target_plan_seq_unique")
        ]

    def __str__(self) -> str:
        return self.text

    @property
    def value_display(self) -> str:
        text = format(self.value.normalize(), "f")
        return text

    @classmethod
    def scope_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        # A plan-wide goal is visible with its plan, a measure's target with its measure:
        # restate neither rule here, reuse them.
        return Q(measure__isnull=True, plan__in=Plan.objects.filter(Plan.scope_q(units))) | Q(
            measure__in=Measure.objects.filter(Measure.scope_q(units))
        )

    @classmethod
    def scope_write_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        # The same composition with the write rules (a measure's is its read rule): a
        # liaison sees the plan-wide goals but changes only its own measures' targets.
        return Q(measure__isnull=True, plan__in=Plan.objects.filter(Plan.scope_write_q(units))) | Q(
            measure__in=Measure.objects.filter(Measure.scope_q(units))
        )
