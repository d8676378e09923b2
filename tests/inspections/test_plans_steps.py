"""The batch page's buttons run the real draw and assignment (services.draw_batch,
assign_batch); every attempt is listed with its verification files, and a refused step is
its message with nothing half-made."""

from __future__ import annotations

import io
import json

import openpyxl
import pytest

from qcity.core.models import User
from qcity.inspections import defaults
from qcity.inspections.models import Batch, CheckItem, Draw, InspectionPlan, Task, TaskInspector
from qcity.registry.models import Inspector, Speciality
from tests.inspections.draw_helpers import county_bureau, make_entities, use_tmp_store
from tests.inspections.test_plans import batch_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def kaiyuan_page(client, personas, settings, tmp_path):
    """kaiyuan logged in, a draft batch made on the page, a register and inspectors."""
    use_tmp_store(settings, tmp_path)
    defaults.load()
    reference = {item.code: item for item in CheckItem.objects.all()}
    kaiyuan = User.objects.get(username="kaiyuan")
    client.force_login(kaiyuan)
    client.post("/inspections/plans/", {"year": "2026", "title": "开原市2026年度计划"})
    plan = InspectionPlan.objects.get()
    data = batch_data(
        reference,
        quota_A="count",
        quota_A_value="1",
        quota_B="count",
        quota_B_value="1",
        quota_C="",
        quota_C_value="",
        quota_D="",
        quota_D_value="",
    )
    response = client.post(f"/inspections/plans/{plan.pk}/batches/new/", data)
    assert response.status_code == 302, response.content.decode()
    batch = Batch.objects.get()
    bureau = county_bureau("开原市")
    registration = Speciality.objects.get(code="registration")
    for n in range(1, 5):
        inspector = Inspector.objects.create(
            name=f"开原检查员{n}", certificate_no=f"KY-{n:04d}", org_unit=bureau
        )
        inspector.specialities.add(registration)
    return client, batch


def step(client, batch, name, reason=""):
    response = client.post(
        f"/inspections/batches/{batch.pk}/step/", {"step": name, "reason": reason}, follow=True
    )
    assert response.status_code == 200
    return response.content.decode()


def test_a_batch_with_no_eligible_entity_says_so_and_keeps_no_draw(kaiyuan_page):
    client, batch = kaiyuan_page
    html = step(client, batch, "draw")
    assert "没有符合条件的检查对象：按" in html and "筛选后为 0 户" in html
    assert Batch.objects.get(pk=batch.pk).status == Batch.Status.DRAFT
    assert not Draw.objects.exists() and not Task.objects.exists()


def test_draw_redraw_with_a_reason_and_assign_from_the_page(kaiyuan_page):
    client, batch = kaiyuan_page
    make_entities("开原市", "211282", ["A", "A", "B", "B", "C", ""])
    html = step(client, batch, "draw")
    drawn = Draw.objects.get()
    assert f"第 1 次抽取完成：从 {drawn.population_size} 户中抽中 2 户" in html
    assert drawn.population_size == 4  # classes A and B only: C and unclassified are not drawn
    assert html.count('data-testid="draw-row"') == 1
    # The drawn batch offers 重新抽取, whose reason is required and said on the form.
    assert "重新抽取的理由（必填，随抽取记录公开）" in html
    html = step(client, batch, "redraw")
    assert "执行“重新抽取”须填写理由" in html
    assert Draw.objects.count() == 1
    html = step(client, batch, "redraw", reason="名录快照中一户已注销，更正后重新抽取")
    assert html.count('data-testid="draw-row"') == 2
    assert "名录快照中一户已注销，更正后重新抽取" in html
    current = Draw.objects.get(is_current=True)
    record = client.get(f"/inspections/batches/{batch.pk}/draws/{current.attempt}/record.json")
    assert record.status_code == 200
    assert json.loads(record.content)["seed"] == current.seed
    population = client.get(
        f"/inspections/batches/{batch.pk}/draws/{current.attempt}/population.csv"
    )
    assert population.status_code == 200 and population.content

    html = step(client, batch, "assign")
    assert "已为 2 个检查任务随机分派检查人员" in html
    assert Batch.objects.get(pk=batch.pk).status == Batch.Status.ASSIGNED
    assert Task.objects.count() == 2 and TaskInspector.objects.count() == 4
    assert html.count('data-testid="task-row"') == 2 and "开原检查员" in html
    sheet = openpyxl.load_workbook(
        io.BytesIO(client.get(f"/inspections/batches/{batch.pk}/tasks.xlsx").content)
    ).active
    rows = [r for r in sheet.iter_rows(values_only=True) if r and r[1] and str(r[1])[:2] == "91"]
    assert len(rows) == 2 and all("开原检查员" in r[7] for r in rows)
