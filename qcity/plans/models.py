"""The plan as the platform runs it: chapters, measures, responsible units, targets."""

from __future__ import annotations

import re

from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from qcity.core.models import OrgUnit, Role

# The plan is a public document: every internal business role reads all of its text
# (ADR 0020). Scope decides what one may change and whose reports one sees, not what
# one may read. Administrators (三员分立: scope 无) and enterprise accounts (their own
# records only) are not readers.
PLAN_READERS = frozenset(
    {Role.COORDINATOR, Role.DEPARTMENT_LIAISON, Role.COUNTY_OFFICER, Role.INSPECTOR, Role.LAB}
)


# Where a shared predicate starts after the subjects: "…和食品抽检合格率稳定在98%以上".
_TARGET_VERB_RE = re.compile(r"稳定在|保持在|保持|达到|不低于|不少于|不超过|超过|实现|零")


def plan_text_q(units: models.QuerySet[OrgUnit]) -> Q:
    """Read rule of the plan's text: anyone whose scope holds a unit reads all of it."""
    return Q(Exists(units))


class PlanTextScope:
    """The read and 仅本人 rules shared by the plan's models; write rules stay per model."""

    @classmethod
    def scope_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        return plan_text_q(units)

    @classmethod
    def scope_self_q(cls, user) -> Q:
        # An inspector (仅本人) reads the plan like everyone else; an enterprise does not.
        return Q() if user.role in PLAN_READERS else Q(pk__in=[])

    @classmethod
    def scope_self_write_q(cls, user) -> Q:
        # Reading is not changing: 仅本人 changes nothing in the plan.
        return Q(pk__in=[])


class Plan(PlanTextScope, models.Model):
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
    def scope_write_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        # Being responsible for one measure lets a unit read the plan, not change it.
        return Q(owner_unit__in=units)


