"""12315 complaints (投诉) and reports (举报), and what happens to them.

A ``Case`` is one complaint, one report, or one violation lead found during mediation
(违法线索, handled like a report). A submission that holds both a complaint and a report
becomes two cases linked by ``linked_case`` and sharing one ``Submission``. A case belongs
to the competent county bureau (``owner_unit``): the data scope filters on it. Its rules
(Order 20 or Order 121) are fixed by its received date (``rules``, from ``core.rulebook``).

Personal data: the complainant's phone and ID number are stored encrypted (``core.pii``)
with a keyed hash for exact lookups; names are shown masked except to the handling officer.
Attachments are ``core.files`` attachments of the case (one file mechanism). Nothing here is
ever read by the portal: it reads ``portal`` publication rows.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from qcity.core.models import EnabledQuerySet, OrgUnit, ReferenceModel, Role
from qcity.registry.models import EntityAccount, MarketEntity


class Category(ReferenceModel):
    """What the dispute is about (商品或服务类别, as the 12315 platform classes them)."""

    class Kind(models.TextChoices):
        GOODS = "goods", _("商品")
        SERVICE = "service", _("服务")

    code = models.CharField(_("代码"), max_length=20, unique=True)
    name = models.CharField(_("名称"), max_length=50, unique=True)
    kind = models.CharField(_("类型"), max_length=8, choices=Kind.choices)

    objects = EnabledQuerySet.as_manager()

    class Meta:
        verbose_name = _("商品服务类别")
        verbose_name_plural = _("商品服务类别")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def scope_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        return Q()

    @classmethod
    def scope_self_q(cls, user) -> Q:
        return Q()


class IssueType(ReferenceModel):
    """What went wrong (投诉问题类别: 质量, 售后服务, 虚假宣传 …)."""

    code = models.CharField(_("代码"), max_length=20, unique=True)
    name = models.CharField(_("名称"), max_length=50, unique=True)

    objects = EnabledQuerySet.as_manager()

    class Meta:
        verbose_name = _("投诉问题类别")
        verbose_name_plural = _("投诉问题类别")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def scope_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        return Q()

    @classmethod
    def scope_self_q(cls, user) -> Q:
        return Q()


class Submission(models.Model):
    """What one person sent in at one time; one or two cases come out of it."""

    scope_exempt = "read only through its cases"

    class Channel(models.TextChoices):
        WEB = "web", _("网上（门户网站）")
        PHONE = "phone", _("电话（12315热线）")
        COUNTER = "counter", _("窗口来访")
        LETTER = "letter", _("信件")
        PLATFORM = "platform", _("全国12315平台")
        API = "api", _("接口")

    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    received_at = models.DateTimeField(_("接收时间"))
    # API clients send an Idempotency-Key; a replay answers with the first submission.
    idempotency_key = models.CharField(max_length=100, blank=True)
    client = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("提交账户"),
    )
    payload_digest = models.CharField(max_length=64, blank=True)
    # The receipt lets the complainant follow the case on the portal: only its hash is kept.
    receipt_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("投诉举报提交")
        verbose_name_plural = _("投诉举报提交")
        constraints = [
            models.UniqueConstraint(
                fields=["client", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="submission_idempotency_per_client",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.received_at:%Y-%m-%d %H:%M}"


class Case(models.Model):
    class Kind(models.TextChoices):
        COMPLAINT = "complaint", _("投诉")
        REPORT = "report", _("举报")
        LEAD = "lead", _("违法线索")

    class Status(models.TextChoices):
        ODR = "odr", _("企业自行和解中")
        RECEIVED = "received", _("待受理")
        DISPUTED = "disputed", _("管辖争议待指定")
        ACCEPTED = "accepted", _("已受理待调解")
        MEDIATING = "mediating", _("调解中")
        SUSPENDED = "suspended", _("调解中止")
        VERIFYING = "verifying", _("核查中")
        NOTIFYING = "notifying", _("待告知")
        CLOSED = "closed", _("已办结")

    class Outcome(models.TextChoices):
        NONE = "", _("未办结")
        REFUSED = "refused", _("不予受理")
        AGREEMENT = "agreement", _("调解成功")
        TERMINATED = "terminated", _("终止调解")
        WITHDRAWN = "withdrawn", _("撤回投诉")
        ODR_SETTLED = "odr_settled", _("企业和解成功")
        FILED = "filed", _("立案")
        NOT_FILED = "not_filed", _("不予立案")
        NOT_HANDLED = "not_handled", _("重复举报不再处理")

    class MediationMode(models.TextChoices):
        NONE = "", _("未开始")
        ONSITE = "onsite", _("现场调解")
        REMOTE = "remote", _("远程调解")
        ENTRUSTED = "entrusted", _("委托消费者协会调解")

    class AgreementKind(models.TextChoices):
        NONE = "", _("无")
        DOCUMENT = "document", _("调解书")
        RECORD = "record", _("调解记录")

    number = models.CharField(_("编号"), max_length=24, unique=True)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    submission = models.ForeignKey(
        Submission, on_delete=models.PROTECT, related_name="cases", verbose_name=_("提交")
    )
    linked_case = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("关联件"),
    )
    received_at = models.DateTimeField(_("接收时间"))
    received_on = models.DateField(_("收到日期"))
    # "order20" | "order121" (core.rulebook.version_on(received_on)); fixed at intake.
    rules = models.CharField(_("适用规章"), max_length=10)
    owner_unit = models.ForeignKey(
        OrgUnit,
        on_delete=models.PROTECT,
        related_name="complaint_cases",
        verbose_name=_("承办单位"),
    )
    routing_basis = models.CharField(_("管辖依据"), max_length=200, blank=True)

    status = models.CharField(_("状态"), max_length=12, choices=Status.choices)
    outcome = models.CharField(
        _("办理结果"), max_length=12, choices=Outcome.choices, blank=True, default=""
    )
    # The code of the enumerated ground (不予受理 / 终止调解) in the case's rules.
    outcome_ground = models.CharField(_("依据情形"), max_length=4, blank=True)
    outcome_note = models.TextField(_("办理情况"), blank=True)
    status_changed_at = models.DateTimeField(_("状态变更时间"), null=True, blank=True)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The running clock: due date, rule (name@version) and calendar version that produced it.
    due_on = models.DateField(_("办理期限"), null=True, blank=True)
    due_rule = models.CharField(_("期限依据"), max_length=60, blank=True)
    due_calendar_version = models.CharField(max_length=64, blank=True)
    suspended_days = models.PositiveIntegerField(_("中止计时天数"), default=0)
    extended = models.BooleanField(_("已延长期限"), default=False)
    escalated_at = models.DateTimeField(_("超期督办时间"), null=True, blank=True)
    # The day the running period counts from when it is not the received date: a transfer
    # or designation (the receiving bureau's day) or a supplementary report (Order 121
    # Art.35). complaints.routing.clock_start reads it.
    clock_started_on = models.DateField(_("本期限起算日"), null=True, blank=True)
    # The deadline ("rule@version:due") last escalated, so each deadline is escalated once.
    escalated_due = models.CharField(max_length=80, blank=True, editable=False)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)

    # The complainant or reporter. Phone and ID number: core.pii tokens and keyed hashes.
    anonymous = models.BooleanField(_("匿名举报"), default=False)
    person_name = models.CharField(_("姓名"), max_length=50, blank=True)
    person_phone = models.TextField(_("电话（密文）"), blank=True)
    person_phone_index = models.CharField(max_length=64, blank=True, db_index=True)
    person_id_number = models.TextField(_("身份证件号码（密文）"), blank=True)
    person_id_index = models.CharField(max_length=64, blank=True, db_index=True)
    person_address = models.CharField(_("通讯地址"), max_length=300, blank=True)
    consents_to_publication = models.BooleanField(_("同意公示投诉信息"), default=False)
    # Set when the retention period ended and the person_* fields were erased (retention.py).
    personal_data_erased_at = models.DateTimeField(_("个人信息删除时间"), null=True, blank=True)

    # The respondent: from the register when the code is known, else name and address.
    respondent_entity = models.ForeignKey(
        MarketEntity,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaint_cases",
        verbose_name=_("被投诉（举报）主体"),
    )
    respondent_code = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    respondent_name = models.CharField(_("被投诉（举报）人名称"), max_length=200)
    respondent_address = models.CharField(_("经营地址"), max_length=300, blank=True)
    # A seller on an e-commerce platform (Order 20 Art.12 / Order 121 Art.13).
    platform_entity = models.ForeignKey(
        MarketEntity,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="platform_cases",
        verbose_name=_("电子商务平台"),
    )
    platform_name = models.CharField(_("电子商务平台名称"), max_length=200, blank=True)

    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("商品服务类别")
    )
    issue_type = models.ForeignKey(
        IssueType, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("问题类别")
    )
    goods = models.CharField(_("商品或服务名称"), max_length=100, blank=True)
    request = models.TextField(_("投诉请求"), blank=True)
    facts = models.TextField(_("事实与理由"))
    amount = models.DecimalField(
        _("涉及金额（元）"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    incident_on = models.DateField(_("消费（发现）日期"), null=True, blank=True)
    # Normalised respondent + phone index + request, for near-duplicate detection.
    fingerprint = models.CharField(max_length=64, blank=True, db_index=True)
    duplicate_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("重复于"),
    )

    # ODR: the enterprise settles first (COMPLAINT_ODR_WORKDAYS), then the bureau.
    odr = models.BooleanField(_("经ODR处理"), default=False)
    # Mediation.
    mediation_mode = models.CharField(
        _("调解方式"), max_length=10, choices=MediationMode.choices, blank=True, default=""
    )
    mediator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="mediated_cases",
        verbose_name=_("调解人员"),
    )
    accepted_on = models.DateField(_("受理日期"), null=True, blank=True)
    # Entrusted mediation (委托消费者协会调解): who, and the day both parties consented
    # (实施条例 Art.46(4)); empty for the bureau's own mediation.
    entrusted_to = models.CharField(_("受托调解组织"), max_length=200, blank=True)
    entrustment_consented_on = models.DateField(_("双方同意委托日期"), null=True, blank=True)
    agreement_kind = models.CharField(
        _("调解协议形式"), max_length=10, choices=AgreementKind.choices, blank=True, default=""
    )
    amount_recovered = models.DecimalField(
        _("挽回经济损失（元）"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("登记人"),
    )

    class Meta:
        verbose_name = _("投诉举报件")
        verbose_name_plural = _("投诉举报件")
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["owner_unit", "status", "due_on"], name="case_owner_status_due"),
            models.Index(fields=["status", "due_on"], name="case_status_due"),
            models.Index(fields=["respondent_entity", "received_on"], name="case_entity_received"),
            models.Index(fields=["received_on"], name="case_received_on"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}"

    @classmethod
    def scope_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        return Q(owner_unit__in=units)

    @classmethod
    def scope_self_q(cls, user) -> Q:
        # An enterprise account sees the complaints about its own entity, never a report or
        # a lead (a reporter's identity must not reach the reported enterprise).
        if getattr(user, "role", None) != Role.ENTERPRISE:
            return Q(pk__in=[])
        mine = EntityAccount.objects.filter(user=user, entity=OuterRef("respondent_entity"))
        return Q(kind=cls.Kind.COMPLAINT) & Q(Exists(mine))


class CaseRelated(models.Model):
    """Rows that belong to one case see what the case's reader sees."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+")

    class Meta:
        abstract = True

    @classmethod
    def scope_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        return Q(case__owner_unit__in=units)

    @classmethod
    def scope_self_q(cls, user) -> Q:
        if getattr(user, "role", None) != Role.ENTERPRISE:
            return Q(pk__in=[])
        mine = EntityAccount.objects.filter(user=user, entity=OuterRef("case__respondent_entity"))
        return Q(case__kind=Case.Kind.COMPLAINT) & Q(Exists(mine))


