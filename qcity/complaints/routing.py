"""Jurisdiction (管辖): which county bureau handles a case, transfers, disputes, designation.

The competent bureau is the county-level market bureau (OrgUnit code ``<GB/T 2260>-SCJG``)
where the respondent operates or is registered (Order 20 Art.12, Order 121 Art.13 for
complaints; for reports the place of the conduct, Order 20 Art.25 and its Order 121
successor, which for a shop is the same place). ``resolve`` decides, in this order:

1. a seller on an e-commerce platform (``platform`` given) follows its own rule, by the
   case's rules:
   - Order 20 Art.12(2): the seller's actual place of business (the address given, else
     the register), or the platform operator's domicile;
   - Order 121 Art.13: the address the seller shows on the platform, or the platform's
     domicile; with no address shown, or none at which the seller can be reached
     (``seller_unreachable``), the platform's domicile only. The register is not a basis.
2. the register: the bureau above the entity's ``owner_unit`` (its domicile);
3. the address: county names (``开原市``, ``开原``) and GB/T 2260 codes (``211282``) of the
   org tree, after the province and city (``辽宁省铁岭市``); ``铁岭`` alone is the city,
   never 铁岭县; an address in another province or city is not ours.
4. nothing: the city bureau (市市场监管局) routes it by hand; ``basis`` says why.

A transfer (转办) moves the case to another bureau with a required reason, a ``Transfer``
row and an audit event (the workflow step). The receiving bureau's clock starts on the day
it receives the case (``Case.clock_started_on``): Order 20 Art.14 / Order 121 Art.15 count
the 7 working days "自收到投诉之日起" for the bureau that has jurisdiction, and the
行政处罚程序规定 Art.18 counts 15 working days from receipt of the materials (ADR 0037).
The rule version stays the one of the case's received date.

A jurisdiction dispute (Order 20 Art.30, Order 121 Art.33) has 7 working days of its own
(``jurisdiction.dispute``); it goes to the city bureau, the common superior, which
designates the bureau (possibly the same one) with ``designate``.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.utils import timezone

from qcity.complaints.models import Case, Transfer
from qcity.core import rulebook
from qcity.core.models import OrgUnit, Role, User
from qcity.core.workflow import Deadline, Invalid
from qcity.registry.models import MarketEntity

CITY_BUREAU = "市市场监管局"
BUREAU_CODE = re.compile(r"^(\d{6})-SCJG$")
REASON_MAX = 500  # Transfer.reason
ADDRESS_MAX = 1000
# Provinces and municipalities at the start of an address (any one but ours is elsewhere).
_NAME = r"(?:(?![市县区旗省路街道巷镇乡村号])[\u4e00-\u9fff])"
_PROVINCE = re.compile(rf"^({_NAME}{{2,7}}?(?:省|自治区|特别行政区)|北京市|天津市|上海市|重庆市)")
# Another city: "沈阳市" followed by one of its districts or counties.
_CITY = re.compile(rf"^({_NAME}{{2,6}}?(?:市|地区|自治州|盟))(?={_NAME}{{1,6}}(?:区|县|市|旗))")
# A stem followed by these is a street or place named after the county ("开原路").
_NOT_A_PLACE = ("路", "街", "道", "巷", "大街")
_CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")

# How a route was found (Route.how), for tests, pages and statistics.
HOW_REGISTER = "register"
HOW_ADDRESS = "address"
HOW_PLATFORM = "platform"
HOW_MANUAL = "manual"  # the city bureau routes it by hand


@dataclass(frozen=True)
class Route:
    """The competent bureau and why (shown on the case as 管辖依据)."""

    unit: OrgUnit
    basis: str
    how: str = HOW_MANUAL


@dataclass(frozen=True)
class Place:
    """What an address says about jurisdiction: one of our counties, or why not."""

    county: OrgUnit | None = None
    elsewhere: str = ""  # "沈阳市", "北京市", "行政区划代码 210102": not in our city
    problem: str = ""  # why nothing was found, in Chinese

    @property
    def bureau(self) -> OrgUnit | None:
        return bureau_of_county(self.county) if self.county is not None else None


# --- the org tree ---------------------------------------------------------------------------


def city_bureau() -> OrgUnit:
    """Where a case goes when no county can be resolved: the city bureau routes it by hand."""
    return OrgUnit.objects.get(name=CITY_BUREAU)


def _counties() -> list[OrgUnit]:
    return [
        unit
        for unit in OrgUnit.objects.filter(kind=OrgUnit.Kind.COUNTY, disabled_on__isnull=True)
        .exclude(code=None)
        .select_related("parent")
        if re.fullmatch(r"\d{6}", unit.code or "")
    ]


def _city_names(counties: list[OrgUnit]) -> list[str]:
    """Our city as addresses write it: "铁岭市" (from 铁岭市人民政府), longest first."""
    names: set[str] = set()
    for county in counties:
        if county.parent is not None:
            city = county.parent.name.removesuffix("人民政府").removesuffix("政府")
            if city.endswith("市"):
                names.add(city)
    return sorted(names, key=len, reverse=True)


def bureau_of_county(county: OrgUnit) -> OrgUnit | None:
    return OrgUnit.objects.filter(code=f"{county.code}-SCJG", disabled_on__isnull=True).first()


def competent_bureau_of(unit: OrgUnit | None) -> OrgUnit | None:
    """The county bureau a unit belongs to: itself, or the bureau above a station."""
    seen = 0
    while unit is not None and seen < 20:
        if BUREAU_CODE.match(unit.code or ""):
            return unit
        unit, seen = unit.parent, seen + 1
    return None


def bureaus() -> Any:
    """The units a case may be transferred or designated to: county bureaus, the city bureau."""
    return (
        OrgUnit.objects.filter(disabled_on__isnull=True)
        .filter(Q(code__regex=r"^[0-9]{6}-SCJG$") | Q(name=CITY_BUREAU))
        .order_by("code", "name")
    )


def is_bureau(unit: OrgUnit) -> bool:
    """A unit that may own a case: a county bureau, or the city bureau (routing by hand)."""
    return bool(BUREAU_CODE.match(unit.code or "")) or unit.name == CITY_BUREAU


# --- addresses ------------------------------------------------------------------------------


def _stem(name: str) -> str:
    return name[:-1] if len(name) > 2 and name[-1] in "市县区旗" else name


def place_of(address: str) -> Place:
    """Which of our counties an address is in (names or GB/T 2260 codes), or why not.

    Tolerates "辽宁省铁岭市开原市…", "铁岭开原…", "开原…", "211282", full-width digits and
    spaces. "铁岭市…" without a county is the city, not 铁岭县.
    """
    # An address field holds 300 characters; a longer text is not an address worth scanning.
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", (address or "")[:ADDRESS_MAX]))
    if not text:
        return Place(problem="未填写地址")
    counties = _counties()
    by_code = {c.code: c for c in counties}
    if re.fullmatch(r"\d{6}", text):
        if text in by_code:
            return Place(county=by_code[text])
        return Place(elsewhere=f"行政区划代码 {text}", problem="行政区划代码不属于本市")
    city_names = _city_names(counties)
    city_stems = {name.removesuffix("市") for name in city_names}
    rest = text
    province = _PROVINCE.match(rest)
    if province:
        if not province.group(1).startswith("辽宁"):
            return Place(elsewhere=province.group(1), problem="地址在外省")
        rest = rest[province.end() :]
    elif rest.startswith("辽宁"):
        rest = rest[2:]
    in_city = False
    for name in city_names:
        stem = name.removesuffix("市")
        if rest.startswith(name):
            rest, in_city = rest[len(name) :], True
            break
        # "铁岭开原市…": the city without 市, but "铁岭县" is a county, not the city.
        if rest.startswith(stem) and rest[len(stem) : len(stem) + 1] not in ("县", "市"):
            rest, in_city = rest[len(stem) :], True
            break
    # Full names first (调兵山市 before 开原), longest first.
    ordered = sorted(counties, key=lambda c: len(c.name), reverse=True)
    for county in ordered:
        if rest.startswith(county.name):
            return Place(county=county)
    for county in ordered:
        stem = _stem(county.name)
        # The stem of 铁岭县 is the city's name: "铁岭…" alone means the city.
        if stem in city_stems:
            continue
        if rest.startswith(stem) and not rest[len(stem) :].startswith(_NOT_A_PLACE):
            return Place(county=county)
    if not in_city:
        other = _CITY.match(rest)
        if other and other.group(1) not in {c.name for c in counties}:
            return Place(elsewhere=other.group(1), problem="地址在外市")
    # A county named further on ("新华路12号 开原市"); never "开原市场" (a market).
    found: list[tuple[int, OrgUnit]] = []
    for county in ordered:
        for match in re.finditer(re.escape(county.name), rest):
            after = rest[match.end() : match.end() + 1]
            if county.name.endswith("市") and after == "场":
                continue
            found.append((match.start(), county))
            break
    if found:
        return Place(county=min(found, key=lambda f: f[0])[1])
    for code in _CODE.findall(rest):
        if code in by_code:
            return Place(county=by_code[code])
    if in_city:
        return Place(problem="地址未写明县（市、区）")
    return Place(problem="地址无法识别所属县（市、区）")


# --- resolving ------------------------------------------------------------------------------


def _from_register(entity: MarketEntity) -> OrgUnit | None:
    bureau = competent_bureau_of(entity.owner_unit)
    if bureau is None and re.fullmatch(r"\d{6}", entity.region_code or ""):
        bureau = OrgUnit.objects.filter(code=f"{entity.region_code}-SCJG").first()
    return bureau


def _platform_domicile(platform: MarketEntity | None) -> tuple[OrgUnit | None, str]:
    """The platform operator's domicile bureau (register, else its address), or why not."""
    if platform is None:
        return None, "未登记电子商务平台经营者"
    bureau = _from_register(platform)
    if bureau is None:
        place = place_of(platform.address)
        bureau = place.bureau
        if bureau is None:
            where = place.elsewhere or place.problem
            return None, f"平台经营者{platform.name}住所地不在本市（{where}）"
    return bureau, ""


