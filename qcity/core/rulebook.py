"""The dated rulebook: every legal deadline and list of grounds, with its source and validity.

A rule is named (``complaint.accept``) and has one version per legal text that set it
(``order20`` = 《市场监督管理投诉举报处理暂行办法》, SAMR Order 20, in force until 2026-04-14;
``order121`` = 《市场监督管理投诉举报处理办法》, SAMR Order 121, from 2026-04-15). Which
version applies is decided by a date: a case asks with its received date (DESIGN §4.4)
through ``case_deadline``, the ``qcity deadline`` command with the start date it is given.

Counting (Order 121 Art.45, the same as 民法典 Art.201 and 203): the start day is not
counted; a working-day period (工作日) counts working days from ``core.workdays``; a
calendar-day period (日) counts days, and when its last day is a statutory holiday the
period ends on the first day after it. Whether an ordinary weekend counts as such a holiday
is the setting ``COMPLAINT_WEEKEND_IS_HOLIDAY`` (default yes, as the courts have read
法定休假日); a 调休 working Saturday is a working day and never rolls. Time spent on
appraisal and testing is not counted (Order 20 Art.20(3), Order 121 Art.22, 实施条例
Art.46(3), 行政处罚程序规定 Art.18): ``suspended`` is added, in the rule's own unit, and
only to rules whose text says so.

Where the texts leave a choice open, a setting decides, and ``choices()`` shows it:
- ``COMPLAINT_MEDIATION_FROM_2024`` (``order20`` default | ``regulation``): Order 20's 45
  working days, or the 消保法实施条例 Art.46's 60 days for cases received from 2024-07-01
  until Order 121 took over;
- ``COMPLAINT_PENDING_CASES_RULES`` (``received`` default | ``current``): a case keeps the
  rules of its received date, or a clock that starts on or after 2026-04-15 uses Order 121
  (``case_deadline``, ``case_grounds``, ``case_version``);
- figures no national text fixes (the ODR period) are ``configured`` rules, marked so.

docs/rulebook.md lists every rule with its article; tests/core/test_rulebook.py checks
hand-computed deadlines under both versions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from django.conf import settings

from qcity.core import workdays
from qcity.core.workflow import Deadline

ORDER20 = "order20"
ORDER121 = "order121"
REGULATION = "regulation"  # 消费者权益保护法实施条例 (国务院令第778号)
LOCAL = "local"  # a figure set by the deployment, not by a national text

ORDER20_FROM = dt.date(2020, 1, 1)  # Order 20 Art.40
ORDER121_FROM = dt.date(2026, 4, 15)  # Order 121 Art.46 (no transitional clause)
REGULATION_FROM = dt.date(2024, 7, 1)
_LAST_ORDER20_DAY = ORDER121_FROM - dt.timedelta(days=1)

# Book titles, as a citation starts (``citation`` = book + article).
ORDER20_BOOK = "《市场监督管理投诉举报处理暂行办法》"
ORDER121_BOOK = "《市场监督管理投诉举报处理办法》"
REGULATION_BOOK = "《中华人民共和国消费者权益保护法实施条例》"
PENALTY_BOOK = "《市场监督管理行政处罚程序规定》"

ORDER20_TITLE = f"{ORDER20_BOOK}（国家市场监督管理总局令第20号）"
ORDER121_TITLE = f"{ORDER121_BOOK}（国家市场监督管理总局令第121号）"
REGULATION_TITLE = f"{REGULATION_BOOK}（国务院令第778号）"
PENALTY_TITLE = PENALTY_BOOK

VERSION_LABELS = {
    ORDER20: "总局令第20号",
    ORDER121: "总局令第121号",
    REGULATION: "消保法实施条例",
    LOCAL: "本地配置",
}

# The longest suspension the rulebook accepts (in the rule's unit): ten years of testing is
# a typing error, and the bound keeps every computed date inside the calendar.
MAX_SUSPENDED = 3650

Unit = Literal["workdays", "days"]


class RuleError(Exception):
    """A rule that does not exist, does not apply, or cannot be computed as asked."""

    code = "rule_error"


class UnknownRule(RuleError):
    code = "unknown_rule"

    def __init__(self, name: str, available: Sequence[str] | None = None) -> None:
        self.name = name
        names = "、".join(rule_names() if available is None else available)
        super().__init__(f"没有名为“{name}”的规则；可用：{names}")


class RuleNotInForce(RuleError):
    code = "rule_not_in_force"

    def __init__(self, name: str, on: dt.date, versions: Sequence[Rule | Grounds] = ()) -> None:
        self.name, self.on = name, on
        spans = "；".join(
            f"{VERSION_LABELS.get(v.version, v.version)}{v.article}适用于"
            f"{v.valid_from.isoformat()}至{v.valid_to.isoformat() if v.valid_to else '今'}"
            for v in versions
        )
        super().__init__(
            f"规则 {name} 在 {on.isoformat()} 不适用：该日施行的规定中没有这一期限"
            + (f"（{spans}）" if spans else "")
        )


class NotSuspendable(RuleError):
    """The rule's text does not stop its clock for appraisal or testing."""

    code = "not_suspendable"

    def __init__(self, rule: Rule) -> None:
        super().__init__(
            f"规则 {rule.name}（{rule.citation}）的期限不因鉴定、检测而扣除，不能填写中止天数"
        )


