"""一公开: publishing a result within and after the 20-working-day deadline, and draw records."""

from __future__ import annotations

import datetime as dt
import gzip
import json

import pytest
import time_machine

from qcity.core.models import AuditEvent
from qcity.core.workflow import Forbidden, NotFound, StepNotAllowed
from qcity.inspections import publication, services
from qcity.inspections.models import Draw, Task
from qcity.portal.models import PublishedDraw, PublishedInspection
from tests.portal.world import (
    KAIYUAN,
    PERSONAL_MARKERS,
    XIFENG,
    file_stores,  # noqa: F401
    make_world,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("file_stores", "calendar")]

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def at(day: dt.date):
    return time_machine.travel(dt.datetime(day.year, day.month, day.day, 10, tzinfo=SHANGHAI))


def test_a_result_published_on_its_last_day_is_on_time_and_copies_public_fields_only(personas):
    world = make_world(personas["kaiyuan"])
    task = world.tasks[0]
    Task.objects.filter(pk=task.pk).update(publish_due=dt.date(2026, 9, 29))
    with at(dt.date(2026, 9, 29)):
        row = services.publish_result(personas["kaiyuan"], task.pk)
    assert row.late is False and row.late_reason == ""
    assert row.entity_code == world.entities[0].code
    assert row.entity_name == "开原市恒信超市有限公司"
    assert row.region_code == "211282"
    assert row.authority == "开原市市场监督管理局"
    assert "食品经营专项" in row.batch_title and "第1批" in row.batch_title
    assert row.check_items == "食品经营者经营条件检查"
    assert row.result == "未发现问题"
    assert row.check_date == dt.date(2026, 9, 1) and row.publish_due == dt.date(2026, 9, 29)
    text = json.dumps(
        {f.name: str(getattr(row, f.name)) for f in PublishedInspection._meta.fields},
        ensure_ascii=False,
    )
    for marker in PERSONAL_MARKERS:
        assert marker not in text
    task.refresh_from_db()
    assert task.status == Task.Status.PUBLISHED
    event = AuditEvent.objects.filter(action="inspections.task.publish").get()
    assert event.details["published"] == row.pk and event.details["late"] is False


def test_after_the_deadline_a_late_reason_is_required_and_nothing_is_written_without_it(personas):
    world = make_world(personas["kaiyuan"])
    task = world.tasks[0]
    Task.objects.filter(pk=task.pk).update(publish_due=dt.date(2026, 9, 29))
    with at(dt.date(2026, 9, 30)):
        with pytest.raises(publication.LateReasonRequired) as refused:
            services.publish_result(personas["kaiyuan"], task.pk, late_reason="   ")
    assert refused.value.code == "late_reason_required"
    assert "逾期理由" in refused.value.message and "2026-09-29" in refused.value.message
    assert "逾期 1 个工作日" in refused.value.message
    assert not PublishedInspection.objects.exists()
    task.refresh_from_db()
    assert task.status == Task.Status.CHECKED


def test_a_late_publication_is_allowed_marked_late_and_the_reason_is_recorded(personas):
    world = make_world(personas["kaiyuan"])
    task = world.tasks[0]
    Task.objects.filter(pk=task.pk).update(publish_due=dt.date(2026, 9, 29))
    with at(dt.date(2026, 10, 12)):
        row = services.publish_result(
            personas["kaiyuan"], task.pk, late_reason="  系统故障，延迟公示  "
        )
    assert row.late is True and row.late_reason == "系统故障，延迟公示"
    event = AuditEvent.objects.filter(action="inspections.task.publish").get()
    assert event.details["late"] is True
    assert event.details["late_reason"] == "系统故障，延迟公示"


def test_the_deadline_is_computed_from_the_check_date_when_the_task_has_none(personas):
    from qcity.core import workdays

    world = make_world(personas["kaiyuan"], check_date=dt.date(2026, 9, 25))
    task = world.tasks[0]
    assert task.publish_due is None
    expected = workdays.add_workdays(dt.date(2026, 9, 25), 20)
    # Across National Day (10-01…10-07): 20 working days end well after 10-23.
    assert expected > dt.date(2026, 10, 23)
    with at(expected):
        row = services.publish_result(personas["kaiyuan"], task.pk)
    assert row.publish_due == expected and not row.late
    task.refresh_from_db()
    assert task.publish_due == expected


def test_a_result_cannot_be_published_twice(personas):
    world = make_world(personas["kaiyuan"])
    task = world.tasks[0]
    with at(dt.date(2026, 9, 2)):
        services.publish_result(personas["kaiyuan"], task.pk)
        with pytest.raises(StepNotAllowed):
            services.publish_result(personas["kaiyuan"], task.pk)
    assert PublishedInspection.objects.count() == 1


