"""The timer reminding a county bureau of results due for publication, or overdue."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from qcity.core import jobs
from qcity.core.models import Notice
from qcity.inspections import services
from qcity.inspections.models import Task
from qcity.inspections.publication_jobs import REMINDER_JOB
from tests.portal.world import XIFENG, file_stores, make_world  # noqa: F401
from tests.task_helpers import run_worker

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("file_stores", "calendar")]

BEIJING = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def timer(monkeypatch, django_capture_on_commit_callbacks):
    def run(day: dt.date, hour: int = 9) -> list[Notice]:
        before = Notice.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        moment = dt.datetime.combine(day, dt.time(hour), tzinfo=BEIJING)
        with time_machine.travel(moment, tick=False):
            result = jobs.run_timers(names=[REMINDER_JOB])
            if result.enqueued:
                with django_capture_on_commit_callbacks(execute=True):
                    run_worker(monkeypatch)
        return list(Notice.objects.filter(pk__gt=before).select_related("recipient"))

    return run


def test_the_owner_unit_is_reminded_once_before_and_once_after_the_due_date(personas, timer):
    world = make_world(personas["kaiyuan"], names=("开原市恒信超市有限公司",))
    west = make_world(personas["xifeng"], XIFENG, names=("西丰县鹿城药房",), tail=2)
    Task.objects.filter(pk=world.tasks[0].pk).update(publish_due=dt.date(2026, 10, 14))
    Task.objects.filter(pk=west.tasks[0].pk).update(publish_due=dt.date(2026, 12, 31))
    # Working days left after 10-09: 10-10 (a make-up working Saturday), 10-12, 10-13, 10-14.
    assert timer(dt.date(2026, 10, 9)) == []  # 4 left: not yet
    assert timer(dt.date(2026, 10, 11)) == []  # a Sunday: never
    notices = timer(dt.date(2026, 10, 12))  # 2 left
    assert {n.recipient.username for n in notices} == {"kaiyuan"}
    assert "应于 2026-10-14 前公示" in notices[0].subject
    assert timer(dt.date(2026, 10, 13)) == []  # once
    late = timer(dt.date(2026, 10, 15))
    assert [n.recipient.username for n in late] == ["kaiyuan"]
    assert "已超过公示期限 2026-10-14" in late[0].subject
    assert timer(dt.date(2026, 10, 16)) == []


def test_a_result_published_in_between_gets_no_reminder(personas, timer):
    world = make_world(personas["kaiyuan"], names=("开原市恒信超市有限公司",))
    Task.objects.filter(pk=world.tasks[0].pk).update(publish_due=dt.date(2026, 10, 14))
    with time_machine.travel(dt.datetime(2026, 10, 12, 7, tzinfo=BEIJING)):
        services.publish_result(personas["kaiyuan"], world.tasks[0].pk)
    assert timer(dt.date(2026, 10, 12)) == []
    assert timer(dt.date(2026, 10, 15)) == []
