"""The quarterly report: what the city government reads, and who may read which part.

Two liaisons write and submit their reports in the browser's way (the services the
pages call), the coordinator approves one; the PDF is read back with pdftotext and the
XLSX with openpyxl.
"""

from __future__ import annotations

import datetime as dt
import io
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from openpyxl import load_workbook

from qcity.core.models import AuditEvent
from qcity.core.workflow import take
from qcity.metrics.models import Indicator
from qcity.metrics.services import enter_value
from qcity.plans import target_links
from qcity.plans.models import Target
from qcity.reporting import quarterly, services
from qcity.reporting.models import ProgressReport
from qcity.reporting.services import REPORT
from tests.pdftools import pdf_fonts, pdf_text

pytestmark = pytest.mark.django_db

AGRICULTURE = "本季度完成农产品质量安全例行监测1200批次，合格率百分之九十八点六。"
INDUSTRY = "工业和信息化局培育质量标杆企业3家，开展首席质量官培训两期。"
DRAFT = "尚未报送的草稿内容不应出现在报告中。"


def flat(text: str) -> str:
    """pdftotext breaks lines inside table cells; compare text without whitespace."""
    return "".join(text.split())


def _first_report(user, cycle) -> ProgressReport:
    return ProgressReport.objects.filter(cycle=cycle, org_unit=user.unit).order_by("pk").first()


@pytest.fixture
def reported(q1, personas):
    """农业农村局 submitted (approved), 工信局 submitted, a third unit only drafted."""
    nongye, gongxin, coordinator = personas["nongye"], personas["gongxin"], personas["coordinator"]
    with time_machine.travel(dt.datetime(2026, 4, 3, 10, 0, tzinfo=dt.UTC), tick=False):
        agri = _first_report(nongye, q1)
        services.save_report(nongye, agri.pk, progress="on_track", narrative=AGRICULTURE)
        take(REPORT, "submit", agri.pk, by=nongye)
        industry = _first_report(gongxin, q1)
        services.save_report(gongxin, industry.pk, progress="at_risk", narrative=INDUSTRY)
        take(REPORT, "submit", industry.pk, by=gongxin)
        take(REPORT, "approve", agri.pk, by=coordinator)
    draft = (
        ProgressReport.objects.filter(cycle=q1)
        .exclude(org_unit__in=[nongye.unit, gongxin.unit])
        .order_by("pk")
        .first()
    )
    ProgressReport.objects.filter(pk=draft.pk).update(narrative=DRAFT, progress="blocked")
    return q1, agri, industry, draft


def _pdf(client, user, cycle):
    client.force_login(user)
    return client.get(f"/reporting/cycles/{cycle.pk}/quarterly.pdf")


def _xlsx(client, user, cycle):
    client.force_login(user)
    response = client.get(f"/reporting/cycles/{cycle.pk}/quarterly.xlsx")
    assert response.status_code == 200
    return load_workbook(io.BytesIO(response.content))


def _cells(workbook, sheet: str) -> str:
    return "\n".join(
        str(c) for row in workbook[sheet].iter_rows(values_only=True) for c in row if c is not None
    )


def test_the_coordinators_pdf_has_the_plan_every_chapter_and_the_units_narratives(
    client, reported, personas
):
    cycle, agri, _industry, draft = reported
    with time_machine.travel(dt.datetime(2026, 5, 6, 9, 0, tzinfo=dt.UTC)):
        response = _pdf(client, personas["coordinator"], cycle)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    body = flat(text)
    assert flat(cycle.plan.title) in body
    assert "2026年第1季度" in body and "2026-01-01至2026-03-31" in body
    assert flat(agri.measure.chapter.heading) in body
    assert flat(AGRICULTURE) in body and flat(INDUSTRY) in body
    assert DRAFT not in body  # a draft is the unit's own until it is submitted
    assert "审核通过" in body and "存在风险" in body
    assert "三、逾期单位" in body and flat(draft.org_unit.name) in body
    assert "四、主要目标与指标" in body and "食品抽检合格率" in body
    for each in pdf_fonts(response.content):
        assert each["emb"] == "yes", each["line"]
    event = AuditEvent.objects.get(action="export.pdf")
    assert event.details["what"] == "reporting.quarterly" and event.details["pages"] >= 3


def test_a_liaisons_pdf_holds_only_its_own_units_reports(client, reported, personas):
    cycle, _agri, _industry, draft = reported
    with time_machine.travel(dt.datetime(2026, 5, 6, 9, 0, tzinfo=dt.UTC)):
        response = _pdf(client, personas["nongye"], cycle)
    assert response.status_code == 200
    body = flat(pdf_text(response.content))
    assert flat(AGRICULTURE) in body
    assert flat(INDUSTRY) not in body
    assert "市工业和信息化局" not in body
    assert flat(draft.org_unit.name) not in body  # nor another unit's lateness
    assert "仅含本单位权限范围内的报告" in body
    expected = ProgressReport.objects.filter(cycle=cycle, org_unit=personas["nongye"].unit).count()
    report = quarterly.build(personas["nongye"], cycle, today=dt.date(2026, 5, 6))
    assert report.expected == expected and not report.whole_plan


