"""Reports and leads: verification, extension, supplements, repeats, 立案 and the notice."""

import datetime as dt

import pytest
import time_machine

from qcity.complaints import services
from qcity.complaints.models import Case
from qcity.core.models import AuditEvent, Transition
from qcity.core.workflow import Forbidden, Invalid, NotFound, StepNotAllowed, take
from tests.complaints.helpers import XIFENG_BUREAU, make_case, make_entity

pytestmark = pytest.mark.django_db

S = Case.Status
O20_DAY, O121_DAY = dt.date(2026, 4, 14), dt.date(2026, 4, 15)


def at(day: dt.date):
    return time_machine.travel(
        dt.datetime(day.year, day.month, day.day, 1, 0, tzinfo=dt.UTC), tick=False
    )


def report(**fields) -> Case:
    return make_case(kind=Case.Kind.REPORT, **fields)


# --- the transitions of REPORT, allowed and not -------------------------------------------

STATES = [S.VERIFYING, S.DISPUTED, S.NOTIFYING, S.CLOSED, S.RECEIVED, S.ACCEPTED]


def _params(step: str, case: Case) -> dict:
    if step == "repeat":
        entity = case.respondent_entity
        original = report(received_on=case.received_on - dt.timedelta(days=3), entity=entity)
        return {"original": original.pk, "same_facts": True}
    return {
        "transfer": {"reason": "行为发生地在西丰县", "to_unit": "211223-SCJG"},
        "dispute": {"reason": "双方均认为不属本局管辖", "with_unit": "211223-SCJG"},
        "designate": {"reason": "指定西丰县局", "to_unit": "211223-SCJG"},
        "extend": {
            "reason": "案情复杂",
            "approved_by": "王局长",
            "approval_ref": "开市监延〔2026〕3号",
        },
        "supplement": {"facts": "举报人补充了进货单据"},
        "not_file": {"reason": "经核查无违法事实"},
        "close": {"reason": "无需告知"},
    }.get(step, {})


CASES = [(step.name, state) for step in services.REPORT.steps for state in STATES]


@pytest.mark.parametrize("step, state", CASES, ids=[f"{s}-{t}" for s, t in CASES])
def test_each_report_step_runs_from_its_states_only(personas, calendar, step, state):
    declared = services.REPORT.step(step)
    case = report(received_on=dt.date(2026, 6, 1), status=state, entity=make_entity())
    user = personas["coordinator" if step == "designate" else "kaiyuan"]
    params = _params(step, case)
    with at(dt.date(2026, 6, 3)):
        if state not in declared.sources:
            with pytest.raises(StepNotAllowed):
                take(services.REPORT, step, case.pk, by=user, **params)
            assert Case.objects.get(pk=case.pk).status == state
            return
        transition = take(services.REPORT, step, case.pk, by=user, **params)
    case.refresh_from_db()
    assert case.status == declared.target
    assert transition.step == step
    assert AuditEvent.objects.filter(action=f"complaints.case.{step}").count() == 1


@pytest.mark.parametrize("step", [s.name for s in services.REPORT.steps])
def test_another_county_and_an_enterprise_cannot_take_a_report_step(personas, step):
    entity = make_entity()
    case = report(entity=entity, status=next(iter(services.REPORT.step(step).sources)))
    for user in (personas["xifeng"], personas["enterprise"], personas["nongye"]):
        with pytest.raises((NotFound, Forbidden)):
            take(services.REPORT, step, case.pk, by=user, **_params(step, case))
    assert not Transition.objects.exists()


def test_report_steps_do_not_apply_to_a_complaint(personas):
    case = make_case(kind=Case.Kind.COMPLAINT, status=S.VERIFYING)
    with pytest.raises(Forbidden):
        take(services.REPORT, "file", case.pk, by=personas["kaiyuan"])


# --- the verification clock and its extension -----------------------------------------------


