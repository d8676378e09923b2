"""双随机、一公开: check items, yearly plans and batches, draws, tasks, results, follow-ups.

A batch moves through ``BATCH`` (inspections.services): 草稿 → 已抽取 (the draw, or a
redraw with a reason) → 已分派 (tasks with inspectors) → 已完成. A task moves through
``TASK``: 待检查 → 已录入结果 (by an assigned inspector only) → 已公示. A result coded
"发现问题待后续处理" opens a ``FollowUp``. Every step is a ``core.workflow`` step.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from qcity.core.models import EnabledQuerySet, OrgUnit, ReferenceModel, Role
from qcity.registry.models import Inspector, MarketEntity, Speciality


class InternalReference(ReferenceModel):
    """Reference lists every internal user reads (enterprises do not)."""

    objects = EnabledQuerySet.as_manager()

    class Meta:
        abstract = True

    @classmethod
    def scope_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        return Q()

    @classmethod
    def scope_self_q(cls, user) -> Q:
        return Q() if getattr(user, "role", None) != Role.ENTERPRISE else Q(pk__in=[])


class CheckItem(InternalReference):
    """One line of the 抽查事项清单 (columns as in a provincial system)."""

    class Kind(models.TextChoices):
        KEY = "key", _("重点检查事项")
        GENERAL = "general", _("一般检查事项")

    code = models.CharField(_("编号"), max_length=30, unique=True)
    name = models.CharField(_("抽查事项名称"), max_length=200)
    sub_items = models.JSONField(_("抽查子项"), default=list, blank=True)
    legal_basis = models.TextField(_("抽查依据"))
    department = models.CharField(_("抽查主体"), max_length=100)
    object_type = models.CharField(_("抽查对象"), max_length=100)
    kind = models.CharField(_("事项类别"), max_length=8, choices=Kind.choices)
    method = models.CharField(_("抽查方式"), max_length=100, blank=True)
    inspector_requirement = models.CharField(_("检查人员要求"), max_length=200, blank=True)
    required_specialities = models.ManyToManyField(
        Speciality, blank=True, related_name="check_items", verbose_name=_("所需专业领域")
    )
    # Percent of the eligible population; a key item has no upper limit.
    default_ratio = models.DecimalField(
        _("默认抽查比例（%）"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    default_frequency = models.CharField(_("抽查频次"), max_length=50, blank=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("抽查事项")
        verbose_name_plural = _("抽查事项清单")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class ResultCode(InternalReference):
    """A national result category (检查结果, 公示系统), multi-selected on one result."""

    code = models.CharField(_("代码"), max_length=10, unique=True)
    name = models.CharField(_("名称"), max_length=100, unique=True)
    problem_found = models.BooleanField(_("属于发现问题"), default=False)
    opens_follow_up = models.BooleanField(_("需后续处理"), default=False)

    class Meta:
        verbose_name = _("检查结果代码")
        verbose_name_plural = _("检查结果代码")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name


class InspectionPlan(models.Model):
    """A unit's 年度抽查工作计划, holding its batches."""

    owner_unit = models.ForeignKey(
        OrgUnit,
        on_delete=models.PROTECT,
        related_name="inspection_plans",
        verbose_name=_("制定单位"),
    )
    year = models.PositiveIntegerField(_("年度"))
    title = models.CharField(_("计划名称"), max_length=200)
    note = models.TextField(_("说明"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("年度抽查工作计划")
        verbose_name_plural = _("年度抽查工作计划")
        ordering = ["-year", "owner_unit", "title"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner_unit", "year", "title"], name="inspection_plan_unique_title"
            )
        ]

    def __str__(self) -> str:
        return self.title

    @classmethod
    def scope_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        # The owner, and the departments that take part in one of its joint batches.
        joint = BatchParticipant.objects.filter(batch__plan=OuterRef("pk"), unit__in=units)
        return Q(owner_unit__in=units) | Exists(joint)

    @classmethod
    def scope_write_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        return Q(owner_unit__in=units)

    @classmethod
    def scope_self_q(cls, user) -> Q:
        return Q(pk__in=[])


class Batch(models.Model):
    """One batch of a yearly plan: what is checked, where, how many, when, and by whom."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        DRAWN = "drawn", _("已抽取")
        ASSIGNED = "assigned", _("已分派")
        COMPLETED = "completed", _("已完成")

    plan = models.ForeignKey(
        InspectionPlan, on_delete=models.PROTECT, related_name="batches", verbose_name=_("年度计划")
    )
    number = models.PositiveSmallIntegerField(_("批次号"))
    title = models.CharField(_("批次名称"), max_length=200)
    check_items = models.ManyToManyField(
        CheckItem, related_name="batches", verbose_name=_("抽查事项")
    )
    # Who is eligible: {"region_codes": [...], "industry_prefixes": [...], "kinds": [...],
    # "statuses": [...]}; an empty or absent list means no restriction on that field.
    population_filter = models.JSONField(_("抽查范围"), default=dict, blank=True)
    # Per risk class: {"A": {"ratio": "3"}, "B": {"count": 20}, ...} (ratio in percent);
    # "-" stands for entities not yet classified. A class absent from the dict is not drawn.
    quotas = models.JSONField(_("各风险类别抽查比例或数量"), default=dict)
    # Entities checked for one of the same items within this many days are not eligible.
    exclude_checked_within_days = models.PositiveIntegerField(
        _("排除近期已检查（天）"), default=365
    )
    min_inspectors = models.PositiveSmallIntegerField(_("每户检查人员数"), default=2)
    window_start = models.DateField(_("检查开始日期"))
    window_end = models.DateField(_("检查结束日期"))
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("抽查批次")
        verbose_name_plural = _("抽查批次")
        ordering = ["plan", "number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="batch_plan_number_unique"),
            models.CheckConstraint(
                condition=Q(window_end__gte=models.F("window_start")), name="batch_window_ordered"
            ),
            models.CheckConstraint(condition=Q(min_inspectors__gte=2), name="batch_two_inspectors"),
        ]

    def __str__(self) -> str:
        return f"{self.plan.title} 第{self.number}批 {self.title}"

    @classmethod
    def scope_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        joint = BatchParticipant.objects.filter(batch=OuterRef("pk"), unit__in=units)
        return Q(plan__owner_unit__in=units) | Exists(joint)

    @classmethod
    def scope_write_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        return Q(plan__owner_unit__in=units)

    @classmethod
    def scope_self_q(cls, user) -> Q:
        return Q(pk__in=[])


class BatchParticipant(models.Model):
    """A department taking part in a joint check (部门联合抽查); it draws its own inspectors.

    The plan's owner always takes part and has no row here.
    """

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="participants")
    unit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("参与部门")
    )
    # How many of each task's inspectors this department supplies.
    inspectors_per_task = models.PositiveSmallIntegerField(_("每户派出人数"), default=1)

    class Meta:
        verbose_name = _("联合抽查参与部门")
        verbose_name_plural = _("联合抽查参与部门")
        constraints = [models.UniqueConstraint(fields=["batch", "unit"], name="participant_unique")]

    def __str__(self) -> str:
        return self.unit.name

    @classmethod
    def scope_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        return Q(batch__plan__owner_unit__in=units) | Q(unit__in=units)

    @classmethod
    def scope_self_q(cls, user) -> Q:
        return Q(pk__in=[])


class Draw(models.Model):
    """One draw attempt of one batch. Every attempt is kept; only the latest is current.

    The record holds everything ``qcity verify_draw`` needs besides the population file:
    the seed, the algorithm and its version, the parameters, the population's digest and
    the selected codes in order (docs/draw-algorithm.md).
    """

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="draws")
    attempt = models.PositiveSmallIntegerField(_("第几次抽取"))
    is_current = models.BooleanField(_("当前有效"), default=True)
    reason = models.TextField(_("重新抽取理由"), blank=True)
    seed = models.CharField(_("随机种子"), max_length=64)
    algorithm = models.CharField(_("算法"), max_length=50)
    algorithm_version = models.CharField(_("算法版本"), max_length=20)
    parameters = models.JSONField(_("参数"), default=dict)
    population_digest = models.CharField(_("名录快照摘要（SHA-256）"), max_length=64)
    population_size = models.PositiveIntegerField(_("符合条件的主体数"))
    # {"A": {"population": n, "selected": k}, ...}
    strata = models.JSONField(_("各层数量"), default=dict)
    selected_codes = models.JSONField(_("抽中主体代码（按顺序）"), default=list)
    # The population file as it was at the draw (gzip CSV), kept so anyone can verify later.
    population_file = models.CharField(max_length=255, blank=True)
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    drawn_at = models.DateTimeField(_("抽取时间"))

    class Meta:
        verbose_name = _("抽取记录")
        verbose_name_plural = _("抽取记录")
        ordering = ["batch", "attempt"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "attempt"], name="draw_attempt_unique"),
            models.UniqueConstraint(
                fields=["batch"], condition=Q(is_current=True), name="draw_one_current"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.batch} 第{self.attempt}次抽取"

    @classmethod
    def scope_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        joint = BatchParticipant.objects.filter(batch=OuterRef("batch"), unit__in=units)
        return Q(batch__plan__owner_unit__in=units) | Exists(joint)

    @classmethod
    def scope_self_q(cls, user) -> Q:
        return Q(pk__in=[])


class Task(models.Model):
    """One drawn entity to be checked in one batch, with its assigned inspectors."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待检查")
        CHECKED = "checked", _("已录入结果")
        PUBLISHED = "published", _("已公示")

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="tasks")
    draw = models.ForeignKey(Draw, on_delete=models.PROTECT, related_name="tasks")
    entity = models.ForeignKey(
        MarketEntity,
        on_delete=models.PROTECT,
        related_name="inspection_tasks",
        verbose_name=_("检查对象"),
    )
    # Position of the entity in the draw's selection (1-based).
    position = models.PositiveIntegerField(_("序号"))
    # The plan's owner, copied so that scope is one column.
    owner_unit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("实施单位")
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    # 20 working days from the check's end (the result's check date), once a result exists.
    publish_due = models.DateField(_("公示期限"), null=True, blank=True)
    # Where publish_due came from (core.workdays.Deadline), so a due date computed past the
    # known calendar is shown as 暂定 and recomputed when the year is entered (ADR 0012).
    publish_due_rule = models.CharField(_("公示期限依据"), max_length=100, blank=True)
    publish_due_calendar_version = models.PositiveIntegerField(null=True, blank=True)
    publish_due_provisional = models.BooleanField(_("公示期限暂定"), default=False)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("检查任务")
        verbose_name_plural = _("检查任务")
        ordering = ["batch", "position"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "entity"], name="task_batch_entity_unique")
        ]
        indexes = [
            models.Index(fields=["owner_unit", "status"], name="task_owner_status"),
            models.Index(fields=["entity", "batch"], name="task_entity_batch"),
        ]

    def __str__(self) -> str:
        return f"{self.batch.title} · {self.entity.name}"

    @classmethod
    def scope_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        joint = BatchParticipant.objects.filter(batch=OuterRef("batch"), unit__in=units)
        return Q(owner_unit__in=units) | Exists(joint)

    @classmethod
    def scope_write_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        return Q(owner_unit__in=units)

    @classmethod
    def scope_self_q(cls, user) -> Q:
        # An inspector sees the tasks they are assigned to, and enters their results.
        mine = TaskInspector.objects.filter(task=OuterRef("pk"), inspector__user=user)
        return Exists(mine)