def test_the_xlsx_says_the_same_as_the_pdf_one_sheet_per_section(client, reported, personas):
    cycle, _agri, _industry, draft = reported
    with time_machine.travel(dt.datetime(2026, 5, 6, 9, 0, tzinfo=dt.UTC)):
        workbook = _xlsx(client, personas["coordinator"], cycle)
    assert workbook.sheetnames == ["概况", "各项举措进展", "逾期单位", "主要目标与指标"]
    measures = _cells(workbook, "各项举措进展")
    assert AGRICULTURE in measures and INDUSTRY in measures and DRAFT not in measures
    assert draft.org_unit.name in _cells(workbook, "逾期单位")
    assert "食品抽检合格率" in _cells(workbook, "主要目标与指标")
    summary = _cells(workbook, "概况")
    assert "2026年第1季度" in summary and cycle.plan.title in summary
    event = AuditEvent.objects.get(action="export.xlsx")
    assert event.details["what"] == "reporting.quarterly"


def test_a_liaisons_xlsx_holds_only_its_own_units_reports(client, reported, personas):
    cycle, *_ = reported
    workbook = _xlsx(client, personas["nongye"], cycle)
    everything = "\n".join(_cells(workbook, name) for name in workbook.sheetnames)
    assert AGRICULTURE in everything and INDUSTRY not in everything
    assert "市工业和信息化局" not in everything


def test_late_units_are_those_not_submitted_by_the_due_date(reported, personas):
    cycle, agri, industry, draft = reported
    before = quarterly.build(personas["coordinator"], cycle, today=cycle.due_date)
    assert before.late_units == [] and before.missing == 0
    after = quarterly.build(
        personas["coordinator"], cycle, today=cycle.due_date + dt.timedelta(days=1)
    )
    late = {u.unit: u for u in after.late_units}
    assert draft.measure.number in late[draft.org_unit.name].measures
    # A unit with several reports is late only for those it has not submitted.
    for submitted in (agri, industry):
        unit = late.get(submitted.org_unit.name)
        if unit is not None:
            assert submitted.measure.number not in unit.measures
            assert unit.missing == unit.expected - 1 and unit.submitted_late == 0
    assert after.missing == after.expected - after.received
    assert after.received == 2 and after.approved == 1


def test_a_measure_reads_as_its_most_serious_received_report(reported, personas):
    cycle, agri, industry, draft = reported
    report = quarterly.build(personas["coordinator"], cycle)
    status = {m.number: m.status for c in report.chapters for m in c.measures}
    assert status[industry.measure.number] in ("存在风险", "受阻")
    # A drafted 受阻 counts for nothing until it is submitted.
    untouched = {agri.measure_id, industry.measure_id}
    if draft.measure_id not in untouched:
        assert status[draft.measure.number] == "暂无已报送的报告"


def test_targets_show_the_latest_value_and_the_derived_status(reported, personas):
    cycle = reported[0]
    coordinator = personas["coordinator"]
    call_command("load_indicators", stdout=StringIO())
    target = Target.objects.get(indicator_name="食品抽检合格率")
    food = Indicator.objects.get(code="food_sampling_pass_rate")
    target_links.link_indicator(target.pk, food.pk, by=coordinator)
    enter_value(food.pk, period="2022", value="90", unit="%", by=coordinator)
    enter_value(food.pk, period="2024", value="98.5", unit="%", by=coordinator)
    report = quarterly.build(coordinator, cycle)
    line = next(t for t in report.targets if t.indicator_name == "食品抽检合格率")
    assert (line.latest, line.latest_period, line.status) == ("98.5%", "2024", "已实现")
    others = {t.status for t in report.targets if t.indicator_name != "食品抽检合格率"}
    assert "未关联指标" in others


def test_hostile_narratives_do_not_break_the_pdf(client, q1, personas):
    nongye = personas["nongye"]
    report = _first_report(nongye, q1)
    hostile = "局\u202e计统 {nb} " + "长" * 4900 + " 结尾"
    services.save_report(nongye, report.pk, progress="blocked", narrative=hostile)
    take(REPORT, "submit", report.pk, by=nongye)
    response = _pdf(client, personas["coordinator"], q1)
    assert response.status_code == 200
    body = flat(pdf_text(response.content))
    assert "局[U+202E]计统{nb}" in body and body.count("长") >= 4900 and "结尾" in body


@pytest.mark.parametrize("suffix", ["pdf", "xlsx"])
def test_someone_outside_the_plan_gets_404_and_a_post_gets_405(client, q1, personas, suffix):
    client.force_login(personas["sysadmin"])
    assert client.get(f"/reporting/cycles/{q1.pk}/quarterly.{suffix}").status_code == 404
    client.force_login(personas["coordinator"])
    assert client.post(f"/reporting/cycles/{q1.pk}/quarterly.{suffix}").status_code == 405
    assert client.get(f"/reporting/cycles/999999/quarterly.{suffix}").status_code == 404


def test_without_a_chinese_font_the_pdf_is_refused_in_chinese_but_the_xlsx_works(
    client, q1, personas, settings
):
    latin_only = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    if not latin_only.is_file():
        pytest.skip("needs fonts-dejavu-core, a font without Chinese glyphs")
    settings.PDF_FONT = latin_only
    response = _pdf(client, personas["coordinator"], q1)
    assert response.status_code == 503
    assert "缺少可嵌入的中文字体" in response.content.decode()
    assert _xlsx(client, personas["coordinator"], q1).sheetnames[0] == "概况"
    refused = AuditEvent.objects.get(action="export.pdf")
    assert not refused.success and refused.details["refused"] == "no_cjk_font"