def _platform_route(
    rules: str,
    entity: MarketEntity | None,
    address: str,
    platform: MarketEntity | None,
    seller_unreachable: bool,
) -> Route | None:
    domicile, why_not = _platform_domicile(platform)
    pname = platform.name if platform is not None else "平台"
    if rules == rulebook.ORDER121:
        article = "总局令第121号第十三条"
        if address.strip() and not seller_unreachable:
            bureau = place_of(address).bureau
            if bureau is not None:
                return Route(
                    bureau,
                    f"{article}：平台内经营者在平台公示的地址（{bureau.name}）",
                    HOW_PLATFORM,
                )
            # The shown address is elsewhere: the platform's domicile is competent too.
        lacking = "经营者无法通过公示地址取得联系" if seller_unreachable else "未在平台公示地址"
        if not address.strip() or seller_unreachable:
            if domicile is not None:
                return Route(
                    domicile,
                    f"{article}：{lacking}，由平台经营者住所地（{pname}）管辖",
                    HOW_PLATFORM,
                )
            return Route(city_bureau(), f"{article}：{lacking}，{why_not}，由市局分送", HOW_MANUAL)
        if domicile is not None:
            return Route(
                domicile,
                f"{article}：公示地址不在本市，由平台经营者住所地（{pname}）管辖",
                HOW_PLATFORM,
            )
        return None
    article = "总局令第20号第十二条第二款"
    bureau = place_of(address).bureau if address.strip() else None
    if bureau is not None:
        return Route(bureau, f"{article}：平台内经营者实际经营地（{bureau.name}）", HOW_PLATFORM)
    if entity is not None:
        registered = _from_register(entity)
        if registered is not None:
            return Route(
                registered,
                f"{article}：平台内经营者实际经营地（登记：{registered.name}）",
                HOW_PLATFORM,
            )
    if domicile is not None:
        return Route(domicile, f"{article}：由平台经营者住所地（{pname}）管辖", HOW_PLATFORM)
    return None


