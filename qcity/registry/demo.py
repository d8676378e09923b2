"""A synthetic but realistic register of Tieling for ``make run`` (never in production).

``load_demo_register()`` (called by ``qcity load_demo_activity`` after ``load_defaults``)
writes a few thousand market entities of Tieling's seven county-level divisions, the
enforcement inspectors of the city bureau, the county bureaus and their stations (each
with a login of role inspector; the demo user ``inspector`` gets its Inspector row) and
a few declared conflicts (回避). Nothing here is a real firm or person.

The entities look like a real register: names are 县名 + 字号 + 行业 (``开原市福源食品有限公司``,
``西丰县老李副食店``) with the GB/T 4754-2017 industry code the name implies, kinds and
statuses in plausible shares, credit-risk classes A 30 % · B 50 % · C 15 % · D 5 % of the
classified ones, and 统一社会信用代码 that pass both check digits of GB 32100 (regulations
§6), made by ``registry.codes.make_uscc`` with the county's GB/T 2260 code and the category
of the entity's kind (1 企业, 2 个体工商户, 3 农民专业合作社).

Deterministic (a ``random.Random`` seeded with the seed and nothing else), bulk-written
(one INSERT per thousand rows: it takes well under a second), audited as one event (and one
for the inspectors' logins), and idempotent: when the register already holds entities, nothing is written.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from qcity.core import audit
from qcity.core.demo import DEMO_PASSWORD, DemoDataRefused
from qcity.core.models import OrgUnit, Role, User
from qcity.core.orgdata import COUNTIES
from qcity.registry.codes import make_uscc
from qcity.registry.models import Conflict, Inspector, MarketEntity, Speciality

SEED = 2026
SIZE = 3000

# --- names and industries ---------------------------------------------------------------------

# Trade names (字号) of the kind a county register is full of.
TRADE_NAMES = (
    "福源 鑫达 惠民 兴隆 金穗 龙泰 宏运 盛源 昌盛 恒信 丰华 瑞祥 永兴 和顺 广聚 德润 "
    "嘉禾 天益 华康 顺达 万家 益民 东升 北方 辽北 龙首 柴河 清河 寇河 象牙山 "
    "百姓 红星 新世纪 利民 众鑫 同发 宝丰 源丰 富达 聚福"
).split()
SURNAMES = "王 李 张 刘 陈 杨 赵 黄 周 吴 徐 孙 马 朱 胡 郭 何 高 林 郑".split()
# (what the name says, GB/T 4754-2017 code, enterprise suffix, individual suffix)
TRADES = [
    ("食品", "C1411", "食品有限公司", "糕点坊"),
    ("米业", "C1311", "米业有限公司", "米厂"),
    ("乳业", "C1442", "乳业有限公司", None),
    ("酿造", "C1462", "酿造有限公司", "酱园"),
    ("酒业", "C1512", "酒业有限公司", "烧锅"),
    ("超市", "F5212", "商贸有限公司", "超市"),
    ("百货", "F5211", "百货有限公司", "百货商店"),
    ("便利店", "F5213", "便利店有限公司", "便利店"),
    ("副食", "F5224", None, "副食店"),
    ("奶粉", "F5224", "母婴用品有限公司", "奶粉店"),
    ("药房", "F5251", "大药房连锁有限公司", "药房"),
    ("中药", "F5252", "中药房有限公司", "中药店"),
    ("农资", "F5166", "农资有限公司", "农资经销部"),
    ("农药", "F5167", "植保有限公司", "农药经销部"),
    ("汽修", "O8111", "汽车维修有限公司", "汽修厂"),
    ("加油", "F5265", "石油经销有限公司", None),
    ("餐饮", "H6210", "餐饮管理有限公司", "饭店"),
    ("快餐", "H6220", None, "快餐店"),
    ("宾馆", "H6110", "宾馆有限公司", "旅店"),
]
# (kind of cooperative, GB/T 4754-2017 code)
COOPERATIVES = [("水稻种植", "A0111"), ("玉米种植", "A0113"), ("蔬菜种植", "A0141")]
# Towns and streets for addresses, per county (a few real place names each).
PLACES = {
    "211202": ["红旗街道", "工人街道", "铁西街道", "银州街道"],
    "211204": ["红旗街道", "向阳街道", "张相镇", "聂家满族乡"],
    "211221": ["新台子镇", "阿吉镇", "镇西堡镇", "腰堡镇"],
    "211223": ["西丰镇", "房木镇", "天德镇", "振兴镇"],
    "211224": ["昌图镇", "老城镇", "八面城镇", "金家镇"],
    "211281": ["兀术街街道", "梅河街道", "晓南镇", "大明镇"],
    "211282": ["新城街道", "老城街道", "中固镇", "庆云堡镇", "八宝镇", "威远堡镇"],
}
STREETS = "人民路 中央大街 建设路 新华街 文化路 站前街 兴业路 胜利街 光明路 解放街".split()
# Share of the register per county (银州区 is the city centre; 昌图县 and 开原市 are big).
COUNTY_WEIGHTS = {
    "211202": 20,
    "211204": 6,
    "211221": 11,
    "211223": 10,
    "211224": 22,
    "211281": 9,
    "211282": 22,
}
KIND_WEIGHTS = [
    (MarketEntity.Kind.ENTERPRISE, 40),
    (MarketEntity.Kind.INDIVIDUAL, 55),
    (MarketEntity.Kind.COOPERATIVE, 5),
]
STATUS_WEIGHTS = [
    (MarketEntity.Status.ACTIVE, 91),
    (MarketEntity.Status.DEREGISTERED, 5),
    (MarketEntity.Status.REVOKED, 2),
    (MarketEntity.Status.CANCELLED, 1),
    (MarketEntity.Status.MOVED_OUT, 1),
]
# Of the classified entities; a few new ones (4 %) are not classified yet.
RISK_WEIGHTS = [("A", 30), ("B", 50), ("C", 15), ("D", 5)]
UNCLASSIFIED = 0.04
CLASSIFIED_ON = dt.date(2026, 1, 15)

# --- inspectors -------------------------------------------------------------------------------

CITY_BUREAU = "市市场监管局"
# Inspectors per unit kind: the city bureau's 执法支队, each county bureau, each station.
INSPECTORS_PER_UNIT = {"city": 10, "bureau": 8, "station": 5}
GIVEN_NAMES = (
    "伟 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀英 霞 平 刚 桂英 建华 志强 海燕 "
    "晓东 红梅 国庆 春雷 宏伟 雪梅 立新"
).split()
COUNTY_SLUGS = {
    "211202": "yinzhou",
    "211204": "qinghe",
    "211221": "tielingxian",
    "211223": "xifeng",
    "211224": "changtu",
    "211281": "diaobingshan",
    "211282": "kaiyuan",
}
# Held by most inspectors: the checks a county runs most are of food and of registration.
COMMON_SPECIALITY_NAMES = ("食品", "登记注册")
CONFLICT_REASONS = [
    "近亲属在该企业担任负责人",
    "曾在该企业任职未满三年",
    "与该经营者存在经济往来",
]


@dataclass(frozen=True)
class Loaded:
    """What one run wrote; ``already`` when the register had entities and nothing was written."""

    entities: int = 0
    inspectors: int = 0
    users: int = 0
    conflicts: int = 0
    already: bool = False


def _pick(rng: random.Random, weighted):
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights=weights)[0]


def _entity(rng: random.Random, region_code: str, county: str, serial: int, owner: OrgUnit):
    kind = _pick(rng, KIND_WEIGHTS)
    trade_name = rng.choice(TRADE_NAMES)
    if kind == MarketEntity.Kind.COOPERATIVE:
        what, industry = rng.choice(COOPERATIVES)
        name = f"{county}{trade_name}{what}专业合作社"
    else:
        trades = [t for t in TRADES if t[2 if kind == MarketEntity.Kind.ENTERPRISE else 3]]
        _, industry, enterprise_suffix, individual_suffix = rng.choice(trades)
        if kind == MarketEntity.Kind.ENTERPRISE:
            name = f"{county}{trade_name}{enterprise_suffix}"
        else:
            # 个体工商户 often trade under the owner's surname: 老李副食店, 张记快餐店.
            owner_name = rng.choice([f"老{rng.choice(SURNAMES)}", f"{rng.choice(SURNAMES)}记"])
            name = f"{county}{rng.choice([trade_name, owner_name])}{individual_suffix}"
    status = _pick(rng, STATUS_WEIGHTS)
    risk = "" if rng.random() < UNCLASSIFIED else _pick(rng, RISK_WEIGHTS)
    abnormal = risk in ("C", "D") and rng.random() < 0.25
    place = rng.choice(PLACES[region_code])
    return MarketEntity(
        code=make_uscc(region_code, serial, kind),
        code_kind=MarketEntity.CodeKind.USCC,
        name=name,
        kind=kind,
        region_code=region_code,
        owner_unit=owner,
        industry_code=industry,
        address=f"辽宁省铁岭市{county}{place}{rng.choice(STREETS)}{rng.randint(1, 399)}号",
        status=status,
        risk_class=risk,
        risk_classified_on=CLASSIFIED_ON if risk else None,
        on_abnormal_list=abnormal,
        on_serious_list=risk == "D" and abnormal and rng.random() < 0.2,
    )


def _entities(rng: random.Random, size: int) -> list[MarketEntity]:
    bureaus = {
        code: OrgUnit.objects.get(name=f"{county}市场监督管理局") for code, county in COUNTIES
    }
    counties = dict(COUNTIES)
    total = sum(COUNTY_WEIGHTS.values())
    rows: list[MarketEntity] = []
    names: set[str] = set()
    for code, weight in COUNTY_WEIGHTS.items():
        for serial in range(1, size * weight // total + 1):
            entity = _entity(rng, code, counties[code], serial, bureaus[code])
            # Registered names are unique within a county: a repeat is told apart by its town
            # (开原市中固镇福源食品有限公司), as registration offices do.
            if entity.name in names:
                town = next(p for p in PLACES[code] if p in entity.address)
                entity.name = entity.name.replace(counties[code], counties[code] + town, 1)
            names.add(entity.name)
            rows.append(entity)
    return rows


def _inspector_units() -> list[tuple[OrgUnit, str, str]]:
    """(unit, kind of unit, username prefix) for every unit that has inspectors."""
    units = [(OrgUnit.objects.get(name=CITY_BUREAU), "city", "city")]
    for code, county in COUNTIES:
        slug = COUNTY_SLUGS[code]
        units.append((OrgUnit.objects.get(name=f"{county}市场监督管理局"), "bureau", slug))
        station = OrgUnit.objects.get(name=f"{county}城区市场监督管理所")
        units.append((station, "station", f"{slug}-cq"))
    return units


def _inspectors(rng: random.Random) -> tuple[list[Inspector], int]:
    """The inspector pool, each with a login of role inspector; returns (pool, users made)."""
    specialities = list(Speciality.objects.enabled().order_by("sort_order", "code"))
    common = [s for s in specialities if s.name in COMMON_SPECIALITY_NAMES]
    others = [s for s in specialities if s not in common]
    password = make_password(DEMO_PASSWORD)  # one hash for all: argon2 per account is slow
    taken = set(User.objects.values_list("username", flat=True))
    pool: list[tuple[Inspector, list[Speciality]]] = []
    users = 0
    region_of_unit = {f"{county}": code for code, county in COUNTIES}
    for unit, unit_kind, prefix in _inspector_units():
        region = next((c for n, c in region_of_unit.items() if unit.name.startswith(n)), "211200")
        for n in range(1, INSPECTORS_PER_UNIT[unit_kind] + 1):
            name = rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES)
            username = f"{prefix}-jc{n:02d}"
            user = None
            if username not in taken:
                user = User.objects.create(
                    username=username,
                    full_name=name,
                    role=Role.INSPECTOR,
                    unit=unit,
                    password=password,
                )
                users += 1
            chosen = [s for s in common if rng.random() < 0.85]
            chosen += rng.sample(others, k=min(len(others), rng.randint(1, 2)))
            inspector = Inspector(
                user=user,
                name=name,
                certificate_no=f"{region}{2016 + n % 8}{unit.pk:03d}{n:03d}",
                org_unit=unit,
            )
            pool.append((inspector, chosen))
    demo = User.objects.filter(username="inspector", role=Role.INSPECTOR).first()
    if demo is not None and demo.unit_id and not Inspector.objects.filter(user=demo).exists():
        # The README's demo inspector: 开原市城区市场监督管理所, food and registration checks.
        pool.append(
            (
                Inspector(
                    user=demo,
                    name=demo.full_name or "吴执法",
                    certificate_no="21128220190001",
                    org_unit=demo.unit,
                ),
                common or specialities[:2],
            )
        )
    Inspector.objects.bulk_create([inspector for inspector, _ in pool])
    through = Inspector.specialities.through
    through.objects.bulk_create(
        [
            through(inspector_id=inspector.pk, speciality_id=speciality.pk)
            for inspector, chosen in pool
            for speciality in chosen
        ]
    )
    return [inspector for inspector, _ in pool], users


def _conflicts(
    rng: random.Random, inspectors: list[Inspector], entities: list[MarketEntity]
) -> list[Conflict]:
    """A few declared conflicts in every county: an inspector and a firm of their county."""
    declared_by = User.objects.filter(role=Role.COORDINATOR).order_by("pk").first()
    if declared_by is None:
        return []
    by_unit: dict[int, list[MarketEntity]] = {}
    for entity in entities:
        if entity.status == MarketEntity.Status.ACTIVE:
            by_unit.setdefault(entity.owner_unit_id, []).append(entity)
    conflicts = []
    now = timezone.now()
    for inspector in inspectors:
        unit = inspector.org_unit
        # A station's inspectors check their county bureau's register.
        owner = unit.parent_id if unit.kind == OrgUnit.Kind.STATION else unit.pk
        if owner not in by_unit or rng.random() > 0.08:
            continue
        conflicts.append(
            Conflict(
                inspector=inspector,
                entity=rng.choice(by_unit[owner]),
                reason=rng.choice(CONFLICT_REASONS),
                declared_at=now,
                declared_by=declared_by,
            )
        )
    Conflict.objects.bulk_create(conflicts)
    return conflicts


@transaction.atomic
def load_demo_register(*, seed: int = SEED, size: int = SIZE) -> Loaded:
    """Write the demo register, inspectors and conflicts once (see the module's docstring).

    :raises DemoDataRefused: under production settings, or before ``load_defaults``.
    """
    if not settings.QCITY_DEMO_DATA:
        raise DemoDataRefused("生产环境不加载演示数据")
    if MarketEntity.objects.exists():
        return Loaded(already=True)
    if not OrgUnit.objects.filter(name=CITY_BUREAU).exists():
        raise DemoDataRefused("还没有组织机构：请先运行 qcity load_defaults")
    rng = random.Random(f"{seed}:register")
    entities = MarketEntity.objects.bulk_create(_entities(rng, size), batch_size=1000)
    inspectors, users = _inspectors(rng)
    conflicts = _conflicts(rng, inspectors, entities)
    details = {"demo": True, "seed": seed}
    audit.record(
        "registry.demo_loaded",
        by=None,
        actor_label="system",
        details={
            **details,
            "entities": len(entities),
            "inspectors": len(inspectors),
            "conflicts": len(conflicts),
        },
    )
    if users:
        audit.record(
            "user.created",
            by=None,
            actor_label="system",
            details={**details, "role": Role.INSPECTOR, "count": users},
        )
    return Loaded(
        entities=len(entities),
        inspectors=len(inspectors),
        users=users,
        conflicts=len(conflicts),
    )
