import datetime as dt
import os

import pytest
from django.core.management import call_command
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qcity.core import services, workdays
from qcity.core.models import AuditEvent, CalendarDay, CalendarYear
from qcity.core.workdays import CalendarUnknown, add_workdays, is_workday, workdays_between

D = dt.date


@pytest.fixture(autouse=True)
def _calendar(calendar):
    pass


def test_it_counts_the_national_day_make_up_saturdays_of_2025_as_working_days():
    assert is_workday(D(2025, 9, 28))  # Sunday, 调休上班
    assert is_workday(D(2025, 10, 11))  # Saturday, 调休上班
    assert not is_workday(D(2025, 10, 1))
    assert not is_workday(D(2025, 10, 8))


def test_it_counts_day_one_as_the_next_working_day():
    # Friday 2025-09-26 → Sunday 28th is a make-up working day.
    assert add_workdays(D(2025, 9, 26), 1) == D(2025, 9, 28)
    # A working day itself never counts.
    assert add_workdays(D(2025, 9, 29), 1) == D(2025, 9, 30)


def test_it_skips_the_whole_national_day_holiday_of_2025():
    # 9-30 (Tue) + 1 → holiday 10-1…10-8, next working day Thursday 10-9.
    assert add_workdays(D(2025, 9, 30), 1) == D(2025, 10, 9)
    assert add_workdays(D(2025, 9, 30), 3) == D(2025, 10, 11)
    assert add_workdays(D(2025, 9, 27), 6) == D(2025, 10, 11)
    assert add_workdays(D(2025, 9, 27), 7) == D(2025, 10, 13)


def test_it_counts_a_seven_working_day_deadline_across_the_holiday():
    # Received on 2025-09-25 (Thu): 26, 28, 29, 30, 10-9, 10-10, 10-11.
    assert add_workdays(D(2025, 9, 25), 7) == D(2025, 10, 11)
    assert workdays_between(D(2025, 9, 25), D(2025, 10, 11)) == 7


def test_it_refuses_dates_past_the_known_calendar():
    last = CalendarYear.objects.order_by("-year").first().year
    with pytest.raises(CalendarUnknown) as excinfo:
        add_workdays(D(last + 1, 3, 2), 1)
    assert f"{last + 1} 年" in str(excinfo.value)
    assert excinfo.value.code == "calendar_unknown"


def test_it_refuses_a_deadline_that_runs_off_the_end_of_the_calendar():
    last = CalendarYear.objects.order_by("-year").first().year
    with pytest.raises(CalendarUnknown):
        add_workdays(D(last, 12, 30), 5)


def test_it_uses_the_table_so_an_edit_takes_effect():
    # An extra holiday declared locally (e.g. a weather closure) is honoured at once.
    CalendarDay.objects.create(
        date=D(2025, 9, 29), is_workday=False, name="临时停工", source="manual"
    )
    assert add_workdays(D(2025, 9, 28), 1) == D(2025, 9, 30)


def test_it_accepts_a_new_year_added_by_hand():
    last = CalendarYear.objects.order_by("-year").first().year
    CalendarYear.objects.create(year=last + 1, source="国务院办公厅通知")
    CalendarDay.objects.create(
        date=D(last + 1, 1, 1), is_workday=False, name="元旦", source="manual"
    )
    assert not is_workday(D(last + 1, 1, 1))


def test_it_loads_the_calendar_idempotently(calendar):
    from qcity.core.workdays import load_chinese_calendar

    assert load_chinese_calendar() == (0, 0)


def test_it_sees_an_edit_made_in_this_process_at_once():
    assert is_workday(D(2025, 9, 29))
    day = CalendarDay.objects.create(date=D(2025, 9, 29), is_workday=False, name="临时停工")
    assert not is_workday(D(2025, 9, 29))
    day.delete()
    assert is_workday(D(2025, 9, 29))


# --- calendar versions -----------------------------------------------------------------------


