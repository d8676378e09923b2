"""A complaint from acceptance to outcome: every step from every state, grounds, clocks, recusal.

Deadlines here are computed by hand from the texts and the 2026 holiday notice (劳动节
5月1日至5日, 5月9日 Saturday worked; 端午 6月19日; 中秋 9月25日; 国庆 10月1日至7日, 10月10日
Saturday worked), not by the code under test.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms.models import model_to_dict
from django.utils import timezone

from qcity.complaints import mediation, services
from qcity.complaints.models import Case, CaseNotice, Recusal, Suspension, Transfer
from qcity.core import rulebook
from qcity.core.files import attachments_of
from qcity.core.models import AuditEvent, OrgUnit, Role, Transition, User
from qcity.core.scope import scoped
from qcity.core.workflow import TIMER, Forbidden, Invalid, NotFound, StepNotAllowed, take
from qcity.registry.models import Conflict, Inspector
from tests.complaints.helpers import (
    KAIYUAN_BUREAU,
    XIFENG_BUREAU,
    enterprise_user,
    make_case,
    make_entity,
)
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

S = Case.Status
COMPLAINT = services.COMPLAINT


def at(day: dt.date, hour: int = 10):
    """Freeze the clock on ``day`` at ``hour`` o'clock in the city (UTC+8)."""
    return time_machine.travel(
        dt.datetime(day.year, day.month, day.day, hour - 8, 0, tzinfo=dt.UTC), tick=False
    )


@pytest.fixture
def second_officer(personas) -> User:
    """Another officer of 开原市市场监督管理局, to take over a mediation."""
    return make_user("kaiyuan2", Role.COUNTY_OFFICER, KAIYUAN_BUREAU)


def snapshot(case: Case) -> dict:
    """Everything a refused step must leave as it was."""
    case.refresh_from_db()
    return {
        "case": model_to_dict(case),
        "transitions": Transition.objects.filter(object_id=str(case.pk)).count(),
        "audit": AuditEvent.objects.count(),
        "suspensions": list(Suspension.objects.filter(case=case).values()),
        "recusals": list(Recusal.objects.filter(case=case).values()),
        "transfers": Transfer.objects.filter(case=case).count(),
        "leads": Case.objects.filter(linked_case=case).count(),
    }


# --- every (state, step) pair ---------------------------------------------------------------

RECEIVED_ON = dt.date(2026, 6, 1)
ACCEPTED_ON = dt.date(2026, 6, 3)
TODAY = dt.date(2026, 7, 1)


def case_in(state: str, personas: dict[str, User]) -> tuple[Case, User]:
    """A complaint in ``state`` with what that state implies, and its enterprise's account."""
    entity = make_entity()
    account = enterprise_user(entity)
    fields: dict = {"odr": state == S.ODR}
    if state in (S.ACCEPTED, S.MEDIATING, S.SUSPENDED, S.NOTIFYING):
        fields["accepted_on"] = ACCEPTED_ON
    if state in (S.MEDIATING, S.SUSPENDED, S.NOTIFYING):
        fields.update(mediator=personas["kaiyuan"], mediation_mode=Case.MediationMode.ONSITE)
    if state == S.NOTIFYING:
        fields.update(outcome=Case.Outcome.TERMINATED, outcome_ground="4")
    if state == S.CLOSED:
        fields.update(outcome=Case.Outcome.WITHDRAWN, closed_at=timezone.now())
    case = make_case(status=state, received_on=RECEIVED_ON, entity=entity, **fields)
    if state == S.SUSPENDED:
        Suspension.objects.create(
            case=case, reason=Suspension.Reason.TESTING, started_on=dt.date(2026, 6, 20)
        )
    return case, account


def step_call(step: str, personas: dict[str, User], account: User, second: User) -> dict:
    """Who takes ``step`` and with what: valid parameters for a case that may take it."""
    officer = personas["kaiyuan"]
    xifeng_bureau = OrgUnit.objects.get(name=XIFENG_BUREAU).pk
    return {
        "odr_settle": {"by": account, "agreed": "退货退款", "amount": "300"},
        "odr_decline": {"by": account, "reason": "双方对退款金额分歧较大"},
        "odr_return": {"by": TIMER},
        "transfer": {"by": officer, "reason": "经营地在西丰县", "to_unit": xifeng_bureau},
        "dispute": {"by": officer, "reason": "两地均认为不属本局管辖", "with_unit": xifeng_bureau},
        "designate": {
            "by": personas["coordinator"],
            "reason": "指定西丰县局管辖",
            "to_unit": xifeng_bureau,
        },
        "accept": {"by": officer},
        "refuse": {
            "by": officer,
            "reason": "同一争议已由法院受理",
            "ground": "2",
            "routes": ["litigation"],
        },
        "mediate": {"by": officer, "mode": Case.MediationMode.ONSITE},
        "change_mediator": {
            "by": officer,
            "reason": "调解人员与投诉人系亲属",
            "mediator": second.pk,
            "recusal_reason": "调解人员与投诉人系亲属",
        },
        "suspend": {"by": officer, "kind": Suspension.Reason.TESTING},
        "resume": {"by": officer},
        "agree": {
            "by": officer,
            "agreement_kind": Case.AgreementKind.RECORD,
            "amount_recovered": "800",
        },
        "terminate": {"by": officer, "reason": "被投诉人表示无法达成协议", "ground": "3"},
        "withdraw": {"by": officer},
        "notify": {"by": officer, "channel": "sms"},
    }[step]


