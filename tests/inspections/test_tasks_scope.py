"""The task pages, export and selectors under the data scope (pages, XLSX, direct POSTs)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from qcity.core.models import Attachment, User
from qcity.inspections import selectors, services
from qcity.inspections.models import FollowUp, Result, Task
from tests.conftest import make_user
from tests.core.test_files import png_bytes
from tests.inspections.tasks_data import county_batch, kaiyuan_with_inspector, result_codes

pytestmark = pytest.mark.django_db


@pytest.fixture
def storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "attachments")},
        },
    }


@pytest.fixture
def two_counties(personas, calendar):
    result_codes()
    kaiyuan = kaiyuan_with_inspector(personas)
    xifeng_inspector = make_user("xf_inspector", "inspector", "西丰县城区市场监督管理所")
    xifeng = county_batch(
        "西丰县",
        "211223",
        personas["xifeng"],
        entities=1,
        inspector_users=(xifeng_inspector, None),
    )
    return kaiyuan, xifeng


def post_result(client, task, **data):
    payload = {
        "codes": ["05", "02"],
        "findings": "年报未公示，已责令改正",
        "check_date": "2026-09-25",
    }
    payload.update(data)
    return client.post(f"/inspections/tasks/{task.pk}/", payload)


def test_an_inspector_sees_only_their_own_tasks(client, personas, two_counties):
    kaiyuan, xifeng = two_counties
    client.force_login(personas["inspector"])
    html = client.get("/inspections/tasks/").content.decode()
    assert "我的检查任务" in html
    for task in kaiyuan.tasks:
        assert task.entity.name in html
    assert xifeng.tasks[0].entity.name not in html
    assert client.get(f"/inspections/tasks/{xifeng.tasks[0].pk}/").status_code == 404
    assert {t.pk for t in selectors.tasks_for(personas["inspector"])} == {
        t.pk for t in kaiyuan.tasks
    }


def test_a_new_inspector_is_told_what_happens_next(client, personas, two_counties):
    client.force_login(make_user("newcomer", "inspector", "开原市城区市场监督管理所"))
    html = client.get("/inspections/tasks/").content.decode()
    assert "目前没有分派给您的检查任务" in html


def test_county_b_sees_nothing_of_county_a(client, personas, two_counties):
    kaiyuan, xifeng = two_counties
    services.enter_result(
        personas["inspector"],
        kaiyuan.tasks[0].pk,
        codes=["06"],
        findings="待立案核查",
        check_date=dt.date(2026, 9, 25),
    )
    follow_up = FollowUp.objects.get()
    user = personas["xifeng"]
    client.force_login(user)
    html = client.get("/inspections/tasks/").content.decode()
    assert xifeng.tasks[0].entity.name in html
    assert all(t.entity.name not in html for t in kaiyuan.tasks)
    assert client.get(f"/inspections/tasks/{kaiyuan.tasks[0].pk}/").status_code == 404
    assert client.get(f"/inspections/follow-ups/{follow_up.pk}/").status_code == 404
    assert "开原市" not in client.get("/inspections/follow-ups/").content.decode()
    response = client.get("/inspections/tasks/export.xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).active
    cells = " ".join(str(c.value) for row in sheet.iter_rows() for c in row if c.value)
    assert xifeng.tasks[0].entity.code in cells
    assert all(t.entity.code not in cells for t in kaiyuan.tasks)
    assert not selectors.follow_ups_for(user).exists()
    assert set(selectors.tasks_for(user)) == set(xifeng.tasks)
    # A direct POST of a result to county A's task: absent, and nothing stored.
    assert post_result(client, kaiyuan.tasks[1]).status_code == 404
    assert not Result.objects.filter(task=kaiyuan.tasks[1]).exists()


def test_county_a_exports_its_tasks_with_results(client, personas, two_counties):
    kaiyuan, _xifeng = two_counties
    services.enter_result(
        personas["inspector"],
        kaiyuan.tasks[0].pk,
        codes=["01"],
        findings="",
        check_date=dt.date(2026, 9, 25),
    )
    client.force_login(personas["kaiyuan"])
    response = client.get("/inspections/tasks/export.xlsx?status=checked")
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    data = [r for r in rows if r and r[2] == kaiyuan.tasks[0].entity.code]
    assert len(data) == 1 and "未发现问题" in data[0] and "2026-10-29" in data[0]
    assert all(kaiyuan.tasks[1].entity.code not in r for r in rows)


@pytest.mark.parametrize("who", ["kaiyuan", "coordinator", "colleague_elsewhere"])
def test_a_direct_post_by_someone_not_assigned_is_refused_and_stores_nothing(
    client, personas, two_counties, who
):
    kaiyuan, _xifeng = two_counties
    task = kaiyuan.tasks[0]
    if who == "colleague_elsewhere":
        user = make_user("inspector9", "inspector", "开原市城区市场监督管理所")
        expected = 404  # an inspector who is not on the task does not see it
    else:
        user = personas[who]
        expected = 403
    client.force_login(user)
    if expected == 403:
        page = client.get(f"/inspections/tasks/{task.pk}/").content.decode()
        assert 'data-testid="result-form"' not in page
        assert "谁检查谁录入" in page
    response = post_result(client, task)
    assert response.status_code == expected
    if expected == 403:
        assert "您无权执行此操作" in response.content.decode()
    assert not Result.objects.exists()
    assert Task.objects.get(pk=task.pk).status == Task.Status.PENDING


def test_the_inspector_enters_a_result_with_a_photo_through_the_page(
    client, personas, two_counties, storage
):
    kaiyuan, _xifeng = two_counties
    task = kaiyuan.tasks[0]
    client.force_login(personas["inspector"])
    page = client.get(f"/inspections/tasks/{task.pk}/").content.decode()
    assert "企业公示信息情况检查" in page and "《企业信息公示暂行条例》第十四条" in page
    assert "开原市检查员2" in page  # the team, for an internal user
    photo = SimpleUploadedFile("现场.png", png_bytes(), content_type="image/png")
    response = post_result(client, task, files=[photo])
    assert response.status_code == 302
    result = Result.objects.get(task=task)
    assert Attachment.objects.get().object_id == str(result.pk)
    html = client.get(f"/inspections/tasks/{task.pk}/").content.decode()
    assert "现场.png" in html and "2026-10-29" in html and "更正检查结果" in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"codes": ["01", "05"]}, "不能与其他检查结果同时选择"),
        ({"codes": ["06"], "findings": ""}, "请填写检查情况"),
        ({"check_date": "2099-01-01"}, "晚于今天"),
        ({"check_date": ""}, "检查日期格式不正确"),
        ({"codes": []}, "请至少选择一项检查结果"),
    ],
)
def test_bad_input_on_the_page_gets_a_chinese_message_and_keeps_what_was_typed(
    client, personas, two_counties, data, message
):
    kaiyuan, _xifeng = two_counties
    client.force_login(personas["inspector"])
    response = post_result(client, kaiyuan.tasks[0], **data)
    html = response.content.decode()
    assert response.status_code == 400 and message in html
    if data.get("findings", None) != "":
        assert "年报未公示，已责令改正" in html  # what was typed is shown again
    assert not Result.objects.exists()


def test_the_owner_closes_a_follow_up_on_its_page(client, personas, two_counties):
    kaiyuan, _xifeng = two_counties
    services.enter_result(
        personas["inspector"],
        kaiyuan.tasks[0].pk,
        codes=["06"],
        findings="涉嫌无照经营",
        check_date=dt.date(2026, 9, 25),
    )
    follow_up = FollowUp.objects.get()
    client.force_login(personas["kaiyuan"])
    listing = client.get("/inspections/follow-ups/").content.decode()
    assert kaiyuan.tasks[0].entity.name in listing and "2026-10-22" in listing
    response = client.post(f"/inspections/follow-ups/{follow_up.pk}/", {"resolution": "filed"})
    assert response.status_code == 400 and "请填写处理结果" in response.content.decode()
    response = client.post(
        f"/inspections/follow-ups/{follow_up.pk}/",
        {"resolution": "filed", "outcome": "已立案调查"},
    )
    assert response.status_code == 302
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUp.Status.CLOSED
    assert User.objects.get(username="kaiyuan") == follow_up.status_changed_by


def test_a_form_sent_after_a_colleague_entered_the_result_is_refused_as_stale(
    client, personas, two_counties
):
    kaiyuan, _xifeng = two_counties
    task = kaiyuan.tasks[0]
    colleague = User.objects.get(username="inspector2")
    services.enter_result(
        colleague, task.pk, codes=["01"], findings="", check_date=dt.date(2026, 9, 24)
    )
    client.force_login(personas["inspector"])
    # The form was loaded while the task was still pending.
    response = post_result(client, task, step="enter_result", state="pending")
    assert response.status_code == 409
    assert "已被他人处理" in response.content.decode()
    result = Result.objects.get(task=task)
    assert list(result.codes.values_list("code", flat=True)) == ["01"]
    assert result.entered_by == colleague


def test_pending_tasks_come_first_and_open_follow_ups_first(client, personas, two_counties):
    kaiyuan, _xifeng = two_counties
    first, second = kaiyuan.tasks
    services.enter_result(
        personas["inspector"],
        first.pk,
        codes=["06"],
        findings="待核查",
        check_date=dt.date(2026, 9, 25),
    )
    assert [t.status for t in selectors.tasks_for(personas["inspector"])] == [
        Task.Status.PENDING,
        Task.Status.CHECKED,
    ]
    services.enter_result(
        personas["inspector"],
        second.pk,
        codes=["06"],
        findings="待核查",
        check_date=dt.date(2026, 9, 28),
    )
    closed = FollowUp.objects.get(task=first)
    services.close_follow_up(personas["kaiyuan"], closed.pk, resolution="filed", outcome="已立案")
    rows = list(selectors.follow_ups_for(personas["kaiyuan"]))
    assert [f.status for f in rows] == [FollowUp.Status.OPEN, FollowUp.Status.CLOSED]
