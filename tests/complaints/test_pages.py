"""The officers' 12315 pages: list, filters, search, export, a case, its steps, the rulebook.

County B (西丰) sees nothing of county A (开原) on the list, the detail, the export, a step
or a reveal; an enterprise (even the respondent) and the public get nothing here.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from openpyxl import load_workbook

from qcity.complaints.models import Case, Category
from qcity.core import rulebook
from qcity.core.models import AuditEvent, OrgUnit
from tests.complaints.helpers import (
    XIFENG_BUREAU,
    enterprise_user,
    make_case,
    make_entity,
)

pytestmark = pytest.mark.django_db

TODAY = dt.datetime(2026, 6, 10, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def frozen():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def two_counties(personas, calendar, frozen):
    entity = make_entity(name="开原家电城")
    kaiyuan = make_case(
        entity=entity,
        name="张三丰",
        phone="13800138000",
        id_number="211282199001011234",
        due_on=dt.date(2026, 6, 9),
        due_rule="complaint.accept@order121",
    )
    xifeng = make_case(
        bureau=XIFENG_BUREAU,
        respondent_name="西丰百货商店",
        name="李四",
        phone="13900139000",
        due_on=dt.date(2026, 6, 12),
        due_rule="complaint.accept@order121",
    )
    return kaiyuan, xifeng, entity


def page_forms(client, case) -> list:
    return client.get(f"/complaints/{case.number}/").context["step_forms"]


def numbers(response) -> set[str]:
    return {row["case"].number for row in response.context["rows"]}


# --- the list -------------------------------------------------------------------------------


def test_a_county_sees_its_own_cases_masked_and_nothing_of_another_county(
    client, personas, two_counties
):
    kaiyuan, xifeng, _entity = two_counties
    client.force_login(personas["kaiyuan"])
    response = client.get("/complaints/")
    assert response.status_code == 200
    assert numbers(response) == {kaiyuan.number}
    html = response.content.decode()
    assert xifeng.number not in html and "西丰百货商店" not in html
    assert "张**" in html and "138****8000" in html
    assert "13800138000" not in html and "张三丰" not in html


def test_the_city_bureau_sees_every_county_and_filters_by_one(client, personas, two_counties):
    kaiyuan, xifeng, _entity = two_counties
    client.force_login(personas["coordinator"])
    assert numbers(client.get("/complaints/")) == {kaiyuan.number, xifeng.number}
    unit = OrgUnit.objects.get(name=XIFENG_BUREAU)
    assert numbers(client.get("/complaints/", {"unit": unit.pk})) == {xifeng.number}


def test_xifeng_cannot_filter_its_way_into_kaiyuan(client, personas, two_counties):
    kaiyuan, _xifeng, _entity = two_counties
    client.force_login(personas["xifeng"])
    unit = OrgUnit.objects.get(name="开原市市场监督管理局")
    response = client.get("/complaints/", {"unit": unit.pk, "q": kaiyuan.number})
    assert response.status_code == 200
    assert numbers(response) == set()
    html = response.content.decode()
    assert 'data-testid="case-row"' not in html
    assert f'href="/complaints/{kaiyuan.number}/"' not in html
    # 开原 is not even offered as a unit to filter by.
    assert "开原市市场监督管理局" not in html


def test_it_filters_by_kind_status_overdue_due_window_dates_and_category(
    client, personas, two_counties
):
    kaiyuan, xifeng, _entity = two_counties
    food = Category.objects.create(code="T01", name="测试食品", kind=Category.Kind.GOODS)
    report = make_case(
        kind=Case.Kind.REPORT,
        received_on=dt.date(2026, 5, 4),
        category=food,
        due_on=dt.date(2026, 6, 30),
    )
    closed = make_case(status=Case.Status.CLOSED, due_on=dt.date(2026, 5, 1))
    client.force_login(personas["coordinator"])
    everyone = {kaiyuan.number, xifeng.number, report.number, closed.number}
    assert numbers(client.get("/complaints/")) == everyone
    assert numbers(client.get("/complaints/", {"kind": "report"})) == {report.number}
    assert numbers(client.get("/complaints/", {"status": "closed"})) == {closed.number}
    # Overdue: open and past its due date (a closed case is never overdue).
    assert numbers(client.get("/complaints/", {"overdue": "on"})) == {kaiyuan.number}
    # Within 2 working days of Wednesday 2026-06-10: up to Friday the 12th.
    assert numbers(client.get("/complaints/", {"due_within": "2"})) == {xifeng.number}
    assert numbers(
        client.get("/complaints/", {"received_from": "2026-05-01", "received_to": "2026-05-31"})
    ) == {report.number}
    assert numbers(client.get("/complaints/", {"category": food.pk})) == {report.number}


def test_it_searches_by_number_respondent_name_and_code(client, personas, two_counties):
    kaiyuan, xifeng, entity = two_counties
    client.force_login(personas["coordinator"])
    assert numbers(client.get("/complaints/", {"q": kaiyuan.number})) == {kaiyuan.number}
    assert numbers(client.get("/complaints/", {"q": "百货"})) == {xifeng.number}
    assert numbers(client.get("/complaints/", {"q": entity.code.lower()})) == {kaiyuan.number}


def test_it_finds_a_complainant_by_the_whole_phone_number_only(client, personas, two_counties):
    kaiyuan, _xifeng, _entity = two_counties
    client.force_login(personas["coordinator"])
    assert numbers(client.get("/complaints/", {"phone": "13800138000"})) == {kaiyuan.number}
    # Same number written differently: the keyed hash normalises it.
    assert numbers(client.get("/complaints/", {"phone": "138-0013-8000"})) == {kaiyuan.number}
    # A fragment finds nothing: there is no LIKE over ciphertext.
    response = client.get("/complaints/", {"phone": "8000"})
    assert numbers(response) == set()
    assert "完整号码" in response.content.decode()


def test_bad_filter_values_are_named_and_not_applied(client, personas, two_counties):
    client.force_login(personas["kaiyuan"])
    response = client.get(
        "/complaints/",
        {
            "received_from": "2026-13-45",
            "due_within": "-3",
            "phone": "<script>",
            "kind": "nonsense",
            "page": "999",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="filter-error-received_from"' in html
    assert 'data-testid="filter-error-due_within"' in html
    assert 'data-testid="filter-error-phone"' in html
    assert "<script>" not in html
    assert len(response.context["rows"]) == 1  # the invalid filters were left out


def test_an_empty_list_says_why_and_what_to_do(client, personas, org_units, calendar):
    client.force_login(personas["xifeng"])
    html = client.get("/complaints/").content.decode()
    assert 'data-testid="empty-reason"' in html and "本单位还没有投诉举报件" in html
    client.force_login(personas["coordinator"])
    html = client.get("/complaints/", {"q": "没有这个"}).content.decode()
    assert "没有符合筛选条件" in html and "清除筛选" in html


def test_the_list_pages_and_counts(client, personas, calendar, frozen):
    for _n in range(53):
        make_case()
    client.force_login(personas["kaiyuan"])
    first = client.get("/complaints/")
    assert len(first.context["rows"]) == 50
    assert first.context["total"] == 53
    assert 'data-testid="count-received">53<' in first.content.decode()
    assert len(client.get("/complaints/", {"page": "2"}).context["rows"]) == 3


# --- the export -----------------------------------------------------------------------------


def rows_of(response) -> list[tuple]:
    sheet = load_workbook(io.BytesIO(response.content)).active
    return list(sheet.iter_rows(min_row=3, values_only=True))


def test_the_export_holds_the_filtered_scoped_list_masked_and_is_audited(
    client, personas, two_counties
):
    kaiyuan, xifeng, _entity = two_counties
    client.force_login(personas["xifeng"])
    response = client.get("/complaints/export.xlsx")
    assert response.status_code == 200
    rows = rows_of(response)
    assert [r[0] for r in rows] == [xifeng.number]
    assert rows[0][6] == "李*" and rows[0][7] == "139****9000"
    flat = repr(rows)
    assert kaiyuan.number not in flat and "13900139000" not in flat
    event = AuditEvent.objects.filter(action="export.xlsx").latest("id")
    assert event.details == {"what": "complaints.cases", "rows": 1}
    assert event.actor == personas["xifeng"]

    client.force_login(personas["coordinator"])
    filtered = rows_of(client.get("/complaints/export.xlsx", {"overdue": "on"}))
    assert [r[0] for r in filtered] == [kaiyuan.number]


# --- one case -------------------------------------------------------------------------------


def test_a_case_shows_its_deadline_rule_article_version_and_calendar(
    client, personas, calendar, frozen
):
    case = make_case(received_on=dt.date(2026, 4, 14), due_on=dt.date(2026, 4, 23))
    case.due_rule = "complaint.accept@order20"
    case.due_calendar_version = "7"
    case.save()
    client.force_login(personas["kaiyuan"])
    response = client.get(f"/complaints/{case.number}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "总局令第20号" in html and rulebook.ORDER20_TITLE in html
    assert "第十四条" in html and "7个工作日" in html
    assert 'data-testid="calendar-version">7<' in html
    # Received before 2026-04-15: the setting on pending cases is shown on the case.
    assert "COMPLAINT_PENDING_CASES_RULES=received" in html
    assert 'data-testid="overdue"' in html


def test_a_deadline_past_the_known_calendar_is_marked_provisional(client, personas, calendar):
    with time_machine.travel(dt.datetime(2026, 12, 20, 9, tzinfo=dt.UTC), tick=False):
        case = make_case(received_on=dt.date(2026, 12, 18))
        from qcity.complaints import services
        from qcity.core.workflow import take

        take(services.COMPLAINT, "accept", case.pk, by=personas["kaiyuan"])
        client.force_login(personas["kaiyuan"])
        html = client.get(f"/complaints/{case.number}/").content.decode()
    assert 'data-testid="provisional"' in html
    assert "complaint.mediation@order121" in html


def test_another_county_the_enterprise_and_the_public_get_nothing_of_a_case(
    client, personas, two_counties
):
    kaiyuan, _xifeng, entity = two_counties
    url = f"/complaints/{kaiyuan.number}/"
    client.force_login(personas["xifeng"])
    assert client.get(url).status_code == 404
    # The respondent's own account: its ODR pages are elsewhere; the officers' pages are not.
    client.force_login(enterprise_user(entity))
    for path in (url, "/complaints/", "/complaints/export.xlsx"):
        assert client.get(path).status_code == 403
    assert client.post(f"{url}steps/accept/").status_code == 403
    assert client.post(f"{url}reveal/").status_code == 403
    for persona in ("nongye", "inspector", "sysadmin"):
        client.force_login(personas[persona])
        assert client.get(url).status_code == 403
    client.logout()
    for path in (url, "/complaints/", "/complaints/export.xlsx"):
        response = client.get(path)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.post(f"{url}steps/accept/").status_code == 302
    kaiyuan.refresh_from_db()
    assert kaiyuan.status == Case.Status.RECEIVED


def test_the_linked_case_is_shown_only_when_visible(client, personas, two_counties):
    kaiyuan, xifeng, _entity = two_counties
    report = make_case(kind=Case.Kind.REPORT, linked_case=kaiyuan)
    kaiyuan.linked_case = xifeng  # a link across counties (after a transfer)
    kaiyuan.save()
    client.force_login(personas["kaiyuan"])
    html = client.get(f"/complaints/{kaiyuan.number}/").content.decode()
    assert report.number in html
    assert xifeng.number not in html


# --- steps ----------------------------------------------------------------------------------


def test_an_officer_accepts_a_case_from_its_form_and_sees_the_timeline(
    client, personas, two_counties
):
    kaiyuan, _xifeng, _entity = two_counties
    client.force_login(personas["kaiyuan"])
    detail = client.get(f"/complaints/{kaiyuan.number}/").content.decode()
    assert 'data-testid="step-accept"' in detail and 'data-testid="step-refuse"' in detail
    response = client.post(
        f"/complaints/{kaiyuan.number}/steps/accept/", {"state": "received"}, follow=True
    )
    assert response.status_code == 200
    kaiyuan.refresh_from_db()
    assert kaiyuan.status == Case.Status.ACCEPTED
    html = response.content.decode()
    assert "已完成“受理”" in html
    assert 'data-testid="timeline-entry"' in html and "待受理 → 已受理待调解" in html
    assert 'data-testid="step-mediate"' in html


def test_a_refusal_needs_a_ground_of_the_cases_own_rules(client, personas, two_counties):
    kaiyuan, _xifeng, _entity = two_counties
    client.force_login(personas["kaiyuan"])
    page = client.get(f"/complaints/{kaiyuan.number}/").content.decode()
    # Order 121 (received 2026-06-01): seven grounds, the sixth about false identity.
    assert "冒用他人名义" in page
    url = f"/complaints/{kaiyuan.number}/steps/refuse/"
    missing = client.post(url, {"state": "received", "refuse-reason": "材料不全"})
    assert missing.status_code == 400
    assert "这个字段是必填项" in missing.content.decode() or "必填" in missing.content.decode()
    not_a_ground = client.post(
        url, {"state": "received", "refuse-ground": "9", "refuse-reason": "x"}
    )
    assert not_a_ground.status_code == 400
    kaiyuan.refresh_from_db()
    assert kaiyuan.status == Case.Status.RECEIVED
    # Order 121 Art.15: a refusal names the other routes (消保法 Art.39); the form ticks all
    # five, and the officer may narrow them.
    form = next(f for f in page_forms(client, kaiyuan) if f.step.name == "refuse")
    assert form["routes"].initial == [
        "negotiate",
        "association",
        "complaint",
        "arbitration",
        "litigation",
    ]
    done = client.post(
        url,
        {
            "state": "received",
            "refuse-ground": "6",
            "refuse-reason": "冒名",
            "refuse-routes": ["arbitration", "litigation"],
        },
    )
    assert done.status_code == 302
    kaiyuan.refresh_from_db()
    assert (kaiyuan.status, kaiyuan.outcome, kaiyuan.outcome_ground) == ("closed", "refused", "6")
    html = client.get(f"/complaints/{kaiyuan.number}/").content.decode()
    assert "第十六条（6）冒用他人名义" in html
    # The timeline names the routes the officer kept, and only those.
    assert "向人民法院提起诉讼" in html and "与经营者协商和解" not in html


def test_a_refused_step_shows_the_workflow_message_in_chinese(client, personas, two_counties):
    kaiyuan, _xifeng, _entity = two_counties
    client.force_login(personas["kaiyuan"])
    # Someone else accepted it meanwhile: the form's state is stale.
    kaiyuan.status = Case.Status.ACCEPTED
    kaiyuan.save()
    stale = client.post(f"/complaints/{kaiyuan.number}/steps/accept/", {"state": "received"})
    assert stale.status_code == 409
    assert "已被他人处理" in stale.content.decode()
    wrong_state = client.post(f"/complaints/{kaiyuan.number}/steps/accept/")
    assert wrong_state.status_code == 409
    assert "不能执行“受理”" in wrong_state.content.decode()
    assert client.post(f"/complaints/{kaiyuan.number}/steps/nonsense/").status_code == 404


def test_another_county_cannot_take_a_step_on_a_case(client, personas, two_counties):
    kaiyuan, _xifeng, _entity = two_counties
    client.force_login(personas["xifeng"])
    response = client.post(f"/complaints/{kaiyuan.number}/steps/accept/", {"state": "received"})
    assert response.status_code == 404
    kaiyuan.refresh_from_db()
    assert kaiyuan.status == Case.Status.RECEIVED
    assert not AuditEvent.objects.filter(action="complaints.case.accept").exists()


def test_a_transfer_offers_the_other_bureaus_and_needs_a_reason(client, personas, two_counties):
    kaiyuan, _xifeng, _entity = two_counties
    xifeng_bureau = OrgUnit.objects.get(name=XIFENG_BUREAU)
    client.force_login(personas["kaiyuan"])
    page = client.get(f"/complaints/{kaiyuan.number}/")
    transfer = next(f for f in page.context["step_forms"] if f.step.name == "transfer")
    offered = dict(transfer.fields["to_unit"].choices)
    assert xifeng_bureau.pk in offered and kaiyuan.owner_unit_id not in offered
    url = f"/complaints/{kaiyuan.number}/steps/transfer/"
    assert client.post(url, {"transfer-to_unit": xifeng_bureau.pk}).status_code == 400
    done = client.post(
        url, {"transfer-to_unit": xifeng_bureau.pk, "transfer-reason": "经营地在西丰"}
    )
    assert done.status_code == 302
    kaiyuan.refresh_from_db()
    assert kaiyuan.owner_unit == xifeng_bureau
    # Now it is West Feng's: Kaiyuan no longer sees it.
    assert client.get(f"/complaints/{kaiyuan.number}/").status_code == 404


# --- the rulebook page ----------------------------------------------------------------------


def test_the_rules_page_lists_every_rule_with_its_article_validity_and_settings(
    client, personas, settings
):
    settings.COMPLAINT_ODR_WORKDAYS = 12
    client.force_login(personas["kaiyuan"])
    response = client.get("/complaints/rules/")
    assert response.status_code == 200
    html = response.content.decode()
    for rule in rulebook.all_rules():
        assert f'data-testid="rule-{rule.name}-{rule.version}"' in html
    assert "第二十三条第一款第（五）项" in html and "2026-04-14" in html
    assert html.count('data-testid="configurable"') == sum(
        1 for r in rulebook.all_rules() if r.configured
    )
    assert "12个工作日" in html
    assert 'data-testid="setting-COMPLAINT_ODR_WORKDAYS">12<' in html
    assert 'data-testid="setting-COMPLAINT_MEDIATION_FROM_2024">order20<' in html
    for g in rulebook.GROUNDS:
        assert f'data-testid="grounds-{g.name}-{g.version}"' in html


def test_the_nav_shows_complaints_to_bureaus_only(client, personas, two_counties):
    client.force_login(personas["kaiyuan"])
    assert 'data-testid="nav-complaints"' in client.get("/complaints/rules/").content.decode()
    client.force_login(personas["nongye"])
    assert 'data-testid="nav-complaints"' not in client.get("/complaints/rules/").content.decode()


def test_hostile_text_is_shown_as_text(client, personas, calendar, frozen):
    case = make_case(
        respondent_name="<b>坏</b>商店",
        facts='<script>alert("x")</script>漏电',
        request="<img src=x onerror=alert(1)>",
    )
    client.force_login(personas["kaiyuan"])
    listing = client.get("/complaints/").content.decode()
    assert "&lt;b&gt;坏&lt;/b&gt;商店" in listing and "<b>坏</b>" not in listing
    page = client.get(f"/complaints/{case.number}/").content.decode()
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;漏电" in page
    assert "<script>alert" not in page and "<img src=x" not in page


@pytest.mark.parametrize(("choice", "shown"), [("order20", "（默认）"), ("regulation", "非默认")])
def test_a_case_from_2024_to_2026_shows_which_mediation_period_the_setting_chose(
    client, personas, calendar, settings, frozen, choice, shown
):
    settings.COMPLAINT_MEDIATION_FROM_2024 = choice
    case = make_case(received_on=dt.date(2025, 3, 3), status=Case.Status.CLOSED)
    client.force_login(personas["kaiyuan"])
    html = client.get(f"/complaints/{case.number}/").content.decode()
    assert f"COMPLAINT_MEDIATION_FROM_2024={choice}" in html and shown in html
    later = make_case(received_on=dt.date(2026, 5, 4))
    html = client.get(f"/complaints/{later.number}/").content.decode()
    assert "COMPLAINT_MEDIATION_FROM_2024" not in html
    assert "COMPLAINT_PENDING_CASES_RULES" not in html
