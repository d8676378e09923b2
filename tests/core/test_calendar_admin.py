"""录入年度节假日安排 in the admin, and the standing notice until next year is entered."""

import datetime as dt

import pytest
import time_machine

from qcity.core import workdays
from qcity.core.models import AuditEvent, CalendarDay, CalendarYear, User

pytestmark = pytest.mark.django_db

D = dt.date
ENTER = "/admin/core/calendaryear/enter/"


@pytest.fixture
def staff(calendar, personas):
    User.objects.filter(username="sysadmin").update(is_staff=True)
    return {name: User.objects.get(username=name) for name in personas}


def entry(year=2027, make_up="2027-02-20 春节调休上班", **rows) -> dict:
    holidays = rows.get(
        "holidays",
        [
            ("元旦", "2027-01-01", "2027-01-03"),
            ("春节", "2027-02-05", "2027-02-12"),
            ("国庆节", "2027-10-01", "2027-10-07"),
        ],
    )
    data = {
        "year": year,
        "source": "国务院办公厅关于2027年部分节假日安排的通知",
        "make_up_days": make_up,
        "holidays-TOTAL_FORMS": len(holidays) + 1,
        "holidays-INITIAL_FORMS": 0,
        "holidays-MIN_NUM_FORMS": 0,
        "holidays-MAX_NUM_FORMS": 1000,
    }
    for i, (name, start, end) in enumerate(holidays):
        data |= {f"holidays-{i}-name": name, f"holidays-{i}-start": start, f"holidays-{i}-end": end}
    return data


def test_the_form_starts_from_the_statutory_holidays_of_the_year(client, staff):
    client.force_login(staff["sysadmin"])
    page = client.get(ENTER + "?year=2027").content.decode()
    assert "录入年度节假日安排" in page
    assert 'value="2027"' in page
    # 除夕 to 初三 of 2027 as one prefilled row.
    assert 'value="春节"' in page and 'value="2027-02-05"' in page and 'value="2027-02-08"' in page


def test_it_enters_a_year_in_one_go(client, staff):
    client.force_login(staff["sysadmin"])
    before = workdays.current_version()
    response = client.post(ENTER, entry())
    assert response.status_code == 302
    assert CalendarYear.objects.filter(year=2027).exists()
    assert CalendarDay.objects.filter(date__year=2027, is_workday=False).count() == 18
    assert CalendarDay.objects.get(date=D(2027, 2, 20)).is_workday
    assert workdays.current_version() > before
    assert not workdays.is_workday(D(2027, 10, 7))
    assert workdays.is_workday(D(2027, 2, 20))  # a Saturday, 调休上班
    event = AuditEvent.objects.get(action="calendar.year_entered")
    assert event.actor == staff["sysadmin"]
    assert event.details["make_up_days"] == ["2027-02-20"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (entry(make_up="2027-02-22"), "调休上班日 2027-02-22 不是周六或周日"),
        (entry(make_up="2027-13-01"), "第 1 行：无法识别的日期"),
        (entry(make_up="2027-02-06"), "2027-02-06 既是假日"),
        (entry(make_up="2026-12-26"), "调休上班日 2026-12-26 不在 2027 年内"),
        (entry(holidays=[("元旦", "2026-12-31", "2027-01-02")]), "“元旦”的日期不在 2027 年内"),
        (
            entry(
                holidays=[("春节", "2027-02-05", "2027-02-12"), ("假", "2027-02-12", "2027-02-13")]
            ),
            "2027-02-12 同时出现在“春节”和“假”中",
        ),
        (
            entry(holidays=[("国庆节", "2027-10-07", "2027-10-01")]),
            "“国庆节”的结束日期早于开始日期",
        ),
        (entry(holidays=[("国庆节", "2027-10-01", "2027-12-01")]), "“国庆节”超过 15 天"),
        (entry(holidays=[]), "至少录入一个假期"),
        (entry(year=2026), "2026 年的节假日安排已录入"),
        (
            entry(holidays=[("", "2027-10-01", "2027-10-03")]),
            "请同时填写假期名称、开始日期和结束日期",
        ),
    ],
)
def test_it_refuses_an_inconsistent_entry_and_stores_nothing(client, staff, data, message):
    client.force_login(staff["sysadmin"])
    days_before = CalendarDay.objects.count()
    version_before = workdays.current_version()
    response = client.post(ENTER, data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert CalendarDay.objects.count() == days_before
    assert not CalendarYear.objects.filter(year=2027).exists()
    assert workdays.current_version() == version_before
    assert not AuditEvent.objects.filter(action="calendar.year_entered").exists()


@pytest.mark.parametrize("persona", ["coordinator", "secadmin", "auditadmin"])
def test_only_the_system_administrator_enters_a_year(client, staff, persona):
    User.objects.filter(username__in=["secadmin", "auditadmin"]).update(is_staff=True)
    client.force_login(User.objects.get(username=persona))
    assert client.get(ENTER).status_code in (302, 403)
    assert client.post(ENTER, entry()).status_code in (302, 403)
    assert not CalendarYear.objects.filter(year=2027).exists()


def test_a_bare_year_row_cannot_be_added_in_the_admin(client, staff):
    client.force_login(staff["sysadmin"])
    assert client.get("/admin/core/calendaryear/add/").status_code == 403
    assert ENTER in client.get("/admin/core/calendaryear/").content.decode()


# --- the standing notice -------------------------------------------------------------------------

NOTICE = 'data-testid="calendar-notice"'


def page_at(client, user, when: dt.datetime, page: str = "/admin/") -> str:
    with time_machine.travel(when, tick=False):
        client.force_login(user)  # a fresh session: the idle timeout counts in real time
        response = client.get(page)
        assert response.status_code == 200
        return response.content.decode()


@pytest.mark.parametrize("page", ["/admin/", "/"])
def test_the_system_administrator_sees_the_notice_from_1_november(client, staff, page):
    sysadmin = staff["sysadmin"]
    # 16:00 UTC on 31 October is midnight in Beijing: the notice starts then.
    assert NOTICE not in page_at(
        client, sysadmin, dt.datetime(2026, 10, 31, 15, 59, tzinfo=dt.UTC), page
    )
    text = page_at(client, sysadmin, dt.datetime(2026, 10, 31, 16, 0, tzinfo=dt.UTC), page)
    assert "2027 年节假日安排尚未录入：在此之前 2027 年的期限按暂定日历计算" in text
    assert ENTER + "?year=2027" in text
    assert NOTICE in page_at(client, sysadmin, dt.datetime(2026, 12, 31, 9, tzinfo=dt.UTC), page)


def test_the_notice_stays_into_the_new_year_and_ends_when_the_year_is_entered(client, staff):
    sysadmin = staff["sysadmin"]
    when = dt.datetime(2027, 1, 5, 9, 0, tzinfo=dt.UTC)
    assert "2027 年节假日安排尚未录入" in page_at(client, sysadmin, when)
    with time_machine.travel(when, tick=False):
        assert client.post(ENTER, entry()).status_code == 302
    assert NOTICE not in page_at(client, sysadmin, when)
    assert NOTICE not in page_at(client, sysadmin, when, "/")


def test_other_users_never_see_the_notice(client, staff):
    when = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
    assert NOTICE not in page_at(client, staff["coordinator"], when, "/")
    assert NOTICE in page_at(client, staff["sysadmin"], when, "/")
