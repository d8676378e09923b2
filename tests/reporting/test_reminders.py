"""Reminders before the due date and escalation after it, in Chinese working days (ADR 0026).

Every expected date is counted by hand from the 2026 arrangement in the calendar table
(国务院办公厅关于2026年部分节假日安排的通知, as loaded from chinese-calendar):

- 春节: 15–23 February off; Saturdays 14 and 28 February are working days (调休上班).
- 中秋节: 25–27 September off. 国庆节: 1–7 October off; Sunday 20 September and
  Saturday 10 October are working days.
"""

from __future__ import annotations

import datetime as dt
from email import message_from_bytes
from email.header import decode_header, make_header
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from qcity.core import jobs
from qcity.core import services as core_services
from qcity.core.models import AuditEvent, JobRun, Notice, NoticeDelivery
from qcity.core.workflow import take
from qcity.reporting import selectors, services
from qcity.reporting.jobs import ESCALATION_JOB, REMINDER_JOB
from qcity.reporting.models import ProgressReport
from qcity.reporting.services import REPORT
from tests.task_helpers import run_worker

pytestmark = pytest.mark.django_db

BEIJING = ZoneInfo("Asia/Shanghai")
D = dt.date
TIMERS = [REMINDER_JOB, ESCALATION_JOB]


def at(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=BEIJING)


def days(first: dt.date, last: dt.date):
    day = first
    while day <= last:
        yield day
        day += dt.timedelta(days=1)


def write_and_submit(user, report) -> None:
    services.save_report(user, report.pk, progress="on_track", narrative="按计划推进。")
    take(REPORT, "submit", report, by=user)


@pytest.fixture
def timers(monkeypatch, django_capture_on_commit_callbacks):
    """Run the reporting timers at 09:00 Beijing time each day, and the worker after them.

    Returns ``run(day)`` → the notices written that day. The worker runs the real tasks
    (django-tasks-db); the delivery tasks that ``notify`` queues on commit run as well.
    """

    def run(day: dt.date, hour: int = 9) -> list[Notice]:
        before = Notice.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        with time_machine.travel(at(day, hour), tick=False):
            result = jobs.run_timers(names=TIMERS)
            if result.enqueued:
                with django_capture_on_commit_callbacks(execute=True):
                    run_worker(monkeypatch)
                run_worker(monkeypatch)  # the deliveries queued on commit
        return list(Notice.objects.filter(pk__gt=before).select_related("recipient"))

    return run


def walk(timers, first: dt.date, last: dt.date) -> dict[dt.date, list[Notice]]:
    return {day: notices for day in days(first, last) if (notices := timers(day))}


def keep_only(cycle, *users) -> None:
    """Leave the cycle with these users' units' reports only: a smaller plan, same rules.

    Walking a month day by day with every unit's reports costs a notice, an audit event
    and a delivery per report and escalation day; the tests follow a few units.
    """
    ProgressReport.objects.filter(cycle=cycle).exclude(
        org_unit__in=[user.unit_id for user in users]
    ).delete()


def about(notices, report, recipient=None) -> list[str]:
    return [
        n.subject
        for n in notices
        if n.object_id == str(report.pk) and (recipient is None or n.recipient == recipient)
    ]


# --- the Spring Festival ------------------------------------------------------------------------


