"""Default reference data of 双随机、一公开: specialities, result codes, a check-item list.

The check-item list (抽查事项清单) below is REPRESENTATIVE, not authoritative: it is
modelled on the lines of 《市场监管总局随机抽查事项清单》 (columns as a provincial system
keeps them: 编号, 抽查事项名称, 抽查子项, 抽查依据, 抽查主体, 抽查对象, 抽查比例, 抽查频次,
抽查方式, 检查人员要求, 备注) so that a new installation can run the whole flow. Each
province publishes its own 省级抽查事项清单 and adjusts it; a province replaces this list
through the admin (抽查事项清单: add, change, disable) or an import. The legal bases are
real laws; an article number is given only where it is certain, otherwise the law alone
is named. The default ratios are qcity's choice, not national numbers (none exist: the
ratios are set per province and per plan): 一般检查事项 a small, strictly limited ratio
(3–5 %), 重点检查事项 no default limit (the batch sets it).

``load()`` is idempotent: it creates what is missing (matched by code) and never changes
or re-enables a row that exists, so an administrator's edits and disablings survive every
``qcity load_defaults``; nothing is ever deleted (reference data is disabled, and old
batches and results keep pointing at it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Q

from qcity.core import audit
from qcity.inspections.models import CheckItem, ResultCode
from qcity.registry.models import Speciality

# (code, name)
SPECIALITIES: list[tuple[str, str]] = [
    ("food", "食品"),
    ("special_equipment", "特种设备"),
    ("metrology", "计量"),
    ("product_quality", "产品质量"),
    ("price", "价格"),
    ("advertising", "广告"),
    ("online_trade", "网络交易"),
    ("drugs_devices", "药品医疗器械"),
    ("ip", "知识产权"),
    ("registration", "登记注册"),
    ("competition", "反不正当竞争"),
    ("certification", "认证认可与检验检测"),
]

# (code, name, problem_found, opens_follow_up), regulations.md §1.4 (公示系统 result
# categories). Closed, deregistered or moved-out entities are not "problems found": the
# check simply could not look at business that is not there.
RESULT_CODES: list[tuple[str, str, bool, bool]] = [
    ("01", "未发现问题", False, False),
    ("02", "未按规定公示应当公示的信息", True, False),
    ("03", "公示信息隐瞒真实情况弄虚作假", True, False),
    ("04", "通过登记的住所（经营场所）无法联系", True, False),
    ("05", "发现问题已责令改正", True, False),
    ("06", "发现问题待后续处理", True, True),
    ("07", "不配合检查情节严重", True, False),
    ("08", "未发现开展本次抽查涉及的经营活动", False, False),
    ("09", "已关闭停业或正在组织清算", False, False),
    ("10", "注销", False, False),
    ("11", "被吊销", False, False),
    ("12", "被撤销", False, False),
    ("13", "迁出", False, False),
    ("14", "违反工商相关规定", True, False),
    ("15", "违反食品药品相关规定", True, False),
    ("16", "违反质量技术监督相关规定", True, False),
    ("17", "违反其他部门相关规定", True, False),
]

KEY = CheckItem.Kind.KEY
GENERAL = CheckItem.Kind.GENERAL
TWO_OFFICERS = "执法人员不少于两人（《中华人民共和国行政处罚法》第四十二条）"
SMR = "市场监督管理部门"


@dataclass(frozen=True)
class Item:
    code: str
    name: str
    sub_items: list[str]
    legal_basis: str
    object_type: str
    kind: str
    specialities: list[str] = field(default_factory=list)
    ratio: str | None = None  # percent; None: no default limit (重点)
    frequency: str = "每年不少于1次"
    method: str = "现场检查、书面检查、网络监测"
    department: str = SMR
    requirement: str = ""
    note: str = ""


CHECK_ITEMS: list[Item] = [
    Item(
        "SJ-001",
        "企业公示信息情况检查",
        ["年度报告公示信息", "即时公示信息", "通过登记的住所（经营场所）可否联系"],
        "《企业信息公示暂行条例》第十四条",
        "企业",
        GENERAL,
        ["registration"],
        ratio="3",
        method="书面检查、实地核查、网络监测",
    ),
    Item(
        "SJ-002",
        "个体工商户、农民专业合作社年度报告公示信息检查",
        ["年度报告公示信息", "经营场所可否联系"],
        "《企业信息公示暂行条例》；《促进个体工商户发展条例》",
        "个体工商户、农民专业合作社",
        GENERAL,
        ["registration"],
        ratio="3",
        method="书面检查、实地核查",
    ),
    Item(
        "SJ-003",
        "市场主体登记事项检查",
        ["登记事项与实际情况是否一致", "营业执照悬挂（公示）情况"],
        "《中华人民共和国市场主体登记管理条例》",
        "企业、个体工商户、农民专业合作社",
        GENERAL,
        ["registration"],
        ratio="3",
    ),
    Item(
        "SJ-004",
        "食品生产环节监督检查",
        ["生产者资质", "生产环境条件", "进货查验", "生产过程控制", "产品检验", "贮存及交付控制"],
        "《中华人民共和国食品安全法》第一百一十条",
        "食品生产者",
        KEY,
        ["food"],
        frequency="按风险等级确定，每年不少于1次",
        method="现场检查",
    ),
    Item(
        "SJ-005",
        "食品销售环节监督检查",
        ["经营者资质", "经营条件", "食品进货查验记录", "食品贮存", "临近保质期食品管理"],
        "《中华人民共和国食品安全法》第一百一十条",
        "食品销售者",
        KEY,
        ["food"],
        frequency="按风险等级确定",
        method="现场检查",
    ),
    Item(
        "SJ-006",
        "餐饮服务环节监督检查",
        ["许可情况", "从业人员健康管理", "原料控制", "加工制作过程", "餐饮具清洗消毒"],
        "《中华人民共和国食品安全法》第一百一十条",
        "餐饮服务提供者",
        KEY,
        ["food"],
        frequency="按风险等级确定",
        method="现场检查",
    ),
    Item(
        "SJ-007",
        "食用农产品市场销售质量安全检查",
        ["进货查验与承诺达标合格证收取保存", "入场销售者档案", "贮存与销售条件"],
        "《中华人民共和国食品安全法》第一百一十条；《中华人民共和国农产品质量安全法》第三十九条",
        "食用农产品集中交易市场开办者、销售者",
        GENERAL,
        ["food"],
        ratio="5",
        method="现场检查",
    ),
    Item(
        "SJ-008",
        "特种设备使用单位监督检查",
        [
            "使用登记",
            "定期检验",
            "安全管理人员和作业人员持证",
            "安全技术档案",
            "维护保养与自行检查",
        ],
        "《中华人民共和国特种设备安全法》第五十七条",
        "特种设备使用单位",
        KEY,
        ["special_equipment"],
        frequency="按风险等级确定",
        method="现场检查",
        requirement="须持特种设备安全监察相关资格",
    ),
    Item(
        "SJ-009",
        "特种设备生产单位监督检查",
        ["许可条件保持", "质量保证体系运行", "出厂资料"],
        "《中华人民共和国特种设备安全法》第五十七条",
        "特种设备生产（含设计、制造、安装、改造、修理）单位",
        KEY,
        ["special_equipment"],
        method="现场检查",
        requirement="须持特种设备安全监察相关资格",
    ),
    Item(
        "SJ-010",
        "计量器具监督检查",
        ["强制检定计量器具检定情况", "计量器具准确性", "计量标准器具"],
        "《中华人民共和国计量法》",
        "使用强制检定计量器具的单位",
        GENERAL,
        ["metrology"],
        ratio="5",
        method="现场检查",
    ),
    Item(
        "SJ-011",
        "定量包装商品净含量监督检查",
        ["净含量标注", "净含量计量检验"],
        "《中华人民共和国计量法》；《定量包装商品计量监督管理办法》",
        "定量包装商品生产者、销售者",
        GENERAL,
        ["metrology"],
        ratio="3",
        method="现场检查、抽样检验",
    ),
    Item(
        "SJ-012",
        "加油站计量监督检查",
        ["燃油加油机强制检定", "计量作弊行为"],
        "《中华人民共和国计量法》",
        "加油站",
        KEY,
        ["metrology"],
        method="现场检查",
    ),
    Item(
        "SJ-013",
        "产品质量监督抽查",
        ["抽样检验", "标识标注", "生产者质量管理"],
        "《中华人民共和国产品质量法》第十五条",
        "产品生产者、销售者",
        KEY,
        ["product_quality"],
        method="抽样检验",
        note="同一产品已列入上级抽查的，下级不得另行重复抽查（《产品质量法》第十五条）",
    ),
    Item(
        "SJ-014",
        "工业产品生产许可证获证企业检查",
        ["许可条件保持", "产品质量", "证书和标志使用"],
        "《中华人民共和国工业产品生产许可证管理条例》",
        "工业产品生产许可证获证企业",
        KEY,
        ["product_quality"],
        method="现场检查",
    ),
    Item(
        "SJ-015",
        "强制性产品认证（CCC）获证产品检查",
        ["认证证书有效性", "认证标志使用", "获证产品一致性"],
        "《中华人民共和国认证认可条例》",
        "强制性产品认证获证产品的生产者、销售者",
        GENERAL,
        ["certification", "product_quality"],
        ratio="5",
    ),
    Item(
        "SJ-016",
        "检验检测机构监督检查",
        ["资质认定条件保持", "检验检测报告", "人员与设备"],
        "《中华人民共和国认证认可条例》；《检验检测机构资质认定管理办法》",
        "检验检测机构",
        GENERAL,
        ["certification"],
        ratio="5",
    ),
    Item(
        "SJ-017",
        "广告发布检查",
        ["广告内容合法性", "广告审查（须审查的广告）", "广告业务档案"],
        "《中华人民共和国广告法》",
        "广告主、广告经营者、广告发布者",
        GENERAL,
        ["advertising"],
        ratio="3",
        method="网络监测、现场检查",
    ),
    Item(
        "SJ-018",
        "价格行为检查",
        ["明码标价", "价格欺诈", "政府定价、指导价执行"],
        "《中华人民共和国价格法》；《明码标价和禁止价格欺诈规定》",
        "经营者",
        GENERAL,
        ["price"],
        ratio="3",
    ),
    Item(
        "SJ-019",
        "网络交易经营者检查",
        ["亮照亮证", "商品或服务信息披露", "平台经营者主体责任"],
        "《中华人民共和国电子商务法》；《网络交易监督管理办法》",
        "网络交易经营者",
        GENERAL,
        ["online_trade"],
        ratio="3",
        method="网络监测、书面检查",
    ),
    Item(
        "SJ-020",
        "药品零售企业监督检查",
        ["许可条件", "药品购进验收记录", "处方药销售管理", "执业药师在岗"],
        "《中华人民共和国药品管理法》",
        "药品零售企业",
        KEY,
        ["drugs_devices"],
        method="现场检查",
    ),
    Item(
        "SJ-021",
        "医疗器械经营企业监督检查",
        ["经营许可或备案", "进货查验", "贮存条件"],
        "《医疗器械监督管理条例》",
        "医疗器械经营企业",
        GENERAL,
        ["drugs_devices"],
        ratio="5",
        method="现场检查",
    ),
    Item(
        "SJ-022",
        "化妆品经营者监督检查",
        ["进货查验记录", "标签", "贮存条件"],
        "《化妆品监督管理条例》",
        "化妆品经营者",
        GENERAL,
        ["drugs_devices"],
        ratio="3",
        method="现场检查",
    ),
    Item(
        "SJ-023",
        "商标使用行为检查",
        ["注册商标使用", "商标印制"],
        "《中华人民共和国商标法》",
        "商标使用人、商标印制单位",
        GENERAL,
        ["ip"],
        ratio="3",
    ),
    Item(
        "SJ-024",
        "专利标识标注行为检查",
        ["专利标识标注", "假冒专利"],
        "《中华人民共和国专利法》",
        "产品生产者、销售者",
        GENERAL,
        ["ip"],
        ratio="3",
    ),
    Item(
        "SJ-025",
        "直销企业及其分支机构检查",
        ["直销员管理", "信息报备和披露", "退换货制度执行"],
        "《直销管理条例》",
        "直销企业及其分支机构、服务网点",
        GENERAL,
        ["competition"],
        ratio="5",
    ),
]


@dataclass
class Loaded:
    specialities: int = 0
    result_codes: int = 0
    check_items: int = 0

    @property
    def total(self) -> int:
        return self.specialities + self.result_codes + self.check_items

    def __str__(self) -> str:
        return (
            f"双随机参考数据：新建专业领域 {self.specialities}，检查结果代码 {self.result_codes}，"
            f"抽查事项 {self.check_items}"
        )


@transaction.atomic
def load() -> Loaded:
    """Create the missing default specialities, result codes and check items (by code)."""
    loaded = Loaded()
    specialities: dict[str, Speciality] = {}
    for order, (code, name) in enumerate(SPECIALITIES, start=1):
        # By code, or by name: a speciality someone entered by hand under another code is
        # the same speciality (names are unique too), not a second one.
        speciality = (
            Speciality.objects.filter(code=code).first()
            or Speciality.objects.filter(name=name).first()
        )
        if speciality is None:
            speciality = Speciality.objects.create(code=code, name=name, sort_order=order)
            loaded.specialities += 1
        specialities[code] = speciality
    for order, (code, name, problem, follow_up) in enumerate(RESULT_CODES, start=1):
        if ResultCode.objects.filter(Q(code=code) | Q(name=name)).exists():
            continue
        ResultCode.objects.create(
            code=code,
            name=name,
            problem_found=problem,
            opens_follow_up=follow_up,
            sort_order=order,
        )
        loaded.result_codes += 1
    for order, item in enumerate(CHECK_ITEMS, start=1):
        requirement = "；".join(r for r in (TWO_OFFICERS, item.requirement) if r)
        check_item, created = CheckItem.objects.get_or_create(
            code=item.code,
            defaults={
                "name": item.name,
                "sub_items": item.sub_items,
                "legal_basis": item.legal_basis,
                "department": item.department,
                "object_type": item.object_type,
                "kind": item.kind,
                "method": item.method,
                "inspector_requirement": requirement,
                "default_ratio": Decimal(item.ratio) if item.ratio is not None else None,
                "default_frequency": item.frequency,
                "note": item.note,
                "sort_order": order,
            },
        )
        if created:
            check_item.required_specialities.set([specialities[c] for c in item.specialities])
            loaded.check_items += 1
    if loaded.total:
        audit.record(
            "inspections.defaults_loaded",
            by=None,
            actor_label="system",
            details={
                "specialities": loaded.specialities,
                "result_codes": loaded.result_codes,
                "check_items": loaded.check_items,
            },
        )
    return loaded