def test_it_forgets_a_holiday_whose_transaction_rolled_back():
    assert is_workday(D(2025, 9, 29))
    with pytest.raises(RuntimeError), transaction.atomic():
        CalendarDay.objects.create(date=D(2025, 9, 29), is_workday=False, name="临时停工")
        assert not is_workday(D(2025, 9, 29))  # inside the transaction the edit counts
        raise RuntimeError("the edit is abandoned")
    assert is_workday(D(2025, 9, 29))


def test_it_bumps_the_version_in_the_writing_transaction():
    before = workdays.current_version()
    day = CalendarDay.objects.create(date=D(2025, 9, 29), is_workday=False, name="临时停工")
    assert workdays.current_version() == before + 1
    day.delete()
    assert workdays.current_version() == before + 2
    with pytest.raises(RuntimeError), transaction.atomic():
        CalendarYear.objects.create(year=2040, source="试")
        assert workdays.current_version() == before + 3
        raise RuntimeError
    assert workdays.current_version() == before + 2


def test_a_rolled_back_version_number_reused_by_another_edit_is_not_mistaken_for_it():
    # The rolled-back edit and the next real one both end up as version N+1; the
    # stamp tells them apart, so the real edit is seen.
    with pytest.raises(RuntimeError), transaction.atomic():
        CalendarDay.objects.create(date=D(2025, 9, 29), is_workday=False, name="撤销的停工")
        assert not is_workday(D(2025, 9, 29))
        raise RuntimeError
    CalendarDay.objects.create(date=D(2025, 9, 30), is_workday=False, name="临时停工")
    assert is_workday(D(2025, 9, 29))
    assert not is_workday(D(2025, 9, 30))


# --- deadlines past the known calendar ---------------------------------------------------------


def test_it_computes_a_deadline_into_2027_provisionally_skipping_new_year_and_weekends():
    assert not CalendarYear.objects.filter(year=2027).exists()
    # Friday 2026-12-25 + 7: 28, 29, 30, 31 Dec; 1 Jan 2027 (元旦, fixed by the Decree)
    # and the weekend are skipped; 4, 5, 6 Jan.
    result = workdays.deadline(D(2026, 12, 25), 7, rule="complaint.accept")
    assert result == workdays.Deadline(
        due=D(2027, 1, 6),
        rule="complaint.accept",
        calendar_version=workdays.current_version(),
        provisional=True,
    )
    with pytest.raises(CalendarUnknown):
        add_workdays(D(2026, 12, 25), 7)  # the strict form still refuses


def test_a_deadline_inside_the_known_calendar_is_not_provisional():
    result = workdays.deadline(D(2025, 9, 25), 7)
    assert (result.due, result.provisional) == (D(2025, 10, 11), False)
    assert workdays.deadline(D(2026, 12, 18), 5).provisional is False  # ends 2026-12-25


def test_a_provisional_year_skips_the_lunar_holidays_and_the_2025_decree_days():
    # 2027: 除夕 2-5 (Fri) and 春节 初一至初三 2-6…2-8; 清明 4-5; 劳动节 5-1, 5-2 fall on a
    # weekend; 端午 6-9; 中秋 9-15; 国庆 10-1…10-3. 补休 days are unknown: 2-9 counts.
    for day in [D(2027, 2, 5), D(2027, 2, 8), D(2027, 4, 5), D(2027, 6, 9), D(2027, 9, 15)]:
        assert not is_workday(day, allow_provisional=True), day
    assert is_workday(D(2027, 2, 4), allow_provisional=True)
    assert is_workday(D(2027, 2, 9), allow_provisional=True)
    assert workdays.deadline(D(2027, 2, 4), 1).due == D(2027, 2, 9)