def test_across_the_spring_festival_reminder_and_escalations_fall_on_working_days_only(
    plan, personas, calendar, timers
):
    nongye, gongxin, coordinator = personas["nongye"], personas["gongxin"], personas["coordinator"]
    # January 2026 ends on Saturday 31 January. 13 working days: 2–6 (5), 9–13 (10),
    # Saturday 14 (11, 调休), 24 (12), 25 February (13). Due: Wednesday 25 February.
    cycle = services.open_cycle(
        plan,
        "monthly",
        2026,
        1,
        by=coordinator,
        due_workdays=13,
        reminder_workdays=3,
        escalation_workdays=2,
    ).cycle
    assert cycle.due_date == D(2026, 2, 25)
    keep_only(cycle, nongye, gongxin)
    late = ProgressReport.objects.filter(cycle=cycle, org_unit=nongye.unit).order_by("pk").first()
    punctual = ProgressReport.objects.filter(cycle=cycle, org_unit=gongxin.unit).first()

    sent = walk(timers, D(2026, 2, 9), D(2026, 2, 23))
    # Three working days before the 25th, counting back: 24 (1), Saturday 14 (2), 13 (3).
    assert {day for day, notices in sent.items() if about(notices, late, nongye)} == {
        D(2026, 2, 13)
    }
    [reminder] = about(sent[D(2026, 2, 13)], late, nongye)
    assert "将于 2026-02-25 截止" in reminder
    # The reminder goes to the unit's reporters only, never to the coordinator.
    assert not about(sent[D(2026, 2, 13)], late, coordinator)
    assert about(sent[D(2026, 2, 13)], punctual, gongxin)

    with time_machine.travel(at(D(2026, 2, 24)), tick=False):
        for report in ProgressReport.objects.filter(cycle=cycle, org_unit=gongxin.unit):
            write_and_submit(gongxin, report)
    sent |= walk(timers, D(2026, 2, 24), D(2026, 3, 4))

    # Overdue from Thursday 26 February (1 working day), then every 2 working days:
    # 27 (2), Saturday 28 (3, 调休上班), 2 March (4), 3 March (5).
    escalated = {day: about(notices, late, nongye) for day, notices in sent.items()}
    escalated = {day: subjects for day, subjects in escalated.items() if subjects}
    assert set(escalated) == {D(2026, 2, 13), D(2026, 2, 26), D(2026, 2, 28), D(2026, 3, 3)}
    assert "逾期 1 个工作日" in escalated[D(2026, 2, 26)][0]
    assert "逾期 3 个工作日" in escalated[D(2026, 2, 28)][0]
    assert "逾期 5 个工作日" in escalated[D(2026, 3, 3)][0]
    assert all(s.startswith("【督办】") for s in escalated[D(2026, 3, 3)])
    # Escalation also tells the plan's coordinators, naming the late unit.
    [to_coordinator] = about(sent[D(2026, 2, 26)], late, coordinator)
    assert "市农业农村局" in to_coordinator and "逾期 1 个工作日" in to_coordinator

    # Nothing on a day off: not on the festival, not on a Sunday.
    quiet = [D(2026, 2, 14), *days(D(2026, 2, 15), D(2026, 2, 23)), D(2026, 3, 1)]
    assert not [day for day in quiet if day in sent]
    created = {timezone.localtime(n.created_at).date() for n in Notice.objects.all()}
    assert not created & set(quiet)
    # Nothing to a unit that submitted on time, after its reminder.
    assert not Notice.objects.filter(
        recipient=gongxin, object_id=str(punctual.pk), subject__contains="督办"
    ).exists()


def test_a_reminder_missed_before_the_festival_comes_after_it_not_during_it(
    plan, personas, calendar, timers
):
    nongye = personas["nongye"]
    # Due Wednesday 25 February as above; the reminder day, Friday 13, passes with the
    # server down. The holiday must stay quiet; the first working day after catches up.
    cycle = services.open_cycle(
        plan, "monthly", 2026, 1, by=personas["coordinator"], due_workdays=13
    ).cycle
    keep_only(cycle, nongye)
    report = ProgressReport.objects.filter(cycle=cycle, org_unit=nongye.unit).order_by("pk").first()
    sent = walk(timers, D(2026, 2, 15), D(2026, 2, 25))
    mine = {day: about(notices, report, nongye) for day, notices in sent.items()}
    assert {day for day, subjects in mine.items() if subjects} == {D(2026, 2, 24)}
    assert JobRun.objects.filter(job=REMINDER_JOB, item=str(report.pk)).count() == 1


# --- the National Day week ----------------------------------------------------------------------