class TaskInspector(models.Model):
    """An inspector assigned to a task, drawn from one participating department."""

    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="assignments")
    inspector = models.ForeignKey(
        Inspector, on_delete=models.PROTECT, related_name="assignments", verbose_name=_("执法人员")
    )
    unit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("派出单位")
    )
    position = models.PositiveSmallIntegerField(_("序号"))

    class Meta:
        verbose_name = _("检查人员分派")
        verbose_name_plural = _("检查人员分派")
        ordering = ["task", "position"]
        constraints = [
            models.UniqueConstraint(fields=["task", "inspector"], name="assignment_unique")
        ]
        indexes = [models.Index(fields=["inspector", "task"], name="assignment_inspector_task")]

    def __str__(self) -> str:
        return f"{self.task} · {self.inspector.name}"

    @classmethod
    def scope_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        return Q(task__owner_unit__in=units) | Q(unit__in=units)

    @classmethod
    def scope_self_q(cls, user) -> Q:
        mine = TaskInspector.objects.filter(task=OuterRef("task"), inspector__user=user)
        return Exists(mine)


class Result(models.Model):
    """The result of one task, entered by one of its assigned inspectors (谁检查谁录入)."""

    task = models.OneToOneField(Task, on_delete=models.PROTECT, related_name="result")
    codes = models.ManyToManyField(ResultCode, related_name="results", verbose_name=_("检查结果"))
    findings = models.TextField(_("检查情况"), blank=True)
    check_date = models.DateField(_("检查日期"))
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("录入人"),
    )
    entered_at = models.DateTimeField(_("录入时间"))

    class Meta:
        verbose_name = _("检查结果")
        verbose_name_plural = _("检查结果")
        ordering = ["-check_date"]

    def __str__(self) -> str:
        return f"{self.task} 结果"

    @classmethod
    def scope_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        joint = BatchParticipant.objects.filter(batch=OuterRef("task__batch"), unit__in=units)
        return Q(task__owner_unit__in=units) | Exists(joint)

    @classmethod
    def scope_self_q(cls, user) -> Q:
        mine = TaskInspector.objects.filter(task=OuterRef("task"), inspector__user=user)
        return Exists(mine)