def test_the_overdue_count_is_signed():
    due = D(2025, 10, 9)  # Thursday after the National Day holiday
    # 10, 11 (make-up Saturday) and 13 October: overdue by three working days.
    assert workdays_between(due, D(2025, 10, 13)) == 3
    assert workdays_between(D(2025, 10, 13), due) == -3  # three working days left
    assert workdays_between(due, due) == 0
    # Friday deadline, Saturday: a calendar day late, not yet a working day.
    assert workdays_between(D(2025, 10, 17), D(2025, 10, 18)) == 0
    with pytest.raises(CalendarUnknown):
        workdays_between(D(2026, 12, 30), D(2027, 1, 5))
    assert workdays_between(D(2026, 12, 30), D(2027, 1, 5), allow_provisional=True) == 3


def test_every_statutory_holiday_of_the_decrees_is_a_holiday_in_the_real_data_2015_2026():
    import chinese_calendar

    missing = [
        (day, name)
        for year in range(2015, 2027)
        for day, name in workdays.statutory_holidays(year).items()
        if not chinese_calendar.is_holiday(day)
    ]
    assert missing == []
    # And the Decree-795 days are there from 2025 on: 除夕 and 2 May.
    assert D(2025, 1, 28) in workdays.statutory_holidays(2025)
    assert D(2025, 5, 2) in workdays.statutory_holidays(2025)
    assert D(2024, 2, 9) not in workdays.statutory_holidays(2024)  # 除夕 2024, Decree 644


def test_it_finds_qingming_on_the_official_days():
    import chinese_calendar

    for year in range(2015, 2027):
        day = workdays.qingming(year)
        assert chinese_calendar.get_holiday_detail(day)[1] == "Tomb-sweeping Day", day


# --- entering a year recomputes provisional deadlines ------------------------------------------

NEW_YEAR_2027 = [services.HolidayRange("元旦", D(2027, 1, 1), D(2027, 1, 4))]


@pytest.fixture
def stored_deadlines():
    """What a later app (complaints, reports) keeps: start, count and the Deadline."""
    store = {
        "投诉 1 受理期限": (D(2026, 12, 25), 7, workdays.deadline(D(2026, 12, 25), 7, rule="r")),
        "投诉 2 受理期限": (D(2025, 9, 25), 7, workdays.deadline(D(2025, 9, 25), 7, rule="r")),
    }

    def recompute(year):
        for label, (start, n, old) in store.items():
            if old.provisional:
                new = workdays.deadline(start, n, rule=old.rule)
                store[label] = (start, n, new)
                yield workdays.Recomputed(obj=None, old=old, new=new, label=label)

    workdays.register_provisional(recompute)
    yield store
    workdays.unregister_provisional(recompute)


def test_entering_2027_recomputes_each_provisional_deadline_with_an_audit_event(
    stored_deadlines, personas
):
    old = stored_deadlines["投诉 1 受理期限"][2]
    # The notice (hypothetically) gives Monday 4 January as 补休.
    changes = services.enter_calendar_year(2027, NEW_YEAR_2027, [], by=personas["sysadmin"])
    new = stored_deadlines["投诉 1 受理期限"][2]
    assert (new.due, new.provisional) == (D(2027, 1, 7), False)
    assert new.calendar_version > old.calendar_version
    assert [c.label for c in changes] == ["投诉 1 受理期限"]
    event = AuditEvent.objects.get(action="calendar.deadline_recomputed")
    assert event.actor == personas["sysadmin"]
    assert event.details["old"] == old.as_api() | {"due": "2027-01-06"}
    assert event.details["new"]["due"] == "2027-01-07"
    assert event.details["new"]["provisional"] is False
    entered = AuditEvent.objects.get(action="calendar.year_entered")
    assert entered.details["year"] == 2027
    assert CalendarYear.objects.filter(year=2027).exists()
    assert not is_workday(D(2027, 1, 4))  # the known calendar now, strict form works
    assert stored_deadlines["投诉 2 受理期限"][2].provisional is False


