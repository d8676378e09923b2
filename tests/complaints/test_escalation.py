"""超期督办: the timer escalates every open case past its deadline, once per deadline."""

from __future__ import annotations

import datetime as dt
import os
import threading

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection, connections

from qcity.complaints import escalation, services
from qcity.complaints.models import Case
from qcity.core import jobs
from qcity.core.dbguards import install_audit_guards, remove_audit_guards
from qcity.core.models import AuditEvent, JobRun, Notice, Role
from qcity.core.workflow import take
from tests.complaints.helpers import XIFENG_BUREAU, make_case
from tests.conftest import make_user
from tests.task_helpers import run_worker

pytestmark = pytest.mark.django_db

BEIJING = dt.timezone(dt.timedelta(hours=8))
S = Case.Status


@pytest.fixture
def timer(calendar, monkeypatch, django_capture_on_commit_callbacks):
    def run(day: dt.date, hour: int = 9) -> list[Notice]:
        before = Notice.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        moment = dt.datetime.combine(day, dt.time(hour), tzinfo=BEIJING)
        with time_machine.travel(moment, tick=False):
            result = jobs.run_timers(names=[escalation.ESCALATION_JOB])
            if result.enqueued:
                with django_capture_on_commit_callbacks(execute=True):
                    run_worker(monkeypatch)
        return list(Notice.objects.filter(pk__gt=before).select_related("recipient"))

    return run


def overdue(status=S.RECEIVED, due=dt.date(2026, 6, 10), rule="complaint.accept@order121", **kw):
    return make_case(status=status, due_on=due, due_rule=rule, **kw)


def test_an_overdue_case_is_escalated_once_to_its_bureau_and_the_city(personas, timer):
    case = overdue()
    notices = timer(dt.date(2026, 6, 11))
    assert {n.recipient.username for n in notices} == {"kaiyuan", "coordinator"}
    assert all(n.object_id == str(case.pk) for n in notices)
    assert f"超期督办：{case.number}（投诉）" in notices[0].subject
    assert "已于 2026-06-10 到期" in notices[0].subject
    # No personal data of the complainant in the notice.
    assert "张三丰" not in notices[0].subject + notices[0].body
    case.refresh_from_db()
    assert case.escalated_at is not None
    assert case.escalated_due == "complaint.accept@order121:2026-06-10"
    event = AuditEvent.objects.get(action="complaints.case.escalated")
    assert event.object_id == str(case.pk)
    assert event.actor is None
    assert event.details["by"] == "timer"
    assert event.details["rule"] == "complaint.accept@order121"
    assert event.details["overdue_workdays"] == 1
    # Once: the same day again, the next day, another process.
    assert timer(dt.date(2026, 6, 11)) == []
    assert timer(dt.date(2026, 6, 12)) == []
    assert escalation.escalate(case.pk, "2026-06-10", "complaint.accept@order121") == "skipped"
    assert AuditEvent.objects.filter(action="complaints.case.escalated").count() == 1


def test_a_case_due_today_or_later_closed_or_with_the_enterprise_is_not_escalated(personas, timer):
    overdue(due=dt.date(2026, 6, 11))
    overdue(status=S.CLOSED)
    overdue(status=S.ODR, rule="odr.settle@local")
    make_case(status=S.RECEIVED)  # no deadline at all
    assert timer(dt.date(2026, 6, 11)) == []
    assert not JobRun.objects.filter(job=escalation.ESCALATION_JOB).exists()


def test_each_county_hears_only_of_its_own_cases(personas, timer):
    overdue()
    overdue(
        bureau=XIFENG_BUREAU,
        kind=Case.Kind.REPORT,
        status=S.VERIFYING,
        rule="report.verify@order121",
    )
    notices = timer(dt.date(2026, 6, 12))
    by_user = {}
    for notice in notices:
        by_user.setdefault(notice.recipient.username, []).append(notice.subject)
    assert len(by_user["kaiyuan"]) == 1 and "（投诉）" in by_user["kaiyuan"][0]
    assert len(by_user["xifeng"]) == 1 and "（举报）" in by_user["xifeng"][0]
    assert len(by_user["coordinator"]) == 2
    assert set(by_user) == {"kaiyuan", "xifeng", "coordinator"}