# The table as issue 9 and the two Orders mean it: {step: the states it starts from}.
OPEN_MEDIATION = {S.ACCEPTED, S.MEDIATING, S.SUSPENDED}
EXPECTED = {
    "odr_settle": {S.ODR},
    "odr_decline": {S.ODR},
    "odr_return": {S.ODR},
    "transfer": {S.RECEIVED},
    "dispute": {S.RECEIVED},
    "designate": {S.DISPUTED},
    "accept": {S.RECEIVED},
    "refuse": {S.RECEIVED},
    "mediate": {S.ACCEPTED},
    "change_mediator": {S.MEDIATING},
    "suspend": {S.MEDIATING},
    "resume": {S.SUSPENDED},
    "agree": {S.MEDIATING},
    "terminate": OPEN_MEDIATION,
    "withdraw": {S.ODR, S.RECEIVED, *OPEN_MEDIATION},
    "notify": {S.NOTIFYING},
}
PAIRS = [(state, step) for state in S.values for step in EXPECTED]


def test_the_declared_workflow_is_the_table_we_mean():
    assert {step.name: set(step.sources) for step in COMPLAINT.steps} == EXPECTED
    assert len(PAIRS) == 9 * 16


@pytest.mark.parametrize(("state", "step"), PAIRS)
def test_each_step_succeeds_from_its_states_and_changes_nothing_from_the_others(
    state, step, personas, calendar, second_officer
):
    with at(TODAY):
        case, account = case_in(state, personas)
        call = step_call(step, personas, account, second_officer)
        declared = COMPLAINT.step(step)
        before = snapshot(case)
        if state in EXPECTED[step]:
            transition = take(COMPLAINT, step, case.pk, **call)
            case.refresh_from_db()
            assert case.status == declared.target
            assert transition.from_state == state and transition.step == step
            assert AuditEvent.objects.filter(action=f"complaints.case.{step}").exists()
        else:
            with pytest.raises(StepNotAllowed):
                take(COMPLAINT, step, case.pk, **call)
            assert snapshot(case) == before


@pytest.mark.parametrize("step", [s.name for s in COMPLAINT.steps if not s.name.startswith("odr")])
def test_no_officer_step_is_open_to_the_enterprise_another_county_or_an_inspector(
    step, personas, calendar, second_officer
):
    with at(TODAY):
        case, account = case_in(next(iter(COMPLAINT.step(step).sources)), personas)
        params = step_call(step, personas, account, second_officer)
        params.pop("by")
        before = snapshot(case)
        with pytest.raises(Forbidden):
            take(COMPLAINT, step, case.pk, by=account, **params)
        with pytest.raises(NotFound):
            take(COMPLAINT, step, case.pk, by=personas["xifeng"], **params)
        with pytest.raises((Forbidden, NotFound)):
            take(COMPLAINT, step, case.pk, by=personas["inspector"], **params)
        assert snapshot(case) == before


def test_a_report_or_a_lead_takes_no_complaint_step(personas, calendar):
    for kind in (Case.Kind.REPORT, Case.Kind.LEAD):
        case = make_case(kind=kind, status=S.RECEIVED)
        with pytest.raises(Forbidden):
            take(COMPLAINT, "accept", case.pk, by=personas["kaiyuan"])


# --- acceptance and the change of rules -----------------------------------------------------


@pytest.mark.parametrize(
    ("received_on", "rule", "due"),
    [
        # Order 20: 45 working days after 2026-04-16; 端午 (6月19日) is skipped.
        (dt.date(2026, 4, 14), "complaint.mediation@order20", dt.date(2026, 6, 23)),
        # Order 121: 60 days after 2026-04-16 is Monday 2026-06-15.
        (dt.date(2026, 4, 15), "complaint.mediation@order121", dt.date(2026, 6, 15)),
    ],
)
def test_the_mediation_clock_follows_the_rules_of_the_received_date(
    received_on, rule, due, personas, calendar
):
    case = make_case(received_on=received_on)
    with at(dt.date(2026, 4, 16)):
        transition = take(COMPLAINT, "accept", case.pk, by=personas["kaiyuan"])
    case.refresh_from_db()
    assert case.status == S.ACCEPTED and case.accepted_on == dt.date(2026, 4, 16)
    assert (case.due_on, case.due_rule) == (due, rule)
    assert case.due_calendar_version and transition.deadline_rule == rule
    assert transition.details["accepted_on"] == "2026-04-16"


def test_the_mediation_period_of_the_regulation_is_a_setting_for_2024_to_2026(
    personas, calendar, settings
):
    settings.COMPLAINT_MEDIATION_FROM_2024 = "regulation"
    case = make_case(received_on=dt.date(2026, 4, 14))
    with at(dt.date(2026, 4, 16)):
        take(COMPLAINT, "accept", case.pk, by=personas["kaiyuan"])
    case.refresh_from_db()
    assert (case.due_on, case.due_rule) == (dt.date(2026, 6, 15), "complaint.mediation@regulation")


