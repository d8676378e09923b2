"""Exports: hostile text stays text, big exports are refused with a hint, names are safe.

Hostile values are written straight into the database (as an admin edit or a
later import could), then every export is downloaded and opened again.
"""

from __future__ import annotations

import io
import zipfile
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook

from qcity.core.exports import Column, ExportTooLarge, build_xlsx, inert_text
from qcity.core.models import AuditEvent, OrgUnit
from qcity.plans.models import Chapter, Measure, Plan, Responsibility

pytestmark = pytest.mark.django_db

HOSTILE = [
    "=1+1",
    "=NOW()局",
    "+86-24-1234",
    "-1+2",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
    '=HYPERLINK("http://evil.example","点我")',
    "=cmd|' /C calc'!A0",
    "＝1+1",
    "#REF!",
]


@pytest.fixture
def hostile_plan(plan, personas):
    """The seed plan with formula-like text in every place an export shows text."""
    Plan.objects.filter(pk=plan.pk).update(title="=1+1 实施方案", issuer='=NOW()市"政府"\r\n/..')
    Chapter.objects.filter(plan=plan, number=1).update(heading="@SUM(A1)章")
    measures = list(Measure.objects.filter(plan=plan).order_by("seq"))
    for measure, text in zip(measures, HOSTILE, strict=False):
        Measure.objects.filter(pk=measure.pk).update(title=text, text=f"{text}\x01正文")
    agriculture = OrgUnit.objects.get(name="市农业农村局")
    OrgUnit.objects.filter(pk=agriculture.pk).update(name="=NOW()局")
    Responsibility.objects.filter(org_unit=agriculture).update(written_name="-=NOW()局")
    return Plan.objects.get(pk=plan.pk), personas


def _sheet_xml(content: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return "".join(
            archive.read(name).decode()
            for name in archive.namelist()
            if name.startswith("xl/worksheets/")
        )


def _all_cells(content: bytes):
    sheet = load_workbook(io.BytesIO(content)).active
    return [cell for row in sheet.iter_rows() for cell in row if cell.value is not None]


@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("coordinator", "/plans/{pk}/export.xlsx"),
        ("coordinator", "/plans/{pk}/matrix/export.xlsx"),
        ("nongye", "/plans/mine/export.xlsx"),
        ("nongye", "/plans/{pk}/export.xlsx"),
    ],
)
def test_an_export_of_hostile_text_has_no_formula_and_reads_as_written(
    client, hostile_plan, who, path
):
    plan, users = hostile_plan
    client.force_login(users[who])
    response = client.get(path.format(pk=plan.pk))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    xml = _sheet_xml(response.content)
    assert "<f>" not in xml and "<f " not in xml
    cells = _all_cells(response.content)
    assert not [c.coordinate for c in cells if c.data_type in ("f", "e")]
    texts = {c.value for c in cells if isinstance(c.value, str)}
    # The user still reads the text exactly as written (apart from the unstorable \x01).
    hostile_here = {t for t in texts if t.startswith(("=", "+", "-", "@", "\t", "\r", "＝"))}
    assert hostile_here, "the fixture must put formula-like text into this export"
    for cell in cells:
        if isinstance(cell.value, str) and cell.value in hostile_here:
            assert cell.quotePrefix, cell.coordinate


def test_the_title_row_of_every_export_is_inert(client, hostile_plan):
    plan, users = hostile_plan
    client.force_login(users["coordinator"])
    response = client.get(f"/plans/{plan.pk}/export.xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet["A1"].value == "=1+1 实施方案"
    assert sheet["A1"].data_type == "s"
    assert "=NOW()局" in {
        c.value for c in _all_cells(client.get(f"/plans/{plan.pk}/matrix/export.xlsx").content)
    }


def test_text_with_characters_xml_cannot_hold_still_exports(client, hostile_plan):
    plan, users = hostile_plan
    client.force_login(users["coordinator"])
    response = client.get(f"/plans/{plan.pk}/export.xlsx")
    assert response.status_code == 200
    texts = [c.value for c in _all_cells(response.content) if isinstance(c.value, str)]
    assert "=1+1\ufffd正文" in texts


def test_a_hostile_issuer_cannot_break_the_download_name(client, hostile_plan):
    plan, users = hostile_plan
    client.force_login(users["coordinator"])
    disposition = client.get(f"/plans/{plan.pk}/export.xlsx")["Content-Disposition"]
    assert disposition.startswith("attachment; filename*=utf-8''")
    name = unquote(disposition.split("''", 1)[1])
    assert name.startswith("任务分解表-=NOW()市") and name.endswith(".xlsx")
    assert not set(name) & set('"/\\\r\n')


@pytest.mark.parametrize("text", HOSTILE[:-1])
def test_csv_text_that_looks_like_a_formula_gets_an_apostrophe(text):
    assert inert_text(text) == "'" + text


@pytest.mark.parametrize("value", ["市农业农村局", "1+1", "质量=效益", 42, 3.5, None, "#REF!"])
def test_csv_values_that_are_not_formulas_are_unchanged(value):
    assert inert_text(value) == value


def test_an_export_over_the_row_cap_is_refused_with_a_hint_and_audited(
    client, plan, personas, settings
):
    settings.EXPORT_MAX_ROWS = 5
    client.force_login(personas["coordinator"])
    response = client.get(f"/plans/{plan.pk}/export.xlsx")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "超过 5 行的上限" in page and "筛选" in page
    event = AuditEvent.objects.get(action="export.xlsx")
    assert event.success is False
    assert event.details["refused"] == "too_many_rows"


def test_an_export_at_the_row_cap_is_written_in_full(client, plan, personas, settings):
    count = Measure.objects.filter(plan=plan).count()
    settings.EXPORT_MAX_ROWS = count
    client.force_login(personas["coordinator"])
    response = client.get(f"/plans/{plan.pk}/export.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.max_row == count + 2


def test_a_row_stream_is_stopped_as_soon_as_it_passes_the_cap():
    produced = []

    def rows():
        for i in range(1_000_000):
            produced.append(i)
            yield [f"行 {i}"]

    with pytest.raises(ExportTooLarge) as excinfo:
        build_xlsx("标题", "表", [Column("列")], rows(), max_rows=100)
    assert len(produced) == 101
    assert excinfo.value.code == "too_many_rows"
    assert "100" in excinfo.value.message
