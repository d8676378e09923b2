"""The enterprise's ODR pages and the bureau's enrolment page."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from qcity.complaints import odr
from qcity.complaints.models import Case, OdrEnrolment, Payment
from tests.complaints.helpers import XIFENG_BUREAU, enterprise_user, make_case, make_entity

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("calendar")]

BEIJING = dt.timezone(dt.timedelta(hours=8))
TODAY = dt.datetime(2026, 10, 9, 10, tzinfo=BEIJING)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def shop(personas):
    entity = make_entity(name="开原市恒信商贸有限公司")
    user = enterprise_user(entity, "hengxin")
    odr.enrol(entity.pk, by=personas["kaiyuan"], joined_on=dt.date(2026, 9, 1))
    return entity, user


def odr_case(entity, received_on: dt.date, **fields) -> Case:
    case = make_case(entity=entity, received_on=received_on, **fields)
    assert odr.dispatch(case)
    case.save()
    return case


def test_the_inbox_lists_odr_complaints_first_with_days_left_and_nothing_else(client, shop):
    entity, user = shop
    closed = make_case(entity=entity, status=Case.Status.CLOSED, received_on=dt.date(2026, 10, 8))
    waiting = odr_case(entity, dt.date(2026, 9, 29))  # due 2026-10-19
    report = make_case(kind=Case.Kind.REPORT, entity=entity, linked_case=waiting)
    theirs = make_case(entity=make_entity(name="开原市别家超市"))
    client.force_login(user)
    page = client.get("/complaints/odr/")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.index(waiting.number) < html.index(closed.number)
    # 10-09 → 10-19: 10-10 (make-up Saturday), 12, 13, 14, 15, 16, 19.
    assert "剩余 7 个工作日" in html
    assert report.number not in html and theirs.number not in html
    assert "举报" not in html


def test_the_case_page_shows_the_complaint_with_the_complainant_masked(client, shop):
    entity, user = shop
    case = odr_case(
        entity, dt.date(2026, 9, 29), name="欧阳锋", phone="13912345678", request="退货"
    )
    report = make_case(kind=Case.Kind.REPORT, entity=entity, linked_case=case, name="举报人甲")
    Case.objects.filter(pk=case.pk).update(linked_case=report)
    client.force_login(user)
    html = client.get(f"/complaints/odr/{case.pk}/").content.decode()
    assert "欧**" in html and "139****5678" in html
    assert "欧阳锋" not in html and "13912345678" not in html
    assert report.number not in html and "举报人甲" not in html and "关联" not in html
    assert 'data-testid="settle-form"' in html
    # A report, even about the enterprise, is absent; so is another county's complaint.
    assert client.get(f"/complaints/odr/{report.pk}/").status_code == 404
    other = make_case(bureau=XIFENG_BUREAU)
    assert client.get(f"/complaints/odr/{other.pk}/").status_code == 404


def test_the_enterprise_settles_on_its_page(client, shop, django_capture_on_commit_callbacks):
    entity, user = shop
    case = odr_case(entity, dt.date(2026, 9, 29))
    client.force_login(user)
    url = f"/complaints/odr/{case.pk}/settle/"
    bad = client.post(url, {"agreed": "退款", "amount": "-1"})
    assert bad.status_code == 400 and "金额须大于零" in bad.content.decode()
    assert 'value="-1"' in bad.content.decode()  # what was typed is kept
    case.refresh_from_db()
    assert case.status == Case.Status.ODR
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(url, {"agreed": "<b>退款</b>299元", "amount": "299"})
    assert done.status_code == 302
    case.refresh_from_db()
    assert case.outcome == Case.Outcome.ODR_SETTLED
    page = client.get(done["Location"]).content.decode()
    assert "&lt;b&gt;退款&lt;/b&gt;299元" in page and "<b>退款</b>" not in page
    assert 'data-testid="agreed"' in page
    assert 'data-testid="settle-form"' not in page
    # A replayed post meets a closed case: a clear refusal, nothing changes.
    again = client.post(url, {"agreed": "退款", "amount": "299"})
    assert again.status_code == 400 and Payment.objects.count() == 1


def test_the_enterprise_declines_with_a_reason_and_records_a_first_payment(client, shop):
    entity, user = shop
    case = odr_case(entity, dt.date(2026, 9, 29))
    client.force_login(user)
    missing = client.post(f"/complaints/odr/{case.pk}/decline/", {"reason": ""})
    assert missing.status_code == 400 and "须填写理由" in missing.content.decode()
    assert client.post(f"/complaints/odr/{case.pk}/decline/", {"reason": "无法联系消费者"})[
        "Location"
    ].endswith(f"/complaints/odr/{case.pk}/")
    case.refresh_from_db()
    assert case.status == Case.Status.RECEIVED
    future = client.post(
        f"/complaints/odr/{case.pk}/pay/", {"amount": "50", "paid_on": "2026-10-10"}
    )
    assert future.status_code == 400 and "不能晚于今天" in future.content.decode()
    client.post(f"/complaints/odr/{case.pk}/pay/", {"amount": "50", "note": "先行赔付"})
    [payment] = Payment.objects.all()
    assert (payment.kind, payment.amount) == (Payment.Kind.ADVANCE, Decimal("50.00"))


def test_officers_and_other_users_cannot_use_the_enterprise_pages(client, shop, personas):
    entity, _user = shop
    case = odr_case(entity, dt.date(2026, 9, 29))
    client.force_login(personas["kaiyuan"])
    assert client.get("/complaints/odr/").status_code == 403
    assert client.post(f"/complaints/odr/{case.pk}/settle/", {"agreed": "x"}).status_code == 403
    client.force_login(personas["enterprise"])  # an enterprise account with no entity
    assert client.get("/complaints/odr/").status_code == 403
    client.logout()
    assert client.get("/complaints/odr/").status_code == 302


def test_the_bureau_enrols_and_removes_entities_of_its_own_county(client, personas):
    entity = make_entity(name="开原市新入驻商店")
    enterprise_user(entity)
    bare = make_entity(name="开原市无账户商店")
    client.force_login(personas["kaiyuan"])
    refused = client.post("/complaints/odr/enrolments/", {"code": bare.code})
    assert refused.status_code == 400 and "企业账户" in refused.content.decode()
    unknown = client.post("/complaints/odr/enrolments/", {"code": "91211282MA0000000X"})
    assert unknown.status_code == 400 and "管辖范围内没有" in unknown.content.decode()
    assert client.post("/complaints/odr/enrolments/", {"code": entity.code}).status_code == 302
    assert "开原市新入驻商店" in client.get("/complaints/odr/enrolments/").content.decode()

    # Another county neither sees nor enrols it.
    client.force_login(personas["xifeng"])
    assert "开原市新入驻商店" not in client.get("/complaints/odr/enrolments/").content.decode()
    assert client.post("/complaints/odr/enrolments/", {"code": entity.code}).status_code == 400

    client.force_login(personas["kaiyuan"])
    client.post("/complaints/odr/enrolments/", {"code": entity.code, "action": "leave"})
    [row] = OdrEnrolment.objects.filter(entity=entity)
    assert row.left_on == dt.date(2026, 10, 9)

    client.force_login(personas["enterprise"])
    assert client.get("/complaints/odr/enrolments/").status_code == 403