def test_a_case_handled_after_it_was_queued_is_left_alone(personas, calendar, monkeypatch):
    case = overdue()
    moment = dt.datetime(2026, 6, 11, 9, tzinfo=BEIJING)
    with time_machine.travel(moment, tick=False):
        assert len(jobs.run_timers(names=[escalation.ESCALATION_JOB]).enqueued) == 1
        take(services.COMPLAINT, "accept", case.pk, by=personas["kaiyuan"])
        run_worker(monkeypatch)
    case.refresh_from_db()
    assert case.escalated_at is None
    assert not AuditEvent.objects.filter(action="complaints.case.escalated").exists()


def test_a_new_deadline_missed_again_is_escalated_again(personas, timer):
    case = overdue()
    assert len(timer(dt.date(2026, 6, 11))) == 2
    Case.objects.filter(pk=case.pk).update(
        status=S.NOTIFYING,
        due_on=dt.date(2026, 6, 20),
        due_rule="complaint.termination_notice@order121",
    )
    assert timer(dt.date(2026, 6, 19)) == []
    again = timer(dt.date(2026, 6, 22))
    assert len(again) == 2 and "告知终止调解" in again[0].subject
    assert AuditEvent.objects.filter(action="complaints.case.escalated").count() == 2


def test_an_unsettled_dispute_goes_to_the_city_bureau(personas, timer):
    case = overdue(status=S.DISPUTED, rule="jurisdiction.dispute@order121")
    notices = timer(dt.date(2026, 6, 15))
    assert {n.recipient.username for n in notices} == {"kaiyuan", "coordinator"}
    assert "管辖争议协商" in notices[0].subject
    assert Case.objects.get(pk=case.pk).escalated_due.startswith("jurisdiction.dispute@order121")


def test_nothing_goes_out_on_a_holiday_or_before_eight_and_the_next_working_day_catches_up(
    personas, timer
):
    overdue(due=dt.date(2026, 6, 18))  # Thursday; Friday 19 June is the Dragon Boat Festival
    assert timer(dt.date(2026, 6, 19)) == []
    assert timer(dt.date(2026, 6, 21)) == []  # Sunday
    assert timer(dt.date(2026, 6, 22), hour=7) == []
    late = timer(dt.date(2026, 6, 22))
    assert {n.recipient.username for n in late} == {"kaiyuan", "coordinator"}
    assert (
        AuditEvent.objects.get(action="complaints.case.escalated").details["overdue_workdays"] == 1
    )


@pytest.fixture
def committed_world(transactional_db):
    install_audit_guards(connection)
    call_command("load_org_units", stdout=open(os.devnull, "w"))
    call_command("load_calendar", stdout=open(os.devnull, "w"))
    make_user("kaiyuan", Role.COUNTY_OFFICER, "开原市市场监督管理局")
    make_user("coordinator", Role.COORDINATOR, "市市场监管局")
    yield
    # The test database is emptied after a transactional test; the guards would refuse it.
    remove_audit_guards(connection)


def test_two_processes_escalating_one_case_at_once_escalate_it_once(committed_world):
    case = overdue()
    barrier = threading.Barrier(2)
    outcomes: list[object] = [None, None]

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            with time_machine.travel(dt.datetime(2026, 6, 11, 9, tzinfo=BEIJING), tick=False):
                outcomes[i] = escalation.escalate(
                    case.pk, "2026-06-10", "complaint.accept@order121"
                )
        except Exception as error:  # the outcome under test
            outcomes[i] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(map(str, outcomes)) == ["escalated", "skipped"]
    assert AuditEvent.objects.filter(action="complaints.case.escalated").count() == 1
    assert Notice.objects.filter(object_id=str(case.pk)).count() == 2
