"""Publication rows: all the public portal ever reads (DESIGN §4.6).

They are written only by an explicit publish step of an operational app, which copies
the public fields and nothing else; the portal never queries case tables. Rows carry no
personal data (no inspector names, no phones, no complainants), so they need no scope.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class PublishedInspection(models.Model):
    """One published 双随机 check result (一公开)."""

    scope_exempt = "public disclosure: read by anyone, written only by the publish step"

    # "inspections.task:<pk>": where it came from, unique so a result is published once.
    source = models.CharField(max_length=64, unique=True)
    entity_code = models.CharField(_("统一社会信用代码"), max_length=18, db_index=True)
    entity_name = models.CharField(_("市场主体名称"), max_length=200)
    region_code = models.CharField(_("行政区划代码"), max_length=6, db_index=True)
    authority = models.CharField(_("检查实施机关"), max_length=200)
    batch_title = models.CharField(_("抽查批次"), max_length=300)
    check_items = models.TextField(_("抽查事项"))
    result = models.CharField(_("检查结果"), max_length=500)
    check_date = models.DateField(_("检查日期"))
    publish_due = models.DateField(_("公示期限"))
    published_at = models.DateTimeField(_("公示时间"), db_index=True)
    late = models.BooleanField(_("逾期公示"), default=False)
    late_reason = models.TextField(_("逾期理由"), blank=True)

    class Meta:
        verbose_name = _("抽查结果公示")
        verbose_name_plural = _("抽查结果公示")
        ordering = ["-published_at", "entity_code"]

    def __str__(self) -> str:
        return f"{self.entity_name} {self.check_date}"


class PublishedDraw(models.Model):
    """One published draw record, with what anyone needs to re-run it."""

    scope_exempt = "public disclosure: read by anyone, written only by the publish step"

    source = models.CharField(max_length=64, unique=True)
    authority = models.CharField(_("抽取单位"), max_length=200)
    batch_title = models.CharField(_("抽查批次"), max_length=300)
    attempt = models.PositiveSmallIntegerField(_("第几次抽取"))
    reason = models.TextField(_("重新抽取理由"), blank=True)
    drawn_at = models.DateTimeField(_("抽取时间"))
    population_size = models.PositiveIntegerField(_("符合条件的主体数"))
    selected_count = models.PositiveIntegerField(_("抽中数量"))
    # record.json exactly as `qcity export_draw` writes it (docs/draw-algorithm.md).
    record = models.JSONField(_("抽取记录"))
    # Storage name of the gzip population.csv published with the record.
    population_file = models.CharField(max_length=255)
    published_at = models.DateTimeField(_("公示时间"), db_index=True)

    class Meta:
        verbose_name = _("抽取记录公示")
        verbose_name_plural = _("抽取记录公示")
        ordering = ["-published_at"]

    def __str__(self) -> str:
        return f"{self.batch_title} 第{self.attempt}次抽取"


class PublishedComplaintStat(models.Model):
    """One enterprise's complaint figures for one period (投诉信息公示, 国市监稽规〔2023〕6号).

    Desensitized by construction: counts, rates, and the hot goods and issues as category
    names; no complainant, no reporter, no case text.
    """

    scope_exempt = "public disclosure: read by anyone, written only by the publish step"

    # "2026-10" (a month) or "2026" (a year): the period the figures cover.
    period = models.CharField(_("统计期间"), max_length=7, db_index=True)
    entity_code = models.CharField(_("统一社会信用代码"), max_length=18, db_index=True)
    entity_name = models.CharField(_("经营者名称"), max_length=200)
    region_code = models.CharField(_("行政区划代码"), max_length=6, db_index=True)
    authority = models.CharField(_("公示部门"), max_length=200)
    complaints = models.PositiveIntegerField(_("投诉量"))
    previous_complaints = models.PositiveIntegerField(_("上期投诉量"))
    # Growth against the previous period, percent; None when the previous period had none.
    growth_pct = models.DecimalField(
        _("投诉量增长率（%）"), max_digits=7, decimal_places=1, null=True, blank=True
    )
    mediated = models.PositiveIntegerField(_("调解结案量"), default=0)
    mediation_success_pct = models.DecimalField(
        _("调解成功率（%）"), max_digits=5, decimal_places=1, null=True, blank=True
    )
    odr_member = models.BooleanField(_("ODR入驻企业"), default=False)
    odr_settled_pct = models.DecimalField(
        _("先行和解率（%）"), max_digits=5, decimal_places=1, null=True, blank=True
    )
    hot_goods = models.CharField(_("热点商品服务"), max_length=300, blank=True)
    hot_issues = models.CharField(_("热点问题"), max_length=300, blank=True)
    published_at = models.DateTimeField(_("公示时间"), db_index=True)

    class Meta:
        verbose_name = _("消费投诉信息公示")
        verbose_name_plural = _("消费投诉信息公示")
        ordering = ["-period", "-complaints", "entity_code"]
        constraints = [
            models.UniqueConstraint(
                fields=["period", "entity_code"], name="complaint_stat_one_per_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.entity_name} {self.period}"