def test_acceptance_records_whether_it_was_on_time(personas, calendar):
    # 7 working days from 2026-06-01 end on 2026-06-10.
    late = make_case(received_on=dt.date(2026, 6, 1), due_on=dt.date(2026, 6, 10))
    on_time = make_case(received_on=dt.date(2026, 6, 1), due_on=dt.date(2026, 6, 10))
    with at(dt.date(2026, 6, 10)):
        first = take(COMPLAINT, "accept", on_time.pk, by=personas["kaiyuan"])
    with at(dt.date(2026, 6, 11)):
        second = take(COMPLAINT, "accept", late.pk, by=personas["kaiyuan"])
    assert first.details["on_time"] is True and second.details["on_time"] is False


# --- refusal grounds ------------------------------------------------------------------------

ORDER20_DAY, ORDER121_DAY = dt.date(2026, 4, 14), dt.date(2026, 4, 15)


def grounds_of(name: str) -> list[tuple[dt.date, str, str, str]]:
    cases = []
    for day in (ORDER20_DAY, ORDER121_DAY):
        listed = rulebook.grounds(name, day)
        cases += [(day, listed.version, code, text) for code, text in listed.items]
    return cases


def test_both_versions_of_both_lists_are_covered():
    assert len(grounds_of("complaint.refusal")) == 6 + 7
    assert len(grounds_of("complaint.termination")) == 7 + 8


@pytest.mark.parametrize(
    ("received_on", "version", "code", "text"), grounds_of("complaint.refusal")
)
def test_every_refusal_ground_of_both_orders_is_reachable(
    received_on, version, code, text, personas, calendar, django_capture_on_commit_callbacks
):
    case = make_case(received_on=received_on)
    with at(dt.date(2026, 4, 20)), django_capture_on_commit_callbacks(execute=True):
        transition = take(
            COMPLAINT,
            "refuse",
            case.pk,
            by=personas["kaiyuan"],
            reason="经核实不符合受理条件",
            ground=code,
            routes=["association", "litigation"],
        )
    case.refresh_from_db()
    assert (case.status, case.outcome, case.outcome_ground) == (S.CLOSED, "refused", code)
    assert case.closed_at is not None and case.due_on is None
    # What the notice to the complainant is written from.
    details = transition.details
    assert (details["ground"], details["ground_text"], details["rules"]) == (code, text, version)
    assert details["article"] == ("第十五条" if version == "order20" else "第十六条")
    assert details["routes_text"] == [
        "请求消费者协会或者依法成立的其他调解组织调解",
        "向人民法院提起诉讼",
    ]
    assert transition.reason == "经核实不符合受理条件"
    # And its notice, to the complainant only, in the ground's own wording.
    notice = CaseNotice.objects.get(case=case)
    assert (notice.recipient, notice.title) == (CaseNotice.Recipient.PERSON, "不予受理告知书")
    assert f"“{text}”" in notice.body and details["article"] in notice.body


def test_a_refusal_ground_of_the_other_order_is_refused(personas, calendar):
    # Ground (7) exists only in Order 121 Art.16; Order 20 Art.15 has six.
    old = make_case(received_on=ORDER20_DAY)
    before = snapshot(old)
    with at(dt.date(2026, 4, 20)), pytest.raises(mediation.GroundNotInRules) as refused:
        take(
            COMPLAINT,
            "refuse",
            old.pk,
            by=personas["kaiyuan"],
            reason="x",
            ground="7",
            routes="litigation",
        )
    assert refused.value.code == "ground_not_in_rules" and "第十五条" in refused.value.message
    assert snapshot(old) == before
    for bad in ("", "0", "8", "七", "1; DROP TABLE"):
        new = make_case(received_on=ORDER121_DAY)
        with at(dt.date(2026, 4, 20)), pytest.raises(mediation.GroundNotInRules):
            take(
                COMPLAINT,
                "refuse",
                new.pk,
                by=personas["kaiyuan"],
                reason="x",
                ground=bad,
                routes="litigation",
            )


def test_a_refusal_under_order_121_names_the_other_routes(personas, calendar):
    case = make_case(received_on=ORDER121_DAY)
    every = make_case(received_on=ORDER121_DAY)
    with at(dt.date(2026, 4, 20)):
        # Unless the officer narrows them, all five routes of 消保法 Art.39.
        named = take(COMPLAINT, "refuse", every.pk, by=personas["kaiyuan"], reason="x", ground="1")
        assert named.details["routes"] == [
            "negotiate",
            "association",
            "complaint",
            "arbitration",
            "litigation",
        ]
        assert len(named.details["routes_text"]) == 5
        before = snapshot(case)
        with pytest.raises(Invalid, match="未知的争议解决途径"):
            take(
                COMPLAINT,
                "refuse",
                case.pk,
                by=personas["kaiyuan"],
                reason="x",
                ground="1",
                routes="petition",
            )
        assert snapshot(case) == before
        # From a form: a comma-separated list, kept in the order of 消保法 Art.39.
        transition = take(
            COMPLAINT,
            "refuse",
            case.pk,
            by=personas["kaiyuan"],
            reason="x",
            ground="1",
            routes="litigation,negotiate,litigation",
        )
    assert transition.details["routes"] == ["negotiate", "litigation"]
    assert "第三十九条" in transition.details["routes_basis"]


