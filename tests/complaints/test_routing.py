"""Jurisdiction: the competent county bureau, platform sellers, transfers, disputes."""

import datetime as dt

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qcity.complaints import routing, services
from qcity.complaints.models import Case, Transfer
from qcity.core import rulebook
from qcity.core.models import AuditEvent, Notice, OrgUnit, Transition
from qcity.core.workflow import (
    Forbidden,
    Invalid,
    NotFound,
    ReasonRequired,
    StepNotAllowed,
    take,
)
from tests.complaints.helpers import KAIYUAN_BUREAU, XIFENG_BUREAU, make_case, make_entity

pytestmark = pytest.mark.django_db

O20, O121 = rulebook.ORDER20, rulebook.ORDER121


def at(day: dt.date, hour: int = 9):
    # 09:00 in Beijing.
    return time_machine.travel(
        dt.datetime(day.year, day.month, day.day, hour - 8, 0, tzinfo=dt.UTC), tick=False
    )


def bureau(name: str) -> OrgUnit:
    return OrgUnit.objects.get(name=name)


@pytest.mark.parametrize(
    "address, county",
    [
        ("辽宁省铁岭市开原市新华路12号", "开原市"),
        ("辽宁铁岭开原市新华路12号", "开原市"),
        ("铁岭开原新华路12号", "开原市"),
        ("开原", "开原市"),
        ("开原市场街3号", "开原市"),
        ("211282", "开原市"),
        ("２１１２２３", "西丰县"),
        (" 辽宁省 铁岭市 西丰县 西丰镇 ", "西丰县"),
        ("铁岭县镇西堡镇", "铁岭县"),
        ("辽宁省铁岭市铁岭县新台子镇", "铁岭县"),
        ("铁岭市银州区广裕街1号", "银州区"),
        ("铁岭市清河区", "清河区"),
        ("辽宁省调兵山市", "调兵山市"),
        ("昌图县昌图镇", "昌图县"),
        ("新华路12号（开原市）", "开原市"),
        ("行政区划211224境内某村", "昌图县"),
    ],
)
def test_it_finds_the_county_of_an_address_by_name_short_name_or_code(org_units, address, county):
    place = routing.place_of(address)
    assert place.county is not None and place.county.name == county
    assert place.bureau == bureau(f"{county}市场监督管理局")


@pytest.mark.parametrize(
    "address, elsewhere, problem",
    [
        ("铁岭市新华路12号", "", "地址未写明县（市、区）"),
        ("铁岭市", "", "地址未写明县（市、区）"),
        ("辽宁省沈阳市和平区南京街1号", "沈阳市", "地址在外市"),
        ("沈阳市和平区南京街1号", "沈阳市", "地址在外市"),
        ("江苏省淮安市清河区", "江苏省", "地址在外省"),
        ("北京市海淀区清河街道", "北京市", "地址在外省"),
        ("210102", "行政区划代码 210102", "行政区划代码不属于本市"),
        ("海淀区清河路", "", "地址无法识别所属县（市、区）"),
        ("开原路5号", "", "地址无法识别所属县（市、区）"),
        ("", "", "未填写地址"),
    ],
)
def test_it_never_places_another_city_or_the_city_alone_in_a_county(
    org_units, address, elsewhere, problem
):
    place = routing.place_of(address)
    assert place.county is None
    assert (place.elsewhere, place.problem) == (elsewhere, problem)


def test_the_register_decides_before_the_address(org_units):
    entity = make_entity(XIFENG_BUREAU, address="辽宁省铁岭市开原市新华路1号")
    route = routing.resolve(rules=O121, entity=entity, address="开原市新华路1号")
    assert route.unit == bureau(XIFENG_BUREAU)
    assert route.how == routing.HOW_REGISTER
    assert XIFENG_BUREAU in route.basis


def test_an_entity_registered_at_a_station_goes_to_the_bureau_above_it(org_units):
    entity = make_entity(KAIYUAN_BUREAU)
    entity.owner_unit = bureau("开原市城区市场监督管理所")
    entity.save()
    assert routing.resolve(rules=O20, entity=entity).unit == bureau(KAIYUAN_BUREAU)


def test_without_a_register_entry_the_address_decides(org_units):
    route = routing.resolve(rules=O20, address="辽宁省铁岭市西丰县西丰镇1号")
    assert (route.unit, route.how) == (bureau(XIFENG_BUREAU), routing.HOW_ADDRESS)