def test_across_the_national_day_week_nothing_is_sent_on_the_holiday(
    plan, personas, calendar, timers
):
    nongye, coordinator = personas["nongye"], personas["coordinator"]
    # August 2026 ends on Monday 31 August. 21 working days: 1–4 (4), 7–11 (9), 14–18 (14),
    # Sunday 20 (15, 调休), 21–24 (19), 28 (20), 29 September (21); 25–27 are 中秋节.
    cycle = services.open_cycle(
        plan, "monthly", 2026, 8, by=coordinator, due_workdays=21, escalation_workdays=2
    ).cycle
    assert cycle.due_date == D(2026, 9, 29)
    keep_only(cycle, nongye)
    report = ProgressReport.objects.filter(cycle=cycle, org_unit=nongye.unit).order_by("pk").first()

    sent = walk(timers, D(2026, 9, 21), D(2026, 10, 13))
    mine = {day: about(notices, report, nongye) for day, notices in sent.items()}
    mine = {day: subjects for day, subjects in mine.items() if subjects}
    # Reminder: 3 working days before the 29th: 28 (1), 24 (2), 23 (3).
    # Escalations: 30 September (1), 8 October (2), 9 (3), Saturday 10 (4, 调休), 12 (5).
    assert set(mine) == {D(2026, 9, 23), D(2026, 9, 30), D(2026, 10, 9), D(2026, 10, 12)}
    assert "截止" in mine[D(2026, 9, 23)][0] and "督办" not in mine[D(2026, 9, 23)][0]
    assert "逾期 3 个工作日" in mine[D(2026, 10, 9)][0]
    assert not set(days(D(2026, 10, 1), D(2026, 10, 8))) & set(sent)
    assert not set(days(D(2026, 9, 25), D(2026, 9, 27))) & set(sent)


# --- once, and not after submission -------------------------------------------------------------


def test_the_timers_run_twice_a_day_send_each_notice_once(
    plan, personas, calendar, timers, monkeypatch
):
    nongye = personas["nongye"]
    cycle = services.open_cycle(plan, "quarterly", 2026, 3, by=personas["coordinator"]).cycle
    # Q3 2026: due 20 October (10 working days after 30 September, the existing test's count);
    # reminder 3 working days before: 19 (1), 16 (2), 15 (3).
    assert cycle.due_date == D(2026, 10, 20)
    first = timers(D(2026, 10, 15))
    second = timers(D(2026, 10, 15), hour=15)
    again = jobs.run_timers(at(D(2026, 10, 16)), names=TIMERS)
    mine = ProgressReport.objects.filter(cycle=cycle, org_unit=nongye.unit).count()
    assert len([n for n in first if n.recipient == nongye]) == mine == 5
    assert second == [] and again.enqueued == []
    assert JobRun.objects.filter(job=REMINDER_JOB).count() == cycle.reports.count()
    # Before 8:00 nothing is due even on a reminder day.
    assert jobs.run_timers(at(D(2026, 10, 14), hour=7), names=TIMERS).enqueued == []


def test_a_report_submitted_after_its_reminder_was_queued_gets_no_reminder(
    plan, personas, calendar, monkeypatch
):
    nongye = personas["nongye"]
    cycle = services.open_cycle(plan, "quarterly", 2026, 3, by=personas["coordinator"]).cycle
    report = ProgressReport.objects.filter(cycle=cycle, org_unit=nongye.unit).order_by("pk").first()
    with time_machine.travel(at(D(2026, 10, 15)), tick=False):
        queued = jobs.run_timers(names=[REMINDER_JOB])
        write_and_submit(nongye, report)
        run_worker(monkeypatch)
    assert str(report.pk) in {run.item for run in queued.enqueued}
    assert not Notice.objects.filter(object_id=str(report.pk), recipient=nongye).exists()
    assert "skipped" in set(DBTaskResult.objects.values_list("return_value", flat=True))
    # Nor is it escalated as the unit's: it waits for the reviewer now.
    with time_machine.travel(at(D(2026, 10, 21)), tick=False):
        due = jobs.run_timers(names=[ESCALATION_JOB]).enqueued
    assert str(report.pk) not in {run.item for run in due}