def test_an_order_20_refusal_names_the_routes_only_from_the_2024_regulation_on(personas, calendar):
    case = make_case(received_on=dt.date(2024, 6, 24))
    with at(dt.date(2024, 6, 28)):
        transition = take(
            COMPLAINT, "refuse", case.pk, by=personas["kaiyuan"], reason="x", ground="6"
        )
    assert transition.details["routes"] == [] and transition.details["rules"] == "order20"
    # From 2024-07-01 the regulation's Art.46(2) asks for them under Order 20 too.
    later = make_case(received_on=dt.date(2024, 6, 24))
    with at(dt.date(2024, 7, 1)):
        named = take(COMPLAINT, "refuse", later.pk, by=personas["kaiyuan"], reason="x", ground="6")
    assert len(named.details["routes"]) == 5
    assert named.details["routes_basis"] == "《消费者权益保护法实施条例》第四十六条第二款"


# --- termination grounds --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received_on", "version", "code", "text"), grounds_of("complaint.termination")
)
def test_every_termination_ground_of_both_orders_is_reachable(
    received_on, version, code, text, personas, calendar, django_capture_on_commit_callbacks
):
    # Past both periods (2026-06-23 and 2026-06-15), so ground (5) may be used too.
    entity = make_entity()
    enterprise_user(entity)
    case = make_case(
        entity=entity,
        received_on=received_on,
        status=S.MEDIATING,
        accepted_on=dt.date(2026, 4, 16),
        mediator=personas["kaiyuan"],
        mediation_mode=Case.MediationMode.REMOTE,
    )
    with at(dt.date(2026, 9, 28)), django_capture_on_commit_callbacks(execute=True):
        transition = take(
            COMPLAINT, "terminate", case.pk, by=personas["kaiyuan"], reason="终止", ground=code
        )
    case.refresh_from_db()
    assert (case.status, case.outcome, case.outcome_ground) == (S.NOTIFYING, "terminated", code)
    assert (transition.details["ground_text"], transition.details["rules"]) == (text, version)
    # 7 working days from Monday 2026-09-28: 9.29, 9.30, 10.8, 10.9, 10.10 (worked), 10.12, 10.13.
    assert case.due_on == dt.date(2026, 10, 13)
    assert case.due_rule == f"complaint.termination_notice@{version}"
    # Both parties are told, in the ground's own wording.
    notices = CaseNotice.objects.filter(case=case)
    assert {n.recipient for n in notices} == {
        CaseNotice.Recipient.PERSON,
        CaseNotice.Recipient.RESPONDENT,
    }
    assert all(n.title == "终止调解告知书" and f"“{text}”" in n.body for n in notices)


def test_a_termination_ground_of_the_other_order_is_refused(personas, calendar):
    case = make_case(received_on=ORDER20_DAY, status=S.MEDIATING, accepted_on=dt.date(2026, 4, 16))
    before = snapshot(case)
    with (
        at(dt.date(2026, 5, 6)),
        pytest.raises(mediation.GroundNotInRules, match="第二十一条第一款"),
    ):
        take(COMPLAINT, "terminate", case.pk, by=personas["kaiyuan"], reason="x", ground="8")
    assert snapshot(case) == before


@pytest.mark.parametrize(
    ("received_on", "last_day"),
    [(ORDER20_DAY, dt.date(2026, 6, 23)), (ORDER121_DAY, dt.date(2026, 6, 15))],
)
def test_the_period_ground_waits_for_the_period_to_end(received_on, last_day, personas, calendar):
    case = make_case(received_on=received_on, status=S.ACCEPTED, accepted_on=dt.date(2026, 4, 16))
    before = snapshot(case)
    with at(last_day), pytest.raises(mediation.PeriodNotEnded, match=last_day.isoformat()):
        take(COMPLAINT, "terminate", case.pk, by=personas["kaiyuan"], reason="期满", ground="5")
    assert snapshot(case) == before
    with at(last_day + dt.timedelta(days=1)):
        take(COMPLAINT, "terminate", case.pk, by=personas["kaiyuan"], reason="期满", ground="5")
    case.refresh_from_db()
    assert case.status == S.NOTIFYING


# --- suspension: the clock stops, in the rule's own unit ------------------------------------


def test_an_order_20_suspension_across_labour_day_adds_working_days(personas, calendar):
    case = make_case(
        received_on=dt.date(2026, 4, 10),
        status=S.MEDIATING,
        accepted_on=dt.date(2026, 4, 13),
        mediator=personas["kaiyuan"],
    )
    with at(dt.date(2026, 4, 30)):
        take(COMPLAINT, "suspend", case.pk, by=personas["kaiyuan"], kind="testing", note="送检")
    case.refresh_from_db()
    assert case.status == S.SUSPENDED and case.due_on is None  # no clock while suspended
    with at(dt.date(2026, 5, 8)):
        transition = take(COMPLAINT, "resume", case.pk, by=personas["kaiyuan"])
    case.refresh_from_db()
    # Off the clock: 5.1–5.5 are the holiday, so 5.6, 5.7 and 5.8 are the working days lost.
    suspension = case.suspensions.get()
    assert (suspension.started_on, suspension.ended_on, suspension.days) == (
        dt.date(2026, 4, 30),
        dt.date(2026, 5, 8),
        3,
    )
    assert case.suspended_days == 3 and transition.details["days"] == 3
    # 45 working days after 2026-04-13 end on 6.17; three more: 6.18, (6.19 端午), 6.22, 6.23.
    assert (case.status, case.due_on) == (S.MEDIATING, dt.date(2026, 6, 23))
    assert case.due_rule == "complaint.mediation@order20"