@pytest.mark.parametrize(
    "address, why",
    [
        ("沈阳市和平区南京街1号", "本市以外（沈阳市）"),
        ("铁岭市新华路1号", "地址未写明县（市、区）"),
        ("", "未填写地址"),
    ],
)
def test_the_city_bureau_routes_by_hand_what_cannot_be_resolved_and_says_why(
    org_units, address, why
):
    route = routing.resolve(rules=O121, address=address)
    assert route.unit == bureau("市市场监管局")
    assert route.how == routing.HOW_MANUAL
    assert why in route.basis and "市局" in route.basis


def platform_operator():
    return make_entity(XIFENG_BUREAU, name="西丰电商平台有限公司", address="西丰县西丰镇1号")


@pytest.mark.parametrize("rules", [O20, O121])
def test_a_platform_seller_at_an_address_of_ours_goes_to_that_county(org_units, rules):
    route = routing.resolve(rules=rules, address="开原市新华路9号", platform=platform_operator())
    assert (route.unit, route.how) == (bureau(KAIYUAN_BUREAU), routing.HOW_PLATFORM)
    article = "第十三条" if rules == O121 else "第十二条第二款"
    assert article in route.basis


def test_order_121_a_seller_that_shows_no_address_goes_to_the_platforms_domicile(org_units):
    seller = make_entity(KAIYUAN_BUREAU)
    route = routing.resolve(rules=O121, entity=seller, address="", platform=platform_operator())
    # Not the seller's register: Art.13 names the shown address or the platform only.
    assert route.unit == bureau(XIFENG_BUREAU)
    assert "未在平台公示地址" in route.basis


def test_order_20_a_seller_without_an_address_goes_to_its_actual_place_from_the_register(
    org_units,
):
    seller = make_entity(KAIYUAN_BUREAU)
    route = routing.resolve(rules=O20, entity=seller, address="", platform=platform_operator())
    assert route.unit == bureau(KAIYUAN_BUREAU)
    assert "实际经营地" in route.basis


def test_order_121_a_seller_unreachable_at_its_shown_address_goes_to_the_platform(org_units):
    route = routing.resolve(
        rules=O121,
        address="开原市新华路9号",
        platform=platform_operator(),
        seller_unreachable=True,
    )
    assert route.unit == bureau(XIFENG_BUREAU)
    assert "无法通过公示地址取得联系" in route.basis


@pytest.mark.parametrize("rules", [O20, O121])
def test_a_seller_elsewhere_on_a_platform_of_ours_goes_to_the_platforms_domicile(org_units, rules):
    route = routing.resolve(
        rules=rules, address="浙江省杭州市余杭区1号", platform=platform_operator()
    )
    assert route.unit == bureau(XIFENG_BUREAU)


def test_a_seller_and_a_platform_both_elsewhere_are_routed_by_hand(org_units):
    platform = make_entity(KAIYUAN_BUREAU, name="外地平台")
    platform.owner_unit = bureau("市市场监管局")
    platform.region_code = "330110"
    platform.address = "浙江省杭州市余杭区文一西路"
    platform.save()
    route = routing.resolve(rules=O121, address="", platform=platform)
    assert route.unit == bureau("市市场监管局")
    assert "外地平台住所地不在本市" in route.basis


# --- transfers, disputes, designation -------------------------------------------------------


@pytest.mark.parametrize(
    "kind, received_on, rule",
    [
        (Case.Kind.COMPLAINT, dt.date(2026, 4, 14), "complaint.accept@order20"),
        (Case.Kind.COMPLAINT, dt.date(2026, 4, 15), "complaint.accept@order121"),
        (Case.Kind.REPORT, dt.date(2026, 4, 14), "report.verify@order20"),
        (Case.Kind.REPORT, dt.date(2026, 4, 15), "report.verify@order121"),
    ],
)
def test_a_transfer_moves_the_case_records_the_reason_and_restarts_the_clock_at_the_new_bureau(
    personas, calendar, kind, received_on, rule
):
    case = make_case(kind=kind, received_on=received_on)
    xifeng = bureau(XIFENG_BUREAU)
    # Transferred on Thursday 2026-04-30: 7 working days (May Day 1-5 off, 9 May worked)
    # end on 2026-05-13; 15 working days on 2026-05-25.
    with at(dt.date(2026, 4, 30)):
        take(
            services.workflow_for(case),
            "transfer",
            case.pk,
            by=personas["kaiyuan"],
            reason="被投诉人实际经营地在西丰县",
            to_unit=str(xifeng.pk),
        )
    case.refresh_from_db()
    assert case.owner_unit == xifeng
    assert case.clock_started_on == dt.date(2026, 4, 30)
    assert case.due_rule == rule
    assert case.due_on == (
        dt.date(2026, 5, 13) if kind == Case.Kind.COMPLAINT else dt.date(2026, 5, 25)
    )
    assert case.rules == rulebook.version_on(received_on)  # the rules do not move
    transfer = Transfer.objects.get(case=case)
    assert (transfer.kind, transfer.from_unit.name, transfer.to_unit) == (
        Transfer.Kind.TRANSFER,
        KAIYUAN_BUREAU,
        xifeng,
    )
    assert transfer.reason == "被投诉人实际经营地在西丰县"
    event = AuditEvent.objects.get(action="complaints.case.transfer")
    assert event.details["to_unit"] == XIFENG_BUREAU
    assert event.details["reason"] == "被投诉人实际经营地在西丰县"
    # The receiving bureau hears of it; the sending county no longer sees the case.
    assert Notice.objects.filter(recipient=personas["xifeng"]).exists()
    with pytest.raises(NotFound):
        take(services.workflow_for(case), "transfer", case.pk, by=personas["kaiyuan"], reason="x")