@pytest.mark.parametrize(
    "received_on, rule, due, extended_due",
    [
        # 15 working days from Tue 2026-04-14 across May Day (1-5 May off, Sat 9 May worked).
        (O20_DAY, "report.verify@order20", dt.date(2026, 5, 8), dt.date(2026, 5, 28)),
        (O121_DAY, "report.verify@order121", dt.date(2026, 5, 9), dt.date(2026, 5, 29)),
    ],
)
def test_an_extension_needs_the_heads_approval_adds_15_working_days_and_is_granted_once(
    personas, calendar, received_on, rule, due, extended_due
):
    case = report(received_on=received_on)
    with at(received_on):
        take(
            services.REPORT,
            "transfer",
            case.pk,
            by=personas["kaiyuan"],
            reason="移交",
            to_unit="211223-SCJG",
        )
    case.refresh_from_db()
    assert (case.due_on, case.due_rule) == (due, rule)
    with pytest.raises(Invalid, match="负责人批准"):
        take(services.REPORT, "extend", case.pk, by=personas["xifeng"], reason="案情复杂")
    with at(received_on + dt.timedelta(days=10)):
        t = take(
            services.REPORT,
            "extend",
            case.pk,
            by=personas["xifeng"],
            reason="案情复杂",
            approved_by="李局长",
            approval_ref="西市监延〔2026〕1号",
        )
    case.refresh_from_db()
    assert (case.due_on, case.extended) == (extended_due, True)
    assert t.details["approved_by"] == "李局长"
    assert t.details["approval_ref"] == "西市监延〔2026〕1号"
    event = AuditEvent.objects.get(action="complaints.case.extend")
    assert event.details["approved_by"] == "李局长"
    with pytest.raises(Invalid, match="已经延长过一次"):
        take(
            services.REPORT,
            "extend",
            case.pk,
            by=personas["xifeng"],
            reason="再延",
            approved_by="李局长",
            approval_ref="2号",
        )


@pytest.mark.parametrize("received_on, needs_approval", [(O20_DAY, False), (O121_DAY, True)])
def test_a_lead_check_extension_needs_approval_only_under_order_121(
    personas, calendar, received_on, needs_approval
):
    lead = make_case(kind=Case.Kind.LEAD, received_on=received_on)
    if needs_approval:
        with pytest.raises(Invalid, match="第二十七条"):
            take(services.REPORT, "extend", lead.pk, by=personas["kaiyuan"], reason="特殊情况")
        take(
            services.REPORT,
            "extend",
            lead.pk,
            by=personas["kaiyuan"],
            reason="特殊情况",
            approved_by="王局长",
            approval_ref="开市监〔2026〕9号",
        )
    else:
        take(services.REPORT, "extend", lead.pk, by=personas["kaiyuan"], reason="特殊情况")
    lead.refresh_from_db()
    version = "order121" if needs_approval else "order20"
    assert lead.extended and lead.due_rule == f"complaint.lead_check@{version}"


def test_an_approval_too_long_for_its_field_is_refused(personas):
    case = report()
    with pytest.raises(Invalid, match="批准人不能超过50字"):
        take(
            services.REPORT,
            "extend",
            case.pk,
            by=personas["kaiyuan"],
            reason="x",
            approved_by="王" * 51,
            approval_ref="1",
        )


# --- supplements and repeats (Order 121 Art.35) ---------------------------------------------


def test_order_121_new_facts_restart_the_period_from_the_last_report(personas, calendar):
    case = report(received_on=dt.date(2026, 6, 1), extended=True)
    with at(dt.date(2026, 6, 10)):
        t = take(
            services.REPORT,
            "supplement",
            case.pk,
            by=personas["kaiyuan"],
            facts="又发现该店销售过期食品",
            received_on="2026-06-09",
        )
    case.refresh_from_db()
    # 15 working days from Tue 2026-06-09 (Dragon Boat Festival: Fri 19 June off) → 2026-07-01.
    assert case.clock_started_on == dt.date(2026, 6, 9)
    assert case.due_on == dt.date(2026, 7, 1)
    assert case.due_rule == "report.verify@order121"
    assert not case.extended  # a new period, which may be extended once again
    assert "【补充举报 2026-06-09】又发现该店销售过期食品" in case.facts
    assert t.details["restarted"] is True


