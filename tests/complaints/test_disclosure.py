"""投诉信息公示: the publish step, its figures (computed by hand), its exceptions and its timer."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from qcity.complaints import disclosure, services
from qcity.complaints.disclosure_jobs import PUBLISH_JOB, due_publications
from qcity.complaints.models import Case, Category, IssueType, OdrEnrolment
from qcity.core import jobs
from qcity.core.models import AuditEvent
from qcity.core.workflow import take
from qcity.portal.models import PublishedComplaintStat
from tests.complaints.helpers import XIFENG_BUREAU, make_case, make_entity
from tests.task_helpers import run_worker

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("calendar")]

BEIJING = dt.timezone(dt.timedelta(hours=8))
PERSONAL = ("李秀英", "13912345678", "110101199003078515", "铁岭市银州区柴河街99号")


def category(name: str, order: int) -> Category:
    return Category.objects.get_or_create(
        name=name, defaults={"code": f"T{order:02d}", "kind": "goods", "sort_order": order}
    )[0]


def issue(name: str, order: int) -> IssueType:
    return IssueType.objects.get_or_create(
        name=name, defaults={"code": f"I{order:02d}", "sort_order": order}
    )[0]


def complaint(entity, received_on: dt.date, **fields) -> Case:
    """A complaint whose every personal field holds one of the PERSONAL markers."""
    return make_case(
        entity=entity,
        received_on=received_on,
        name=PERSONAL[0],
        phone=PERSONAL[1],
        id_number=PERSONAL[2],
        person_address=PERSONAL[3],
        goods=f"{PERSONAL[0]}买的电热水壶",
        facts=f"我是{PERSONAL[0]}，电话{PERSONAL[1]}，热水壶漏电。",
        request=f"请联系{PERSONAL[1]}退款",
        **fields,
    )


def conclude(case: Case, step: str, day: dt.date, by, **params) -> None:
    moment = dt.datetime.combine(day, dt.time(10), tzinfo=BEIJING)
    with time_machine.travel(moment, tick=False):
        take(services.COMPLAINT, step, case.pk, by=by, **params)


@pytest.fixture
def october(personas):
    """Entity A: six counted complaints in 2026-10 and four in 2026-09; entity B: one."""
    kaiyuan = personas["kaiyuan"]
    appliances, clothes, food = (
        category("家用电器", 1),
        category("服装鞋帽", 2),
        category("食品", 3),
    )
    quality, service = issue("质量", 1), issue("售后服务", 2)
    a = make_entity(name="开原市示例家电有限公司")
    b = make_entity(XIFENG_BUREAU, name="西丰县示例超市有限公司")
    OdrEnrolment.objects.create(entity=a, joined_on=dt.date(2026, 9, 1), enrolled_by=kaiyuan)
    oct5 = dt.date(2026, 10, 5)
    counted = [
        complaint(a, oct5, category=appliances, issue_type=quality),
        complaint(
            a,
            dt.date(2026, 10, 8),
            category=appliances,
            issue_type=quality,
            status=Case.Status.CLOSED,
            outcome=Case.Outcome.REFUSED,
            outcome_ground="2",  # handled by a court: still published
        ),
        complaint(a, dt.date(2026, 10, 9), category=food, issue_type=service),
        complaint(
            a,
            dt.date(2026, 10, 12),
            category=appliances,
            issue_type=quality,
            odr=True,
            status=Case.Status.CLOSED,
            outcome=Case.Outcome.ODR_SETTLED,
        ),
        complaint(a, dt.date(2026, 10, 20), category=clothes, issue_type=quality, odr=True),
        complaint(a, dt.date(2026, 10, 31), odr=True, status=Case.Status.ODR),
    ]
    # Not published: a report, refusals on grounds 3 and 6, a duplicate, an unregistered
    # respondent, and a complaint of November.
    make_case(kind=Case.Kind.REPORT, entity=a, received_on=oct5, name=PERSONAL[0])
    for ground in ("3", "6"):
        complaint(
            a,
            oct5,
            category=food,
            status=Case.Status.CLOSED,
            outcome=Case.Outcome.REFUSED,
            outcome_ground=ground,
        )
    complaint(a, oct5, duplicate_of=counted[0], category=food)
    complaint(None, oct5, category=food)
    complaint(a, dt.date(2026, 11, 1), category=food)
    # September: three in mediation (they end in October), one open, one to be found
    # fraudulent in mediation (terminated on ground 6: never published).
    sep10 = dt.date(2026, 9, 10)
    mediating = [complaint(a, sep10, status=Case.Status.MEDIATING) for _ in range(3)]
    complaint(a, sep10)
    fraud = complaint(a, sep10, status=Case.Status.MEDIATING)
    conclude(mediating[0], "agree", dt.date(2026, 10, 10), kaiyuan, agreement_kind="document")
    conclude(mediating[1], "agree", dt.date(2026, 10, 31), kaiyuan, agreement_kind="record")
    conclude(mediating[2], "terminate", dt.date(2026, 10, 15), kaiyuan, ground="3", reason="拒绝")
    conclude(fraud, "terminate", dt.date(2026, 10, 16), kaiyuan, ground="6", reason="敲诈")
    complaint(b, dt.date(2026, 10, 3), category=food, issue_type=quality)
    return {"a": a, "b": b}


def test_it_publishes_each_enterprises_figures_for_a_month_as_computed_by_hand(october, personas):
    result = disclosure.publish("2026-10", by=personas["coordinator"], today=dt.date(2026, 11, 2))
    assert (result.rows, result.complaints, result.replaced) == (2, 7, 0)
    a = PublishedComplaintStat.objects.get(period="2026-10", entity_code=october["a"].code)
    assert a.entity_name == "开原市示例家电有限公司"
    assert a.region_code == "211282"
    assert a.authority == "开原市市场监督管理局"
    assert (a.complaints, a.previous_complaints) == (6, 4)
    assert a.growth_pct == Decimal("50.0")  # (6 - 4) / 4
    assert a.mediated == 3  # two agreements, one termination; the fraud case is not counted
    assert a.mediation_success_pct == Decimal("66.7")
    assert a.odr_member is True
    assert a.odr_settled_pct == Decimal("50.0")  # one settled of two that left ODR
    assert a.hot_goods == "家用电器、服装鞋帽、食品"  # 3, then 1 and 1 in catalogue order
    assert a.hot_issues == "质量、售后服务"
    b = PublishedComplaintStat.objects.get(period="2026-10", entity_code=october["b"].code)
    assert (b.complaints, b.previous_complaints, b.growth_pct) == (1, 0, None)
    assert (b.mediated, b.mediation_success_pct) == (0, None)
    assert (b.odr_member, b.odr_settled_pct) == (False, None)
    assert b.authority == "西丰县市场监督管理局"


def test_a_year_is_published_against_the_year_before(october, personas):
    disclosure.publish("2026", by=personas["coordinator"], today=dt.date(2027, 1, 4))
    a = PublishedComplaintStat.objects.get(period="2026", entity_code=october["a"].code)
    # September's five minus the fraud case, October's six; November's one is in 2026 too.
    assert (a.complaints, a.previous_complaints, a.growth_pct) == (11, 0, None)
    assert (a.mediated, a.mediation_success_pct) == (3, Decimal("66.7"))


def test_no_published_field_holds_anything_of_a_complainant_or_a_case_text(october, personas):
    disclosure.publish("2026-10", by=personas["coordinator"], today=dt.date(2026, 11, 2))
    disclosure.publish("2026", by=personas["coordinator"], today=dt.date(2027, 1, 4))
    values = [
        str(value)
        for row in PublishedComplaintStat.objects.all()
        for value in row.__dict__.values()
    ]
    text = " ".join(values)
    assert "开原市示例家电有限公司" in text  # the search below can find what is there
    for marker in (*PERSONAL, "电热水壶", "漏电", "退款", "张三丰", "13800138000"):
        assert marker not in text, marker


def test_republishing_a_period_replaces_its_rows_and_leaves_other_periods_alone(october, personas):
    coordinator = personas["coordinator"]
    disclosure.publish("2026-09", by=coordinator, today=dt.date(2026, 11, 2))
    disclosure.publish("2026-10", by=coordinator, today=dt.date(2026, 11, 2))
    september = list(PublishedComplaintStat.objects.filter(period="2026-09").values())
    # B's only complaint turns out to be out of our remit: B drops off October.
    Case.objects.filter(respondent_entity=october["b"]).update(
        status=Case.Status.CLOSED, outcome=Case.Outcome.REFUSED, outcome_ground="1"
    )
    complaint(october["a"], dt.date(2026, 10, 30))
    result = disclosure.publish("2026-10", by=coordinator, today=dt.date(2026, 11, 3))
    assert (result.rows, result.replaced) == (1, 2)
    rows = PublishedComplaintStat.objects.filter(period="2026-10")
    assert [(r.entity_code, r.complaints) for r in rows] == [(october["a"].code, 7)]
    assert list(PublishedComplaintStat.objects.filter(period="2026-09").values()) == september
    events = AuditEvent.objects.filter(action=disclosure.PUBLISHED_ACTION).order_by("pk")
    assert [e.details["period"] for e in events] == ["2026-09", "2026-10", "2026-10"]
    assert events.last().details == {
        "period": "2026-10",
        "rows": 1,
        "complaints": 7,
        "replaced": 2,
    }
    assert events.last().actor == coordinator


@pytest.mark.parametrize(
    ("period", "error"),
    [
        ("2026-13", disclosure.BadPeriod),
        ("26-10", disclosure.BadPeriod),
        ("2026-1", disclosure.BadPeriod),
        ("1999", disclosure.BadPeriod),
        ("", disclosure.BadPeriod),
        ("2026-11", disclosure.PeriodNotOver),
        ("2026", disclosure.PeriodNotOver),
    ],
)
def test_a_bad_or_unfinished_period_is_refused_and_nothing_published_is_touched(
    october, personas, period, error
):
    disclosure.publish("2026-10", by=personas["coordinator"], today=dt.date(2026, 11, 2))
    before = list(PublishedComplaintStat.objects.values())
    with pytest.raises(error) as refused:
        disclosure.publish(period, by=personas["coordinator"], today=dt.date(2026, 11, 28))
    assert refused.value.code in {"bad_period", "period_not_over"}
    assert "公示" in str(refused.value)
    assert list(PublishedComplaintStat.objects.values()) == before


def test_the_timer_publishes_the_previous_month_once_from_the_first_working_day(
    october, monkeypatch, django_capture_on_commit_callbacks
):
    def run(day: dt.date, hour: int = 9) -> list[str]:
        moment = dt.datetime.combine(day, dt.time(hour), tzinfo=BEIJING)
        with time_machine.travel(moment, tick=False):
            result = jobs.run_timers(names=[PUBLISH_JOB])
            if result.enqueued:
                with django_capture_on_commit_callbacks(execute=True):
                    run_worker(monkeypatch)
        return [run.item for run in result.enqueued]

    # 2026-11-01 is a Sunday: the first working day of November is Monday the 2nd.
    assert run(dt.date(2026, 11, 1)) == []
    assert run(dt.date(2026, 11, 2), hour=7) == []
    assert run(dt.date(2026, 11, 2)) == ["2026-10"]
    assert PublishedComplaintStat.objects.filter(period="2026-10").count() == 2
    event = AuditEvent.objects.get(action=disclosure.PUBLISHED_ACTION)
    assert (event.actor, event.details["by"]) == (None, "timer")
    assert run(dt.date(2026, 11, 3)) == []  # once


def test_january_is_due_with_the_year_and_a_late_server_catches_up():
    # 2026: 1-3 January are the New Year holiday; Sunday the 4th is a make-up working day.
    at = dt.datetime(2026, 1, 3, 12, tzinfo=BEIJING)
    assert list(due_publications(at)) == []
    items = due_publications(dt.datetime(2026, 1, 4, 8, 30, tzinfo=BEIJING))
    assert [(i.item, i.kwargs) for i in items] == [
        ("2025-12", {"period": "2025-12"}),
        ("2025", {"period": "2025"}),
    ]
    late = due_publications(dt.datetime(2026, 1, 20, 8, tzinfo=BEIJING))
    assert [dataclasses.astuple(i)[0] for i in late] == ["2025-12", "2025"]