class NoExtension(RuleError):
    code = "no_extension"

    def __init__(self, rule: Rule) -> None:
        super().__init__(f"规则 {rule.name}（{rule.citation}）没有可以延长的期限")


class BadSuspension(RuleError, ValueError):
    code = "bad_suspension"

    def __init__(self, suspended: int) -> None:
        super().__init__(f"中止天数须为 0 到 {MAX_SUSPENDED} 之间的整数（收到 {suspended}）")


class DateOutOfRange(RuleError):
    code = "date_out_of_range"

    def __init__(self, start: dt.date) -> None:
        super().__init__(
            f"{start.isoformat()} 起的期限无法计算：超出节假日表和法定节假日推算的范围"
        )


@dataclass(frozen=True)
class Rule:
    """One version of one deadline rule."""

    name: str
    version: str
    title: str  # what the period is for, in Chinese
    article: str  # within ``book``; may go on to cite another book
    source: str  # the instrument's full title
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
    book: str = ""  # the book title a citation starts with
    suspension_article: str = ""  # the full citation that stops the clock for testing
    note: str = ""  # what else the text attaches to the period (restart, who is told)

    def in_force(self, on: dt.date) -> bool:
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)

    @property
    def key(self) -> str:
        """What a stored deadline records as its rule: name and version."""
        return f"{self.name}@{self.version}"

    @property
    def citation(self) -> str:
        """The full citation, e.g. 《市场监督管理投诉举报处理办法》第十五条."""
        return f"{self.book}{self.article}"

    @property
    def unit_label(self) -> str:
        return "工作日" if self.unit == "workdays" else "日"

    @property
    def period_label(self) -> str:
        """As the texts write it: 七个工作日, 六十日 (in digits here)."""
        return f"{self.count}个工作日" if self.unit == "workdays" else f"{self.count}日"

    @property
    def version_label(self) -> str:
        return VERSION_LABELS.get(self.version, self.version)


@dataclass(frozen=True)
class Grounds:
    """One version of an enumerated list of grounds (不予受理, 终止调解)."""

    name: str
    version: str
    article: str
    valid_from: dt.date
    valid_to: dt.date | None
    items: tuple[tuple[str, str], ...]  # (code, the text's own wording)
    book: str = ""
    title: str = ""

    def in_force(self, on: dt.date) -> bool:
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)

    def label(self, code: str) -> str:
        return dict(self.items).get(code, code)

    @property
    def citation(self) -> str:
        return f"{self.book}{self.article}"

    def item_citation(self, code: str) -> str:
        """The citation of one ground, e.g. 《…办法》第十六条第（六）项."""
        return f"{self.citation}第（{_CN_NUMBERS[int(code)]}）项"


_CN_NUMBERS = "〇一二三四五六七八九十"


def _o20(name: str, title: str, article: str, **kw) -> Rule:
    return Rule(
        name=name,
        version=ORDER20,
        title=title,
        article=article,
        source=ORDER20_TITLE,
        book=ORDER20_BOOK,
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
        book=ORDER121_BOOK,
        valid_from=ORDER121_FROM,
        valid_to=None,
        **kw,
    )


_PENALTY_ART18 = f"{PENALTY_BOOK}第十八条"