def test_a_closed_cycle_is_neither_reminded_nor_escalated(plan, personas, calendar):
    cycle = services.open_cycle(plan, "quarterly", 2026, 3, by=personas["coordinator"]).cycle
    services.close_cycle(personas["coordinator"], cycle.pk)
    for day in (D(2026, 10, 15), D(2026, 10, 21)):
        assert jobs.run_timers(at(day), names=TIMERS).enqueued == []


# --- returned reports and overdue reviews -------------------------------------------------------


def test_a_returned_report_is_reminded_and_escalated_on_its_resubmission_deadline(
    plan, personas, calendar, timers
):
    nongye, coordinator = personas["nongye"], personas["coordinator"]
    cycle = services.open_cycle(plan, "quarterly", 2026, 3, by=coordinator).cycle
    keep_only(cycle, nongye)
    report = ProgressReport.objects.filter(cycle=cycle, org_unit=nongye.unit).order_by("pk").first()
    with time_machine.travel(at(D(2026, 9, 29)), tick=False):
        write_and_submit(nongye, report)
        take(REPORT, "return", report, by=coordinator, reason="缺少佐证材料")
    report.refresh_from_db()
    # Resubmission: 5 working days from Tuesday 29 September: 30 (1), 8 (2), 9 (3),
    # Saturday 10 (4), 12 October (5).
    assert report.due_date == D(2026, 10, 12)
    sent = walk(timers, D(2026, 9, 30), D(2026, 10, 13))
    mine = {day: about(notices, report, nongye) for day, notices in sent.items()}
    mine = {day: subjects for day, subjects in mine.items() if subjects}
    # Reminder 3 working days before the 12th: Saturday 10 (1), 9 (2), 8 (3).
    # Escalation on the first working day after: 13 October.
    assert set(mine) == {D(2026, 10, 8), D(2026, 10, 13)}
    assert "退回" in mine[D(2026, 10, 8)][0] and "2026-10-12" in mine[D(2026, 10, 8)][0]
    assert "逾期未重新报送" in mine[D(2026, 10, 13)][0]
    assert about(sent[D(2026, 10, 13)], report, coordinator)


def test_an_overdue_review_is_escalated_to_the_reviewers_not_the_unit(
    plan, personas, calendar, timers
):
    nongye, coordinator = personas["nongye"], personas["coordinator"]
    cycle = services.open_cycle(plan, "quarterly", 2026, 3, by=coordinator).cycle
    keep_only(cycle, nongye)
    report = ProgressReport.objects.filter(cycle=cycle, org_unit=nongye.unit).order_by("pk").first()
    with time_machine.travel(at(D(2026, 10, 12)), tick=False):
        write_and_submit(nongye, report)
    report.refresh_from_db()
    # Review: 5 working days from Monday 12 October: 13, 14, 15, 16, 19 October.
    assert report.due_date == D(2026, 10, 19)
    sent = timers(D(2026, 10, 20))
    [subject] = about(sent, report, coordinator)
    assert "逾期未审核" in subject and "逾期 1 个工作日" in subject
    assert not about(sent, report, nongye)
    with time_machine.travel(at(D(2026, 10, 20), 10), tick=False):
        take(REPORT, "approve", report, by=coordinator)
    # Approved: the next escalation day (22 October) brings nothing about it.
    assert not about(timers(D(2026, 10, 22)), report)


# --- delivery by e-mail -------------------------------------------------------------------------


