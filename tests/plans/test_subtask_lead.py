"""Sub-tasks (分解任务) by the lead unit: it splits its own measure, not another unit's."""

from __future__ import annotations

import datetime as dt

import pytest
from django.http import Http404
from django.test import Client

from qcity.core.models import AuditEvent, OrgUnit
from qcity.plans import services
from qcity.plans.models import SubTask

pytestmark = pytest.mark.django_db

SUBTASK = {
    "title": "制定农资打假专项行动方案",
    "deadline": "2026-06-30",
    "contact_name": "李联络",
    "contact_phone": "13812345678",
    "outputs": "专项行动方案一份",
}


def unit(name: str) -> OrgUnit:
    return OrgUnit.objects.get(name=name)


def fields(unit_name: str) -> dict:
    """The sub-task as the service takes it (cleaned form data)."""
    return {**SUBTASK, "deadline": dt.date(2026, 6, 30), "unit": unit(unit_name)}


@pytest.fixture
def led(plan, personas):
    """Measure 8 led by 市农业农村局; measure 5 led by 市工业和信息化局 with 农业农村局 配合."""
    coordinator = personas["coordinator"]
    m8 = plan.measures.get(number=8)
    m5 = plan.measures.get(number=5)
    services.set_responsibilities(
        m8.pk, [(unit("市农业农村局"), True), (unit("市市场监管局"), False)], by=coordinator
    )
    services.set_responsibilities(
        m5.pk,
        [(unit("市工业和信息化局"), True), (unit("市农业农村局"), False)],
        by=coordinator,
    )
    return plan, m8, m5


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def base(plan, measure) -> str:
    return f"/plans/{plan.pk}/measures/{measure.pk}/"


def test_the_lead_units_liaison_splits_edits_and_removes_its_measures_sub_tasks(led, personas):
    plan, m8, _m5 = led
    nongye = as_user(personas["nongye"])
    page = nongye.get(base(plan, m8)).content.decode()
    assert 'data-testid="subtask-form"' in page and "可在下方把举措分解为具体任务" in page

    added = nongye.post(base(plan, m8) + "subtasks/", {**SUBTASK, "unit": unit("市农业农村局").pk})
    assert added.status_code == 302
    subtask = SubTask.objects.get()
    assert subtask.measure == m8
    event = AuditEvent.objects.get(action="plan.subtask_added")
    assert event.actor == personas["nongye"] and event.details["measure"] == 8

    edit = base(plan, m8) + f"subtasks/{subtask.pk}/"
    changed = {**SUBTASK, "unit": unit("市农业农村局").pk, "deadline": "2026-09-30"}
    assert nongye.post(edit, changed).status_code == 302
    subtask.refresh_from_db()
    assert str(subtask.deadline) == "2026-09-30"
    assert AuditEvent.objects.get(action="plan.subtask_changed").actor == personas["nongye"]

    nongye.post(base(plan, m8) + f"subtasks/{subtask.pk}/delete/")
    assert not SubTask.objects.exists()
    assert AuditEvent.objects.get(action="plan.subtask_removed").actor == personas["nongye"]


def test_a_supporting_unit_and_other_units_may_not_split_the_measure(led, personas):
    plan, m8, m5 = led
    # 农业农村局 only supports (配合) measure 5; 工信局 has no part in measure 8.
    for who, measure in (("nongye", m5), ("gongxin", m8), ("kaiyuan", m8), ("lab", m5)):
        client = as_user(personas[who])
        page = client.get(base(plan, measure)).content.decode()
        assert 'data-testid="subtask-form"' not in page, who
        assert "由方案管理单位或牵头单位分解" in page, who
        answer = client.post(
            base(plan, measure) + "subtasks/", {**SUBTASK, "unit": unit("市农业农村局").pk}
        )
        assert answer.status_code == 400, who
        assert services.SPLIT_REFUSED in answer.content.decode(), who
    assert not SubTask.objects.exists()
    assert not AuditEvent.objects.filter(action="plan.subtask_added").exists()
    # An inspector reads the plan (仅本人) but changes nothing; an administrator does not
    # even see it.
    with pytest.raises(services.PlanEditError) as refused:
        services.add_subtask(m8.pk, by=personas["inspector"], **fields("市农业农村局"))
    assert refused.value.code == "forbidden"
    with pytest.raises(Http404):
        services.add_subtask(m8.pk, by=personas["sysadmin"], **fields("市农业农村局"))


def test_a_lead_unit_cannot_change_the_sub_tasks_of_a_measure_led_by_another(led, personas):
    plan, _m8, m5 = led
    theirs = services.add_subtask(m5.pk, by=personas["gongxin"], **fields("市工业和信息化局"))
    nongye = as_user(personas["nongye"])
    edit = base(plan, m5) + f"subtasks/{theirs.pk}/"
    assert nongye.get(edit).status_code == 404
    assert nongye.post(edit, {**SUBTASK, "unit": unit("市农业农村局").pk}).status_code == 404
    nongye.post(base(plan, m5) + f"subtasks/{theirs.pk}/delete/")
    assert SubTask.objects.get().title == SUBTASK["title"]
    with pytest.raises(services.PlanEditError):
        services.remove_subtask(theirs.pk, by=personas["nongye"])
    # The page offers it no buttons either.
    assert f"subtasks/{theirs.pk}/delete/" not in nongye.get(base(plan, m5)).content.decode()
    # The plan owner still changes any sub-task.
    assert services.update_subtask(theirs.pk, by=personas["coordinator"], outputs="总结") == [
        "outputs"
    ]


def test_the_right_follows_the_lead_when_the_coordinator_moves_it(led, personas):
    plan, m8, _m5 = led
    mine = services.add_subtask(m8.pk, by=personas["nongye"], **fields("市农业农村局"))
    services.set_responsibilities(
        m8.pk,
        [(unit("市农业农村局"), False), (unit("市市场监管局"), True)],
        by=personas["coordinator"],
    )
    assert not services.may_split(personas["nongye"], m8)
    with pytest.raises(services.PlanEditError):
        services.update_subtask(mine.pk, by=personas["nongye"], outputs="越权")
    assert as_user(personas["nongye"]).get(base(plan, m8) + f"subtasks/{mine.pk}/").status_code == (
        404
    )