def test_an_order_121_suspension_across_national_day_adds_calendar_days(personas, calendar):
    case = make_case(
        received_on=dt.date(2026, 9, 1),
        status=S.MEDIATING,
        accepted_on=dt.date(2026, 9, 2),
        mediator=personas["kaiyuan"],
    )
    with at(dt.date(2026, 10, 9)):
        take(
            COMPLAINT,
            "suspend",
            case.pk,
            by=personas["kaiyuan"],
            kind="testing",
            started_on="2026-09-30",
        )
        take(COMPLAINT, "resume", case.pk, by=personas["kaiyuan"], ended_on="2026-10-08")
    case.refresh_from_db()
    # 9.30 → 10.8 is 8 days, holiday or not; 60 days after 9.2 is Sunday 11.1 (→ 11.2), 68 is 11.9.
    assert case.suspended_days == 8
    assert (case.due_on, case.due_rule) == (dt.date(2026, 11, 9), "complaint.mediation@order121")


def test_two_suspensions_add_up_and_bad_dates_are_refused(personas, calendar):
    case = make_case(
        received_on=dt.date(2026, 6, 1),
        status=S.MEDIATING,
        accepted_on=dt.date(2026, 6, 3),
        mediator=personas["kaiyuan"],
    )
    officer = personas["kaiyuan"]
    with at(dt.date(2026, 7, 20)):
        before = snapshot(case)
        for bad, message in [
            ({"kind": "holiday"}, "中止原因"),
            ({"kind": "testing", "started_on": "2026-06-02"}, "受理日期"),
            ({"kind": "testing", "started_on": "2026-07-21"}, "不能晚于今天"),
            ({"kind": "testing", "started_on": "七月一日"}, "不是有效日期"),
            ({"kind": "recusal"}, "回避事由"),
        ]:
            with pytest.raises(Invalid, match=message):
                take(COMPLAINT, "suspend", case.pk, by=officer, **bad)
        assert snapshot(case) == before
        take(COMPLAINT, "suspend", case.pk, by=officer, kind="testing", started_on="2026-07-01")
        with pytest.raises(Invalid, match="早于开始日期"):
            take(COMPLAINT, "resume", case.pk, by=officer, ended_on="2026-06-30")
        take(COMPLAINT, "resume", case.pk, by=officer, ended_on="2026-07-06")
        with pytest.raises(Invalid, match="上一次中止"):
            take(COMPLAINT, "suspend", case.pk, by=officer, kind="testing", started_on="2026-07-05")
        take(COMPLAINT, "suspend", case.pk, by=officer, kind="testing", started_on="2026-07-10")
        take(COMPLAINT, "resume", case.pk, by=officer)
    case.refresh_from_db()
    assert [s.days for s in case.suspensions.all()] == [5, 10]
    assert case.suspended_days == 15
    # 60 + 15 days after 2026-06-03: 2026-08-17, a Monday.
    assert case.due_on == dt.date(2026, 8, 17)


def test_ending_a_suspended_mediation_closes_the_suspension(personas, calendar):
    case = make_case(
        status=S.SUSPENDED, accepted_on=dt.date(2026, 6, 3), mediator=personas["kaiyuan"]
    )
    Suspension.objects.create(case=case, reason="testing", started_on=dt.date(2026, 6, 10))
    with at(dt.date(2026, 6, 15)):
        take(COMPLAINT, "terminate", case.pk, by=personas["kaiyuan"], reason="费用", ground="4")
    case.refresh_from_db()
    assert case.suspensions.get().ended_on == dt.date(2026, 6, 15)
    assert case.suspended_days == 5


# --- mediation: mode, mediator, recusal -----------------------------------------------------


def conflict(user: User, entity, *, withdrawn: bool = False) -> Conflict:
    inspector, _created = Inspector.objects.get_or_create(
        user=user,
        defaults={
            "name": user.full_name,
            "certificate_no": f"21120{user.pk:05d}",
            "org_unit": user.unit,
        },
    )
    return Conflict.objects.create(
        inspector=inspector,
        entity=entity,
        reason="近亲属在该企业任职",
        declared_at=timezone.now(),
        declared_by=user,
        withdrawn_at=timezone.now() if withdrawn else None,
    )


def test_mediation_starts_with_the_actor_as_mediator_by_default(personas, calendar):
    case = make_case(status=S.ACCEPTED, accepted_on=dt.date(2026, 6, 3))
    with at(dt.date(2026, 6, 5)):
        transition = take(COMPLAINT, "mediate", case.pk, by=personas["kaiyuan"], mode="remote")
    case.refresh_from_db()
    assert (case.status, case.mediation_mode, case.mediator) == (
        S.MEDIATING,
        "remote",
        personas["kaiyuan"],
    )
    assert case.due_on == dt.date(2026, 8, 3) and case.entrusted_to == ""
    assert transition.details == {"mode": "remote", "mediator": personas["kaiyuan"].pk}