def test_order_20_new_facts_are_recorded_but_the_period_runs_on(personas, calendar):
    case = report(received_on=O20_DAY)
    with at(O20_DAY):
        take(
            services.REPORT,
            "extend",
            case.pk,
            by=personas["kaiyuan"],
            reason="x",
            approved_by="王局长",
            approval_ref="1号",
        )
    before = Case.objects.get(pk=case.pk).due_on
    with at(dt.date(2026, 4, 20)):
        t = take(services.REPORT, "supplement", case.pk, by=personas["kaiyuan"], facts="新情况")
    case.refresh_from_db()
    assert case.due_on == before == dt.date(2026, 5, 28)
    assert case.clock_started_on is None and case.extended
    assert "新情况" in case.facts
    assert t.details["restarted"] is False


@pytest.mark.parametrize(
    "params, message",
    [
        ({}, "请填写举报人补充的新事实"),
        ({"facts": "x" * 5001}, "不能超过5000字"),
        ({"facts": "x", "received_on": "2026-13-01"}, "格式应为"),
        ({"facts": "x", "received_on": "2026-05-31"}, "起算日之后"),
        ({"facts": "x", "received_on": "2026-06-04"}, "不晚于今天"),
    ],
)
def test_a_supplement_without_facts_or_with_a_bad_date_is_refused(personas, params, message):
    case = report(received_on=dt.date(2026, 6, 1))
    with at(dt.date(2026, 6, 3)), pytest.raises(Invalid, match=message):
        take(services.REPORT, "supplement", case.pk, by=personas["kaiyuan"], **params)
    assert Case.objects.get(pk=case.pk).facts.startswith("购买的电热水壶")


def test_order_121_a_repeat_by_the_same_reporter_is_not_handled_again(personas, calendar):
    entity = make_entity()
    first = report(received_on=dt.date(2026, 6, 1), entity=entity)
    second = report(received_on=dt.date(2026, 6, 5), entity=entity)
    third = report(received_on=dt.date(2026, 6, 8), entity=entity)
    take(
        services.REPORT,
        "repeat",
        second.pk,
        by=personas["kaiyuan"],
        original=first.pk,
        same_facts=True,
    )
    # A repeat of the repeat is linked to the first report.
    take(
        services.REPORT,
        "repeat",
        third.pk,
        by=personas["kaiyuan"],
        original=second.pk,
        same_facts="on",
    )
    for case in (second, third):
        case.refresh_from_db()
        assert (case.status, case.outcome) == (S.CLOSED, Case.Outcome.NOT_HANDLED)
        assert case.duplicate_of == first
        assert case.closed_at is not None
    assert Case.objects.get(pk=first.pk).status == S.VERIFYING


def test_a_repeat_is_refused_under_order_20(personas):
    entity = make_entity()
    first = report(received_on=dt.date(2026, 4, 1), entity=entity)
    second = report(received_on=O20_DAY, entity=entity)
    with pytest.raises(Invalid, match="总局令第20号"):
        take(
            services.REPORT,
            "repeat",
            second.pk,
            by=personas["kaiyuan"],
            original=first.pk,
            same_facts=True,
        )


@pytest.mark.parametrize(
    "change, message",
    [
        ({"phone": "13900139000"}, "不是同一举报人"),
        ({"phone": ""}, "不是同一举报人"),
        ({"other_target": True}, "被举报对象不同"),
        ({"same_facts": False}, "有新的事实的，应作为补充举报"),
        ({"later": True}, "原举报件应早于本件"),
    ],
)
def test_it_is_not_a_repeat_without_the_same_reporter_target_and_facts(personas, change, message):
    entity = make_entity()
    first = report(received_on=dt.date(2026, 6, 1), entity=entity)
    second = report(
        received_on=dt.date(2026, 5, 20) if change.get("later") else dt.date(2026, 6, 5),
        entity=make_entity() if change.get("other_target") else entity,
        phone=change.get("phone", "13800138000"),
    )
    with pytest.raises(Invalid, match=message):
        take(
            services.REPORT,
            "repeat",
            second.pk,
            by=personas["kaiyuan"],
            original=first.pk,
            same_facts=change.get("same_facts", True),
        )
    second.refresh_from_db()
    assert (second.status, second.duplicate_of) == (S.VERIFYING, None)