class Suspension(CaseRelated):
    """Time off the mediation clock: appraisal or testing (Order 20 Art.20(3), 121 Art.22)."""

    class Reason(models.TextChoices):
        TESTING = "testing", _("检定、检验、检测、鉴定")
        RECUSAL = "recusal", _("回避申请待决定")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="suspensions")
    reason = models.CharField(_("中止原因"), max_length=10, choices=Reason.choices)
    note = models.CharField(_("说明"), max_length=300, blank=True)
    started_on = models.DateField(_("开始日期"))
    ended_on = models.DateField(_("结束日期"), null=True, blank=True)
    # Days not counted, in the mediation rule's own unit (working days or days).
    days = models.PositiveIntegerField(_("不计入天数"), default=0)

    class Meta:
        verbose_name = _("调解中止")
        verbose_name_plural = _("调解中止")
        ordering = ["started_on", "id"]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} {self.started_on}"


class Transfer(CaseRelated):
    """A case moved to another bureau (分送/移送), or a jurisdiction dispute and its outcome."""

    class Kind(models.TextChoices):
        TRANSFER = "transfer", _("转办")
        DISPUTE = "dispute", _("管辖争议")
        DESIGNATION = "designation", _("上级指定管辖")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="transfers")
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices)
    from_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    to_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", null=True)
    reason = models.CharField(_("理由"), max_length=500)
    at = models.DateTimeField(_("时间"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("转办与管辖争议")
        verbose_name_plural = _("转办与管辖争议")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d}"


class Recusal(CaseRelated):
    """A mediator stepping aside (回避), on their own declaration or a party's application."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="recusals")
    mediator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    applied_by_party = models.BooleanField(_("当事人申请"), default=False)
    reason = models.CharField(_("回避事由"), max_length=300)
    granted = models.BooleanField(_("准予回避"), null=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    at = models.DateTimeField(_("时间"))

    class Meta:
        verbose_name = _("调解回避")
        verbose_name_plural = _("调解回避")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.mediator} {self.reason}"


class Payment(CaseRelated):
    """Money paid to the consumer: 先行赔付 by the enterprise, or under an agreement."""

    class Kind(models.TextChoices):
        ADVANCE = "advance", _("先行赔付")
        AGREEMENT = "agreement", _("调解赔付")
        ODR = "odr", _("企业和解赔付")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="payments")
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    amount = models.DecimalField(_("金额（元）"), max_digits=12, decimal_places=2)
    paid_on = models.DateField(_("支付日期"))
    note = models.CharField(_("说明"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("赔付记录")
        verbose_name_plural = _("赔付记录")
        ordering = ["paid_on", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount}"


class CaseNotice(CaseRelated):
    """A notice sent about the case (受理告知, 不予受理告知书, 终止调解告知 …), kept with it."""

    class Recipient(models.TextChoices):
        PERSON = "person", _("投诉人（举报人）")
        RESPONDENT = "respondent", _("被投诉人")
        UNIT = "unit", _("承办单位")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="notices")
    kind = models.CharField(_("告知类型"), max_length=30)
    recipient = models.CharField(_("告知对象"), max_length=12, choices=Recipient.choices)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"))
    channel = models.CharField(_("送达方式"), max_length=20, blank=True)
    created_at = models.DateTimeField(_("生成时间"))
    sent_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    # The enterprise sees only notices addressed to it.
    visible_to_respondent = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("告知记录")
        verbose_name_plural = _("告知记录")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.title

    @classmethod
    def scope_self_q(cls, user) -> Q:
        return super().scope_self_q(user) & Q(visible_to_respondent=True)


class OdrEnrolment(models.Model):
    """An enterprise in the ODR scheme: complaints about it go to it first."""

    entity = models.ForeignKey(
        MarketEntity,
        on_delete=models.PROTECT,
        related_name="odr_enrolments",
        verbose_name=_("企业"),
    )
    joined_on = models.DateField(_("入驻日期"))
    left_on = models.DateField(_("退出日期"), null=True, blank=True)
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("ODR入驻企业")
        verbose_name_plural = _("ODR入驻企业")
        ordering = ["-joined_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["entity"],
                condition=Q(left_on__isnull=True),
                name="odr_one_active_per_entity",
            )
        ]

    def __str__(self) -> str:
        return str(self.entity)

    @classmethod
    def scope_q(cls, units: models.QuerySet[OrgUnit]) -> Q:
        return Q(entity__owner_unit__in=units)

    @classmethod
    def scope_self_q(cls, user) -> Q:
        if getattr(user, "role", None) != Role.ENTERPRISE:
            return Q(pk__in=[])
        return Q(Exists(EntityAccount.objects.filter(user=user, entity=OuterRef("entity"))))


class CaseNumberCounter(models.Model):
    """The last serial handed out per number prefix and day (TS20261128 → 123).

    One upsert counts and reads in one statement (``intake.next_number``), so two
    submissions can never get the same number, on SQLite and PostgreSQL alike.
    """

    scope_exempt = "internal to complaints.intake: counters, never shown to anyone"

    prefix = models.CharField(max_length=2)
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["prefix", "day"], name="case_number_prefix_day")
        ]

    def __str__(self) -> str:
        return f"{self.prefix}{self.day:%Y%m%d} {self.last}"


class ProofOfWorkUse(models.Model):
    """A solved proof-of-work challenge of the public form, kept until it expires.

    The unique challenge id makes each challenge good for one submission only
    (``complaints.pow``); expired rows are of no further use and are deleted.
    """

    scope_exempt = "internal to complaints.pow: used challenge ids, never shown to anyone"

    challenge = models.CharField(max_length=40, unique=True)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.challenge