def resolve(
    *,
    rules: str,
    entity: MarketEntity | None = None,
    address: str = "",
    platform: MarketEntity | None = None,
    seller_unreachable: bool = False,
) -> Route:
    """The county bureau competent for a respondent, and why (never raises on bad input).

    :param rules: the case's rules, ``order20`` or ``order121`` (platform sellers differ).
    :param entity: the respondent from the register, if its code is known.
    :param address: the respondent's address as given (for a platform seller: the address
        it shows on the platform).
    :param platform: the e-commerce platform operator the respondent sells on, if any.
    :param seller_unreachable: Order 121 Art.13: the seller cannot be reached at the
        address it shows, so the platform's domicile decides.
    """
    address = address or ""
    if platform is not None or seller_unreachable:
        route = _platform_route(rules, entity, address, platform, seller_unreachable)
        if route is not None:
            return route
    if entity is not None:
        bureau = _from_register(entity)
        if bureau is not None:
            return Route(bureau, f"被投诉（举报）人登记住所地：{bureau.name}", HOW_REGISTER)
    place = place_of(address or (entity.address if entity is not None else ""))
    if place.bureau is not None:
        return Route(place.bureau, f"按经营地址确定管辖：{place.county.name}", HOW_ADDRESS)
    if place.elsewhere:
        why = f"经营地址在本市以外（{place.elsewhere}），本市不具有处理权限，由市局告知或分送"
    else:
        why = f"{place.problem or '未能确定管辖县区'}，由市局分送"
    return Route(city_bureau(), why, HOW_MANUAL)