def test_a_failing_recomputer_leaves_the_year_unentered(stored_deadlines, personas):
    def broken(year):
        raise RuntimeError("recomputer failed")
        yield  # pragma: no cover

    workdays.register_provisional(broken)
    try:
        with pytest.raises(RuntimeError):
            services.enter_calendar_year(2027, NEW_YEAR_2027, [], by=personas["sysadmin"])
    finally:
        workdays.unregister_provisional(broken)
    assert not CalendarYear.objects.filter(year=2027).exists()
    assert not CalendarDay.objects.filter(date__year=2027).exists()
    assert (
        not AuditEvent.objects.filter(action__startswith="calendar.")
        .exclude(action="calendar.loaded")
        .exists()
    )
    assert workdays.deadline(D(2026, 12, 25), 7).provisional


def test_deadline_display_and_api_shape_mark_provisional_deadlines():
    from qcity.core.api import DeadlineOut
    from qcity.core.templatetags.deadlines import deadline_display

    provisional = workdays.deadline(D(2026, 12, 25), 7, rule="r")
    assert deadline_display(provisional) == "2027-01-06（暂定）"
    assert deadline_display(workdays.deadline(D(2025, 9, 25), 7)) == "2025-10-11"
    assert deadline_display(provisional.as_api()) == "2027-01-06（暂定）"
    assert deadline_display(None) == ""
    assert DeadlineOut.from_orm(provisional).model_dump(mode="json") == {
        "due": "2027-01-06",
        "rule": "r",
        "provisional": True,
        "calendar_version": provisional.calendar_version,
    }


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    # 30 working days are at most about 45 calendar days: a start up to the end of October
    # keeps every due date inside the known calendar (which ends on 2026-12-31).
    start=st.dates(min_value=D(2015, 1, 1), max_value=D(2026, 10, 31)),
    n=st.integers(min_value=1, max_value=30),
)
def test_a_known_deadline_agrees_with_the_strict_count(start, n):
    result = workdays.deadline(start, n)
    assert not result.provisional
    assert result.due == add_workdays(start, n)
    assert workdays_between(start, result.due) == n
    assert workdays_between(result.due, start) == -n
    assert is_workday(result.due)


def test_load_calendar_bringing_a_year_back_recomputes_deadlines_into_it(stored_deadlines):
    # As when a newer chinese-calendar release brings the next year.
    CalendarDay.objects.filter(date__year=2026).delete()
    CalendarYear.objects.filter(year=2026).delete()
    start = D(2026, 2, 12)
    old = workdays.deadline(start, 3, rule="r")
    # Provisional: 13 Feb, then 除夕…初三 (16-19 Feb) and the weekends are skipped: 20, 23.
    assert (old.due, old.provisional) == (D(2026, 2, 23), True)
    stored_deadlines["投诉 3 受理期限"] = (start, 3, old)
    call_command("load_calendar", stdout=open(os.devnull, "w"))
    new = stored_deadlines["投诉 3 受理期限"][2]
    # The real 2026: Saturday 14 Feb is a make-up working day, 15-23 Feb are off.
    assert (new.due, new.provisional) == (D(2026, 2, 24), False)
    # 投诉 1 still runs into 2027: re-derived, but no news, so not audited.
    assert AuditEvent.objects.filter(action="calendar.deadline_recomputed").count() == 1


def test_a_snapshot_counts_a_whole_list_from_one_checked_calendar(django_assert_num_queries):
    workdays.snapshot()  # loaded once
    with django_assert_num_queries(1):  # the version check, nothing else
        calendar = workdays.snapshot()
    dues = [D(2025, 9, 1) + dt.timedelta(days=i) for i in range(50)]
    with django_assert_num_queries(0):
        overdue = [calendar.between(due, D(2025, 10, 13)) for due in dues]
        result = calendar.deadline(D(2026, 12, 25), 7)
    assert overdue[0] == workdays_between(D(2025, 9, 1), D(2025, 10, 13))
    assert overdue[-1] == workdays_between(dues[-1], D(2025, 10, 13))
    assert (result.due, result.provisional) == (D(2027, 1, 6), True)
