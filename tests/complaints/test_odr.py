"""ODR: enrolment, the enterprise settles or declines, the clock hands back; 先行赔付."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

import pytest
import time_machine

from qcity.complaints import odr, services
from qcity.complaints.models import Case, CaseNotice, OdrEnrolment, Payment
from qcity.core import jobs
from qcity.core.models import AuditEvent, Notice
from qcity.core.scope import scoped
from qcity.core.workflow import Forbidden, Invalid, NotFound, StepNotAllowed, take
from tests.complaints.helpers import XIFENG_BUREAU, enterprise_user, make_case, make_entity
from tests.task_helpers import run_worker

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("calendar")]

BEIJING = dt.timezone(dt.timedelta(hours=8))


def at(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=BEIJING)


@pytest.fixture
def shop(personas):
    """A Kaiyuan shop with an enterprise account, enrolled in ODR since 2026-09-01."""
    entity = make_entity(name="开原市恒信商贸有限公司")
    user = enterprise_user(entity, "hengxin")
    with time_machine.travel(at(dt.date(2026, 9, 1)), tick=False):
        odr.enrol(entity.pk, by=personas["kaiyuan"])
    return entity, user


def odr_case(entity, received_on: dt.date, **fields) -> Case:
    case = make_case(entity=entity, received_on=received_on, **fields)
    assert odr.dispatch(case)
    case.save()
    return case


@pytest.fixture
def timer(monkeypatch, django_capture_on_commit_callbacks):
    def run(moment: dt.datetime) -> jobs.TimerRun:
        with time_machine.travel(moment, tick=False):
            with django_capture_on_commit_callbacks(execute=True):
                result = jobs.run_timers(names=[odr.RETURN_JOB])
                if result.enqueued:
                    run_worker(monkeypatch)
        return result

    return run


def test_an_odr_case_returns_to_the_bureau_after_10_working_days_not_before(shop, timer):
    entity, _user = shop
    # Received Tuesday 2026-09-29, before the National Day holiday (10-01 … 10-07; the
    # Saturday 10-10 is a make-up working day). Ten working days after 09-29:
    # 09-30, 10-08, 10-09, 10-10, 10-12, 10-13, 10-14, 10-15, 10-16, 10-19.
    case = odr_case(entity, dt.date(2026, 9, 29))
    assert (case.status, case.odr) == (Case.Status.ODR, True)
    assert case.due_on == dt.date(2026, 10, 19)
    assert case.due_rule == "odr.settle@local"

    for moment in (at(dt.date(2026, 10, 8)), at(dt.date(2026, 10, 19), 23)):
        assert timer(moment).enqueued == []
        case.refresh_from_db()
        assert case.status == Case.Status.ODR

    # Just after midnight, the ODR period is over: the clock hands the case to the bureau.
    assert len(timer(at(dt.date(2026, 10, 20), 0)).enqueued) == 1
    case.refresh_from_db()
    assert case.status == Case.Status.RECEIVED
    # The bureau's 7 working days run from the day the case reached it (10-20, not counted).
    assert case.due_on == dt.date(2026, 10, 29)
    assert case.due_rule == "complaint.accept@order121"
    event = AuditEvent.objects.get(action="complaints.case.odr_return")
    assert event.actor is None and event.details["by"] == "timer"

    # Idempotent: running again (or in a second process) changes nothing.
    assert timer(at(dt.date(2026, 10, 21))).enqueued == []
    assert AuditEvent.objects.filter(action="complaints.case.odr_return").count() == 1


def test_a_late_timer_does_not_lengthen_the_bureaus_time(shop, timer):
    entity, _user = shop
    case = odr_case(entity, dt.date(2026, 9, 29))
    timer(at(dt.date(2026, 10, 23)))  # the timer was stopped for three days
    case.refresh_from_db()
    assert (case.status, case.due_on) == (Case.Status.RECEIVED, dt.date(2026, 10, 29))


def test_a_settled_case_is_not_returned_and_records_the_odr_payment(
    shop, timer, django_capture_on_commit_callbacks
):
    entity, user = shop
    case = odr_case(entity, dt.date(2026, 9, 29))
    with time_machine.travel(at(dt.date(2026, 10, 9)), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            take(
                services.COMPLAINT,
                "odr_settle",
                case.pk,
                by=user,
                agreed="同意退货退款，商家承担运费",
                amount="299.00",
            )
    case.refresh_from_db()
    assert (case.status, case.outcome) == (Case.Status.CLOSED, Case.Outcome.ODR_SETTLED)
    assert case.amount_recovered == Decimal("299.00")
    [payment] = Payment.objects.filter(case=case)
    assert (payment.kind, payment.amount, payment.paid_on) == (
        Payment.Kind.ODR,
        Decimal("299.00"),
        dt.date(2026, 10, 9),
    )
    told = CaseNotice.objects.get(case=case, kind="odr_settled")
    assert told.recipient == CaseNotice.Recipient.PERSON
    assert "同意退货退款，商家承担运费" in told.body and "299.00元" in told.body
    assert timer(at(dt.date(2026, 10, 21))).enqueued == []


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"agreed": "  "}, "和解内容"),
        ({"agreed": "退款", "amount": "-5"}, "大于零"),
        ({"agreed": "退款", "amount": "12.345"}, "两位小数"),
        ({"agreed": "退款", "amount": "abc"}, "数字"),
        ({"agreed": "退款", "amount": "10", "paid_on": "2026-10-10"}, "不能晚于今天"),
        ({"agreed": "退款", "amount": "10", "paid_on": "10/01/2026"}, "YYYY-MM-DD"),
    ],
)
def test_a_bad_settlement_is_refused_and_changes_nothing(shop, params, message):
    entity, user = shop
    case = odr_case(entity, dt.date(2026, 9, 29))
    with time_machine.travel(at(dt.date(2026, 10, 9)), tick=False):
        with pytest.raises(Invalid, match=message):
            take(services.COMPLAINT, "odr_settle", case.pk, by=user, **params)
    case.refresh_from_db()
    assert case.status == Case.Status.ODR and not Payment.objects.exists()


def test_a_decline_sends_the_case_to_the_bureau_with_the_enterprises_reason(
    shop, personas, django_capture_on_commit_callbacks
):
    entity, user = shop
    case = odr_case(entity, dt.date(2026, 9, 29))
    with time_machine.travel(at(dt.date(2026, 10, 9)), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            take(services.COMPLAINT, "odr_decline", case.pk, by=user, reason="消费者要求三倍赔偿")
    case.refresh_from_db()
    # 7 working days after Friday 10-09: 10-10 (make-up Saturday), 12, 13, 14, 15, 16, 19.
    assert (case.status, case.due_on) == (Case.Status.RECEIVED, dt.date(2026, 10, 19))
    unit = CaseNotice.objects.get(case=case, recipient=CaseNotice.Recipient.UNIT)
    assert "消费者要求三倍赔偿" in unit.body
    assert Notice.objects.filter(recipient=personas["kaiyuan"], object_id=str(case.pk)).exists()
    assert not Notice.objects.filter(recipient=personas["xifeng"]).exists()


def test_only_the_respondents_account_settles_and_another_enterprise_sees_nothing(shop, personas):
    entity, _user = shop
    other = enterprise_user(make_entity(name="开原市另一家商店"), "another")
    case = odr_case(entity, dt.date(2026, 9, 29))
    with time_machine.travel(at(dt.date(2026, 10, 9)), tick=False):
        with pytest.raises(NotFound):
            take(services.COMPLAINT, "odr_settle", case.pk, by=other, agreed="退款")
        with pytest.raises(Forbidden):
            take(services.COMPLAINT, "odr_settle", case.pk, by=personas["kaiyuan"], agreed="退款")
    assert not scoped(other, Case.objects.all()).exists()


def test_the_enterprise_sees_its_complaints_never_a_report_even_a_linked_one(shop):
    entity, user = shop
    complaint = make_case(entity=entity)
    report = make_case(kind=Case.Kind.REPORT, entity=entity, linked_case=complaint)
    Case.objects.filter(pk=complaint.pk).update(linked_case=report)
    lead = make_case(kind=Case.Kind.LEAD, entity=entity)
    assert list(scoped(user, Case.objects.all())) == [complaint]
    for hidden in (report, lead):
        with pytest.raises(NotFound):
            take(services.REPORT, "file", hidden.pk, by=user)


# --- enrolment ------------------------------------------------------------------------------


def test_enrolment_needs_an_enterprise_account_and_is_kept_after_leaving(personas):
    kaiyuan = personas["kaiyuan"]
    bare = make_entity(name="开原市没有账户的商店")
    with time_machine.travel(at(dt.date(2026, 9, 1)), tick=False):
        with pytest.raises(Invalid, match="企业账户"):
            odr.enrol(bare.pk, by=kaiyuan)
        entity = make_entity()
        enterprise_user(entity)
        odr.enrol(entity.pk, by=kaiyuan)
        with pytest.raises(Invalid, match="已入驻"):
            odr.enrol(entity.pk, by=kaiyuan)
    with time_machine.travel(at(dt.date(2026, 10, 12)), tick=False):
        odr.leave(entity.pk, by=kaiyuan, reason="企业申请退出")
        assert not odr.is_enrolled(entity.pk)
        # A complaint received after leaving is handled by the bureau from the start.
        later = make_case(entity=entity, received_on=dt.date(2026, 10, 12))
        assert not odr.dispatch(later) and later.status == Case.Status.RECEIVED
    # A complaint received while enrolled still went to ODR: the row is kept with its dates.
    [row] = OdrEnrolment.objects.filter(entity=entity)
    assert (row.joined_on, row.left_on) == (dt.date(2026, 9, 1), dt.date(2026, 10, 12))
    assert odr.is_enrolled(entity.pk, dt.date(2026, 10, 1))
    actions = AuditEvent.objects.filter(action__startswith="complaints.odr.").values_list(
        "action", flat=True
    )
    assert sorted(actions) == ["complaints.odr.enrolled", "complaints.odr.left"]


def test_only_an_officer_in_scope_enrols(personas):
    entity = make_entity()
    user = enterprise_user(entity)
    with pytest.raises(NotFound):
        odr.enrol(entity.pk, by=personas["xifeng"])
    with pytest.raises(Forbidden):
        odr.enrol(entity.pk, by=user)
    with pytest.raises(Forbidden):
        odr.enrol(entity.pk, by=personas["inspector"])
    assert not OdrEnrolment.objects.exists()


# --- payments -------------------------------------------------------------------------------


def test_the_enterprise_records_a_first_payment_on_its_own_complaint(shop, personas):
    entity, user = shop
    case = make_case(entity=entity, status=Case.Status.MEDIATING)
    with time_machine.travel(at(dt.date(2026, 10, 9)), tick=False):
        payment = services.record_payment(
            case.pk,
            by=user,
            kind=Payment.Kind.ADVANCE,
            amount="150.5",
            paid_on="2026-10-08",
            note="先行赔付退款",
        )
        services.record_payment(case.pk, by=personas["kaiyuan"], kind="agreement", amount="50")
    assert (payment.amount, payment.paid_on, payment.recorded_by) == (
        Decimal("150.50"),
        dt.date(2026, 10, 8),
        user,
    )
    case.refresh_from_db()
    assert case.amount_recovered == Decimal("200.50")
    assert AuditEvent.objects.filter(action="complaints.case.payment").count() == 2


@pytest.mark.parametrize(
    ("kind", "amount", "paid_on", "message"),
    [
        ("advance", "0", "", "大于零"),
        ("advance", "", "", "请填写金额"),
        ("advance", "10", "2026-10-10", "不能晚于今天"),
        ("agreement", "10", "", "类型无效"),  # the enterprise records only 先行赔付
        ("odr", "10", "", "类型无效"),  # ODR's payment comes with the settlement
    ],
)
def test_a_bad_payment_is_refused(shop, kind, amount, paid_on, message):
    entity, user = shop
    case = make_case(entity=entity, status=Case.Status.MEDIATING)
    with time_machine.travel(at(dt.date(2026, 10, 9)), tick=False):
        with pytest.raises(Invalid, match=message):
            services.record_payment(case.pk, by=user, kind=kind, amount=amount, paid_on=paid_on)
    assert not Payment.objects.exists()


def test_payments_stay_within_scope(shop, personas):
    entity, user = shop
    theirs = make_case(bureau=XIFENG_BUREAU, status=Case.Status.MEDIATING)
    report = make_case(kind=Case.Kind.REPORT, entity=entity)
    ours = make_case(entity=entity, status=Case.Status.MEDIATING)
    with pytest.raises(NotFound):
        services.record_payment(theirs.pk, by=user, kind="advance", amount="1")
    with pytest.raises(NotFound):
        services.record_payment(report.pk, by=user, kind="advance", amount="1")
    with pytest.raises(NotFound):
        services.record_payment(ours.pk, by=personas["xifeng"], kind="advance", amount="1")
    with pytest.raises(Invalid, match="投诉件"):
        services.record_payment(report.pk, by=personas["kaiyuan"], kind="advance", amount="1")
    assert not Payment.objects.exists()


# --- notices of ODR -------------------------------------------------------------------------


def test_dispatch_tells_the_enterprise_and_the_complainant_whose_phone_is_never_logged(
    shop, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    from qcity.complaints import casenotices

    entity, user = shop
    case = odr_case(entity, dt.date(2026, 9, 29), phone="13912345678", name="李小龙")
    with caplog.at_level(logging.INFO, logger="qcity.notices"):
        with django_capture_on_commit_callbacks(execute=True):
            casenotices.after_dispatch(case)
        with django_capture_on_commit_callbacks(execute=True):
            run_worker(monkeypatch)
    to_shop = CaseNotice.objects.get(case=case, recipient=CaseNotice.Recipient.RESPONDENT)
    assert "2026年10月19日前" in to_shop.body
    assert "李小龙" not in to_shop.body and "139" not in to_shop.body
    [in_app] = Notice.objects.filter(recipient=user)
    assert in_app.subject == "ODR投诉分送通知"
    [to_person] = casenotices.notices_for_person(case)
    assert to_person.sent_at is not None and to_person.channel == "log"
    assert "139****5678" in caplog.text
    assert "13912345678" not in caplog.text
    # The enterprise reads only what is addressed to it.
    assert list(scoped(user, CaseNotice.objects.all())) == [to_shop]


def test_the_timer_refuses_a_case_that_is_not_in_odr(shop):
    entity, _user = shop
    case = make_case(entity=entity)
    assert odr.return_to_bureau(case.pk) == "skipped"
    with pytest.raises(StepNotAllowed):
        from qcity.core.workflow import TIMER

        take(services.COMPLAINT, "odr_return", case.pk, by=TIMER)


def test_two_runs_of_the_return_task_move_the_case_once(shop):
    entity, _user = shop
    case = odr_case(entity, dt.date(2026, 9, 29))
    with time_machine.travel(at(dt.date(2026, 10, 20)), tick=False):
        assert odr.return_to_bureau(case.pk, "2026-10-19") == "returned"
        assert odr.return_to_bureau(case.pk, "2026-10-19") == "skipped"
    assert AuditEvent.objects.filter(action="complaints.case.odr_return").count() == 1