def test_a_mediator_from_a_station_of_the_bureau_may_mediate_but_not_one_of_another_county(
    personas, calendar
):
    case = make_case(status=S.ACCEPTED, accepted_on=dt.date(2026, 6, 3))
    before = snapshot(case)
    with at(dt.date(2026, 6, 5)):
        for other in (
            personas["xifeng"],
            personas["nongye"],
            personas["sysadmin"],
            "99999",
            "99999999999999999999",
            "１２",
            "张三",
        ):
            with pytest.raises(Invalid):
                take(
                    COMPLAINT,
                    "mediate",
                    case.pk,
                    by=personas["kaiyuan"],
                    mediator=getattr(other, "pk", other),
                )
        assert snapshot(case) == before
        # 开原市城区市场监督管理所 is under the county bureau.
        take(
            COMPLAINT, "mediate", case.pk, by=personas["kaiyuan"], mediator=personas["inspector"].pk
        )
    case.refresh_from_db()
    assert case.mediator == personas["inspector"]


def test_a_mediator_with_a_declared_conflict_must_recuse(personas, calendar):
    entity = make_entity()
    case = make_case(status=S.ACCEPTED, accepted_on=dt.date(2026, 6, 3), entity=entity)
    conflict(personas["inspector"], entity)
    conflict(personas["kaiyuan"], make_entity())  # another entity: no bar here
    before = snapshot(case)
    with at(dt.date(2026, 6, 5)):
        with pytest.raises(mediation.MediatorConflict) as refused:
            take(
                COMPLAINT,
                "mediate",
                case.pk,
                by=personas["kaiyuan"],
                mediator=personas["inspector"].pk,
            )
        assert refused.value.code == "mediator_conflict"
        assert "近亲属在该企业任职" in refused.value.message
        assert snapshot(case) == before
        take(COMPLAINT, "mediate", case.pk, by=personas["kaiyuan"])
    case.refresh_from_db()
    assert case.mediator == personas["kaiyuan"]


def test_a_withdrawn_conflict_no_longer_bars_the_mediator(personas, calendar):
    entity = make_entity()
    case = make_case(status=S.ACCEPTED, accepted_on=dt.date(2026, 6, 3), entity=entity)
    conflict(personas["inspector"], entity, withdrawn=True)
    with at(dt.date(2026, 6, 5)):
        take(
            COMPLAINT, "mediate", case.pk, by=personas["kaiyuan"], mediator=personas["inspector"].pk
        )


def test_a_self_declared_recusal_changes_the_mediator_and_bars_them_from_the_case(
    personas, calendar, second_officer
):
    case = make_case(
        status=S.MEDIATING, accepted_on=dt.date(2026, 6, 3), mediator=personas["kaiyuan"]
    )
    officer = personas["kaiyuan"]
    with at(dt.date(2026, 6, 10)):
        with pytest.raises(Invalid, match="回避事由不能超过300个字"):
            take(
                COMPLAINT,
                "change_mediator",
                case.pk,
                by=officer,
                reason="回避",
                mediator=second_officer.pk,
                recusal_reason="亲" * 301,
            )
        with pytest.raises(Invalid, match="另一名"):
            take(
                COMPLAINT,
                "change_mediator",
                case.pk,
                by=officer,
                reason="回避",
                mediator=officer.pk,
                recusal_reason="亲属",
            )
        take(
            COMPLAINT,
            "change_mediator",
            case.pk,
            by=officer,
            reason="本人申请回避",
            mediator=second_officer.pk,
            recusal_reason="与投诉人系同学",
        )
        recusal = case.recusals.get()
        assert (recusal.mediator, recusal.granted, recusal.applied_by_party) == (
            officer,
            True,
            False,
        )
        assert recusal.reason == "与投诉人系同学" and recusal.decided_by == officer
        with pytest.raises(mediation.MediatorConflict, match="已在本件中回避"):
            take(
                COMPLAINT,
                "change_mediator",
                case.pk,
                by=second_officer,
                reason="换回",
                mediator=officer.pk,
                recusal_reason="工作调整",
            )
    case.refresh_from_db()
    assert case.mediator == second_officer and case.status == S.MEDIATING
    assert case.due_on == dt.date(2026, 8, 3)  # the clock is not reset by a new mediator


@pytest.mark.parametrize("granted", [True, False])
def test_a_partys_recusal_application_suspends_mediation_until_it_is_decided(
    granted, personas, calendar, second_officer
):
    case = make_case(
        status=S.MEDIATING, accepted_on=dt.date(2026, 6, 3), mediator=personas["kaiyuan"]
    )
    officer = personas["kaiyuan"]
    with at(dt.date(2026, 6, 10)):
        take(
            COMPLAINT,
            "suspend",
            case.pk,
            by=officer,
            kind="recusal",
            # The step's reason is the 回避事由 when none is given on its own.
            reason="被投诉人称调解人员与投诉人相识",
        )
    pending = case.recusals.get()
    assert pending.granted is None and pending.applied_by_party and pending.mediator == officer
    assert pending.reason == "被投诉人称调解人员与投诉人相识"
    with at(dt.date(2026, 6, 12)):
        before = snapshot(case)
        with pytest.raises(Invalid, match="是否准予回避"):
            take(COMPLAINT, "resume", case.pk, by=officer)
        if granted:
            with pytest.raises(Invalid, match="另一名调解人员"):
                take(COMPLAINT, "resume", case.pk, by=officer, granted="1", mediator=officer.pk)
        assert snapshot(case) == before
        params = {"mediator": second_officer.pk} if granted else {}
        transition = take(COMPLAINT, "resume", case.pk, by=officer, granted=granted, **params)
    case.refresh_from_db()
    pending.refresh_from_db()
    assert (pending.granted, pending.decided_by) == (granted, officer)
    assert case.mediator == (second_officer if granted else officer)
    assert transition.details["recusal_granted"] is granted
    # 2 days off the clock: 60 + 2 days after 2026-06-03 is 2026-08-04.
    assert (case.suspended_days, case.due_on) == (2, dt.date(2026, 8, 4))


