"""The two registers of 双随机、一公开 (两库): market entities (检查对象名录库) and
enforcement inspectors (执法检查人员名录库), with the inspectors' declared conflicts.

An entity belongs to the county bureau that supervises it (``owner_unit``), which is
what the data scope filters on: a county bureau sees its own county's register only.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from qcity.core.models import EnabledQuerySet, OrgUnit, ReferenceModel, Role


class MarketEntity(models.Model):
    """One market entity, identified by its 统一社会信用代码 (or an old 15-digit 注册号)."""

    class CodeKind(models.TextChoices):
        USCC = "uscc", _("统一社会信用代码")
        REG_NO = "reg_no", _("注册号（15位）")

    class Kind(models.TextChoices):
        ENTERPRISE = "enterprise", _("企业")
        INDIVIDUAL = "individual", _("个体工商户")
        COOPERATIVE = "cooperative", _("农民专业合作社")
        OTHER = "other", _("其他")

    class Status(models.TextChoices):
        ACTIVE = "active", _("存续")
        DEREGISTERED = "deregistered", _("注销")
        REVOKED = "revoked", _("吊销")
        CANCELLED = "cancelled", _("撤销")
        MOVED_OUT = "moved_out", _("迁出")

    class RiskClass(models.TextChoices):
        A = "A", _("A 信用风险低")
        B = "B", _("B 信用风险一般")
        C = "C", _("C 信用风险较高")
        D = "D", _("D 信用风险高")

    # Normalised form (upper case, half-width); unique, so an import updates by code.
    code = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    code_kind = models.CharField(
        _("代码类型"), max_length=8, choices=CodeKind.choices, default=CodeKind.USCC
    )
    # Why a kept code is not a clean one (e.g. an early pilot code failing the check digit).
    code_warning = models.CharField(_("代码提示"), max_length=200, blank=True)
    name = models.CharField(_("名称"), max_length=200)
    kind = models.CharField(_("主体类型"), max_length=12, choices=Kind.choices)
    # GB/T 2260 code of the county-level division; owner_unit is its market bureau.
    region_code = models.CharField(_("行政区划代码"), max_length=6)
    owner_unit = models.ForeignKey(
        OrgUnit,
        on_delete=models.PROTECT,
        related_name="market_entities",
        verbose_name=_("管辖单位"),
    )
    # GB/T 4754-2017: a section letter and up to four digits (e.g. C1441).
    industry_code = models.CharField(_("行业代码"), max_length=5, blank=True)
    address = models.CharField(_("住所（经营场所）"), max_length=300, blank=True)
    status = models.CharField(
        _("登记状态"), max_length=12, choices=Status.choices, default=Status.ACTIVE
    )
    risk_class = models.CharField(
        _("信用风险分类"), max_length=1, choices=RiskClass.choices, blank=True
    )
    risk_classified_on = models.DateField(_("分类日期"), null=True, blank=True)
    on_abnormal_list = models.BooleanField(_("列入经营异常名录"), default=False)
    on_serious_list = models.BooleanField(_("列入严重违法失信名单"), default=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("市场主体")
        verbose_name_plural = _("市场主体")
        ordering = ["code"]
        indexes = [
            # The draw reads (code, risk_class) of one jurisdiction in code order.
            models.Index(fields=["owner_unit", "code"], name="entity_owner_code"),
            models.Index(fields=["region_code", "status"], name="entity_region_status"),
            # The draw reads each risk class's codes in code order (inspections.draw): one
            # covering range per class, no sort and no table look-up per row.
            models.Index(fields=["status", "risk_class", "code"], name="entity_status_class_code"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    @classmethod
    def scope_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        return Q(owner_unit__in=units)

    @classmethod
    def scope_self_q(cls, user) -> Q:
        # Inspectors read an entity through the tasks they are assigned, not the register.
        return Q(pk__in=[])


class Speciality(ReferenceModel):
    """An enforcement speciality (食品, 特种设备, 计量 …) an inspector has and a check item needs."""

    code = models.CharField(_("代码"), max_length=20, unique=True)
    name = models.CharField(_("名称"), max_length=50, unique=True)

    objects = EnabledQuerySet.as_manager()

    class Meta:
        verbose_name = _("执法专业领域")
        verbose_name_plural = _("执法专业领域")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def scope_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        return Q()

    @classmethod
    def scope_self_q(cls, user) -> Q:
        return Q() if getattr(user, "role", None) != Role.ENTERPRISE else Q(pk__in=[])


class Inspector(models.Model):
    """An enforcement officer in the pool. Leaving the pool clears ``active``; never deleted."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="inspector",
        verbose_name=_("登录账户"),
    )
    name = models.CharField(_("姓名"), max_length=50)
    certificate_no = models.CharField(_("执法证号"), max_length=30, unique=True)
    org_unit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="inspectors", verbose_name=_("所属单位")
    )
    specialities = models.ManyToManyField(
        Speciality, blank=True, related_name="inspectors", verbose_name=_("专业领域")
    )
    active = models.BooleanField(_("在库"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("执法检查人员")
        verbose_name_plural = _("执法检查人员")
        ordering = ["org_unit", "certificate_no"]
        indexes = [models.Index(fields=["org_unit", "active"], name="inspector_unit_active")]

    def __str__(self) -> str:
        return f"{self.name}（{self.certificate_no}）"

    @classmethod
    def scope_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        return Q(org_unit__in=units)

    @classmethod
    def scope_self_q(cls, user) -> Q:
        return Q(user=user)


class Conflict(models.Model):
    """A declared conflict of interest (回避): the inspector is never drawn for the entity."""

    inspector = models.ForeignKey(
        Inspector, on_delete=models.PROTECT, related_name="conflicts", verbose_name=_("执法人员")
    )
    entity = models.ForeignKey(
        MarketEntity, on_delete=models.PROTECT, related_name="conflicts", verbose_name=_("市场主体")
    )
    reason = models.CharField(_("回避事由"), max_length=200)
    declared_at = models.DateTimeField(_("申报时间"))
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # Withdrawn declarations stay for the record; only active ones exclude.
    withdrawn_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("回避申报")
        verbose_name_plural = _("回避申报")
        ordering = ["-declared_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["inspector", "entity"],
                condition=Q(withdrawn_at__isnull=True),
                name="conflict_one_active_per_pair",
            )
        ]
        indexes = [models.Index(fields=["entity", "inspector"], name="conflict_entity_inspector")]

    def __str__(self) -> str:
        return f"{self.inspector.name} 回避 {self.entity.name}"

    @classmethod
    def scope_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        return Q(inspector__org_unit__in=units)

    @classmethod
    def scope_self_q(cls, user) -> Q:
        return Q(inspector__user=user)


class EntityAccount(models.Model):
    """An enterprise user account that acts for one market entity (ODR, its own cases)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="entity_account",
        verbose_name=_("企业用户"),
    )
    entity = models.ForeignKey(
        MarketEntity, on_delete=models.PROTECT, related_name="accounts", verbose_name=_("市场主体")
    )
    linked_at = models.DateTimeField(_("绑定时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("企业账户")
        verbose_name_plural = _("企业账户")

    def __str__(self) -> str:
        return f"{self.user} → {self.entity}"

    @classmethod
    def scope_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        return Q(entity__owner_unit__in=units)

    @classmethod
    def scope_self_q(cls, user) -> Q:
        return Q(user=user)
