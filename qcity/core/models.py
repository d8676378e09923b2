"""Core records: the org tree, users and roles, the audit chain, the workday
calendar and reference dictionaries."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ReferenceModel(models.Model):
    """Reference data is disabled, never deleted: old records keep pointing at it."""

    disabled_on = models.DateTimeField(_("停用时间"), null=True, blank=True)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        abstract = True

    @property
    def is_enabled(self) -> bool:
        return self.disabled_on is None

    def delete(self, *args, **kwargs):  # type: ignore[override]
        raise PermissionError("参考数据不能删除，只能停用")


class EnabledQuerySet(models.QuerySet):
    def enabled(self) -> EnabledQuerySet:
        return self.filter(disabled_on__isnull=True)


class OrgUnit(ReferenceModel):
    """A node of the city's org tree, stored with a materialised path.

    ``path`` is the chain of zero-padded primary keys from the root, each
    followed by "/", so "all units below X" is one indexed prefix match.
    """

    class Kind(models.TextChoices):
        GOVERNMENT = "government", _("人民政府")
        DEPARTMENT = "department", _("政府部门")
        COUNTY = "county", _("县（市）区")
        STATION = "station", _("基层所站")
        INSTITUTION = "institution", _("事业单位/机构")
        EXTERNAL = "external", _("驻市单位及其他机关")
        UNCONFIRMED = "unconfirmed", _("待确认单位")

    name = models.CharField(_("名称"), max_length=100, unique=True)
    full_name = models.CharField(_("全称"), max_length=200, blank=True)
    code = models.CharField(
        _("代码"),
        max_length=32,
        unique=True,
        null=True,
        blank=True,
        help_text=_("县级行政区划用 GB/T 2260 代码"),
    )
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("上级单位"),
    )
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    confirmed = models.BooleanField(
        _("已确认"),
        default=True,
        help_text=_("导入计划时遇到的未知单位名称先存为待确认单位，由协调员确认或映射"),
    )

    objects = EnabledQuerySet.as_manager()

    class Meta:
        verbose_name = _("组织单位")
        verbose_name_plural = _("组织单位")
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        expected = (self.parent.path if self.parent_id else "") + f"{self.pk:06d}/"
        if self.path != expected:
            old, self.path = self.path, expected
            if old:
                # Moving a unit rewrites its path and every path below it in one statement.
                OrgUnit.objects.filter(path__startswith=old).update(
                    path=Concat(Value(expected), Substr("path", len(old) + 1))
                )
            else:
                OrgUnit.objects.filter(pk=self.pk).update(path=expected)

    def is_within(self, other: OrgUnit) -> bool:
        return self.path.startswith(other.path)

    @classmethod
    def scope_q(cls, units: models.QuerySet[OrgUnit]) -> models.Q:
        return models.Q(pk__in=units)


class UnitAlias(models.Model):
    """Another written form of a unit's name, e.g. 市发改委 for 市发展改革委."""

    unit = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="aliases")
    name = models.CharField(_("别名"), max_length=100, unique=True)

    class Meta:
        verbose_name = _("单位别名")
        verbose_name_plural = _("单位别名")

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    COORDINATOR = "coordinator", _("质量发展科协调员")
    DEPARTMENT_LIAISON = "department_liaison", _("部门联络员")
    COUNTY_OFFICER = "county_officer", _("县区市场监管人员")
    INSPECTOR = "inspector", _("执法检查人员")
    LAB = "lab", _("检验检测机构人员")
    ENTERPRISE = "enterprise", _("企业用户")
    SYSTEM_ADMIN = "system_admin", _("系统管理员")
    SECURITY_ADMIN = "security_admin", _("安全管理员")
    AUDIT_ADMIN = "audit_admin", _("审计管理员")


ADMIN_ROLES = frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN})


class DataScope(models.TextChoices):
    ALL = "all", _("全部")
    UNIT_AND_BELOW = "unit_and_below", _("本单位及下级")
    UNIT = "unit", _("本单位")
    SELF = "self", _("仅本人")
    NONE = "none", _("无业务数据")