def _rules() -> list[Rule]:
    accept = dict(unit="workdays", count=7, starts="收到投诉之日")
    mediation = dict(
        title="调解期限（期满未达成协议则终止调解）",
        starts="投诉受理之日",
        suspends_for_testing=True,
    )
    notice = dict(unit="workdays", count=7, starts="作出终止调解决定之日")
    # The Orders fix 15 (+15) working days without a word on testing; the check of a lead is
    # the 核查 of a 线索 that 行政处罚程序规定 Art.18 governs, which excludes testing time.
    lead = dict(
        unit="workdays",
        count=15,
        starts="发现违法线索之日",
        extension=15,
        suspends_for_testing=True,
        suspension_article=_PENALTY_ART18,
    )
    verify = dict(
        unit="workdays",
        count=15,
        starts="收到举报之日",
        extension=15,
        extension_needs_approval=True,
        suspends_for_testing=True,
        suspension_article=_PENALTY_ART18,
    )
    dispute = dict(unit="workdays", count=7, starts="发生管辖争议之日")
    odr = dict(
        unit="workdays",
        count=settings.COMPLAINT_ODR_WORKDAYS,
        starts="投诉分送入驻企业之日",
        configured=True,
    )
    return [
        _o20("complaint.accept", "作出受理或者不予受理决定", "第十四条", **accept),
        _o121(
            "complaint.accept",
            "作出受理或者不予受理决定",
            "第十五条",
            note="不予受理的，还应当告知理由和《中华人民共和国消费者权益保护法》第三十九条"
            "规定的其他解决争议的途径",
            **accept,
        ),
        _o20(
            "complaint.mediation",
            article="第二十一条第一款第（五）项",
            unit="workdays",
            count=45,
            suspension_article=f"{ORDER20_BOOK}第二十条第三款",
            **mediation,
        ),
        Rule(
            name="complaint.mediation",
            version=REGULATION,
            article="第四十六条第三款",
            source=REGULATION_TITLE,
            book=REGULATION_BOOK,
            valid_from=REGULATION_FROM,
            valid_to=_LAST_ORDER20_DAY,
            unit="days",
            count=60,
            suspension_article=f"{REGULATION_BOOK}第四十六条第三款",
            note="仅当 COMPLAINT_MEDIATION_FROM_2024=regulation 时用于 2024-07-01 至 "
            "2026-04-14 收到的投诉（与总局令第20号的45个工作日并存）",
            **mediation,
        ),
        _o121(
            "complaint.mediation",
            article="第二十三条第一款第（五）项",
            unit="days",
            count=60,
            suspension_article=f"{ORDER121_BOOK}第二十二条",
            **mediation,
        ),
        _o20("complaint.termination_notice", "告知终止调解", "第二十一条第二款", **notice),
        _o121("complaint.termination_notice", "告知终止调解", "第二十三条第二款", **notice),
        _o20(
            "complaint.lead_check",
            "核查调解中发现的违法线索",
            "第二十三条",
            note="特殊情况下可以延长十五个工作日",
            **lead,
        ),
        _o121(
            "complaint.lead_check",
            "核查调解中发现的违法线索",
            "第二十七条",
            extension_needs_approval=True,
            note="特殊情况下经市场监督管理部门负责人批准可以延长十五个工作日",
            **lead,
        ),
        _o20(
            "report.verify",
            "核查举报并决定是否立案",
            f"第三十一条第一款、{_PENALTY_ART18}",
            note="经市场监督管理部门负责人批准可以延长十五个工作日",
            **verify,
        ),
        _o121(
            "report.verify",
            "核查举报并决定是否立案",
            f"第三十五条、{_PENALTY_ART18}",
            note="经市场监督管理部门负责人批准可以延长十五个工作日；同一举报人补充新的事实的，"
            "自收到最后一次举报之日起重新计算（第三十五条）；重复举报不再另行处理",
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
            note="仅对实名举报人",
        ),
        _o20("jurisdiction.dispute", "管辖争议协商（不成报请指定）", "第三十条", **dispute),
        _o121("jurisdiction.dispute", "管辖争议协商（不成报请指定）", "第三十三条", **dispute),
        Rule(
            name="odr.settle",
            version=LOCAL,
            title="在线消费纠纷解决（ODR）企业自行和解",
            article="本地 ODR 工作规则（国家规章未规定时限，COMPLAINT_ODR_WORKDAYS）",
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

_REFUSAL_TITLE = "不予受理的情形"
_TERMINATION_TITLE = "终止调解的情形"

GROUNDS = [
    Grounds(
        "complaint.refusal",
        ORDER20,
        "第十五条",
        ORDER20_FROM,
        _LAST_ORDER20_DAY,
        REFUSAL_O20,
        book=ORDER20_BOOK,
        title=_REFUSAL_TITLE,
    ),
    Grounds(
        "complaint.refusal",
        ORDER121,
        "第十六条",
        ORDER121_FROM,
        None,
        REFUSAL_O121,
        book=ORDER121_BOOK,
        title=_REFUSAL_TITLE,
    ),
    Grounds(
        "complaint.termination",
        ORDER20,
        "第二十一条第一款",
        ORDER20_FROM,
        _LAST_ORDER20_DAY,
        TERMINATION_O20,
        book=ORDER20_BOOK,
        title=_TERMINATION_TITLE,
    ),
    Grounds(
        "complaint.termination",
        ORDER121,
        "第二十三条第一款",
        ORDER121_FROM,
        None,
        TERMINATION_O121,
        book=ORDER121_BOOK,
        title=_TERMINATION_TITLE,
    ),
]


def all_rules() -> list[Rule]:
    """Every version of every rule (settings are read now, so tests may override them)."""
    return _rules()


def rule_names() -> list[str]:
    return sorted({r.name for r in _rules()})


def grounds_names() -> list[str]:
    return sorted({g.name for g in GROUNDS})


def version_on(received_on: dt.date) -> str:
    """Which Order governs a case received on that day: ``order20`` or ``order121``."""
    return ORDER121 if received_on >= ORDER121_FROM else ORDER20


def rule(name: str, on: dt.date) -> Rule:
    """The version of ``name`` in force on ``on`` (the date that picks the version).

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
        raise RuleNotInForce(name, on, versions)
    return in_force[0]


def versions(name: str) -> list[Rule]:
    """Every version of one rule, oldest first (for the rules page)."""
    found = sorted((r for r in _rules() if r.name == name), key=lambda r: r.valid_from)
    if not found:
        raise UnknownRule(name)
    return found


def grounds(name: str, on: dt.date) -> Grounds:
    """The list of grounds (``complaint.refusal`` / ``complaint.termination``) in force on ``on``."""
    for g in GROUNDS:
        if g.name == name and g.in_force(on):
            return g
    listed = [g for g in GROUNDS if g.name == name]
    if listed:
        raise RuleNotInForce(name, on, listed)
    raise UnknownRule(name, grounds_names())


# --- which date picks the rules of a case ---------------------------------------------------


def rules_date(case_received_on: dt.date, start: dt.date | None = None) -> dt.date:
    """The date whose rules a clock (or decision) of a case starting on ``start`` follows.

    Order 121 has no transitional clause (Art.46). ``COMPLAINT_PENDING_CASES_RULES``:
    ``received`` (default): the case keeps the rules of its received date, as the design
    guide keys the rulebook; ``current``: a clock started, or a decision taken, on or after
    2026-04-15 follows Order 121 even for a case received before it (Order 20 was repealed
    that day); earlier clocks keep their rules.
    """
    if (
        settings.COMPLAINT_PENDING_CASES_RULES == "current"
        and start is not None
        and start >= ORDER121_FROM > case_received_on
    ):
        return start
    return case_received_on


def case_version(case_received_on: dt.date, on: dt.date | None = None) -> str:
    """``order20`` / ``order121``: the Order a case's step taken on ``on`` is under."""
    return version_on(rules_date(case_received_on, on))


def case_deadline(
    case_received_on: dt.date,
    name: str,
    start: dt.date,
    suspended: int = 0,
    extended: bool = False,
) -> Deadline:
    """The deadline of rule ``name`` for a case, its clock starting on ``start``.

    What every complaints module calls: the version follows ``rules_date`` (the
    pending-cases setting), the counting is ``deadline``'s.
    """
    return deadline(
        name,
        start,
        on=rules_date(case_received_on, start),
        suspended=suspended,
        extended=extended,
    )


def case_grounds(case_received_on: dt.date, name: str, on: dt.date) -> Grounds:
    """The grounds a case's refusal or termination decided on ``on`` must cite."""
    return grounds(name, rules_date(case_received_on, on))


# --- counting -------------------------------------------------------------------------------

ONE_DAY = dt.timedelta(days=1)


def _rolls(cal: workdays.Calendar, day: dt.date) -> bool:
    """Does a calendar-day period whose last day is ``day`` run on (Art.45, 民法典 Art.203)?"""
    if cal.is_holiday(day):
        return True  # a day off the State Council's notice names (补休 and block weekends too)
    if settings.COMPLAINT_WEEKEND_IS_HOLIDAY:
        # An ordinary Saturday or Sunday rolls; a 调休 working Saturday is a working day.
        return not cal.is_workday(day, allow_provisional=True)
    return False


def add_days(start: dt.date, n: int, *, calendar: workdays.Calendar | None = None) -> dt.date:
    """Art.45 for a period in 日: ``start`` + n days, rolled past a holiday it ends on."""
    if n < 1:
        raise ValueError("n must be at least 1")
    cal = calendar or workdays.snapshot()
    due = start + n * ONE_DAY
    while _rolls(cal, due):
        due += ONE_DAY
    return due


def _length(r: Rule, suspended: int, extended: bool) -> int:
    if isinstance(suspended, bool) or not isinstance(suspended, int):
        raise BadSuspension(suspended)
    if not 0 <= suspended <= MAX_SUSPENDED:
        raise BadSuspension(suspended)
    if suspended and not r.suspends_for_testing:
        raise NotSuspendable(r)
    if extended and not r.extension:
        raise NoExtension(r)
    return r.count + suspended + (r.extension if extended else 0)


def deadline(
    name: str,
    start: dt.date,
    *,
    on: dt.date | None = None,
    suspended: int = 0,
    extended: bool = False,
) -> Deadline:
    """The due date of rule ``name`` whose clock starts on ``start``.

    :param on: the date that picks the rule's version; default ``start``. Cases use
        ``case_deadline``, which derives it from the received date and the settings.
    :param suspended: units not counted (appraisal, testing), in the rule's own unit; only
        for rules whose text stops the clock (``NotSuspendable`` otherwise).
    :param extended: add the extension the rule allows (the caller checks the approval).
    :returns: a ``core.workflow.Deadline`` whose ``rule`` is ``name@version``, with the
        calendar version it was computed from; ``provisional`` when the count ran into a
        year whose holiday arrangement is not entered yet.
    :raises RuleError: unknown rule, not in force, bad suspension, date out of range.
    """
    r = rule(name, on or start)
    n = _length(r, suspended, extended)
    cal = workdays.snapshot()
    try:
        if r.unit == "workdays":
            computed = cal.deadline(start, n, rule=r.key)
            due, provisional = computed.due, computed.provisional
        else:
            due = add_days(start, n, calendar=cal)
            provisional = any(
                not cal.is_known(year) for year in range((start + ONE_DAY).year, due.year + 1)
            )
    except (workdays.CalendarUnknown, OverflowError, ValueError) as exc:
        # Past 2099 (or before 2014 without a table) nothing says which days are holidays.
        raise DateOutOfRange(start) from exc
    return Deadline(due=due, rule=r.key, calendar_version=str(cal.version), provisional=provisional)


def describe(key: str) -> Rule | None:
    """The rule a stored ``name@version`` key names (for showing a deadline's source)."""
    name, _sep, version = key.partition("@")
    for r in _rules():
        if r.name == name and r.version == version:
            return r
    return None


# --- the choices the texts leave open, as the deployment made them --------------------------


@dataclass(frozen=True)
class Choice:
    """One setting the rulebook reads: its value now, its default and why."""

    setting: str
    value: object
    default: object
    label: str
    reason: str

    @property
    def is_default(self) -> bool:
        return self.value == self.default


def choices() -> list[Choice]:
    """The settings that decide open questions, for the rules page and the case page."""
    return [
        Choice(
            "COMPLAINT_MEDIATION_FROM_2024",
            settings.COMPLAINT_MEDIATION_FROM_2024,
            ORDER20,
            "2024-07-01 至 2026-04-14 收到的投诉的调解期限",
            "order20：总局令第20号第二十一条的45个工作日；regulation：消保法实施条例第四十六条"
            "的60日。两者在此期间并存，默认沿用局里执行的规章。",
        ),
        Choice(
            "COMPLAINT_PENDING_CASES_RULES",
            settings.COMPLAINT_PENDING_CASES_RULES,
            "received",
            "2026-04-15 前收到、之后仍未办结的案件",
            "received：按收到之日施行的规定；current：2026-04-15 及以后开始的期限和作出的决定"
            "适用总局令第121号。第121号令第四十六条没有过渡条款，默认按收到日期。",
        ),
        Choice(
            "COMPLAINT_WEEKEND_IS_HOLIDAY",
            settings.COMPLAINT_WEEKEND_IS_HOLIDAY,
            True,
            "以日计算的期限最后一日是普通周末时是否顺延",
            "第121号令第四十五条只说法定节假日；依民法典第二百零三条及法院把周六、周日作为"
            "法定休假日的做法，默认顺延到下一个工作日；调休上班日不顺延。",
        ),
        Choice(
            "COMPLAINT_ODR_WORKDAYS",
            settings.COMPLAINT_ODR_WORKDAYS,
            10,
            "ODR 企业自行和解的期限（工作日）",
            "国家规章未规定时限，按 12315 ODR 地方工作规则的10个工作日配置。",
        ),
    ]