class FollowUp(models.Model):
    """Work opened by a result coded 发现问题待后续处理, closed with its outcome."""

    class Status(models.TextChoices):
        OPEN = "open", _("待处理")
        CLOSED = "closed", _("已办结")

    class Resolution(models.TextChoices):
        FILED = "filed", _("已立案查处")
        RECTIFIED = "rectified", _("已整改到位")
        NO_VIOLATION = "no_violation", _("经核查无违法行为")
        TRANSFERRED = "transferred", _("已移送有关部门")
        # Set by a correction of the result that drops 发现问题待后续处理 (results.py).
        NOT_NEEDED = "not_needed", _("结果更正，无需后续处理")

    task = models.OneToOneField(Task, on_delete=models.PROTECT, related_name="follow_up")
    owner_unit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("办理单位")
    )
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField(_("发起时间"))
    due_date = models.DateField(_("办理期限"), null=True, blank=True)
    due_rule = models.CharField(_("办理期限依据"), max_length=100, blank=True)
    due_calendar_version = models.PositiveIntegerField(null=True, blank=True)
    due_provisional = models.BooleanField(_("办理期限暂定"), default=False)
    resolution = models.CharField(
        _("办结方式"), max_length=16, choices=Resolution.choices, blank=True
    )
    outcome = models.TextField(_("处理结果"), blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("后续处理")
        verbose_name_plural = _("后续处理")
        ordering = ["status", "due_date"]

    def __str__(self) -> str:
        return f"{self.task} 后续处理"

    @classmethod
    def scope_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        return Q(owner_unit__in=units)

    @classmethod
    def scope_self_q(cls, user) -> Q:
        return Q(pk__in=[])