def test_entrusted_mediation_needs_the_association_and_both_parties_consent(personas, calendar):
    case = make_case(status=S.ACCEPTED, accepted_on=dt.date(2026, 6, 3))
    officer = personas["kaiyuan"]
    before = snapshot(case)
    with at(dt.date(2026, 6, 5)):
        for params, message in [
            ({"complainant_consents": True, "respondent_consents": True}, "受托调解组织"),
            ({"entrusted_to": "开原市消费者协会", "complainant_consents": True}, "双方同意"),
            ({"entrusted_to": "开原市消费者协会", "respondent_consents": "1"}, "双方同意"),
            (
                {"entrusted_to": "协" * 201, "complainant_consents": 1, "respondent_consents": 1},
                "200",
            ),
        ]:
            with pytest.raises(Invalid, match=message):
                take(COMPLAINT, "mediate", case.pk, by=officer, mode="entrusted", **params)
        with pytest.raises(Invalid, match="调解方式无效"):
            take(COMPLAINT, "mediate", case.pk, by=officer, mode="telepathy")
        assert snapshot(case) == before
        transition = take(
            COMPLAINT,
            "mediate",
            case.pk,
            by=officer,
            mode="entrusted",
            entrusted_to="开原市消费者协会",
            complainant_consents="on",
            respondent_consents="on",
            consented_on="2026-06-04",
        )
    case.refresh_from_db()
    assert (case.mediation_mode, case.entrusted_to, case.entrustment_consented_on) == (
        "entrusted",
        "开原市消费者协会",
        dt.date(2026, 6, 4),
    )
    assert transition.details["entrusted_to"] == "开原市消费者协会"


# --- outcomes -------------------------------------------------------------------------------


def pdf_upload(name: str = "调解书.pdf") -> SimpleUploadedFile:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return SimpleUploadedFile(name, out.getvalue(), content_type="application/pdf")


@pytest.fixture
def store(settings, tmp_path):
    root = tmp_path / "attachments"
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    return root


def test_an_agreement_closes_the_case_with_its_form_amount_and_document(personas, calendar, store):
    case = make_case(
        status=S.MEDIATING, accepted_on=dt.date(2026, 6, 3), mediator=personas["kaiyuan"]
    )
    officer = personas["kaiyuan"]
    with at(dt.date(2026, 6, 20)):
        before = snapshot(case)
        for params, message in [
            ({"agreement_kind": "oral"}, "调解协议形式"),
            ({"agreement_kind": "document", "amount_recovered": "-1"}, "0至"),
            ({"agreement_kind": "document", "amount_recovered": "一千"}, "金额"),
            ({"agreement_kind": "document", "amount_recovered": "1.005"}, "两位小数"),
            ({"agreement_kind": "document", "amount_recovered": "NaN"}, "0至"),
            ({"agreement_kind": "document", "amount_recovered": "1e12"}, "0至"),
            ({"agreement_kind": "record", "document": pdf_upload()}, "只有调解书"),
            ({"agreement_kind": "document", "document": pdf_upload("调解书.exe")}, "文件"),
        ]:
            with pytest.raises(Invalid, match=message):
                take(COMPLAINT, "agree", case.pk, by=officer, **params)
        assert snapshot(case) == before and not list(store.rglob("*.*"))
        transition = take(
            COMPLAINT,
            "agree",
            case.pk,
            by=officer,
            agreement_kind="document",
            amount_recovered="1,200.5",
            note="被投诉人退还货款并赔偿",
            document=pdf_upload(),
        )
    case.refresh_from_db()
    assert (case.status, case.outcome, case.agreement_kind) == (S.CLOSED, "agreement", "document")
    assert case.amount_recovered == Decimal("1200.50") and case.closed_at is not None
    assert case.outcome_note == "被投诉人退还货款并赔偿" and case.due_on is None
    attachment = attachments_of(case).get()
    assert (
        attachment.original_name == "调解书.pdf"
        and transition.details["attachment"] == attachment.pk
    )
    assert transition.details["amount_recovered"] == "1200.50"


def test_a_withdrawal_closes_the_case_from_every_open_state(personas, calendar):
    case = make_case(
        status=S.SUSPENDED, accepted_on=dt.date(2026, 6, 3), mediator=personas["kaiyuan"]
    )
    Suspension.objects.create(case=case, reason="testing", started_on=dt.date(2026, 6, 10))
    with at(dt.date(2026, 6, 12)):
        take(COMPLAINT, "withdraw", case.pk, by=personas["kaiyuan"])
    case.refresh_from_db()
    assert (case.status, case.outcome) == (S.CLOSED, "withdrawn")
    assert case.suspensions.get().days == 2 and case.closed_at is not None


# --- violation leads found during mediation -------------------------------------------------