def test_a_report_in_another_county_cannot_be_named_as_the_original(personas):
    entity = make_entity()
    theirs = report(received_on=dt.date(2026, 6, 1), entity=entity, bureau=XIFENG_BUREAU)
    mine = report(received_on=dt.date(2026, 6, 5), entity=entity)
    with pytest.raises(Invalid, match="原举报件不存在"):
        take(
            services.REPORT,
            "repeat",
            mine.pk,
            by=personas["kaiyuan"],
            original=theirs.pk,
            same_facts=True,
        )


def test_a_lead_has_no_reporter_to_supplement_or_repeat(personas):
    lead = make_case(kind=Case.Kind.LEAD)
    with pytest.raises(Invalid, match="只适用于举报件"):
        take(services.REPORT, "supplement", lead.pk, by=personas["kaiyuan"], facts="x")
    with pytest.raises(Invalid, match="只适用于举报件"):
        take(
            services.REPORT,
            "repeat",
            lead.pk,
            by=personas["kaiyuan"],
            original=lead.pk,
            same_facts=True,
        )


# --- 立案 or not, and telling the reporter ---------------------------------------------------


@pytest.mark.parametrize("step", ["file", "not_file"])
def test_order_20_a_real_name_reporter_is_told_within_5_working_days(personas, calendar, step):
    case = report(received_on=O20_DAY)
    with at(dt.date(2026, 4, 28)):
        take(services.REPORT, step, case.pk, by=personas["kaiyuan"], reason="经核查")
    case.refresh_from_db()
    assert case.status == S.NOTIFYING
    assert case.outcome == (Case.Outcome.FILED if step == "file" else Case.Outcome.NOT_FILED)
    # 5 working days from Tue 2026-04-28: 29, 30 April, 6, 7, 8 May.
    assert (case.due_on, case.due_rule) == (dt.date(2026, 5, 8), "report.notify@order20")
    with pytest.raises(Invalid, match="五个工作日内告知"):
        take(services.REPORT, "close", case.pk, by=personas["kaiyuan"], reason="不告知")
    take(services.REPORT, "notify", case.pk, by=personas["kaiyuan"], channel="sms")
    case.refresh_from_db()
    assert case.status == S.CLOSED and case.closed_at is not None


@pytest.mark.parametrize(
    "received_on, anonymous", [(O20_DAY, True), (O121_DAY, False), (O121_DAY, True)]
)
def test_no_notice_is_due_for_anonymous_reporters_or_under_order_121(
    personas, calendar, received_on, anonymous
):
    fields = {"anonymous": True, "name": "", "phone": ""} if anonymous else {}
    case = report(received_on=received_on, **fields)
    take(services.REPORT, "file", case.pk, by=personas["kaiyuan"])
    case.refresh_from_db()
    assert (case.status, case.due_on, case.due_rule) == (S.NOTIFYING, None, "")
    take(services.REPORT, "close", case.pk, by=personas["kaiyuan"], reason="无需告知举报人")
    case.refresh_from_db()
    assert case.status == S.CLOSED and case.closed_at is not None


def test_a_lead_needs_no_notice(personas, calendar):
    lead = make_case(kind=Case.Kind.LEAD, received_on=O20_DAY)
    take(services.REPORT, "not_file", lead.pk, by=personas["kaiyuan"], reason="无违法事实")
    lead.refresh_from_db()
    assert (lead.status, lead.due_on) == (S.NOTIFYING, None)
    take(services.REPORT, "close", lead.pk, by=personas["kaiyuan"], reason="线索核查完毕")
    assert Case.objects.get(pk=lead.pk).status == S.CLOSED