# --- the steps' hooks -----------------------------------------------------------------------


def _today(now: dt.datetime | None = None) -> dt.date:
    return timezone.localtime(now).date() if now is not None else timezone.localdate()


def clock_start(case: Case) -> dt.date:
    """The day the running period counts from: the receiving bureau's day, else receipt."""
    return case.clock_started_on or case.received_on


def rules_on(case: Case) -> dt.date:
    """The date that picks the rule versions of the case's own rules (``Case.rules``)."""
    if rulebook.version_on(case.received_on) == case.rules:
        return case.received_on
    # A pending case put under Order 121 (COMPLAINT_PENDING_CASES_RULES = current).
    return rulebook.ORDER121_FROM if case.rules == rulebook.ORDER121 else case.received_on


def _unit(value: Any) -> OrgUnit | None:
    if isinstance(value, OrgUnit):
        return value
    text = str(value or "").strip()
    if not text:
        return None
    if text.isdigit() and len(text) < 12:
        return OrgUnit.objects.filter(pk=int(text)).first()
    return OrgUnit.objects.filter(code=text).first()


def step_reason(case: Case) -> str:
    """The reason given for the step being taken (``core.workflow.take`` sets it)."""
    return str(getattr(case, "step_reason", "") or "")


def _reason_fits(case: Case) -> None:
    if len(step_reason(case)) > REASON_MAX:
        raise Invalid(f"理由不能超过{REASON_MAX}字")


def validate_transfer(case: Case, user: User, *, to_unit: Any = None, **params: Any) -> dict:
    """Transfer or designation: a bureau that may own a case; for a transfer, another one."""
    _reason_fits(case)
    unit = _unit(to_unit)
    if unit is None or not unit.is_enabled:
        raise Invalid("请选择承办单位（县级市场监督管理局或市市场监管局）")
    if not is_bureau(unit):
        raise Invalid(f"{unit.name}不是县级市场监督管理局，不能承办投诉举报")
    designating = case.status == Case.Status.DISPUTED
    if not designating and unit.pk == case.owner_unit_id:
        raise Invalid("请选择另一个承办单位")
    return {"to_unit": unit}


def _officers(unit: OrgUnit) -> Any:
    return User.objects.filter(
        unit=unit, role__in=[Role.COUNTY_OFFICER, Role.COORDINATOR], is_active=True
    )


def coordinators() -> Any:
    return User.objects.filter(role=Role.COORDINATOR, is_active=True)


def _tell(people: Any, case: Case, subject: str, body: str) -> None:
    # In-app notices to officers (no personal data of the complainant): core.notices joins
    # the step's transaction, so a step that rolls back leaves none behind.
    from qcity.core.notices import notify

    notify(people, case, subject, body)