class Chapter(PlanTextScope, models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="chapters")
    number = models.PositiveIntegerField(_("序号"))
    heading = models.CharField(_("标题"), max_length=200)
    label = models.CharField(_("编号原文"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("章节")
        verbose_name_plural = _("章节")
        ordering = ["plan", "number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="chapter_plan_number_unique")
        ]

    def __str__(self) -> str:
        return self.heading

    @property
    def numbering(self) -> str:
        """The chapter's number as the plan writes it: (一), 一、 or 第一部分."""
        return self.label or f"（{self.number}）"

    @classmethod
    def scope_write_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        return Q(plan__in=Plan.objects.filter(Plan.scope_write_q(units)))


class Measure(PlanTextScope, models.Model):
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
    # Set when the coordinator changes the 牵头/配合 units by hand: a re-import then
    # keeps them and says so in its change list (ADR 0020).
    units_edited = models.BooleanField(_("责任单位已手工调整"), default=False)

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
        # The canonical name: the written form is the source text, not the unit's name.
        return [r.org_unit.name for r in self.responsibilities.all() if r.is_lead]

    @classmethod
    def scope_write_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        # The plan's owner and every responsible unit change (and report on) the measure;
        # everyone else only reads it. Exists(), not a join: no repeated rows.
        return Q(plan__owner_unit__in=units) | Exists(
            Responsibility.objects.filter(measure=OuterRef("pk"), org_unit__in=units)
        )


class Responsibility(PlanTextScope, models.Model):
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
    def scope_write_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        # The division of labour is the plan owner's decision, not the responsible unit's.
        return Q(measure__plan__in=Plan.objects.filter(Plan.scope_write_q(units)))


class Target(PlanTextScope, models.Model):
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
    # Empty for a qualitative goal (满意度达到全省平均水平): a person assesses it.
    value = models.DecimalField(_("目标值"), max_digits=18, decimal_places=4, null=True, blank=True)
    unit = models.CharField(_("单位"), max_length=20, blank=True)
    comparator = models.CharField(_("比较"), max_length=2, choices=Comparator.choices, blank=True)
    qualitative = models.BooleanField(
        _("定性目标"), default=False, help_text=_("没有数值，由人评定是否达成")
    )
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
    def phrase(self) -> str:
        """The target as the plan words it (零发生, 稳定在98%以上), not comparator + value.

        The text names the indicator and then what is to be reached; when several
        indicators share one predicate (A和B稳定在98%以上), the predicate is the phrase.
        """
        at = self.text.find(self.indicator_name)
        rest = self.text[at + len(self.indicator_name) :] if at >= 0 and self.indicator_name else ""
        if rest.startswith(("和", "、", "及", "与")):
            verb = _TARGET_VERB_RE.search(rest)
            rest = rest[verb.start() :] if verb else ""
        return rest.strip("，,。；; ") or self.text

    @property
    def value_display(self) -> str:
        if self.value is None:
            return ""
        text = format(self.value.normalize(), "f")
        return text

    @classmethod
    def scope_write_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        # A plan-wide goal is the plan owner's, a measure's target its measure's: reuse
        # both write rules. A liaison reads every goal but changes only its measures'.
        return Q(measure__isnull=True, plan__in=Plan.objects.filter(Plan.scope_write_q(units))) | Q(
            measure__in=Measure.objects.filter(Measure.scope_write_q(units))
        )


def mask_phone(phone: str) -> str:
    """A phone number for someone who does not need it: 138****5678."""
    digits = phone.strip()
    if len(digits) <= 4:
        return "*" * len(digits)
    keep = 3 if len(digits) >= 11 else 1
    return digits[:keep] + "*" * (len(digits) - keep - 4) + digits[-4:]


class SubTask(PlanTextScope, models.Model):
    """A measure split into a piece of work (分解任务): who does what by when."""

    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="subtasks")
    title = models.CharField(_("任务"), max_length=200)
    unit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="subtasks", verbose_name=_("责任单位")
    )
    deadline = models.DateField(_("完成时限"))
    contact_name = models.CharField(_("联系人"), max_length=50)
    # Personal data: shown in full only to those who may change the measure (mask_phone).
    contact_phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    outputs = models.TextField(_("预期成果"), blank=True)
    order = models.PositiveIntegerField(_("排列顺序"), default=0)

    class Meta:
        verbose_name = _("分解任务")
        verbose_name_plural = _("分解任务")
        ordering = ["measure", "order", "pk"]

    def __str__(self) -> str:
        return self.title

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.contact_phone)

    @classmethod
    def measures_split_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        """The measures these units may split (a rule on ``Measure`` rows).

        The plan owner splits any measure; the lead unit (牵头单位) splits its own,
        since it organises the work; a supporting unit (配合) or another measure's
        lead does not. Exists(), not a join: no repeated rows.
        """
        return Q(plan__in=Plan.objects.filter(Plan.scope_write_q(units))) | Exists(
            Responsibility.objects.filter(measure=OuterRef("pk"), is_lead=True, org_unit__in=units)
        )

    @classmethod
    def scope_write_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        # A sub-task is changed (and removed) by whoever may split its measure.
        return Q(measure__in=Measure.objects.filter(cls.measures_split_q(units)))


class PlanUpload(models.Model):
    """A plan file uploaded in the browser, kept between its dry run and its confirmation.

    The confirmation posts only ``token``; the bytes are read again from here, so what
    is imported is exactly what was reviewed (``sha256``). Unconfirmed uploads expire.
    """

    token = models.CharField(max_length=64, unique=True)
    uploaded_by = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, related_name="+", verbose_name=_("上传人")
    )
    owner_unit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("管理单位")
    )
    name = models.CharField(_("文件名"), max_length=255)
    sha256 = models.CharField(max_length=64)
    content = models.BinaryField(_("文件内容"))
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    confirmed_at = models.DateTimeField(_("确认导入时间"), null=True, blank=True)
    plan = models.ForeignKey(
        Plan, on_delete=models.SET_NULL, null=True, blank=True, related_name="uploads"
    )

    class Meta:
        verbose_name = _("方案上传")
        verbose_name_plural = _("方案上传")
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def scope_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        # An upload belongs to the unit that will own the plan, like the plan itself.
        return Q(owner_unit__in=units)
