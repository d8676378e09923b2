"""The dated rulebook: every legal deadline and list of grounds, with its source and validity.

A rule is named (``complaint.accept``) and has one version per legal text that set it
(``order20`` = 《市场监督管理投诉举报处理暂行办法》, SAMR Order 20, in force until 2026-04-14;
``order121`` = 《市场监督管理投诉举报处理办法》, SAMR Order 121, from 2026-04-15). Which
version applies is decided by a date: a case asks with its received date (DESIGN §4.4), the
``qcity deadline`` command with the start date it is given.

Counting (Order 121 Art.45, the same as 民法典 Art.201–203): the start day is not counted;
a working-day period counts working days from ``core.workdays``; a calendar-day period
counts days, and when its last day is a statutory holiday the period ends on the first day
after it. Whether an ordinary weekend counts as such a holiday is the setting
``COMPLAINT_WEEKEND_IS_HOLIDAY`` (default yes, as courts read 法定休假日). Time spent on
appraisal and testing is not counted (Order 20 Art.20(3), Order 121 Art.22): ``suspended``
days are added, in the rule's own unit.

Where the texts leave a choice open, a setting decides, and the choice is shown on the case:
- ``COMPLAINT_MEDIATION_FROM_2024`` (``order20`` default | ``regulation``): Order 20's 45
  working days, or the 消保法实施条例 Art.46's 60 days for cases received from 2024-07-01
  until Order 121 took over;
- figures no national text fixes (the ODR period) are ``configured`` rules, marked so.

docs/rulebook.md lists every rule with its article; tests/core/test_rulebook.py checks
hand-computed deadlines under both versions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from django.conf import settings

from qcity.core import workdays
from qcity.core.workflow import Deadline

ORDER20 = "order20"
ORDER121 = "order121"
REGULATION = "regulation"  # 消费者权益保护法实施条例 (国务院令第778号)

ORDER20_FROM = dt.date(2020, 1, 1)
ORDER121_FROM = dt.date(2026, 4, 15)
REGULATION_FROM = dt.date(2024, 7, 1)
_LAST_ORDER20_DAY = ORDER121_FROM - dt.timedelta(days=1)

ORDER20_TITLE = "《市场监督管理投诉举报处理暂行办法》（国家市场监督管理总局令第20号）"
ORDER121_TITLE = "《市场监督管理投诉举报处理办法》（国家市场监督管理总局令第121号）"
REGULATION_TITLE = "《消费者权益保护法实施条例》（国务院令第778号）"
PENALTY_TITLE = "《市场监督管理行政处罚程序规定》"

VERSION_LABELS = {
    ORDER20: "总局令第20号",
    ORDER121: "总局令第121号",
    REGULATION: "消保法实施条例",
    "local": "本地配置",
}

Unit = Literal["workdays", "days"]


class RuleError(Exception):
    """A rule that does not exist, or is not in force on the date asked about."""

    code = "rule_error"


class UnknownRule(RuleError):
    code = "unknown_rule"

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"没有名为 {name} 的期限规则；可用：{'、'.join(rule_names())}")


class RuleNotInForce(RuleError):
    code = "rule_not_in_force"

    def __init__(self, name: str, on: dt.date) -> None:
        self.name, self.on = name, on
        super().__init__(f"规则 {name} 在 {on.isoformat()} 不适用（该日施行的规章中没有这一期限）")


@dataclass(frozen=True)
class Rule:
    """One version of one deadline rule."""

    name: str
    version: str
    title: str  # what the period is for, in Chinese
    article: str
    source: str
    valid_from: dt.date
    valid_to: dt.date | None  # the last day it applies; None = still in force
    unit: Unit
    count: int
    starts: str  # the day the clock starts from, as the text says it
    extension: int = 0  # extra period the text allows (特殊情况 / 经负责人批准)
    extension_needs_approval: bool = False
    suspends_for_testing: bool = False
    # True where no confirmed legal text fixes the figure: a deployment setting, shown as such.
    configured: bool = False

    def in_force(self, on: dt.date) -> bool:
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)

    @property
    def key(self) -> str:
        """What a stored deadline records as its rule: name and version."""
        return f"{self.name}@{self.version}"

    @property
    def period_label(self) -> str:
        return f"{self.count}个{'工作日' if self.unit == 'workdays' else '日'}"


@dataclass(frozen=True)
class Grounds:
    """One version of an enumerated list of grounds (不予受理, 终止调解)."""

    name: str
    version: str
    article: str
    valid_from: dt.date
    valid_to: dt.date | None
    items: tuple[tuple[str, str], ...]  # (code, the text's own wording)

    def in_force(self, on: dt.date) -> bool:
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)

    def label(self, code: str) -> str:
        return dict(self.items).get(code, code)


def _o20(name: str, title: str, article: str, **kw) -> Rule:
    return Rule(
        name=name,
        version=ORDER20,
        title=title,
        article=article,
        source=ORDER20_TITLE,
        valid_from=ORDER20_FROM,
        valid_to=_LAST_ORDER20_DAY,
        **kw,
    )


def _o121(name: str, title: str, article: str, **kw) -> Rule:
    return Rule(
        name=name,
        version=ORDER121,
        title=title,
        article=article,
        source=ORDER121_TITLE,
        valid_from=ORDER121_FROM,
        valid_to=None,
        **kw,
    )


def _rules() -> list[Rule]:
    accept = dict(unit="workdays", count=7, starts="收到投诉之日")
    notice = dict(unit="workdays", count=7, starts="作出终止调解决定之日")
    lead = dict(unit="workdays", count=15, starts="发现违法线索之日", extension=15)
    verify = dict(unit="workdays", count=15, starts="收到举报之日", extension=15)
    dispute = dict(unit="workdays", count=7, starts="发生管辖争议之日")
    odr = dict(
        unit="workdays",
        count=settings.COMPLAINT_ODR_WORKDAYS,
        starts="投诉分送入驻企业之日",
        configured=True,
    )
    return [
        _o20("complaint.accept", "作出受理或者不予受理决定", "第十四条", **accept),
        _o121("complaint.accept", "作出受理或者不予受理决定", "第十五条", **accept),
        _o20(
            "complaint.mediation",
            "调解期限（期满未达成协议则终止调解）",
            "第二十一条第一款第五项",
            unit="workdays",
            count=45,
            starts="投诉受理之日",
            suspends_for_testing=True,
        ),
        Rule(
            name="complaint.mediation",
            version=REGULATION,
            title="调解期限（期满未达成协议则终止调解）",
            article="第四十六条第三款",
            source=REGULATION_TITLE,
            valid_from=REGULATION_FROM,
            valid_to=_LAST_ORDER20_DAY,
            unit="days",
            count=60,
            starts="投诉受理之日",
            suspends_for_testing=True,
        ),
        _o121(
            "complaint.mediation",
            "调解期限（期满未达成协议则终止调解）",
            "第二十三条第一款第五项",
            unit="days",
            count=60,
            starts="投诉受理之日",
            suspends_for_testing=True,
        ),
        _o20("complaint.termination_notice", "告知终止调解", "第二十一条第二款", **notice),
        _o121("complaint.termination_notice", "告知终止调解", "第二十三条第二款", **notice),
        _o20("complaint.lead_check", "核查调解中发现的违法线索", "第二十三条", **lead),
        _o121(
            "complaint.lead_check",
            "核查调解中发现的违法线索",
            "第二十七条",
            extension_needs_approval=True,
            **lead,
        ),
        _o20(
            "report.verify",
            "核查举报并决定是否立案",
            f"第三十一条第一款、{PENALTY_TITLE}第十八条",
            extension_needs_approval=True,
            suspends_for_testing=True,
            **verify,
        ),
        _o121(
            "report.verify",
            "核查举报并决定是否立案",
            f"第三十五条、{PENALTY_TITLE}第十八条",
            extension_needs_approval=True,
            suspends_for_testing=True,
            **verify,
        ),
        # Order 121 has no such rule (Art.36 defers to other laws): not in force from 2026-04-15.
        _o20(
            "report.notify",
            "告知实名举报人是否立案",
            "第三十一条第二款",
            unit="workdays",
            count=5,
            starts="作出是否立案决定之日",
        ),
        _o20("jurisdiction.dispute", "管辖争议协商（不成报请指定）", "第三十条", **dispute),
        _o121("jurisdiction.dispute", "管辖争议协商（不成报请指定）", "第三十三条", **dispute),
        Rule(
            name="odr.settle",
            version="local",
            title="在线消费纠纷解决（ODR）企业自行和解",
            article="地方 ODR 工作规则（国家规章未规定时限）",
            source="本地配置 COMPLAINT_ODR_WORKDAYS",
            valid_from=ORDER20_FROM,
            valid_to=None,
            **odr,
        ),
    ]


REFUSAL_O20 = (
    ("1", "投诉事项不属于市场监督管理部门职责，或者本行政机关不具有处理权限的"),
    (
        "2",
        "法院、仲裁机构、市场监督管理部门或者其他行政机关、消费者协会或者依法成立的其他调解组织"
        "已经受理或者处理过同一消费者权益争议的",
    ),
    (
        "3",
        "不是为生活消费需要购买、使用商品或者接受服务，或者不能证明与被投诉人之间存在消费者权益争议的",
    ),
    ("4", "除法律另有规定外，投诉人知道或者应当知道自己的权益受到被投诉人侵害之日起超过三年的"),
    ("5", "未提供本办法第九条第一款和第十条规定的材料的"),
    ("6", "法律、法规、规章规定不予受理的其他情形"),
)
REFUSAL_O121 = (
    REFUSAL_O20[0],
    (
        "2",
        "法院、仲裁机构、市场监督管理部门或者其他行政机关、消费者协会已经受理或者处理过"
        "同一消费者权益争议的",
    ),
    REFUSAL_O20[2],
    REFUSAL_O20[3],
    ("5", "未提供本办法第十条第一款、第十一条规定的材料，或者提供虚假材料的"),
    ("6", "冒用他人名义或者拒不配合市场监督管理部门核验真实身份信息的"),
    ("7", "法律、法规、规章规定不予受理的其他情形"),
)
TERMINATION_O20 = (
    ("1", "投诉人撤回投诉或者双方自行和解的"),
    (
        "2",
        "投诉人与被投诉人对委托承担检定、检验、检测、鉴定工作的技术机构或者费用承担无法协商一致的",
    ),
    ("3", "投诉人或者被投诉人无正当理由不参加调解，或者被投诉人明确拒绝调解的"),
    ("4", "经组织调解，投诉人或者被投诉人明确表示无法达成调解协议的"),
    ("5", "自投诉受理之日起四十五个工作日内投诉人和被投诉人未能达成调解协议的"),
    ("6", "市场监督管理部门受理投诉后，发现存在本办法第十五条规定情形的"),
    ("7", "法律、法规、规章规定的应当终止调解的其他情形"),
)
TERMINATION_O121 = (
    ("1", "投诉人撤回投诉或者双方自行和解的"),
    ("2", "投诉人、被投诉人无正当理由不参加调解，或者明确拒绝调解的"),
    ("3", "经组织调解，投诉人或者被投诉人明确表示无法达成调解协议的"),
    ("4", "投诉人与被投诉人对鉴定、检测费用承担无法协商一致的"),
    ("5", "自投诉受理之日起六十日内投诉人和被投诉人未能达成调解协议的"),
    ("6", "市场监督管理部门受理投诉后，发现存在本办法第十六条、第四十二条规定情形的"),
    ("7", "投诉人、被投诉人死亡或者主体资格灭失的"),
    ("8", "法律、法规、规章规定的应当终止调解的其他情形"),
)

GROUNDS = [
    Grounds("complaint.refusal", ORDER20, "第十五条", ORDER20_FROM, _LAST_ORDER20_DAY, REFUSAL_O20),
    Grounds("complaint.refusal", ORDER121, "第十六条", ORDER121_FROM, None, REFUSAL_O121),
    Grounds(
        "complaint.termination",
        ORDER20,
        "第二十一条第一款",
        ORDER20_FROM,
        _LAST_ORDER20_DAY,
        TERMINATION_O20,
    ),
    Grounds(
        "complaint.termination", ORDER121, "第二十三条第一款", ORDER121_FROM, None, TERMINATION_O121
    ),
]


def all_rules() -> list[Rule]:
    """Every version of every rule (settings are read now, so tests may override them)."""
    return _rules()


def rule_names() -> list[str]:
    return sorted({r.name for r in _rules()})


def version_on(received_on: dt.date) -> str:
    """Which Order governs a case received on that day: ``order20`` or ``order121``."""
    return ORDER121 if received_on >= ORDER121_FROM else ORDER20


def rule(name: str, on: dt.date) -> Rule:
    """The version of ``name`` in force on ``on`` (a case's received date).

    :raises UnknownRule: no rule has that name.
    :raises RuleNotInForce: the rule exists, but no version of it applies on that day.
    """
    versions = [r for r in _rules() if r.name == name]
    if not versions:
        raise UnknownRule(name)
    in_force = [r for r in versions if r.in_force(on)]
    if name == "complaint.mediation" and len(in_force) > 1:
        # 2024-07-01 … 2026-04-14: Order 20's 45 working days and the regulation's 60 days
        # both speak; the deployment's setting picks one (default: the Order the bureau runs).
        wanted = REGULATION if settings.COMPLAINT_MEDIATION_FROM_2024 == REGULATION else ORDER20
        in_force = [r for r in in_force if r.version == wanted]
    if not in_force:
        raise RuleNotInForce(name, on)
    return in_force[0]


def grounds(name: str, on: dt.date) -> Grounds:
    """The list of grounds (``complaint.refusal`` / ``complaint.termination``) in force on ``on``."""
    for g in GROUNDS:
        if g.name == name and g.in_force(on):
            return g
    if any(g.name == name for g in GROUNDS):
        raise RuleNotInForce(name, on)
    raise UnknownRule(name)


def add_days(start: dt.date, n: int, *, calendar: workdays.Calendar | None = None) -> dt.date:
    """Art.45 for a period in 日: ``start`` + n days, rolled past a holiday it ends on."""
    cal = calendar or workdays.snapshot()
    due = start + dt.timedelta(days=n)
    weekend_counts = settings.COMPLAINT_WEEKEND_IS_HOLIDAY
    while cal.is_holiday(due) or (
        weekend_counts and not cal.is_workday(due, allow_provisional=True)
    ):
        due += dt.timedelta(days=1)
    return due


def deadline(
    name: str,
    start: dt.date,
    *,
    on: dt.date | None = None,
    suspended: int = 0,
    extended: bool = False,
) -> Deadline:
    """The due date of rule ``name`` whose clock starts on ``start``.

    :param on: the date that picks the rule's version (a case's received date); default
        ``start``.
    :param suspended: days not counted (appraisal, testing), in the rule's own unit.
    :param extended: add the extension the rule allows (the caller checks the approval).
    :returns: a ``core.workflow.Deadline`` whose ``rule`` is ``name@version``.
    """
    if suspended < 0:
        raise ValueError("suspended must not be negative")
    r = rule(name, on or start)
    n = r.count + suspended + (r.extension if extended else 0)
    cal = workdays.snapshot()
    if r.unit == "workdays":
        computed = cal.deadline(start, n, rule=r.key)
        return Deadline(
            due=computed.due,
            rule=r.key,
            calendar_version=str(cal.version),
            provisional=computed.provisional,
        )
    due = add_days(start, n, calendar=cal)
    provisional = any(not cal.is_known(y) for y in range(start.year, due.year + 1))
    return Deadline(due=due, rule=r.key, calendar_version=str(cal.version), provisional=provisional)


def describe(key: str) -> Rule | None:
    """The rule a stored ``name@version`` key names (for showing a deadline's source)."""
    name, _sep, version = key.partition("@")
    for r in _rules():
        if r.name == name and r.version == version:
            return r
    return None
