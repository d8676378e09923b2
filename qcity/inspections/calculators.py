"""Indicators of 双随机、一公开, registered with ``metrics.calculators`` (ADR 0021, ADR 0031).

Each calculator is ``fn(period, org_unit) -> Decimal | None`` (a percentage, two decimals;
None when the period has nothing to count):

- ``inspections.coverage.<A|B|C|D>``: coverage of risk class X in the period: entities of
  class X with a result checked in the period ÷ active entities of class X (the class and
  status as they are when the figure is computed);
- ``inspections.problem_rate`` and ``inspections.problem_rate.<section>``: results checked in
  the period carrying a code that counts as a problem (``ResultCode.problem_found``) ÷
  results checked in the period, overall and per GB/T 4754-2017 section (A–T) of the
  entity's industry;
- ``inspections.published_on_time``: results published in the period by their due date
  (``publish_due``, 20 working days) ÷ results published in the period.

The unit: a city-level unit (a department of the city government, such as 市市场监管局, or
the government itself) counts the whole city; any other unit counts the rows owned by it
and the units below it (a county bureau: its county's entities and its own plans' tasks).
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat

from qcity.core import audit
from qcity.core.models import OrgUnit

RISK_CLASSES = ("A", "B", "C", "D")

# GB/T 4754-2017: the divisions (two-digit 大类) of each section (门类).
SECTIONS: dict[str, tuple[int, int]] = {
    "A": (1, 5),
    "B": (6, 12),
    "C": (13, 43),
    "D": (44, 46),
    "E": (47, 50),
    "F": (51, 52),
    "G": (53, 60),
    "H": (61, 62),
    "I": (63, 65),
    "J": (66, 69),
    "K": (70, 70),
    "L": (71, 72),
    "M": (73, 75),
    "N": (76, 79),
    "O": (80, 82),
    "P": (83, 83),
    "Q": (84, 85),
    "R": (86, 90),
    "S": (91, 96),
    "T": (97, 97),
}
SECTION_NAMES = {
    "A": "农、林、牧、渔业",
    "B": "采矿业",
    "C": "制造业",
    "D": "电力、热力、燃气及水生产和供应业",
    "E": "建筑业",
    "F": "批发和零售业",
    "G": "交通运输、仓储和邮政业",
    "H": "住宿和餐饮业",
    "I": "信息传输、软件和信息技术服务业",
    "J": "金融业",
    "K": "房地产业",
    "L": "租赁和商务服务业",
    "M": "科学研究和技术服务业",
    "N": "水利、环境和公共设施管理业",
    "O": "居民服务、修理和其他服务业",
    "P": "教育",
    "Q": "卫生和社会工作",
    "R": "文化、体育和娱乐业",
    "S": "公共管理、社会保障和社会组织",
    "T": "国际组织",
}


def section_of(industry_code: str) -> str | None:
    """The GB/T 4754 section of an industry code: "F5211" or "5211" → "F"; unknown → None."""
    code = (industry_code or "").strip().upper()
    if code[:1] in SECTIONS:
        return code[0]
    digits = code[:2]
    if len(digits) == 2 and digits.isdigit():
        division = int(digits)
        for section, (low, high) in SECTIONS.items():
            if low <= division <= high:
                return section
    return None


def _section_q(section: str, field: str) -> Q:
    """Rows whose industry code (``field``) lies in ``section``, with or without its letter."""
    low, high = SECTIONS[section]
    q = Q(**{f"{field}__startswith": section})
    for division in range(low, high + 1):
        q |= Q(**{f"{field}__startswith": f"{division:02d}"})
    return q


def period_bounds(period: str) -> tuple[dt.date, dt.date]:
    """First and last day of "2026", "2026Q3" or "2026-09" (metrics' period keys)."""
    from qcity.metrics.periods import period_bounds as bounds

    return bounds(period)


def _units(org_unit: OrgUnit) -> QuerySet[OrgUnit] | None:
    """None (the whole city) for a city-level unit, else the unit and the units below it."""
    parent = org_unit.parent
    if parent is None or (parent.parent_id is None and org_unit.kind != OrgUnit.Kind.COUNTY):
        return None
    return OrgUnit.objects.filter(path__startswith=org_unit.path)


def _percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def _results(period: str, org_unit: OrgUnit):
    from qcity.inspections.models import Result

    start, end = period_bounds(period)
    rows = Result.objects.filter(check_date__gte=start, check_date__lte=end)
    units = _units(org_unit)
    return rows if units is None else rows.filter(task__owner_unit__in=units)


def coverage(risk_class: str):
    def calculate(period: str, org_unit: OrgUnit) -> Decimal | None:
        from qcity.registry.models import MarketEntity

        entities = MarketEntity.objects.filter(
            risk_class=risk_class, status=MarketEntity.Status.ACTIVE
        )
        units = _units(org_unit)
        if units is not None:
            entities = entities.filter(owner_unit__in=units)
        checked = _results(period, org_unit).filter(task__entity=OuterRef("pk"))
        eligible = entities.count()
        return _percent(entities.filter(Exists(checked)).count(), eligible)

    calculate.__name__ = f"coverage_{risk_class}"
    return calculate


def problem_rate(section: str | None = None):
    def calculate(period: str, org_unit: OrgUnit) -> Decimal | None:
        from qcity.inspections.models import ResultCode

        results = _results(period, org_unit)
        if section is not None:
            results = results.filter(_section_q(section, "task__entity__industry_code"))
        problem = ResultCode.objects.filter(results=OuterRef("pk"), problem_found=True)
        return _percent(results.filter(Exists(problem)).count(), results.count())

    calculate.__name__ = f"problem_rate_{section or 'all'}"
    return calculate


def published_on_time(period: str, org_unit: OrgUnit) -> Decimal | None:
    from qcity.inspections.models import Task
    from qcity.portal.models import PublishedInspection

    start, end = period_bounds(period)
    rows = PublishedInspection.objects.filter(
        published_at__date__gte=start, published_at__date__lte=end
    )
    units = _units(org_unit)
    if units is not None:
        sources = (
            Task.objects.filter(owner_unit__in=units)
            .annotate(source=Concat(Value("inspections.task:"), Cast("pk", CharField())))
            .values("source")
        )
        rows = rows.filter(source__in=sources)
    # ``late`` is decided at publication: published after ``publish_due`` (local date).
    return _percent(rows.filter(late=False).count(), rows.count())


def calculators() -> dict[str, object]:
    found: dict[str, object] = {f"inspections.coverage.{c}": coverage(c) for c in RISK_CLASSES}
    found["inspections.problem_rate"] = problem_rate()
    found.update({f"inspections.problem_rate.{s}": problem_rate(s) for s in SECTIONS})
    found["inspections.published_on_time"] = published_on_time
    return found


_REGISTERED: dict[str, object] = {}


def register_all() -> None:
    """Called once from ``InspectionsConfig.ready``: the same functions on every call."""
    from qcity.metrics import calculators as registry

    if not _REGISTERED:
        _REGISTERED.update(calculators())
    for code, fn in _REGISTERED.items():
        registry.register(code, fn)  # type: ignore[arg-type]


# The indicators of the catalogue that these calculators feed (owner 市市场监管局, yearly).
# (code, name, calculator, direction): a lower problem-found rate means fewer problems.
INDICATORS: list[tuple[str, str, str, str]] = [
    *[
        (
            f"inspections_coverage_{c.lower()}",
            f"双随机抽查覆盖率（{c}类企业）",
            f"inspections.coverage.{c}",
            "higher",
        )
        for c in RISK_CLASSES
    ],
    ("inspections_problem_rate", "双随机抽查问题发现率", "inspections.problem_rate", "lower"),
    (
        "inspections_published_on_time",
        "抽查结果按时公示率",
        "inspections.published_on_time",
        "higher",
    ),
]


def load_indicators(*, by=None) -> int:
    """Add the catalogue rows of these indicators when missing (idempotent, audited)."""
    from qcity.metrics.models import Direction, Indicator, PeriodType

    owner = OrgUnit.objects.get(name="市市场监管局")
    created = 0
    with transaction.atomic():
        for order, (code, name, calculator, direction) in enumerate(INDICATORS, start=900):
            if Indicator.objects.filter(code=code).exists():
                continue
            indicator = Indicator.objects.create(
                code=code,
                name=name,
                unit="%",
                direction=Direction(direction),
                period_type=PeriodType.YEARLY,
                owner_unit=owner,
                calculator=calculator,
                min_value=Decimal(0),
                max_value=Decimal(100),
                sort_order=order,
                description="由“双随机、一公开”业务数据自动计算（docs/decisions/0031）。",
            )
            audit.record("indicator.created", by=by, obj=indicator, details={"code": code})
            created += 1
    return created