def test_a_reminder_reaches_the_liaison_by_smtp(plan, personas, calendar, settings, timers):
    from aiosmtpd.controller import Controller

    from tests.core.test_notices import Inbox, _free_port

    nongye = personas["nongye"]
    nongye.email = "nongye@example.org"
    nongye.save()
    cycle = services.open_cycle(plan, "quarterly", 2026, 3, by=personas["coordinator"]).cycle
    inbox, port = Inbox(), _free_port()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        settings.NOTICE_CHANNELS = ["email", "log"]
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        timers(D(2026, 10, 15))
    finally:
        server.stop()
    mine = ProgressReport.objects.filter(cycle=cycle, org_unit=nongye.unit).count()
    to_nongye = [m for m in inbox.messages if m[1] == ["nongye@example.org"]]
    assert len(to_nongye) == mine
    message = message_from_bytes(to_nongye[0][2])
    assert "将于 2026-10-20 截止" in str(make_header(decode_header(message["Subject"])))
    body = message.get_payload(decode=True).decode(message.get_content_charset())
    assert "报送截止日期：2026-10-20" in body
    assert (
        NoticeDelivery.objects.filter(
            notice__recipient=nongye, channel="email", status="sent"
        ).count()
        == mine
    )


# --- provisional due dates ----------------------------------------------------------------------

NEW_YEAR_2027 = [core_services.HolidayRange("元旦", D(2027, 1, 1), D(2027, 1, 4))]


def test_entering_2027_recomputes_a_provisional_due_date_and_its_drafts(plan, personas, calendar):
    nongye, coordinator = personas["nongye"], personas["coordinator"]
    # The 2026 annual report: 10 working days after Thursday 31 December 2026. Before 2027 is
    # entered only the Decree's 1 January is off: 4–8 (5), 11–15 January (10).
    cycle = services.open_cycle(plan, "yearly", 2026, 1, by=coordinator, due_workdays=10).cycle
    assert (cycle.due_date, cycle.due_provisional) == (D(2027, 1, 15), True)
    returned = ProgressReport.objects.filter(cycle=cycle, org_unit=nongye.unit).order_by("pk")[0]
    with time_machine.travel(at(D(2026, 12, 30)), tick=False):
        write_and_submit(nongye, returned)
        take(REPORT, "return", returned, by=coordinator, reason="请补充全年数据")
    returned.refresh_from_db()
    own_clock = returned.due_date

    # The notice (hypothetically) gives Monday 4 January as 补休: 5–8 (4), 11–15 (9), 18 (10).
    core_services.enter_calendar_year(2027, NEW_YEAR_2027, [], by=personas["sysadmin"])

    cycle.refresh_from_db()
    assert (cycle.due_date, cycle.due_provisional) == (D(2027, 1, 18), False)
    assert cycle.on_time_by == D(2027, 1, 18)
    drafts = ProgressReport.objects.filter(cycle=cycle, status="draft")
    assert set(drafts.values_list("due_date", flat=True)) == {D(2027, 1, 18)}
    # Its resubmission clock is its own, recomputed from the day it was returned:
    # 5 working days from Wednesday 30 December: 31 (1), then 4–7 January provisionally
    # (7 January), and 5–8 January once 4 January is 补休 (8 January).
    assert own_clock == D(2027, 1, 7)
    returned.refresh_from_db()
    assert returned.due_date == D(2027, 1, 8)
    events = AuditEvent.objects.filter(action="calendar.deadline_recomputed")
    on_cycle = [e for e in events if e.details["what"] == f"{cycle}报送截止日期"]
    assert len(on_cycle) == 1
    assert on_cycle[0].details["old"]["due"] == "2027-01-15"
    assert on_cycle[0].details["new"] == {
        "due": "2027-01-18",
        "rule": "reporting.cycle.due",
        "provisional": False,
        "calendar_version": on_cycle[0].details["new"]["calendar_version"],
    }
    assert events.filter(object_id__in=[str(pk) for pk in drafts.values_list("pk", flat=True)])
    [clock] = events.filter(object_id=str(returned.pk))
    assert (clock.details["old"]["due"], clock.details["new"]["due"]) == (
        "2027-01-07",
        "2027-01-08",
    )
    # The cycle's due date, its on-time date, each draft, and the returned report.
    assert events.count() == 2 + drafts.count() + 1
    # Entering 2028 later changes none of them again.
    core_services.enter_calendar_year(
        2028,
        [core_services.HolidayRange("元旦", D(2028, 1, 1), D(2028, 1, 3))],
        [],
        by=personas["sysadmin"],
    )
    assert AuditEvent.objects.filter(action="calendar.deadline_recomputed").count() == (
        events.count()
    )


