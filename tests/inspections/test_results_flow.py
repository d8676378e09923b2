"""The result after a real draw and a real assignment (the draw and assign helpers' steps)."""

from __future__ import annotations

import datetime as dt

import pytest

from qcity.core.workflow import NotFound
from qcity.inspections import services
from qcity.inspections.models import Batch, Task, TaskInspector
from qcity.registry.models import Inspector
from tests.conftest import make_user
from tests.inspections.draw_helpers import (
    check_item,
    county_bureau,
    make_batch,
    make_entities,
    use_tmp_store,
)
from tests.inspections.tasks_data import result_codes

pytestmark = pytest.mark.django_db


def test_an_inspector_drawn_for_a_task_enters_its_result_and_the_others_cannot(
    personas, calendar, settings, tmp_path
):
    use_tmp_store(settings, tmp_path)
    result_codes()
    officer = personas["kaiyuan"]
    bureau = county_bureau("开原市")
    station = bureau.children.get(name="开原市城区市场监督管理所")
    make_entities("开原市", "211282", "AAAA")
    for i in range(3):
        Inspector.objects.create(
            user=make_user(f"ky_inspector{i}", "inspector", station.name),
            name=f"开原检查员{i}",
            certificate_no=f"KY-{i:04d}",
            org_unit=station,
        )
    batch = make_batch(
        bureau,
        officer,
        quotas={"A": {"ratio": "50"}},
        window=(dt.date(2026, 9, 1), dt.date(2026, 10, 31)),
        items=[check_item()],
    )
    services.draw_batch(officer, batch.pk)
    services.assign_batch(officer, batch.pk)
    assert Batch.objects.get(pk=batch.pk).status == Batch.Status.ASSIGNED

    task = Task.objects.filter(batch=batch).order_by("position").first()
    team = [a.inspector.user for a in TaskInspector.objects.filter(task=task)]
    outsider = next(
        i.user for i in Inspector.objects.filter(org_unit=station) if i.user not in team
    )
    with pytest.raises(NotFound):
        services.enter_result(
            outsider, task.pk, codes=["01"], findings="", check_date=dt.date(2026, 9, 25)
        )
    services.enter_result(
        team[0], task.pk, codes=["01"], findings="", check_date=dt.date(2026, 9, 25)
    )
    task.refresh_from_db()
    assert task.status == Task.Status.CHECKED
    assert task.publish_due == dt.date(2026, 10, 29)