def _move(case: Case, user: User | None, kind: str, to_unit: OrgUnit, reason: str) -> dict:
    today = _today()
    old = case.owner_unit
    Transfer.objects.create(
        case=case,
        kind=kind,
        from_unit=old,
        to_unit=to_unit,
        reason=reason[:REASON_MAX],
        at=timezone.now(),
        by=user,
    )
    details: dict[str, Any] = {
        "from_unit": old.name,
        "from_unit_id": old.pk,
        "to_unit": to_unit.name,
        "to_unit_id": to_unit.pk,
        "clock_started_on": today.isoformat(),
    }
    if case.kind != Case.Kind.COMPLAINT and (case.extended or case.suspended_days):
        # The new bureau runs a new period: the old bureau's extension does not carry over.
        details["previous_period"] = {
            "extended": case.extended,
            "suspended_days": case.suspended_days,
        }
        case.extended, case.suspended_days = False, 0
    case.owner_unit = to_unit
    case.clock_started_on = today
    label = dict(Transfer.Kind.choices)[kind]
    case.routing_basis = f"{label}：{reason}"[:200]
    if to_unit.pk != old.pk:
        _tell(
            _officers(to_unit),
            case,
            f"{case.number}（{case.get_kind_display()}）已{label}至你单位",
            f"由{old.name}{label}。理由：{reason}",
        )
    return details


def apply_transfer(case: Case, user: User, *, to_unit: OrgUnit, **params: Any) -> dict:
    return _move(case, user, Transfer.Kind.TRANSFER, to_unit, step_reason(case))


def apply_designation(case: Case, user: User, *, to_unit: OrgUnit, **params: Any) -> dict:
    return _move(case, user, Transfer.Kind.DESIGNATION, to_unit, step_reason(case))


def validate_dispute(case: Case, user: User, *, with_unit: Any = None, **params: Any) -> dict:
    """A dispute names the other bureau that claims, or refuses, jurisdiction."""
    _reason_fits(case)
    unit = _unit(with_unit)
    if unit is None or not unit.is_enabled or not BUREAU_CODE.match(unit.code or ""):
        raise Invalid("请选择与之发生管辖争议的县级市场监督管理局")
    if unit.pk == case.owner_unit_id:
        raise Invalid("管辖争议须发生在两个市场监督管理部门之间")
    return {"with_unit": unit}


def apply_dispute(case: Case, user: User, *, with_unit: OrgUnit, **params: Any) -> dict:
    reason = step_reason(case)
    Transfer.objects.create(
        case=case,
        kind=Transfer.Kind.DISPUTE,
        from_unit=case.owner_unit,
        to_unit=with_unit,
        reason=reason[:REASON_MAX],
        at=timezone.now(),
        by=user,
    )
    article = "第三十三条" if case.rules == rulebook.ORDER121 else "第三十条"
    _tell(
        [*coordinators(), *_officers(with_unit)],
        case,
        f"{case.number}（{case.get_kind_display()}）发生管辖争议，待协商或指定",
        f"{case.owner_unit.name}与{with_unit.name}对管辖有争议（{article}）：{reason}。"
        "应自发生争议之日起七个工作日内协商解决；协商不成的，由市市场监管局指定管辖。",
    )
    return {"with_unit": with_unit.name, "with_unit_id": with_unit.pk}


def dispute_deadline(case: Case, now: dt.datetime) -> Deadline:
    return rulebook.case_deadline(rules_on(case), "jurisdiction.dispute", _today(now))


def deadline_after_transfer(case: Case, now: dt.datetime) -> Deadline | None:
    """The receiving bureau's clock, from the day it received the case (ADR 0037)."""
    start = clock_start(case)
    if case.kind == Case.Kind.COMPLAINT:
        return rulebook.case_deadline(rules_on(case), "complaint.accept", start)
    return rulebook.case_deadline(
        rules_on(case),
        "complaint.lead_check" if case.kind == Case.Kind.LEAD else "report.verify",
        start,
        suspended=case.suspended_days,
        extended=case.extended,
    )
