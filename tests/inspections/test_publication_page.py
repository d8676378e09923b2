"""The staff page of 一公开 and the provincial export: due/overdue, publishing, scope."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
import time_machine
from openpyxl import load_workbook

from qcity.core.models import AuditEvent
from qcity.inspections import provincial, services
from qcity.inspections.models import Task
from qcity.portal.models import PublishedDraw, PublishedInspection
from tests.conftest import PASSWORD
from tests.portal.world import (
    PERSONAL_MARKERS,
    XIFENG,
    file_stores,  # noqa: F401
    make_world,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("file_stores", "calendar")]

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
PAGE = "/inspections/publication/"


def at(day: dt.date):
    return time_machine.travel(dt.datetime(day.year, day.month, day.day, 10, tzinfo=SHANGHAI))


@pytest.fixture
def two_counties(personas):
    east = make_world(personas["kaiyuan"], names=("开原市恒信超市有限公司", "开原市百味食品店"))
    west = make_world(personas["xifeng"], XIFENG, names=("西丰县鹿城药房",), tail=2)
    # 2026-09-29 is the due day of one, 2026-10-09 of the other (at 2026-10-12: overdue).
    Task.objects.filter(pk=east.tasks[0].pk).update(publish_due=dt.date(2026, 9, 29))
    Task.objects.filter(pk=east.tasks[1].pk).update(publish_due=dt.date(2026, 10, 14))
    Task.objects.filter(pk=west.tasks[0].pk).update(publish_due=dt.date(2026, 10, 20))
    return east, west


def login(client, name: str) -> None:
    assert client.login(username=name, password=PASSWORD)


def test_the_page_shows_what_is_due_and_how_many_working_days_overdue(client, two_counties):
    login(client, "kaiyuan")
    with at(dt.date(2026, 10, 12)):
        page = client.get(PAGE).content.decode()
    assert "开原市恒信超市有限公司" in page and "开原市百味食品店" in page
    # Due 09-29 (Tue). Working days since: 09-30, then 10-01…10-07 off (National Day),
    # 10-08, 10-09, 10-10 (a make-up working Saturday), 10-12: 5 working days overdue.
    assert "逾期 5 个工作日" in page
    # Due 10-14: two working days left after today (10-13, 10-14), so marked as soon.
    assert "剩 2 个工作日" in page
    assert "西丰县鹿城药房" not in page


def test_xifeng_sees_none_of_kaiyuan_on_the_page_or_in_any_export(client, two_counties, personas):
    east, _ = two_counties
    with at(dt.date(2026, 9, 2)):
        services.publish_result(
            personas["kaiyuan"],
            east.tasks[0].pk,
        )
    login(client, "xifeng")
    page = client.get(PAGE).content.decode()
    assert "西丰县鹿城药房" in page and "开原" not in page
    for kind in ("due", "published"):
        body = client.get(f"{PAGE}export/{kind}.csv").content.decode("utf-8-sig")
        assert "开原" not in body, kind
        book = load_workbook(io.BytesIO(client.get(f"{PAGE}export/{kind}.xlsx").content))
        text = " ".join(str(c.value) for row in book.active.iter_rows() for c in row)
        assert "开原" not in text, kind
    # Nor can xifeng publish kaiyuan's result or draw by posting its id.
    client.post(PAGE, {"only": str(east.tasks[1].pk)})
    assert not PublishedInspection.objects.filter(entity_name="开原市百味食品店").exists()
    assert client.post(f"{PAGE}draws/{east.draw.pk}/publish/").status_code == 404
    assert not PublishedDraw.objects.exists()


def test_the_page_is_for_plan_runners_only(client, two_counties):
    login(client, "inspector")
    assert client.get(PAGE).status_code == 403
    assert client.get(f"{PAGE}export/due.csv").status_code == 403
    client.logout()
    assert client.get(PAGE).status_code == 302  # to the login page


def test_publishing_selected_results_needs_a_reason_for_the_overdue_ones(client, two_counties):
    east, _ = two_counties
    login(client, "kaiyuan")
    ids = [str(t.pk) for t in east.tasks]
    with at(dt.date(2026, 10, 12)):
        response = client.post(PAGE, {"tasks": ids}, follow=True)
        page = response.content.decode()
        assert "已公示 1 条检查结果" in page
        assert "逾期公示须填写逾期理由" in page
        assert PublishedInspection.objects.count() == 1
        response = client.post(
            PAGE, {"only": str(east.tasks[0].pk), "late_reason": "节假日顺延"}, follow=True
        )
    assert "已公示 1 条检查结果" in response.content.decode()
    late = PublishedInspection.objects.get(entity_name="开原市恒信超市有限公司")
    assert late.late and late.late_reason == "节假日顺延"


def test_publishing_a_draw_from_the_page(client, two_counties):
    east, _ = two_counties
    login(client, "kaiyuan")
    assert "公示抽取记录" in client.get(PAGE).content.decode()
    response = client.post(f"{PAGE}draws/{east.draw.pk}/publish/", follow=True)
    assert "已公示 1 次抽取的记录" in response.content.decode()
    assert PublishedDraw.objects.count() == 1
    assert "所有抽取记录均已公示" in client.get(PAGE).content.decode()


def test_the_provincial_export_has_the_documented_columns_and_no_personal_data(
    client, two_counties, personas
):
    east, _ = two_counties
    with at(dt.date(2026, 10, 12)):
        services.publish_result(personas["kaiyuan"], east.tasks[0].pk, late_reason="=HYPERLINK(1)")
    login(client, "kaiyuan")
    body = client.get(f"{PAGE}export/published.csv").content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == [name for name, _ in provincial.COLUMNS]
    assert rows[0][:2] == ["统一社会信用代码", "市场主体名称"]
    assert len(rows) == 2
    line = dict(zip(rows[0], rows[1], strict=True))
    assert line["市场主体名称"] == "开原市恒信超市有限公司"
    assert line["检查实施机关"] == "开原市市场监督管理局"
    assert line["检查结果"] == "未发现问题" and line["是否逾期公示"] == "是"
    assert line["逾期理由"] == "'=HYPERLINK(1)"  # inert: never a formula
    due = client.get(f"{PAGE}export/due.xlsx")
    book = load_workbook(io.BytesIO(due.content))
    sheet = book.active
    assert [c.value for c in sheet[2]] == [name for name, _ in provincial.COLUMNS]
    assert sheet.cell(3, 2).value == "开原市百味食品店"
    for text in (body, " ".join(str(c.value) for r in sheet.iter_rows() for c in r)):
        for marker in PERSONAL_MARKERS:
            assert marker not in text
    whats = sorted(
        e.details["what"] for e in AuditEvent.objects.filter(action__startswith="export.")
    )
    assert whats == ["inspections.due_results", "inspections.published_results"]
    assert client.get(f"{PAGE}export/other.csv").status_code == 404
