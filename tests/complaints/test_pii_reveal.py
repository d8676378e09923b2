"""查看完整信息: the handling officer sees the complainant's phone and ID number in full,
and every display is audited by field name, never by value; nobody else sees them."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from qcity.complaints import services
from qcity.complaints.models import Case
from qcity.core.models import AuditEvent
from qcity.core.workflow import Forbidden, NotFound
from tests.complaints.helpers import enterprise_user, make_case, make_entity
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

PHONE = "13800138000"
ID_NUMBER = "211282199001011234"


@pytest.fixture
def case(personas, calendar):
    return make_case(
        entity=make_entity(),
        name="张三丰",
        phone=PHONE,
        id_number=ID_NUMBER,
        person_address="开原市新华路1号",
        received_on=dt.date(2026, 6, 1),
    )


def reveals() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="complaints.case.pii_viewed").order_by("id"))


def test_the_handling_officer_sees_the_full_data_and_each_display_is_audited(
    client, personas, case
):
    client.force_login(personas["kaiyuan"])
    page = client.get(f"/complaints/{case.number}/").content.decode()
    assert PHONE not in page and ID_NUMBER not in page and "张三丰" not in page
    assert 'data-testid="reveal"' in page

    for _time in range(2):
        response = client.post(f"/complaints/{case.number}/reveal/")
        assert response.status_code == 200
        html = response.content.decode()
        assert f'data-testid="full-phone">{PHONE}<' in html
        assert f'data-testid="full-id">{ID_NUMBER}<' in html
        assert "张三丰" in html and "开原市新华路1号" in html
        assert "no-store" in response["Cache-Control"]

    events = reveals()
    assert len(events) == 2  # every display, not once per officer
    for event in events:
        assert event.success and event.actor == personas["kaiyuan"]
        assert event.object_id == str(case.pk)
        assert event.details == {
            "fields": ["person_name", "person_phone", "person_id_number", "person_address"]
        }
        stored = json.dumps(event.details, ensure_ascii=False)
        assert PHONE not in stored and ID_NUMBER not in stored and "张三丰" not in stored


def test_another_county_gets_404_and_leaves_no_trace(client, personas, case):
    client.force_login(personas["xifeng"])
    assert client.post(f"/complaints/{case.number}/reveal/").status_code == 404
    assert reveals() == []
    with pytest.raises(NotFound):
        services.reveal_person(personas["xifeng"], case.pk)


def test_the_city_bureau_supervises_a_countys_case_but_does_not_see_the_person(
    client, personas, case
):
    client.force_login(personas["coordinator"])
    page = client.get(f"/complaints/{case.number}/").content.decode()
    assert 'data-testid="reveal"' not in page
    response = client.post(f"/complaints/{case.number}/reveal/")
    assert response.status_code == 403
    html = response.content.decode()
    assert PHONE not in html and ID_NUMBER not in html
    assert "只有承办单位的办案人员" in html
    [refused] = reveals()
    assert not refused.success and refused.actor == personas["coordinator"]
    assert refused.details["refused"] == "not_handling_officer"


def test_the_city_bureau_sees_the_person_on_a_case_it_handles_itself(client, personas, calendar):
    own = make_case(bureau="市市场监管局", phone=PHONE)
    client.force_login(personas["coordinator"])
    response = client.post(f"/complaints/{own.number}/reveal/")
    assert response.status_code == 200
    assert PHONE in response.content.decode()


def test_a_colleague_of_another_unit_below_the_county_cannot_reveal(personas, case):
    # A station officer is below the county bureau but does not own the case.
    station_officer = make_user("station", "county_officer", "开原市城区市场监督管理所")
    with pytest.raises((Forbidden, NotFound)):
        services.reveal_person(station_officer, case.pk)


def test_the_enterprise_and_the_public_cannot_reveal(client, personas, case):
    client.force_login(enterprise_user(case.respondent_entity))
    assert client.post(f"/complaints/{case.number}/reveal/").status_code == 403
    with pytest.raises(NotFound):
        services.reveal_person(enterprise_user(make_entity(), "ent_other"), case.pk)
    client.logout()
    assert client.post(f"/complaints/{case.number}/reveal/").status_code == 302
    assert reveals() == []


def test_reveal_is_a_post_only(client, personas, case):
    client.force_login(personas["kaiyuan"])
    assert client.get(f"/complaints/{case.number}/reveal/").status_code == 405
    assert reveals() == []


def test_an_anonymous_report_has_nothing_to_reveal(client, personas, calendar):
    report = make_case(kind=Case.Kind.REPORT, anonymous=True, name="", phone="")
    client.force_login(personas["kaiyuan"])
    page = client.get(f"/complaints/{report.number}/").content.decode()
    assert "匿名举报" in page and 'data-testid="reveal"' not in page
    assert client.post(f"/complaints/{report.number}/reveal/").status_code == 403