def test_a_lead_found_in_mediation_becomes_a_linked_case_checked_by_the_same_bureau(
    personas, calendar
):
    entity = make_entity()
    account = enterprise_user(entity)
    case = make_case(
        status=S.MEDIATING,
        accepted_on=dt.date(2026, 9, 2),
        mediator=personas["kaiyuan"],
        entity=entity,
        id_number="110101199003074514",
    )
    with at(dt.date(2026, 9, 28)):
        lead = services.record_lead(case.pk, by=personas["kaiyuan"], facts="现场发现销售过期食品")
    lead.refresh_from_db()
    assert (lead.kind, lead.status, lead.linked_case, lead.owner_unit) == (
        Case.Kind.LEAD,
        S.VERIFYING,
        case,
        case.owner_unit,
    )
    assert lead.received_on == dt.date(2026, 9, 28) and lead.rules == "order121"
    # 15 working days from 9.28: 9.29, 9.30, 10.8, 10.9, 10.10, 10.12–10.16, 10.19–10.23.
    assert (lead.due_on, lead.due_rule) == (dt.date(2026, 10, 23), "complaint.lead_check@order121")
    assert lead.respondent_entity == entity and lead.facts == "现场发现销售过期食品"
    # The complainant's identity does not travel with the lead.
    assert lead.person_name == "" and lead.person_phone == "" and lead.person_id_number == ""
    assert lead.number.startswith("XS20260928")
    event = AuditEvent.objects.get(action="complaints.case.lead_recorded")
    assert event.details["from_case"] == case.number
    # The enterprise never sees a lead; the other county neither.
    assert not scoped(account, Case.objects.filter(pk=lead.pk)).exists()
    assert not scoped(personas["xifeng"], Case.objects.filter(pk=lead.pk)).exists()
    assert scoped(personas["kaiyuan"], Case.objects.filter(pk=lead.pk)).exists()
    # The lead is checked in the report workflow.
    with at(dt.date(2026, 10, 9)):
        take(services.REPORT, "file", lead.pk, by=personas["kaiyuan"])


def test_a_lead_is_refused_outside_mediation_scope_or_without_facts(personas, calendar):
    entity = make_entity()
    account = enterprise_user(entity)
    mediating = make_case(status=S.MEDIATING, accepted_on=dt.date(2026, 6, 3), entity=entity)
    received = make_case(status=S.RECEIVED)
    report = make_case(kind=Case.Kind.REPORT)
    count = Case.objects.count()
    with at(dt.date(2026, 6, 10)):
        with pytest.raises(NotFound):
            services.record_lead(mediating.pk, by=personas["xifeng"], facts="线索")
        with pytest.raises(NotFound):
            services.record_lead("abc", by=personas["kaiyuan"], facts="线索")
        with pytest.raises((Forbidden, NotFound)):
            services.record_lead(mediating.pk, by=personas["inspector"], facts="线索")
        # The enterprise may read its complaint but records nothing on it.
        with pytest.raises(Forbidden):
            services.record_lead(mediating.pk, by=account, facts="线索")
        for source in (received, report):
            with pytest.raises(Invalid, match="调解结束前"):
                services.record_lead(source.pk, by=personas["kaiyuan"], facts="线索")
        with pytest.raises(Invalid, match="违法线索的事实"):
            services.record_lead(mediating.pk, by=personas["kaiyuan"], facts="   ")
        with pytest.raises(Invalid, match="5000"):
            services.record_lead(mediating.pk, by=personas["kaiyuan"], facts="多" * 5001)
    assert Case.objects.count() == count
    assert not AuditEvent.objects.filter(action="complaints.case.lead_recorded").exists()


def test_an_administrator_of_the_owner_unit_is_no_mediator(personas, calendar):
    # A case the city bureau handles itself (routing could not name a county).
    case = make_case(status=S.ACCEPTED, accepted_on=dt.date(2026, 6, 3), bureau="市市场监管局")
    with at(dt.date(2026, 6, 5)):
        with pytest.raises(Invalid, match="在岗人员"):
            take(
                COMPLAINT,
                "mediate",
                case.pk,
                by=personas["coordinator"],
                mediator=personas["sysadmin"].pk,
            )
        take(COMPLAINT, "mediate", case.pk, by=personas["coordinator"])
    case.refresh_from_db()
    assert case.mediator == personas["coordinator"]


@pytest.mark.parametrize(
    ("found_on", "rule", "due"),
    [
        # Order 20 Art.23: 4.15–4.17, 4.20–4.24, 4.27–4.30, (劳动节) 5.6, 5.7, 5.8.
        (dt.date(2026, 4, 14), "complaint.lead_check@order20", dt.date(2026, 5, 8)),
        # Order 121 Art.27 from the day it took effect: the fifteenth is Saturday 5.9 (worked).
        (dt.date(2026, 4, 15), "complaint.lead_check@order121", dt.date(2026, 5, 9)),
    ],
)
def test_a_leads_clock_follows_the_rules_of_the_day_it_was_found(
    found_on, rule, due, personas, calendar
):
    # The complaint itself was received under Order 20.
    case = make_case(
        received_on=dt.date(2026, 4, 1), status=S.MEDIATING, accepted_on=dt.date(2026, 4, 2)
    )
    with at(found_on):
        lead = services.record_lead(case.pk, by=personas["kaiyuan"], facts="无照经营")
    assert (lead.due_on, lead.due_rule, lead.rules) == (due, rule, rule.split("@")[1])