def test_a_transferred_report_starts_a_new_period_without_the_old_extension(personas, calendar):
    case = make_case(kind=Case.Kind.REPORT, extended=True)
    with at(dt.date(2026, 6, 8)):
        t = take(
            services.REPORT,
            "transfer",
            case.pk,
            by=personas["kaiyuan"],
            reason="举报行为发生地在西丰县",
            to_unit=f"{bureau(XIFENG_BUREAU).code}",
        )
    case.refresh_from_db()
    assert not case.extended
    assert t.details["previous_period"] == {"extended": True, "suspended_days": 0}
    assert case.due_on == rulebook.deadline("report.verify", dt.date(2026, 6, 8)).due


@pytest.mark.parametrize(
    "params, message",
    [
        ({}, "请选择承办单位"),
        ({"to_unit": "999999"}, "请选择承办单位"),
        ({"to_unit": "开原市城区市场监督管理所"}, "请选择承办单位"),
        ({"to_unit": "211282-SCJG-01"}, "不是县级市场监督管理局"),
        ({"to_unit": "211282-SCJG"}, "请选择另一个承办单位"),
        ({"to_unit": "211223-SCJG", "reason": "理" * 501}, "理由不能超过500字"),
    ],
)
def test_a_transfer_to_nowhere_to_a_station_or_to_itself_is_refused_and_nothing_moves(
    personas, params, message
):
    case = make_case()
    params = {"reason": "转办", **params}
    with pytest.raises(Invalid, match=message):
        take(services.COMPLAINT, "transfer", case.pk, by=personas["kaiyuan"], **params)
    case.refresh_from_db()
    assert case.owner_unit.name == KAIYUAN_BUREAU
    assert not Transfer.objects.exists()
    assert not Transition.objects.exists()


def test_a_transfer_needs_a_reason_and_an_officer(personas):
    case = make_case()
    with pytest.raises(ReasonRequired):
        take(services.COMPLAINT, "transfer", case.pk, by=personas["kaiyuan"], to_unit="211223-SCJG")
    with pytest.raises((Forbidden, NotFound)):
        take(
            services.COMPLAINT,
            "transfer",
            case.pk,
            by=personas["inspector"],
            reason="x",
            to_unit="211223-SCJG",
        )


def test_the_city_bureau_hands_a_case_it_routed_by_hand_to_a_county(personas, calendar):
    case = make_case(bureau="市市场监管局")
    with at(dt.date(2026, 6, 2)):
        take(
            services.COMPLAINT,
            "transfer",
            case.pk,
            by=personas["coordinator"],
            reason="经核实被投诉人在开原市",
            to_unit="211282-SCJG",
        )
    case.refresh_from_db()
    assert case.owner_unit.name == KAIYUAN_BUREAU
    assert case.routing_basis == "转办：经核实被投诉人在开原市"