def test_a_task_without_a_result_cannot_be_published(personas):
    world = make_world(personas["kaiyuan"], with_result=False)
    with pytest.raises(StepNotAllowed):
        services.publish_result(personas["kaiyuan"], world.tasks[0].pk)
    Task.objects.filter(pk=world.tasks[0].pk).update(status=Task.Status.CHECKED)
    with pytest.raises(publication.NoResult) as refused:
        services.publish_result(personas["kaiyuan"], world.tasks[0].pk)
    assert refused.value.code == "no_result"
    assert not PublishedInspection.objects.exists()


def test_only_the_owner_unit_publishes(personas):
    world = make_world(personas["kaiyuan"])
    task = world.tasks[0]
    with at(dt.date(2026, 9, 2)):
        with pytest.raises(NotFound):
            services.publish_result(personas["xifeng"], task.pk)
        with pytest.raises((NotFound, Forbidden)):
            services.publish_result(personas["inspector"], task.pk)
        with pytest.raises((NotFound, Forbidden)):
            services.publish_result(personas["nongye"], task.pk)
    assert not PublishedInspection.objects.exists()


def _redraw(world, owner) -> Draw:
    first = world.draw
    Draw.objects.filter(pk=first.pk).update(is_current=False)
    return Draw.objects.create(
        batch=world.batch,
        attempt=2,
        is_current=True,
        reason="第一次抽取范围设置错误",
        seed="cd" * 32,
        algorithm=first.algorithm,
        algorithm_version=first.algorithm_version,
        parameters=first.parameters,
        population_digest=first.population_digest,
        population_size=first.population_size,
        strata=first.strata,
        selected_codes=list(reversed(first.selected_codes)),
        population_file=first.population_file,
        drawn_by=owner,
        drawn_at=first.drawn_at,
    )


def test_publishing_a_redraw_publishes_every_earlier_attempt_with_its_reason(personas):
    world = make_world(personas["kaiyuan"])
    second = _redraw(world, personas["kaiyuan"])
    rows = services.publish_draw(personas["kaiyuan"], second.pk)
    assert [r.attempt for r in rows] == [1, 2]
    first_row, second_row = rows
    assert second_row.reason == "第一次抽取范围设置错误"
    assert second_row.record["selected"] == list(reversed(world.draw.selected_codes))
    assert second_row.record["reason"] == "第一次抽取范围设置错误"
    assert first_row.record["seed"] == "ab" * 32
    with publication.publication_storage().open(first_row.population_file, "rb") as handle:
        text = gzip.decompress(handle.read()).decode()
    assert text.splitlines()[0] == "code,stratum"
    assert sorted(text.splitlines()[1:]) == sorted(f"{e.code},B" for e in world.entities)
    events = AuditEvent.objects.filter(action="inspections.draw.published").order_by("pk")
    assert [e.details["attempt"] for e in events] == [1, 2]
    assert events[1].details["reason"] == "第一次抽取范围设置错误"
    # Publishing again writes nothing more.
    assert services.publish_draw(personas["kaiyuan"], second.pk) == []
    assert PublishedDraw.objects.count() == 2


def test_a_superseded_attempt_can_be_published_alone(personas):
    world = make_world(personas["kaiyuan"])
    _redraw(world, personas["kaiyuan"])
    rows = services.publish_draw(personas["kaiyuan"], world.draw.pk)
    assert [r.attempt for r in rows] == [1]


def test_only_the_plan_owner_publishes_a_draw(personas):
    world = make_world(personas["kaiyuan"])
    with pytest.raises(NotFound):
        services.publish_draw(personas["xifeng"], world.draw.pk)
    with pytest.raises((NotFound, Forbidden)):
        services.publish_draw(personas["inspector"], world.draw.pk)
    with pytest.raises(NotFound):
        services.publish_draw(personas["kaiyuan"], 10**9)
    assert not PublishedDraw.objects.exists()


def test_a_draw_whose_population_file_is_gone_is_refused_and_leaves_nothing(personas):
    world = make_world(personas["kaiyuan"])
    Draw.objects.filter(pk=world.draw.pk).update(population_file="draws/missing.csv.gz")
    with pytest.raises(publication.DrawNotPublishable) as refused:
        services.publish_draw(personas["kaiyuan"], world.draw.pk)
    assert refused.value.code == "draw_not_publishable"
    assert not PublishedDraw.objects.exists()


def test_xifeng_publishes_its_own(personas):
    world = make_world(personas["xifeng"], XIFENG, names=("西丰县鹿城药房",), tail=2)
    with at(dt.date(2026, 9, 2)):
        row = services.publish_result(personas["xifeng"], world.tasks[0].pk)
    assert row.authority == XIFENG and row.region_code == "211223"
    assert KAIYUAN not in row.authority
