"""The reporting pages, as each persona uses them (cycles, reports, my reports, review)."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from qcity.core import files
from qcity.core.models import AuditEvent, Transition
from qcity.core.workflow import take
from qcity.reporting.models import ProgressReport, ReportingCycle
from qcity.reporting.services import REPORT
from tests.reporting.conftest import pdf_bytes

pytestmark = pytest.mark.django_db

S = ProgressReport.Status
NARRATIVE = "本季度完成农产品抽检 1200 批次，合格率 98.6%。"


def client_for(client, user):
    client.force_login(user)
    return client


def reports_of(user, cycle):
    return ProgressReport.objects.filter(cycle=cycle, org_unit=user.unit).order_by("pk")


def write_form(**extra):
    data = {
        "progress": "on_track",
        "narrative": NARRATIVE,
        "figure_name": ["抽检批次", ""],
        "figure_value": ["1200", ""],
        "figure_unit": ["批次", ""],
        "step": "",
    }
    data.update(extra)
    return data


def evidence_pdf(name="抽检结果通报.pdf"):
    return SimpleUploadedFile(name, pdf_bytes(), content_type="application/pdf")


def page_text(response) -> str:
    return response.content.decode()


# --- every page, every persona ----------------------------------------------------------------


def test_the_coordinator_sees_every_report_and_the_form_to_open_a_cycle(client, personas, q1):
    c = client_for(client, personas["coordinator"])
    listing = page_text(c.get("/reporting/"))
    assert "2026年第1季度季报" in listing and "开启报送周期" in listing
    total = q1.reports.count()
    assert f"0/{total}（0%）" in listing
    detail = c.get(f"/reporting/cycles/{q1.pk}/?page=1")
    assert detail.status_code == 200
    assert detail.context["page"].paginator.count == total
    # The Tieling plan's units: more than one page of 50 reports.
    assert total > 50 and "page=2" in page_text(detail)
    assert "关闭报送周期" in page_text(detail)
    assert "目前没有等待您审核的报告" in page_text(c.get("/reporting/review/"))
    # 市市场监管局 is itself responsible for measures: its liaison writes those reports.
    assert "由本单位的联络员填写报送" in page_text(c.get("/reporting/mine/"))
    # The navigation marks 进展报送 as the current section.
    assert 'active" aria-current="page" href="/reporting/">进展报送' in listing


@pytest.mark.parametrize("name", ["nongye", "gongxin"])
def test_a_department_liaison_sees_its_own_reports_only(client, personas, q1, name):
    user = personas[name]
    own = reports_of(user, q1)
    assert own.count() >= 1
    c = client_for(client, user)
    listing = page_text(c.get("/reporting/"))
    assert "2026年第1季度季报" in listing and "开启报送周期" not in listing
    assert f"0/{own.count()}（0%）" in listing
    detail = c.get(f"/reporting/cycles/{q1.pk}/")
    assert {r.pk for r, _late in detail.context["rows"]} == set(own.values_list("pk", flat=True))
    assert "关闭报送周期" not in page_text(detail)
    mine = c.get("/reporting/mine/")
    assert page_text(mine).count('data-testid="my-report"') == own.count()
    assert "填写并报送" in page_text(mine)
    assert "您的账户不审核进展报告" in page_text(c.get("/reporting/review/"))
    report = c.get(f"/reporting/reports/{own.first().pk}/")
    assert report.status_code == 200 and 'data-testid="report-form"' in page_text(report)
    assert own.first().measure.text[:20] in page_text(report)


def test_a_county_officer_without_measures_sees_empty_pages_that_say_why(client, personas, q1):
    c = client_for(client, personas["kaiyuan"])
    detail = c.get(f"/reporting/cycles/{q1.pk}/")
    assert detail.status_code == 200 and "您的数据范围内没有本期的报告" in page_text(detail)
    assert "目前没有等待您审核的报告" in page_text(c.get("/reporting/review/"))
    assert "本单位在已开启的报送周期中没有需要填写的报告" in page_text(c.get("/reporting/mine/"))
    report = ProgressReport.objects.filter(cycle=q1).first()
    assert c.get(f"/reporting/reports/{report.pk}/").status_code == 404


def test_an_inspector_reads_the_cycles_but_no_report(client, personas, q1):
    c = client_for(client, personas["inspector"])
    assert "2026年第1季度季报" in page_text(c.get("/reporting/"))
    assert "您的数据范围内没有本期的报告" in page_text(c.get(f"/reporting/cycles/{q1.pk}/"))
    assert "执法检查人员不填写进展报告" in page_text(c.get("/reporting/mine/"))
    assert "您的账户不审核进展报告" in page_text(c.get("/reporting/review/"))
    report = ProgressReport.objects.filter(cycle=q1).first()
    assert c.get(f"/reporting/reports/{report.pk}/").status_code == 404


def test_the_system_administrator_sees_no_business_data(client, personas, q1):
    c = client_for(client, personas["sysadmin"])
    assert "三员分立" in page_text(c.get("/reporting/"))
    assert "三员分立" in page_text(c.get("/reporting/mine/"))
    assert "三员分立" in page_text(c.get("/reporting/review/"))
    assert c.get(f"/reporting/cycles/{q1.pk}/").status_code == 404
    report = ProgressReport.objects.filter(cycle=q1).first()
    assert c.get(f"/reporting/reports/{report.pk}/").status_code == 404
    assert c.post("/reporting/", {"plan": q1.plan_id}).status_code == 403


def test_the_pages_ask_for_a_login(client, q1):
    for url in (
        "/reporting/",
        "/reporting/mine/",
        "/reporting/review/",
        f"/reporting/cycles/{q1.pk}/",
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- opening a cycle on the page --------------------------------------------------------------


def open_form(plan, **extra):
    data = {
        "plan": plan.pk,
        "frequency": "quarterly",
        "year": 2026,
        "period": 2,
        "due_workdays": 10,
        "on_time_workdays": "",
        "reminder_workdays": 3,
        "escalation_workdays": 2,
    }
    data.update(extra)
    return data


def test_the_coordinator_opens_a_cycle_on_the_page(client, personas, plan, calendar):
    c = client_for(client, personas["coordinator"])
    response = c.post("/reporting/", open_form(plan))
    cycle = ReportingCycle.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/reporting/cycles/{cycle.pk}/"
    assert cycle.label == "2026年第2季度" and cycle.due_workdays == 10
    page = page_text(c.get(response["Location"]))
    assert "已开启“2026年第2季度”" in page and "市交通运输局市" in page


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"period": 5}, "季报的期数应在 1–4 之间，填写的是 5"),
        ({"frequency": "monthly", "period": 13}, "月报的期数应在 1–12 之间"),
        ({"due_workdays": 0}, "报送时限应为 1–60 个工作日"),
        ({"on_time_workdays": 20}, "按时报送时限不能晚于报送截止日期"),
        ({"year": "明年"}, "输入整数"),
    ],
)
def test_a_bad_cycle_is_refused_on_the_form_in_chinese(
    client, personas, plan, calendar, extra, message
):
    c = client_for(client, personas["coordinator"])
    response = c.post("/reporting/", open_form(plan, **extra))
    assert response.status_code == 400 and message in page_text(response)
    assert not ReportingCycle.objects.exists()


def test_an_overlapping_cycle_is_refused_on_the_form(client, personas, plan, q1):
    c = client_for(client, personas["coordinator"])
    response = c.post("/reporting/", open_form(plan, period=1))
    assert response.status_code == 400
    assert "与已有的报送周期“2026年第1季度”" in page_text(response)
    assert ReportingCycle.objects.count() == 1


def test_a_liaison_cannot_open_a_cycle(client, personas, plan, calendar):
    c = client_for(client, personas["nongye"])
    assert c.post("/reporting/", open_form(plan)).status_code == 403
    assert not ReportingCycle.objects.exists()


# --- writing, submitting, reviewing -----------------------------------------------------------


def test_a_report_goes_round_the_cycle_through_the_pages(client, personas, q1):
    nongye, coordinator = personas["nongye"], personas["coordinator"]
    report = reports_of(nongye, q1).first()
    url = f"/reporting/reports/{report.pk}/"
    c = client_for(client, nongye)
    # 报送 without content: saved, not submitted, and the page says what is missing.
    response = c.post(url, write_form(narrative="", step="submit"), follow=True)
    assert "请先填写进展情况再报送" in page_text(response)
    report.refresh_from_db()
    assert report.status == S.DRAFT and report.progress == "on_track"

    response = c.post(url, write_form(step="submit", evidence=evidence_pdf()), follow=True)
    assert "已完成“报送”" in page_text(response)
    report.refresh_from_db()
    assert report.status == S.SUBMITTED and report.narrative == NARRATIVE
    assert report.figures == [{"name": "抽检批次", "value": "1200", "unit": "批次"}]
    attachment = files.attachments_of(report).get()
    assert f"/files/{attachment.pk}/" in page_text(response)
    assert c.get(f"/files/{attachment.pk}/").status_code == 200

    c = client_for(client, coordinator)
    queue = c.get("/reporting/review/")
    assert [r.pk for r in queue.context["page"].object_list] == [report.pk]
    page = page_text(c.get(url))
    assert 'data-testid="step-return"' in page and 'data-testid="step-approve"' in page
    # 退回 needs a reason.
    response = c.post(f"{url}step/", {"step": "return", "reason": " "}, follow=True)
    assert "执行“退回”须填写理由" in page_text(response)
    c.post(
        f"{url}step/", {"step": "return", "reason": "缺少合格率的计算依据", "state": "submitted"}
    )
    report.refresh_from_db()
    assert report.status == S.RETURNED and report.return_count == 1

    c = client_for(client, nongye)
    page = page_text(c.get(url))
    assert "缺少合格率的计算依据" in page and 'data-testid="step-resubmit"' in page
    assert "按退回意见修改后重新报送" in page_text(c.get("/reporting/mine/"))
    c.post(url, write_form(narrative=NARRATIVE + "合格率按国家抽检细则计算。", step="resubmit"))
    report.refresh_from_db()
    assert report.status == S.RESUBMITTED

    c = client_for(client, coordinator)
    c.post(f"{url}step/", {"step": "approve", "state": "resubmitted"})
    report.refresh_from_db()
    assert report.status == S.APPROVED
    history = c.get(url).context["history"]
    assert [t.step_label for t in history] == ["报送", "退回", "重新报送", "审核通过"]
    assert history[1].reason == "缺少合格率的计算依据" and history[1].actor == coordinator
    detail = page_text(c.get(f"/reporting/cycles/{q1.pk}/"))
    total = q1.reports.count()
    assert f"已报送 1 / 应报 {total}" in detail
    assert 'data-testid="approved-count">1 / ' in detail

    c.post(f"/reporting/cycles/{q1.pk}/step/", {"step": "close"})
    q1.refresh_from_db()
    report.refresh_from_db()
    assert q1.status == ReportingCycle.Status.CLOSED and report.status == S.LOCKED


def test_a_stale_review_is_refused_and_changes_nothing(client, personas, q1):
    nongye, coordinator = personas["nongye"], personas["coordinator"]
    report = reports_of(nongye, q1).first()
    client_for(client, nongye).post(f"/reporting/reports/{report.pk}/", write_form(step="submit"))
    c = client_for(client, coordinator)
    c.post(f"/reporting/reports/{report.pk}/step/", {"step": "approve", "state": "submitted"})
    response = c.post(
        f"/reporting/reports/{report.pk}/step/",
        {"step": "return", "reason": "再看看", "state": "submitted"},
        follow=True,
    )
    assert "该记录已被他人处理" in page_text(response)
    report.refresh_from_db()
    assert report.status == S.APPROVED


def test_bad_evidence_on_the_page_is_refused_in_chinese_and_nothing_is_lost(client, personas, q1):
    nongye = personas["nongye"]
    report = reports_of(nongye, q1).first()
    c = client_for(client, nongye)
    fake = SimpleUploadedFile(
        "通报.pdf", b"MZ\x90\x00" + bytes(200), content_type="application/pdf"
    )
    response = c.post(f"/reporting/reports/{report.pk}/", write_form(evidence=fake))
    assert response.status_code == 400
    text = page_text(response)
    assert 'data-testid="report-error"' in text and "通报.pdf" in text
    # What was typed is on the page again; nothing of it was stored.
    assert NARRATIVE in text and 'value="1200"' in text
    report.refresh_from_db()
    assert (report.progress, report.narrative, report.figures) == ("", "", [])
    assert not files.attachments_of(report).exists()
    assert not AuditEvent.objects.filter(action="reporting.report.saved").exists()


def test_a_bad_key_figure_is_refused_in_chinese_and_the_typed_text_stays(client, personas, q1):
    nongye = personas["nongye"]
    report = reports_of(nongye, q1).first()
    c = client_for(client, nongye)
    response = c.post(
        f"/reporting/reports/{report.pk}/",
        write_form(figure_value=["一千二", ""], step="submit"),
    )
    assert response.status_code == 400
    assert "关键数据“抽检批次”的数值“一千二”不是数字" in page_text(response)
    assert NARRATIVE in page_text(response)
    report.refresh_from_db()
    assert report.status == S.DRAFT and report.narrative == ""


def test_a_post_after_locking_gets_the_chinese_refusal(client, personas, q1):
    nongye, coordinator = personas["nongye"], personas["coordinator"]
    report = reports_of(nongye, q1).first()
    c = client_for(client, nongye)
    c.post(f"/reporting/reports/{report.pk}/", write_form(step="submit"))
    take(REPORT, "approve", report, by=coordinator)
    take(REPORT, "lock", report, by=coordinator)
    response = c.post(
        f"/reporting/reports/{report.pk}/", write_form(narrative="改一下", evidence=evidence_pdf())
    )
    assert response.status_code == 409
    assert "报告当前状态为“已锁定”，不能修改" in page_text(response)
    assert 'data-testid="report-form"' not in page_text(response)
    response = c.post(f"/reporting/reports/{report.pk}/step/", {"step": "resubmit"}, follow=True)
    assert "您无权执行此操作" in page_text(response) or "不能执行" in page_text(response)
    report.refresh_from_db()
    assert report.status == S.LOCKED and report.narrative == NARRATIVE
    assert not files.attachments_of(report).exists()


def test_evidence_is_removed_while_the_report_is_written(client, personas, q1):
    nongye = personas["nongye"]
    report = reports_of(nongye, q1).first()
    c = client_for(client, nongye)
    c.post(f"/reporting/reports/{report.pk}/", write_form(evidence=evidence_pdf()))
    attachment = files.attachments_of(report).get()
    response = c.post(
        f"/reporting/reports/{report.pk}/evidence/{attachment.pk}/delete/", follow=True
    )
    assert "已删除佐证材料" in page_text(response)
    assert not files.attachments_of(report).exists()


# --- one unit never reaches another's reports -------------------------------------------------


def test_a_liaison_can_neither_see_nor_change_another_units_report(client, personas, q1):
    nongye, gongxin = personas["nongye"], personas["gongxin"]
    theirs = reports_of(nongye, q1).first()
    client_for(client, nongye).post(
        f"/reporting/reports/{theirs.pk}/", write_form(step="submit", evidence=evidence_pdf())
    )
    attachment = files.attachments_of(theirs).get()
    theirs.refresh_from_db()
    before = (theirs.status, theirs.narrative, theirs.updated_at)
    c = client_for(client, gongxin)
    events = AuditEvent.objects.count()
    base = f"/reporting/reports/{theirs.pk}/"
    assert c.get(base).status_code == 404
    assert c.post(base, write_form(narrative="篡改")).status_code == 404
    assert c.post(f"{base}step/", {"step": "return", "reason": "x"}).status_code == 404
    assert c.post(f"{base}evidence/{attachment.pk}/delete/").status_code == 404
    assert c.get(f"/files/{attachment.pk}/").status_code == 404
    detail = c.get(f"/reporting/cycles/{q1.pk}/")
    assert theirs.pk not in {r.pk for r, _late in detail.context["rows"]}
    assert (
        c.get(f"/reporting/cycles/{q1.pk}/?unit={nongye.unit_id}").context["page"].paginator.count
        == 0
    )
    assert theirs.pk not in {r.pk for r in c.get("/reporting/mine/").context["page"].object_list}
    export = c.get(f"/reporting/cycles/{q1.pk}/export.xlsx")
    rows = list(load_workbook(io.BytesIO(export.content)).active.iter_rows(values_only=True))
    units = {row[2] for row in rows[2:] if row[0] is not None}
    assert units == {gongxin.unit.name}

    theirs.refresh_from_db()
    assert (theirs.status, theirs.narrative, theirs.updated_at) == before
    assert files.attachments_of(theirs).count() == 1
    # Only the export was recorded; nothing about the other unit's report.
    assert list(AuditEvent.objects.order_by("pk")[events:].values_list("action", flat=True)) == [
        "export.xlsx"
    ]
    assert not Transition.objects.filter(actor=gongxin).exists()


# --- filters, paging and the export -----------------------------------------------------------


def test_the_cycle_table_filters_by_status_unit_and_chapter_and_exports_what_it_shows(
    client, personas, q1
):
    nongye, coordinator = personas["nongye"], personas["coordinator"]
    first = reports_of(nongye, q1).first()
    client_for(client, nongye).post(f"/reporting/reports/{first.pk}/", write_form(step="submit"))
    c = client_for(client, coordinator)
    url = f"/reporting/cycles/{q1.pk}/"

    def pks(query):
        page = c.get(url + query).context["page"]
        return {r.pk for r in page.paginator.object_list}

    assert pks("?status=submitted") == {first.pk}
    assert pks(f"?unit={nongye.unit_id}") == set(
        reports_of(nongye, q1).values_list("pk", flat=True)
    )
    chapter = first.measure.chapter_id
    assert pks(f"?chapter={chapter}") == set(
        q1.reports.filter(measure__chapter_id=chapter).values_list("pk", flat=True)
    )
    # Nonsense filters are ignored, not a server error.
    assert len(pks("?status=bogus&unit=abc&chapter=-1")) == q1.reports.count()
    # "²" and "¹²" are digits to str.isdigit() but not to int(): ignored too, no 500.
    assert len(pks("?unit=%C2%B2&chapter=%C2%B9%C2%B2")) == q1.reports.count()
    assert c.get(f"{url}export.xlsx?unit=%C2%B2&chapter=%C2%B2").status_code == 200
    assert "没有符合筛选条件的报告" in page_text(c.get(url + "?status=locked"))

    export = c.get(f"{url}export.xlsx?unit={nongye.unit_id}")
    assert export.status_code == 200
    rows = [
        r
        for r in load_workbook(io.BytesIO(export.content)).active.iter_rows(
            min_row=3, values_only=True
        )
        if r[0] is not None
    ]
    assert len(rows) == reports_of(nongye, q1).count()
    submitted = next(r for r in rows if r[4] == "已报送")
    assert submitted[6] == NARRATIVE and submitted[7] == "抽检批次 1200批次"
    event = AuditEvent.objects.filter(action="export.xlsx").latest("pk")
    assert event.details == {"what": "reporting.cycle_reports", "rows": len(rows)}


def test_the_report_table_marks_late_and_on_time_reports(client, personas, q1):
    # Q1 2026 was due in April; today (the machine's date, later) every unsent report is late.
    nongye = personas["nongye"]
    c = client_for(client, personas["coordinator"])
    page = page_text(c.get(f"/reporting/cycles/{q1.pk}/?unit={nongye.unit_id}"))
    from django.utils import timezone

    if timezone.localdate() > q1.due_date:
        assert "逾期未报" in page and nongye.unit.name in page_text(
            c.get(f"/reporting/cycles/{q1.pk}/")
        )


# --- the county's pre-approval ----------------------------------------------------------------


def test_a_county_bureau_pre_approves_before_the_city_reviews(
    client, personas, county_reporter, plan, calendar
):
    from qcity.reporting import services

    q1 = services.open_cycle(plan, "quarterly", 2026, 1, by=personas["coordinator"]).cycle
    report = reports_of(county_reporter, q1).get()
    client_for(client, county_reporter).post(
        f"/reporting/reports/{report.pk}/", write_form(step="submit")
    )
    coordinator_queue = client_for(client, personas["coordinator"]).get("/reporting/review/")
    assert report.pk not in [r.pk for r in coordinator_queue.context["page"].object_list]

    c = client_for(client, personas["kaiyuan"])
    queue = c.get("/reporting/review/")
    assert [r.pk for r in queue.context["page"].object_list] == [report.pk]
    assert "本县区单位报送、等待县区初审的报告" in page_text(queue)
    assert "等待开原市市场监督管理局初审" in page_text(
        client_for(client, county_reporter).get("/reporting/mine/")
    )
    c = client_for(client, personas["kaiyuan"])
    page = page_text(c.get(f"/reporting/reports/{report.pk}/"))
    assert 'data-testid="step-county_approve"' in page and 'data-testid="step-approve"' not in page
    c.post(f"/reporting/reports/{report.pk}/step/", {"step": "county_approve"})
    report.refresh_from_db()
    assert report.status == S.COUNTY_APPROVED
    coordinator_queue = client_for(client, personas["coordinator"]).get("/reporting/review/")
    assert [r.pk for r in coordinator_queue.context["page"].object_list] == [report.pk]


def test_the_coordinator_closes_and_reopens_a_cycle_with_a_reason(client, personas, q1):
    c = client_for(client, personas["coordinator"])
    url = f"/reporting/cycles/{q1.pk}/step/"
    c.post(url, {"step": "close"})
    q1.refresh_from_db()
    assert q1.status == ReportingCycle.Status.CLOSED
    nongye = personas["nongye"]
    report = reports_of(nongye, q1).first()
    response = client_for(client, nongye).post(f"/reporting/reports/{report.pk}/", write_form())
    assert response.status_code == 409 and "已关闭，报告不能再修改" in page_text(response)
    assert "报送周期已关闭，未报送" in page_text(client.get("/reporting/mine/"))
    c = client_for(client, personas["coordinator"])
    response = c.post(url, {"step": "reopen"}, follow=True)
    assert "须填写理由" in page_text(response)
    c.post(url, {"step": "reopen", "reason": "农业农村局申请延期补报"})
    q1.refresh_from_db()
    assert q1.status == ReportingCycle.Status.OPEN
    # A liaison has no such button, and the step is refused if posted anyway.
    response = client_for(client, nongye).post(url, {"step": "close"}, follow=True)
    assert "您无权执行此操作" in page_text(response)
    q1.refresh_from_db()
    assert q1.status == ReportingCycle.Status.OPEN


def test_a_wrong_method_on_a_reporting_page_is_a_405(client, personas, q1):
    c = client_for(client, personas["coordinator"])
    report = ProgressReport.objects.filter(cycle=q1).first()
    assert c.put("/reporting/").status_code == 405
    assert c.delete(f"/reporting/reports/{report.pk}/").status_code == 405
    assert c.post("/reporting/mine/").status_code == 405
