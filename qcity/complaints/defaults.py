"""Default reference data of 12315: goods and service categories, issue types.

The lists follow the classes the 12315 platform and the China Consumers Association
(中国消费者协会) use in their published complaint statistics (商品大类 / 服务大类, and
投诉问题性质: 质量, 安全, 价格 …). They are REPRESENTATIVE, not a national code list:
a bureau adjusts them in the admin (add, rename, disable). ``load()`` is idempotent: it
creates what is missing (matched by code or name) and never changes, re-enables or deletes
a row that exists, so an administrator's edits survive every ``qcity load_defaults``;
cases keep pointing at disabled rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q

from qcity.complaints.models import Category, IssueType
from qcity.core import audit

G, S = Category.Kind.GOODS, Category.Kind.SERVICE

# (code, name, kind)
CATEGORIES: list[tuple[str, str, str]] = [
    ("G01", "家用电子电器类", G),
    ("G02", "服装鞋帽类", G),
    ("G03", "食品类", G),
    ("G04", "日用商品类", G),
    ("G05", "交通工具类", G),
    ("G06", "通讯器材类", G),
    ("G07", "计算机类", G),
    ("G08", "房屋及建材类", G),
    ("G09", "烟、酒和饮料类", G),
    ("G10", "首饰及文体用品类", G),
    ("G11", "化妆品类", G),
    ("G12", "医药及医疗用品类", G),
    ("G13", "农用生产资料类", G),
    ("G14", "儿童用品类", G),
    ("G99", "其他商品", G),
    ("S01", "生活、社会服务类", S),
    ("S02", "销售服务", S),
    ("S03", "互联网服务", S),
    ("S04", "教育培训服务", S),
    ("S05", "房屋装修及物业服务", S),
    ("S06", "旅游服务", S),
    ("S07", "文化、娱乐、体育服务", S),
    ("S08", "电信服务", S),
    ("S09", "邮政业服务（快递）", S),
    ("S10", "公用事业服务", S),
    ("S11", "交通运输服务", S),
    ("S12", "卫生保健服务（含美容美发）", S),
    ("S13", "金融服务", S),
    ("S14", "保险服务", S),
    ("S15", "餐饮和住宿服务", S),
    ("S99", "其他服务", S),
]

# (code, name): the nature of the problem, as 中消协 counts complaints.
ISSUE_TYPES: list[tuple[str, str]] = [
    ("quality", "质量"),
    ("safety", "安全"),
    ("price", "价格"),
    ("measure", "计量"),
    ("counterfeit", "假冒"),
    ("contract", "合同"),
    ("advertising", "虚假宣传"),
    ("dignity", "人格尊严"),
    ("after_sales", "售后服务"),
    ("personal_info", "个人信息"),
    ("other", "其他"),
]


@dataclass
class Loaded:
    categories: int = 0
    issue_types: int = 0

    @property
    def total(self) -> int:
        return self.categories + self.issue_types

    def __str__(self) -> str:
        return f"投诉举报参考数据：新建商品服务类别 {self.categories}，问题类别 {self.issue_types}"


@transaction.atomic
def load() -> Loaded:
    """Create the missing default categories and issue types (by code or by name)."""
    loaded = Loaded()
    for order, (code, name, kind) in enumerate(CATEGORIES, start=1):
        if Category.objects.filter(Q(code=code) | Q(name=name)).exists():
            continue
        Category.objects.create(code=code, name=name, kind=kind, sort_order=order)
        loaded.categories += 1
    for order, (code, name) in enumerate(ISSUE_TYPES, start=1):
        if IssueType.objects.filter(Q(code=code) | Q(name=name)).exists():
            continue
        IssueType.objects.create(code=code, name=name, sort_order=order)
        loaded.issue_types += 1
    if loaded.total:
        audit.record(
            "complaints.defaults_loaded",
            by=None,
            actor_label="system",
            details={"categories": loaded.categories, "issue_types": loaded.issue_types},
        )
    return loaded
