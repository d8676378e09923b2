"""Core records: the org tree, users and roles, the audit chain, the workday
calendar and reference dictionaries."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, router, transaction
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


class OrgTreeCycleError(ValidationError):
    """A unit was to be put under itself or under one of its own descendants."""

    code = "org_tree_cycle"


def _path_ids(path: str) -> set[int]:
    return {int(step) for step in path.split("/") if step}


def _cycle_error(unit_name: str, own_path: str, parent_name: str, parent_path: str) -> None:
    """Raise when the new parent lies in the unit's own subtree (the unit itself included)."""
    if own_path and parent_path.startswith(own_path):
        message = _("不能把“%(unit)s”移到“%(parent)s”之下：“%(parent)s”是它自己或它的下级单位") % {
            "unit": unit_name,
            "parent": parent_name,
        }
        raise OrgTreeCycleError({"parent": [ValidationError(message, code=OrgTreeCycleError.code)]})


class OrgUnit(ReferenceModel):
    """A node of the city's org tree, stored with a materialised path.

    ``path`` is the chain of zero-padded primary keys from the root, each
    followed by "/", so "all units below X" is one indexed prefix match.
    The tree stays a tree: ``save()`` refuses to put a unit under itself or a
    descendant (``OrgTreeCycleError``), deciding on paths read under row locks
    in the same transaction as the path rewrite (ADR 0010).
    """

    class Kind(models.TextChoices):
        GOVERNMENT = "government", _("人民政府")
        DEPARTMENT = "department", _("政府部门")
        COUNTY = "county", _("县（市）区")
        STATION = "station", _("基层所站")
        INSTITUTION = "institution", _("事业单位/机构")
        EXTERNAL = "external", _("驻市单位及其他机关")
        UNCONFIRMED = "unconfirmed", _("待确认单位")

    class Status(models.TextChoices):
        """Where a unit stands in the confirmation workflow (core.workflows.UNIT_CONFIRMATION)."""

        UNCONFIRMED = "unconfirmed", _("待确认")
        CONFIRMED = "confirmed", _("已确认")
        MAPPED = "mapped", _("已映射")

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
    path = models.CharField(_("路径"), max_length=255, db_index=True, editable=False, default="")
    confirmed = models.BooleanField(
        _("已确认"),
        default=True,
        help_text=_("导入计划时遇到的未知单位名称先存为待确认单位，由协调员确认或映射"),
    )
    # Set only by the confirmation workflow's steps (never by forms); ``confirmed`` stays
    # as the filter the rest of the code reads, and a constraint keeps the two in step.
    status = models.CharField(
        _("确认状态"),
        max_length=20,
        choices=Status.choices,
        default=Status.CONFIRMED,
        editable=False,
    )

    objects = EnabledQuerySet.as_manager()

    class Meta:
        verbose_name = _("组织单位")
        verbose_name_plural = _("组织单位")
        ordering = ["path"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(confirmed=True, status="confirmed")
                | models.Q(confirmed=False, status__in=["unconfirmed", "mapped"]),
                name="orgunit_status_matches_confirmed",
            ),
            # The database's own last line against the shortest cycle (a raw UPDATE);
            # save() refuses every cycle, of any length, with a message.
            models.CheckConstraint(
                condition=~models.Q(parent=models.F("pk")), name="orgunit_parent_is_not_itself"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "parent" not in update_fields:
            super().save(*args, **kwargs)
            return
        using = kwargs.get("using") or router.db_for_write(OrgUnit, instance=self)
        with transaction.atomic(using=using):
            own_path, parent_path = self._lock_for_move(using)
            super().save(*args, **kwargs)
            expected = parent_path + f"{self.pk:06d}/"
            if own_path != expected:
                if own_path:
                    # Moving a unit rewrites its path and every path below it in one statement.
                    OrgUnit._base_manager.using(using).filter(path__startswith=own_path).update(
                        path=Concat(Value(expected), Substr("path", len(own_path) + 1))
                    )
                else:
                    OrgUnit._base_manager.using(using).filter(pk=self.pk).update(path=expected)
            self.path = expected

    def clean(self) -> None:
        # The admin form calls this, so the error appears on the 上级单位 field;
        # save() checks again under the locks, for code and for concurrent moves.
        super().clean()
        if self.pk and self.parent_id:
            own_path = OrgUnit._base_manager.filter(pk=self.pk).values_list("path", flat=True)
            parent = OrgUnit._base_manager.filter(pk=self.parent_id).values("name", "path")
            if own_path and parent:
                _cycle_error(self.name, own_path[0], parent[0]["name"], parent[0]["path"])

    def _lock_for_move(self, using: str) -> tuple[str, str]:
        """Lock what a move depends on and return (own path, new parent's path), fresh.

        Locked: the unit's own ancestors (itself included) and the new parent's
        ancestors (itself included). Two moves that could together make a cycle,
        or that rewrite overlapping subtrees, always share one of these rows, so
        the second waits for the first and then reads the paths the first wrote.
        The rows are locked in primary-key order; if a concurrent move changed the
        paths while we waited, the new ancestors are locked too and paths re-read.
        On SQLite the IMMEDIATE transaction already serialises writers.
        """
        rows = OrgUnit._base_manager.using(using)
        locked: set[int] = set()
        while True:
            own_path = ""
            if self.pk is not None:
                own_path = rows.filter(pk=self.pk).values_list("path", flat=True).first() or ""
            parent_name, parent_path = "", ""
            if self.parent_id is not None:
                parent_name, parent_path = rows.values_list("name", "path").get(pk=self.parent_id)
            wanted = _path_ids(own_path) | _path_ids(parent_path)
            if wanted <= locked:
                break
            list(rows.select_for_update().filter(pk__in=wanted).order_by("pk").values_list("pk"))
            locked |= wanted
        if self.parent_id is not None:
            _cycle_error(self.name, own_path, parent_name, parent_path)
        return own_path, parent_path

    def is_within(self, other: OrgUnit) -> bool:
        return self.path.startswith(other.path)

    @classmethod
    def scope_q(cls, units: models.QuerySet[OrgUnit]) -> models.Q:
        return models.Q(pk__in=units)


class UnitAlias(models.Model):
    """Another written form of a unit's name, e.g. 市发改委 for 市发展改革委."""

    scope_exempt = "reference data, read with its unit"

    unit = models.ForeignKey(
        OrgUnit, on_delete=models.CASCADE, related_name="aliases", verbose_name=_("单位")
    )
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

    scope_exempt = (
        "accounts are managed in the admin under 三员分立, never listed to business users"
    )

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
    failed_login_count = models.PositiveIntegerField(
        _("连续登录失败次数"), default=0, editable=False
    )
    locked_until = models.DateTimeField(_("锁定至"), null=True, blank=True, editable=False)
    password_changed_at = models.DateTimeField(
        _("密码修改时间"), null=True, blank=True, editable=False
    )
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

    scope_exempt = "read only by the security admin in the admin"

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("用户")
    )
    name = models.CharField(_("用途"), max_length=100)
    prefix = models.CharField(_("令牌前缀"), max_length=8, editable=False)
    key_hash = models.CharField(_("令牌哈希"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("签发时间"), auto_now_add=True)
    expires_at = models.DateTimeField(_("到期时间"))
    last_used_at = models.DateTimeField(_("最近使用时间"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class AuditChainHead(models.Model):
    """One row (pk 1, created by migration 0004) holding the chain's tip.

    Only the chaining step locks it, in its own short transaction; database
    triggers let its ``seq`` only grow, and only to a chained event's seq and hash.
    """

    scope_exempt = "internal to core.audit"

    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"audit head #{self.seq}"


class AuditEvent(models.Model):
    """An append-only, hash-chained record of one action.

    The caller's transaction inserts the row *unchained* (``seq``, ``prev_hash``
    and ``hash`` empty); after commit ``core.audit.chain_pending`` fills those
    three in, once. Database triggers refuse every other update and every
    delete. ``hash`` covers the row's stored content and the previous row's
    hash, so ``qcity verify_audit`` can name the first row altered or removed.
    """

    scope_exempt = "read only by the audit admin in the admin"

    seq = models.BigIntegerField(_("序号"), unique=True, null=True, blank=True)
    time = models.DateTimeField(_("时间"), db_index=True)
    actor = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("操作者账户"),
    )
    actor_label = models.CharField(_("记录的用户名"), max_length=150, blank=True)
    action = models.CharField(_("操作代码"), max_length=64, db_index=True)
    object_type = models.CharField(_("对象类型"), max_length=64, blank=True)
    object_id = models.CharField(_("对象编号"), max_length=64, blank=True, db_index=True)
    object_repr = models.CharField(_("对象"), max_length=200, blank=True)
    success = models.BooleanField(_("成功"), default=True)
    ip = models.GenericIPAddressField(_("IP 地址"), null=True, blank=True)
    details = models.JSONField(_("详情（原始数据）"), default=dict, blank=True)
    # NULL, not "", means "not chained yet": many rows may wait at once under a unique hash.
    prev_hash = models.CharField(_("前一条的哈希"), max_length=64, null=True, blank=True)  # noqa: DJ001
    hash = models.CharField(_("本条哈希"), max_length=64, unique=True, null=True, blank=True)

    class Meta:
        verbose_name = _("审计事件")
        verbose_name_plural = _("审计事件")
        # Rows not yet chained (seq NULL) sort last on both databases, in insertion order.
        ordering = [models.F("seq").asc(nulls_last=True), "id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise PermissionError("审计事件只能追加，不能修改")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[override]
        raise PermissionError("审计事件只能追加，不能删除")


class AuditCheckpoint(models.Model):
    """A signed statement "the chain had ``hash`` at ``seq`` at ``time``".

    Signed with an Ed25519 key kept outside the database (``core.auditkeys``),
    so whoever rewrites the chain up to ``seq`` cannot forge a matching row.
    Append-only like the events.
    """

    scope_exempt = "read only by the audit admin in the admin and by verify_audit"

    seq = models.BigIntegerField()
    hash = models.CharField(max_length=64)
    time = models.DateTimeField()
    signature = models.CharField(max_length=128)
    key_id = models.CharField(max_length=16)

    class Meta:
        verbose_name = _("审计签名检查点")
        verbose_name_plural = _("审计签名检查点")
        ordering = ["seq", "id"]

    def __str__(self) -> str:
        return f"checkpoint #{self.seq}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise PermissionError("审计检查点只能追加，不能修改")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[override]
        raise PermissionError("审计检查点只能追加，不能删除")


class CalendarYear(models.Model):
    """A year whose official holiday arrangement is known (国务院办公厅通知)."""

    scope_exempt = "public reference data"

    year = models.PositiveIntegerField(_("年度"), unique=True)
    source = models.CharField(_("来源"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("已知日历年度")
        verbose_name_plural = _("已知日历年度")
        ordering = ["year"]

    def __str__(self) -> str:
        return str(self.year)


class CalendarDay(models.Model):
    """An exception to Monday–Friday: a holiday, or a make-up working day (调休上班)."""

    scope_exempt = "public reference data"

    date = models.DateField(_("日期"), unique=True)
    is_workday = models.BooleanField(_("是否工作日"))
    name = models.CharField(_("说明"), max_length=50, blank=True)
    source = models.CharField(_("来源"), max_length=50, default="chinese-calendar")

    class Meta:
        verbose_name = _("节假日与调休")
        verbose_name_plural = _("节假日与调休")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {'上班' if self.is_workday else '休息'} {self.name}"


class CalendarVersion(models.Model):
    """The one row that says which state of the holiday table is current.

    Every write to ``CalendarYear``/``CalendarDay`` bumps ``version`` in the same
    transaction (``core.workdays.bump_version``); each process compares its cached
    calendar with this row before computing, and a deadline records the version it
    used. ``stamp`` changes with every bump: a rolled-back bump frees its number for
    the next writer, and the stamp tells the two calendars apart.
    """

    scope_exempt = "internal to core.workdays"

    version = models.PositiveBigIntegerField(_("日历版本"), default=0)
    stamp = models.CharField(_("版本标记"), max_length=32, blank=True)
    changed_at = models.DateTimeField(_("修改时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("日历版本")
        verbose_name_plural = _("日历版本")
        constraints = [
            models.CheckConstraint(condition=models.Q(pk=1), name="calendar_version_single_row")
        ]

    def __str__(self) -> str:
        return str(self.version)


class DictionaryItem(ReferenceModel):
    """An entry of a reference dictionary (字典), keyed by dictionary type and code."""

    scope_exempt = "public reference data"

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


class Transition(models.Model):
    """One step taken in a workflow (core.workflow): the case history of every case type.

    Written only by ``core.workflow.take``, in the same transaction as the change it
    records, and never edited afterwards. It is read through its object's scope
    (``core.workflow.history``), never on its own.
    """

    # For the scope system check: rows are reached only through their object's scope.
    scope_exempt = "read through the object's scope: core.workflow.history"

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    # Text, so one table serves integer and UUID keys alike.
    object_id = models.CharField(max_length=64)
    subject = GenericForeignKey("content_type", "object_id")
    workflow = models.CharField(_("流程"), max_length=100)
    step = models.CharField(_("步骤"), max_length=50)
    from_state = models.CharField(_("原状态"), max_length=50)
    to_state = models.CharField(_("新状态"), max_length=50)
    actor = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    time = models.DateTimeField(_("时间"))
    reason = models.TextField(_("理由"), blank=True)
    details = models.JSONField(default=dict, blank=True)
    deadline_due = models.DateField(_("办理期限"), null=True, blank=True)
    deadline_rule = models.CharField(_("期限依据"), max_length=100, blank=True)
    deadline_calendar_version = models.CharField(max_length=64, blank=True)
    deadline_provisional = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("流转记录")
        verbose_name_plural = _("流转记录")
        ordering = ["time", "pk"]
        indexes = [models.Index(fields=["content_type", "object_id", "time"])]

    def __str__(self) -> str:
        return f"{self.workflow} {self.object_id}: {self.from_state} → {self.to_state}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise PermissionError("流转记录只能追加，不能修改")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[override]
        raise PermissionError("流转记录只能追加，不能删除")


class RateLimitCounter(models.Model):
    """How many attempts one key (an address or an account) made in one time window.

    A table rather than a cache so that every worker process, on every host, counts
    the same attempts (ADR 0014). Rows older than the previous window are deleted
    as new windows open; nothing else refers to them.
    """

    # For the scope system check (scope branch): no page, list or API reads these rows.
    scope_exempt = "internal to core.ratelimit: counters, never shown to anyone"

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


class Attachment(models.Model):
    """A file attached to an object (a report's evidence, later an inspection's photos).

    Written only by ``core.files.attach`` after the content passed its checks; served only
    by ``core.files.serve``, which first finds the owner object through the data scope.
    The stored name is random: nothing the uploader typed reaches the storage's paths.
    """

    # For the scope system check: an attachment is read only through its owner's scope.
    scope_exempt = "served only through its owner's scope: core.files.get_for_download"

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    # Text, so one table serves integer and UUID keys alike.
    object_id = models.CharField(max_length=64)
    owner = GenericForeignKey("content_type", "object_id")
    original_name = models.CharField(_("文件名"), max_length=200)
    media_type = models.CharField(_("文件类型"), max_length=100)
    size = models.PositiveBigIntegerField(_("大小（字节）"))
    sha256 = models.CharField(_("SHA-256 校验值"), max_length=64)
    storage_name = models.CharField(max_length=255, unique=True)
    uploaded_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("上传时间"))

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")
        ordering = ["uploaded_at", "pk"]
        indexes = [models.Index(fields=["content_type", "object_id"], name="attachment_owner_idx")]

    def __str__(self) -> str:
        return self.original_name


class Notice(models.Model):
    """An in-app notice to one person, kept with the object it concerns (core.notices)."""

    # For the scope system check: a notice is shown only to its recipient (core.notices).
    scope_exempt = "shown only to its recipient: core.notices.for_user"

    recipient = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="notices", verbose_name=_("接收人")
    )
    content_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    object_id = models.CharField(max_length=64, blank=True)
    subject_object = GenericForeignKey("content_type", "object_id")
    subject = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    created_at = models.DateTimeField(_("时间"))
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="notice_recipient_read_idx"),
            models.Index(fields=["content_type", "object_id"], name="notice_object_idx"),
        ]

    def __str__(self) -> str:
        return self.subject


class NoticeDelivery(models.Model):
    """One notice sent through one message channel (e-mail, log, later SMS)."""

    scope_exempt = "internal to core.notices: read with its notice"

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")
        SKIPPED = "skipped", _("未发送（无地址）")

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(_("渠道"), max_length=30)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("通知发送")
        verbose_name_plural = _("通知发送")
        constraints = [
            models.UniqueConstraint(
                fields=["notice", "channel"], name="notice_delivery_channel_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.notice_id}/{self.channel}: {self.status}"


class JobRun(models.Model):
    """One scheduled job enqueued for one due item (core.jobs): the row that makes it once.

    ``run_timers`` inserts the row and enqueues the task in one transaction; the unique
    key (job, item, due) refuses a second insert, so two timer processes, or a timer run
    again after a restart, never enqueue the same due item twice.
    """

    scope_exempt = "internal to core.jobs: bookkeeping of scheduled jobs"

    job = models.CharField(max_length=100)
    item = models.CharField(max_length=100)
    due = models.CharField(max_length=40)
    enqueued_at = models.DateTimeField()
    task_id = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("定时任务记录")
        verbose_name_plural = _("定时任务记录")
        constraints = [
            models.UniqueConstraint(fields=["job", "item", "due"], name="job_run_once_unique")
        ]

    def __str__(self) -> str:
        return f"{self.job} {self.item} @ {self.due}"


class ImportJob(models.Model):
    """A bulk import started in the browser and run by the worker (core.imports, ADR 0029).

    The uploaded file is kept under ``IMPORT_DIR/<id>/`` with its ``.errors.csv`` beside it;
    progress is a small file there too (the import's own transactions must not hide it).
    The job belongs to the uploader's unit: their unit's colleagues see it, as with plans.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("导入中")
        DONE = "done", _("已完成")
        REFUSED = "refused", _("有错误，未写入")
        FAILED = "failed", _("失败")

    kind = models.CharField(_("导入类型"), max_length=50)
    uploaded_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name=_("上传人")
    )
    owner_unit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("所属单位")
    )
    file_name = models.CharField(_("文件名"), max_length=255)
    stored_name = models.CharField(max_length=255)  # relative to IMPORT_DIR
    sha256 = models.CharField(max_length=64)
    dry_run = models.BooleanField(_("演练"), default=False)
    all_or_nothing = models.BooleanField(_("全部或全不"), default=False)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    summary = models.JSONField(_("结果"), default=dict, blank=True)
    message = models.CharField(_("说明"), max_length=500, blank=True)
    has_errors_file = models.BooleanField(default=False)
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("导入任务")
        verbose_name_plural = _("导入任务")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.kind} {self.file_name}"

    @classmethod
    def scope_q(cls, units: models.QuerySet[OrgUnit]) -> models.Q:
        return models.Q(owner_unit__in=units)

    @classmethod
    def scope_self_q(cls, user) -> models.Q:
        return models.Q(uploaded_by=user)