@pytest.mark.parametrize("received_on", [dt.date(2026, 4, 14), dt.date(2026, 4, 15)])
def test_a_dispute_has_its_own_seven_working_days_and_the_city_bureau_designates(
    personas, calendar, received_on
):
    case = make_case(received_on=received_on)
    with at(dt.date(2026, 4, 28)):
        take(
            services.COMPLAINT,
            "dispute",
            case.pk,
            by=personas["kaiyuan"],
            reason="西丰县局认为不属其管辖，我局认为属西丰县",
            with_unit="211223-SCJG",
        )
    case.refresh_from_db()
    version = rulebook.version_on(received_on)
    assert case.status == Case.Status.DISPUTED
    # 7 working days from 2026-04-28 across May Day (1-5 May off; 9 May worked): 2026-05-11.
    assert (case.due_on, case.due_rule) == (dt.date(2026, 5, 11), f"jurisdiction.dispute@{version}")
    dispute = Transfer.objects.get(case=case)
    assert (dispute.kind, dispute.to_unit.name) == (Transfer.Kind.DISPUTE, XIFENG_BUREAU)
    assert Notice.objects.filter(recipient=personas["coordinator"]).exists()
    assert Notice.objects.filter(recipient=personas["xifeng"]).exists()
    # Only the common superior designates.
    with pytest.raises(Forbidden):
        take(
            services.COMPLAINT,
            "designate",
            case.pk,
            by=personas["kaiyuan"],
            reason="x",
            to_unit="211223-SCJG",
        )
    with at(dt.date(2026, 5, 11)):
        take(
            services.COMPLAINT,
            "designate",
            case.pk,
            by=personas["coordinator"],
            reason="协商不成，指定西丰县局处理",
            to_unit="211223-SCJG",
        )
    case.refresh_from_db()
    assert case.status == Case.Status.RECEIVED
    assert case.owner_unit.name == XIFENG_BUREAU
    assert case.clock_started_on == dt.date(2026, 5, 11)
    assert case.due_rule == f"complaint.accept@{version}"
    assert [t.kind for t in Transfer.objects.filter(case=case)] == [
        Transfer.Kind.DISPUTE,
        Transfer.Kind.DESIGNATION,
    ]


def test_the_city_bureau_may_designate_the_bureau_that_already_holds_the_case(personas, calendar):
    case = make_case(status=Case.Status.DISPUTED)
    take(
        services.COMPLAINT,
        "designate",
        case.pk,
        by=personas["coordinator"],
        reason="仍由开原市局处理",
        to_unit="211282-SCJG",
    )
    case.refresh_from_db()
    assert (case.status, case.owner_unit.name) == (Case.Status.RECEIVED, KAIYUAN_BUREAU)


@pytest.mark.parametrize(
    "with_unit, message",
    [("", "请选择与之发生管辖争议"), ("211282-SCJG", "两个市场监督管理部门之间")],
)
def test_a_dispute_names_another_county_bureau(personas, with_unit, message):
    case = make_case()
    with pytest.raises(Invalid, match=message):
        take(
            services.COMPLAINT,
            "dispute",
            case.pk,
            by=personas["kaiyuan"],
            reason="x",
            with_unit=with_unit,
        )
    assert Case.objects.get(pk=case.pk).status == Case.Status.RECEIVED


@pytest.mark.parametrize("step", ["transfer", "dispute"])
@pytest.mark.parametrize("status", [Case.Status.ACCEPTED, Case.Status.CLOSED, Case.Status.ODR])
def test_only_a_case_not_yet_accepted_changes_bureau(personas, step, status):
    case = make_case(status=status)
    with pytest.raises(StepNotAllowed):
        take(
            services.COMPLAINT,
            step,
            case.pk,
            by=personas["kaiyuan"],
            reason="x",
            to_unit="211223-SCJG",
            with_unit="211223-SCJG",
        )


def test_another_county_cannot_move_or_dispute_a_case_it_cannot_see(personas):
    case = make_case(bureau=KAIYUAN_BUREAU)
    for step in ("transfer", "dispute"):
        with pytest.raises(NotFound):
            take(
                services.COMPLAINT,
                step,
                case.pk,
                by=personas["xifeng"],
                reason="x",
                to_unit="211223-SCJG",
                with_unit="211282-SCJG",
            )


def test_the_bureaus_a_case_may_go_to_are_the_seven_county_bureaus_and_the_city(org_units):
    names = [unit.name for unit in routing.bureaus()]
    assert len(names) == 8 and "市市场监管局" in names
    assert "开原市城区市场监督管理所" not in names
    assert all(routing.is_bureau(unit) for unit in routing.bureaus())


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    address=st.text(
        alphabet=st.sampled_from(
            list("辽宁省铁岭市开原西丰县区清河银州昌图调兵山沈阳和平路号0123456789 ")
        ),
        max_size=30,
    ),
    rules=st.sampled_from([O20, O121]),
)
def test_any_address_resolves_to_a_bureau_without_error(org_units, address, rules):
    route = routing.resolve(rules=rules, address=address)
    assert routing.is_bureau(route.unit)
    assert route.basis
    if route.how == routing.HOW_MANUAL:
        assert route.unit.name == "市市场监管局"
