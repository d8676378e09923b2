"""Notices kept with a case: each step's notice, in the wording of the case's own rules."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from qcity.complaints import casenotices, services
from qcity.complaints.models import Case, CaseNotice
from qcity.core import rulebook
from qcity.core.models import Notice
from qcity.core.scope import scoped
from qcity.core.workflow import Invalid, take
from tests.complaints.helpers import enterprise_user, make_case, make_entity

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("calendar")]

BEIJING = dt.timezone(dt.timedelta(hours=8))
ORDER20_DAY = dt.date(2026, 4, 14)
ORDER121_DAY = dt.date(2026, 4, 15)
DECIDED = dt.datetime(2026, 4, 20, 10, tzinfo=BEIJING)
P, RESP = CaseNotice.Recipient.PERSON, CaseNotice.Recipient.RESPONDENT


def _grounds(name: str) -> list:
    return [
        pytest.param(day, code, text, id=f"{rulebook.version_on(day)}-{code}")
        for day in (ORDER20_DAY, ORDER121_DAY)
        for code, text in rulebook.grounds(name, day).items
    ]


@pytest.fixture
def step(personas, django_capture_on_commit_callbacks):
    """Take a step as the Kaiyuan officer on 2026-04-20 and run what follows the commit."""

    def run(case: Case, name: str, moment: dt.datetime = DECIDED, **params):
        workflow = services.workflow_for(case)
        with time_machine.travel(moment, tick=False):
            with django_capture_on_commit_callbacks(execute=True):
                take(workflow, name, case.pk, by=personas["kaiyuan"], **params)
        case.refresh_from_db()
        return {n.recipient: n for n in CaseNotice.objects.filter(case=case)}

    return run


@pytest.mark.parametrize(("received_on", "ground", "wording"), _grounds("complaint.refusal"))
def test_each_refusal_ground_produces_its_notice_with_its_wording(
    step, received_on, ground, wording
):
    case = make_case(received_on=received_on)
    notices = step(case, "refuse", ground=ground, reason="经核实，投诉事项已由法院受理")
    assert case.outcome == Case.Outcome.REFUSED
    assert set(notices) == {P}  # the respondent was never asked to answer
    body = notices[P].body
    assert notices[P].title == "不予受理告知书"
    assert f"“{wording}”" in body
    rules = rulebook.grounds("complaint.refusal", received_on)
    numeral = "一二三四五六七"[int(ground) - 1]
    assert f"{rules.article}第（{numeral}）项" in body
    # Decided after 2024-07-01: the reasons and the other routes of 消保法 Art.39, whose
    # duty comes from the regulation (Order 20 cases) or Order 121 Art.15.
    assert "不予受理的理由：经核实，投诉事项已由法院受理" in body
    assert "向人民法院提起诉讼" in body
    if case.rules == rulebook.ORDER121:
        assert "第121号）第十五条" in body and "第二十号" not in body
    else:
        assert "国务院令第778号）第四十六条第二款" in body


def test_a_refusal_decided_before_the_regulation_gives_only_the_ground(step):
    case = make_case(received_on=dt.date(2024, 5, 6))
    moment = dt.datetime(2024, 5, 10, 10, tzinfo=BEIJING)
    notices = step(case, "refuse", moment, ground="4", reason="超过三年")
    assert "超过三年的”" in notices[P].body
    assert "不予受理的理由" not in notices[P].body and "人民法院" not in notices[P].body


@pytest.mark.parametrize(("received_on", "ground", "wording"), _grounds("complaint.termination"))
def test_each_termination_ground_tells_both_parties_with_its_wording(
    step, received_on, ground, wording
):
    entity = make_entity()
    shop = enterprise_user(entity)
    case = make_case(
        received_on=received_on, entity=entity, status=Case.Status.MEDIATING, name="王大锤"
    )
    notices = step(case, "terminate", ground=ground, reason="双方分歧较大")
    assert case.status == Case.Status.NOTIFYING
    # Art.21(2) / Art.23(2): both parties are told within 7 working days of the decision.
    assert case.due_rule == f"complaint.termination_notice@{case.rules}"
    assert set(notices) == {P, RESP}
    article = rulebook.grounds("complaint.termination", received_on).article
    for notice in notices.values():
        assert notice.title == "终止调解告知书"
        assert f"“{wording}”" in notice.body and article in notice.body
        assert "2026年4月20日决定终止调解" in notice.body
    assert "王大锤" not in notices[RESP].body
    assert Notice.objects.get(recipient=shop).subject == "终止调解告知书"

    # The officer records how the decision was served; the case closes.
    with time_machine.travel(dt.datetime(2026, 4, 22, 10, tzinfo=BEIJING), tick=False):
        take(services.COMPLAINT, "notify", case.pk, by=case.status_changed_by, channel="post")
    case.refresh_from_db()
    assert case.status == Case.Status.CLOSED
    served = CaseNotice.objects.get(case=case, recipient=P)
    assert served.channel == "post" and served.sent_at is not None


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"channel": "pigeon"}, "送达方式"),
        ({"channel": "post", "delivered_on": "2026-04-19"}, "作出决定之日"),
        ({"channel": "post", "delivered_on": "2026-05-01"}, "不能晚于今天"),
        ({"channel": "post", "delivered_on": "20260422"}, "YYYY-MM-DD"),
    ],
)
def test_a_delivery_needs_a_channel_and_a_plausible_date(step, personas, params, message):
    case = make_case(received_on=ORDER121_DAY, status=Case.Status.MEDIATING)
    step(case, "terminate", ground="3", reason="投诉人明确表示无法达成协议")
    with time_machine.travel(dt.datetime(2026, 4, 22, 10, tzinfo=BEIJING), tick=False):
        with pytest.raises(Invalid, match=message):
            take(services.COMPLAINT, "notify", case.pk, by=personas["kaiyuan"], **params)
    case.refresh_from_db()
    assert case.status == Case.Status.NOTIFYING


def test_acceptance_and_agreement_tell_both_parties(step):
    entity = make_entity()
    enterprise_user(entity)
    case = make_case(received_on=ORDER121_DAY, entity=entity, request="退货退款")
    accepted = step(case, "accept")
    assert accepted[P].title == "受理告知" and "2026年4月20日决定受理" in accepted[P].body
    assert "投诉请求：退货退款" in accepted[RESP].body
    step(case, "mediate", mode=Case.MediationMode.REMOTE)
    Case.objects.filter(pk=case.pk).update(amount_recovered="300.00")
    step(case, "agree", agreement_kind=Case.AgreementKind.DOCUMENT)
    results = CaseNotice.objects.filter(case=case, kind="agreement")
    assert {n.recipient for n in results} == {P, RESP}
    assert all("调解书" in n.body and "300.00元" in n.body for n in results)


def test_a_real_name_reporter_is_told_of_filing_under_order_20_only(step):
    entity = make_entity()
    shop = enterprise_user(entity)
    old = make_case(kind=Case.Kind.REPORT, received_on=ORDER20_DAY, entity=entity)
    notices = step(old, "file")
    assert set(notices) == {P} and notices[P].title == "立案告知"
    assert old.due_rule == "report.notify@order20"
    # Order 121 Art.36: no such duty; and an anonymous reporter is never addressed.
    new = make_case(kind=Case.Kind.REPORT, received_on=ORDER121_DAY, entity=entity)
    assert step(new, "file") == {}
    anonymous = make_case(
        kind=Case.Kind.REPORT, received_on=ORDER20_DAY, entity=entity, anonymous=True
    )
    assert step(anonymous, "not_file", reason="线索不足") == {}
    # The reported enterprise hears nothing of any report.
    assert not Notice.objects.filter(recipient=shop).exists()
    assert not scoped(shop, CaseNotice.objects.all()).exists()


def test_a_transfer_tells_the_new_bureau_and_the_complainant(step, personas, org_units):
    from qcity.core.models import OrgUnit

    case = make_case(received_on=ORDER121_DAY)
    xifeng = OrgUnit.objects.get(name="西丰县市场监督管理局")
    notices = step(case, "transfer", to_unit=str(xifeng.pk), reason="被投诉人经营地在西丰县")
    assert "已转西丰县市场监督管理局处理" in notices[P].body
    assert "被投诉人经营地在西丰县" in notices[CaseNotice.Recipient.UNIT].body
    assert Notice.objects.filter(recipient=personas["xifeng"]).exists()
    assert not Notice.objects.filter(recipient=personas["kaiyuan"]).exists()


def test_notices_for_person_are_only_those_addressed_to_the_person(step):
    entity = make_entity()
    enterprise_user(entity)
    case = make_case(received_on=ORDER121_DAY, entity=entity)
    step(case, "accept")
    assert [n.title for n in casenotices.notices_for_person(case)] == ["受理告知"]


def test_a_respondent_without_an_account_is_served_by_hand_and_the_notice_is_kept(step):
    case = make_case(received_on=ORDER121_DAY, entity=make_entity(), status=Case.Status.ACCEPTED)
    notices = step(case, "terminate", ground="2", reason="被投诉人明确拒绝调解")
    assert notices[RESP].sent_at is None and notices[RESP].channel == ""
    with time_machine.travel(dt.datetime(2026, 4, 21, 10, tzinfo=BEIJING), tick=False):
        take(
            services.COMPLAINT,
            "notify",
            case.pk,
            by=case.status_changed_by,
            channel="post",
            delivered_on="2026-04-21",
        )
    served = CaseNotice.objects.get(case=case, recipient=RESP)
    assert served.channel == "post"
    assert served.sent_at.astimezone(BEIJING).date() == dt.date(2026, 4, 21)


def test_a_jurisdiction_dispute_goes_to_the_city_bureau(step, personas):
    case = make_case(received_on=ORDER121_DAY)
    notices = step(case, "dispute", reason="经营地址在两县交界")
    assert set(notices) == {CaseNotice.Recipient.UNIT}
    assert "经营地址在两县交界" in notices[CaseNotice.Recipient.UNIT].body
    assert Notice.objects.filter(recipient=personas["coordinator"]).exists()
    assert not Notice.objects.filter(recipient=personas["kaiyuan"]).exists()