# --- rates over time ----------------------------------------------------------------------------


def test_completeness_and_timeliness_per_unit_and_cycle_in_one_query(
    plan, personas, calendar, django_assert_num_queries
):
    nongye, coordinator = personas["nongye"], personas["coordinator"]
    q1 = services.open_cycle(plan, "quarterly", 2026, 1, by=coordinator).cycle
    q2 = services.open_cycle(plan, "quarterly", 2026, 2, by=coordinator).cycle
    q1_mine = list(ProgressReport.objects.filter(cycle=q1, org_unit=nongye.unit).order_by("pk"))
    q2_mine = list(ProgressReport.objects.filter(cycle=q2, org_unit=nongye.unit).order_by("pk"))
    with time_machine.travel(at(q1.on_time_by), tick=False):
        for report in q1_mine:
            write_and_submit(nongye, report)
    with time_machine.travel(at(q2.on_time_by), tick=False):
        write_and_submit(nongye, q2_mine[0])
    with time_machine.travel(at(q2.due_date + dt.timedelta(days=1)), tick=False):
        write_and_submit(nongye, q2_mine[1])  # after the on-time day: received, not on time

    today = q2.due_date + dt.timedelta(days=7)
    with django_assert_num_queries(1):
        rows = selectors.unit_period_rates(coordinator, plan, "quarterly", [2026], today=today)
    cells = {(r.unit_name, r.label): r for r in rows}
    first, second = cells["市农业农村局", "2026年第1季度"], cells["市农业农村局", "2026年第2季度"]
    assert (first.expected, first.received, first.on_time, first.late) == (5, 5, 5, 0)
    assert (first.completeness, first.timeliness) == (1.0, 1.0)
    assert (second.expected, second.received, second.on_time, second.late) == (5, 2, 1, 3)
    assert second.completeness == pytest.approx(0.4) and second.timeliness == pytest.approx(0.2)
    assert second.received_late == 1
    # Ordered by unit, then period; every unit has both cycles.
    names = [r.unit_name for r in rows]
    assert names == sorted(names)
    assert len(rows) == 2 * len({r.unit_id for r in rows})
    # A liaison's heat map has its own row only; another year or frequency is empty.
    mine = selectors.unit_period_rates(nongye, plan, "quarterly", [2026], today=today)
    assert [(r.unit_name, r.period) for r in mine] == [("市农业农村局", 1), ("市农业农村局", 2)]
    assert selectors.unit_period_rates(coordinator, plan, "quarterly", [2025]) == []
    assert selectors.unit_period_rates(coordinator, plan.pk, "monthly", [2026]) == []


def test_overdue_working_days_skip_the_holiday(plan, personas, calendar):
    nongye = personas["nongye"]
    cycle = services.open_cycle(
        plan, "monthly", 2026, 8, by=personas["coordinator"], due_workdays=21
    ).cycle
    report = ProgressReport.objects.filter(cycle=cycle, org_unit=nongye.unit).first()
    assert report.due_date == D(2026, 9, 29)
    assert selectors.overdue_workdays(report, D(2026, 9, 29)) == 0
    assert selectors.overdue_workdays(report, D(2026, 9, 30)) == 1
    assert selectors.overdue_workdays(report, D(2026, 10, 7)) == 1  # the holiday adds nothing
    assert selectors.overdue_workdays(report, D(2026, 10, 11)) == 4  # Saturday 10 worked
    assert selectors.is_late(report, D(2026, 9, 30))
