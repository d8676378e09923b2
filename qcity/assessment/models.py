"""The annual assessment (市级质量工作考核): a scheme of weighted criteria per plan and year,
the scores it computes per unit, manual adjustments (加减分) and the ranking.

A scheme moves through ``SCHEME`` (assessment.services): 草稿 → 已计算 → 已发布, with
修订 (back to draft) and 重新开启 (published → computed, with a reason). Until it is
published only the plan's coordinators see it; once published every internal user reads
the ranking and each unit the details of its own scores (ADR 0025).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from qcity.core.models import OrgUnit
from qcity.plans.models import PLAN_READERS, Plan


class Rule(models.TextChoices):
    """How a criterion is scored: a registry (assessment.rules) keyed by these codes."""

    COMPLETENESS = "completeness", _("报送完成率")
    TIMELINESS = "timeliness", _("按时报送率")
    TARGETS_ACHIEVED = "targets_achieved", _("目标达成率")
    QUALITATIVE = "qualitative", _("综合评价（人工评分）")
    REPORT_QUALITY = "report_quality", _("报告一次通过率")


class AppliesTo(models.TextChoices):
    BOTH = "both", _("部门和县（市）区")
    DEPARTMENTS = "departments", _("仅市直部门")
    COUNTIES = "counties", _("仅县（市）区")


class Group(models.TextChoices):
    """The two rankings: city departments and counties are ranked separately."""

    DEPARTMENT = "department", _("市直部门")
    COUNTY = "county", _("县（市）区")


def _published_or_owner(units: models.QuerySet[OrgUnit], prefix: str = "") -> Q:
    # The plan's coordinators see the scheme in every state; every internal user whose
    # scope holds a unit reads it once published (the ranking is an internal notice).
    return Q(**{f"{prefix}plan__owner_unit__in": units}) | (
        Q(**{f"{prefix}status": Scheme.Status.PUBLISHED}) & Q(Exists(units))
    )


def _own_unit_q(units: models.QuerySet[OrgUnit]) -> Q:
    # The assessed unit is a department or a county; a user of the unit or of a unit
    # below it (a county's bureau, a department's institution) reads its details.
    return Q(Exists(units.filter(path__startswith=OuterRef("unit__path"))))


class Scheme(models.Model):
    """One year's assessment of the units responsible for one plan."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        COMPUTED = "computed", _("已计算")
        PUBLISHED = "published", _("已发布")

    plan = models.ForeignKey(
        Plan, on_delete=models.PROTECT, related_name="assessments", verbose_name=_("实施方案")
    )
    year = models.PositiveIntegerField(_("考核年度"))
    title = models.CharField(_("名称"), max_length=100)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    computed_at = models.DateTimeField(_("计算时间"), null=True, blank=True)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("考核方案")
        verbose_name_plural = _("考核方案")
        ordering = ["-year", "plan"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "year"], name="assessment_plan_year_unique")
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def editable(self) -> bool:
        """Criteria change only in a draft; scores and adjustments until publication."""
        return self.status == self.Status.DRAFT

    @property
    def open_for_scoring(self) -> bool:
        return self.status != self.Status.PUBLISHED

    @classmethod
    def scope_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        return _published_or_owner(units)

    @classmethod
    def scope_self_q(cls, user) -> Q:
        # Inspectors are internal staff: they read a published ranking; enterprises not.
        if getattr(user, "role", None) in PLAN_READERS:
            return Q(status=cls.Status.PUBLISHED)
        return Q(pk__in=[])

    @classmethod
    def scope_write_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        return Q(plan__owner_unit__in=units)

    @classmethod
    def scope_self_write_q(cls, user) -> Q:
        return Q(pk__in=[])


class SchemeRowScope:
    """Rows of a scheme (criteria, ranking lines) are read exactly like their scheme."""

    @classmethod
    def scope_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        return _published_or_owner(units, "scheme__")

    @classmethod
    def scope_self_q(cls, user) -> Q:
        if getattr(user, "role", None) in PLAN_READERS:
            return Q(scheme__status=Scheme.Status.PUBLISHED)
        return Q(pk__in=[])

    @classmethod
    def scope_write_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        return Q(scheme__plan__owner_unit__in=units)


class UnitDetailScope:
    """A unit's details (scores, comments, adjustments): the plan's coordinators, and the
    assessed unit itself once the scheme is published. ``scheme_path`` leads to the scheme."""

    scheme_path = "scheme__"

    @classmethod
    def scope_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        at = cls.scheme_path
        return Q(**{f"{at}plan__owner_unit__in": units}) | (
            Q(**{f"{at}status": Scheme.Status.PUBLISHED}) & _own_unit_q(units)
        )

    @classmethod
    def scope_self_q(cls, user) -> Q:
        return Q(pk__in=[])

    @classmethod
    def scope_write_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        return Q(**{f"{cls.scheme_path}plan__owner_unit__in": units})