class User(AbstractUser):
    """A person with one role in one unit.

    One role per account keeps 三员分立 true by construction: a system admin
    account can never also be the audit admin.
    """

    full_name = models.CharField(_("姓名"), max_length=50, blank=True)
    unit = models.ForeignKey(
        OrgUnit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        verbose_name=_("所属单位"),
    )
    role = models.CharField(_("角色"), max_length=32, choices=Role.choices)
    data_scope = models.CharField(
        _("数据范围"),
        max_length=20,
        choices=DataScope.choices,
        blank=True,
        help_text=_("留空则按角色默认"),
    )
    phone = models.CharField(_("手机号"), max_length=20, blank=True)
    failed_login_count = models.PositiveIntegerField(default=0, editable=False)
    locked_until = models.DateTimeField(null=True, blank=True, editable=False)
    password_changed_at = models.DateTimeField(null=True, blank=True, editable=False)
    must_change_password = models.BooleanField(
        _("下次登录须修改密码"), default=False, help_text=_("安全管理员重置密码后自动设置")
    )

    objects = UserManager()

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def display_name(self) -> str:
        return self.full_name or self.username

    def save(self, *args, **kwargs) -> None:
        # Admin-site access follows the role; it is never granted by hand.
        self.is_staff = self.role in ADMIN_ROLES
        super().save(*args, **kwargs)

    def is_locked(self, now: dt.datetime | None = None) -> bool:
        return self.locked_until is not None and self.locked_until > (now or timezone.now())


class ApiToken(models.Model):
    """A bearer token for the JSON API. Only its SHA-256 is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("用途"), max_length=100)
    prefix = models.CharField(max_length=8, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class AuditChainHead(models.Model):
    """One row holding the chain's tip; locking it serialises appends across processes."""

    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"audit head #{self.seq}"


class AuditEvent(models.Model):
    """An append-only, hash-chained record of one action.

    Rows are never updated or deleted (database triggers refuse it);
    ``hash`` covers the row's content and the previous row's hash, so
    ``qcity verify_audit`` can name the first row that was altered or removed.
    """

    seq = models.BigIntegerField(unique=True)
    time = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True, db_index=True)
    object_repr = models.CharField(max_length=200, blank=True)
    success = models.BooleanField(default=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = _("审计事件")
        verbose_name_plural = _("审计事件")
        ordering = ["seq"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise PermissionError("审计事件只能追加，不能修改")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[override]
        raise PermissionError("审计事件只能追加，不能删除")


class CalendarYear(models.Model):
    """A year whose official holiday arrangement is known (国务院办公厅通知)."""

    year = models.PositiveIntegerField(unique=True)
    source = models.CharField(_("来源"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("已知日历年度")
        verbose_name_plural = _("已知日历年度")
        ordering = ["year"]

    def __str__(self) -> str:
        return str(self.year)


class CalendarDay(models.Model):
    """An exception to Monday–Friday: a holiday, or a make-up working day (调休上班)."""

    date = models.DateField(unique=True)
    is_workday = models.BooleanField(_("是否工作日"))
    name = models.CharField(_("说明"), max_length=50, blank=True)
    source = models.CharField(_("来源"), max_length=50, default="chinese-calendar")

    class Meta:
        verbose_name = _("节假日与调休")
        verbose_name_plural = _("节假日与调休")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {'上班' if self.is_workday else '休息'} {self.name}"


class DictionaryItem(ReferenceModel):
    """An entry of a reference dictionary (字典), keyed by dictionary type and code."""

    dictionary = models.CharField(_("字典"), max_length=50, db_index=True)
    code = models.CharField(_("代码"), max_length=50)
    label = models.CharField(_("名称"), max_length=100)
    description = models.TextField(_("说明"), blank=True)

    objects = EnabledQuerySet.as_manager()

    class Meta:
        verbose_name = _("字典项")
        verbose_name_plural = _("字典项")
        ordering = ["dictionary", "sort_order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["dictionary", "code"], name="dictionary_code_unique")
        ]

    def __str__(self) -> str:
        return f"{self.dictionary}:{self.code} {self.label}"


class RateLimitCounter(models.Model):
    """How many attempts one key (an address or an account) made in one time window.

    A table rather than a cache so that every worker process, on every host, counts
    the same attempts (ADR 0014). Rows older than the previous window are deleted
    as new windows open; nothing else refers to them.
    """

    bucket = models.CharField(max_length=120)
    window_start = models.BigIntegerField()
    hits = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("频率限制计数")
        verbose_name_plural = _("频率限制计数")
        constraints = [
            models.UniqueConstraint(
                fields=["bucket", "window_start"], name="rate_limit_bucket_window_unique"
            )
        ]
        indexes = [models.Index(fields=["window_start"], name="rate_limit_window_idx")]

    def __str__(self) -> str:
        return f"{self.bucket}@{self.window_start}: {self.hits}"