class Criterion(SchemeRowScope, models.Model):
    """One weighted criterion of a scheme (完成率 25, 及时率 25 …)."""

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="criteria")
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)
    name = models.CharField(_("考核指标"), max_length=50)
    rule = models.CharField(_("计分规则"), max_length=20, choices=Rule.choices)
    # The criterion's share of the 100-point total; the weights of the criteria that
    # apply to one kind of unit sum to 100 (assessment.services.set_criteria checks).
    weight = models.DecimalField(_("权重（分）"), max_digits=6, decimal_places=2)
    # The scale of the raw score: a rate in percent is out of 100; the coordinator's
    # qualitative score is entered out of this many points.
    max_points = models.DecimalField(_("满分"), max_digits=6, decimal_places=2, default=100)
    applies_to = models.CharField(
        _("适用单位"), max_length=12, choices=AppliesTo.choices, default=AppliesTo.BOTH
    )

    class Meta:
        verbose_name = _("考核指标")
        verbose_name_plural = _("考核指标")
        ordering = ["scheme", "order", "pk"]

    def __str__(self) -> str:
        return f"{self.name}（{self.weight.normalize():f}）"

    def applies(self, group: str) -> bool:
        return (
            self.applies_to == AppliesTo.BOTH
            or (self.applies_to == AppliesTo.DEPARTMENTS and group == Group.DEPARTMENT)
            or (self.applies_to == AppliesTo.COUNTIES and group == Group.COUNTY)
        )


class Result(SchemeRowScope, models.Model):
    """One unit's line in the ranking: computed total, adjustments, final total, rank."""

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="results")
    unit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("被考核单位")
    )
    group = models.CharField(_("排名类别"), max_length=10, choices=Group.choices)
    computed = models.DecimalField(_("计算得分"), max_digits=8, decimal_places=2)
    adjustment = models.DecimalField(_("加减分"), max_digits=8, decimal_places=2, default=0)
    total = models.DecimalField(_("总分"), max_digits=8, decimal_places=2)
    rank = models.PositiveIntegerField(_("名次"))
    # Weights of the criteria that had inputs for this unit (the total is rescaled to 100
    # over them: a criterion without inputs neither earns nor costs points).
    applicable_weight = models.DecimalField(_("适用权重"), max_digits=6, decimal_places=2)

    class Meta:
        verbose_name = _("考核结果")
        verbose_name_plural = _("考核结果")
        ordering = ["scheme", "group", "rank", "unit__path"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "unit"], name="assessment_result_unique")
        ]

    def __str__(self) -> str:
        return f"{self.unit.name} {self.total}"


class Score(UnitDetailScope, models.Model):
    """One unit's score on one criterion, with the inputs a reader can check it by."""

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="scores")
    criterion = models.ForeignKey(Criterion, on_delete=models.CASCADE, related_name="scores")
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    # ratio = numerator ÷ denominator (a qualitative score: points ÷ max points);
    # no ratio: the criterion had no input for the unit (不适用 / 待评分).
    numerator = models.DecimalField(_("分子"), max_digits=12, decimal_places=2, null=True)
    denominator = models.DecimalField(_("分母"), max_digits=12, decimal_places=2, null=True)
    ratio = models.DecimalField(_("比率"), max_digits=9, decimal_places=6, null=True)
    points = models.DecimalField(_("得分"), max_digits=8, decimal_places=2, null=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("单项得分")
        verbose_name_plural = _("单项得分")
        ordering = ["scheme", "unit__path", "criterion__order", "criterion_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["scheme", "criterion", "unit"], name="assessment_score_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.unit.name} {self.criterion.name}：{self.points}"


class QualitativeScore(UnitDetailScope, models.Model):
    """The coordinator's score for a ``qualitative`` criterion, with a comment."""

    scheme_path = "criterion__scheme__"

    criterion = models.ForeignKey(
        Criterion, on_delete=models.CASCADE, related_name="qualitative_scores"
    )
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    points = models.DecimalField(_("评分"), max_digits=6, decimal_places=2)
    comment = models.CharField(_("评语"), max_length=500)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    entered_at = models.DateTimeField(_("评分时间"))

    class Meta:
        verbose_name = _("综合评价评分")
        verbose_name_plural = _("综合评价评分")
        constraints = [
            models.UniqueConstraint(
                fields=["criterion", "unit"], name="assessment_qualitative_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.unit.name} {self.criterion.name}：{self.points}"


class Adjustment(UnitDetailScope, models.Model):
    """A manual addition or deduction (加减分) with its reason; kept across recomputes."""

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="adjustments")
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    points = models.DecimalField(_("加减分"), max_digits=6, decimal_places=2)
    reason = models.CharField(_("理由"), max_length=500)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("时间"))

    class Meta:
        verbose_name = _("加减分")
        verbose_name_plural = _("加减分")
        ordering = ["scheme", "unit", "created_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(points=0), name="assessment_adjustment_nonzero"),
        ]

    def __str__(self) -> str:
        return f"{self.unit.name} {self.points:+}"
