import datetime as dt

import pytest

from qcity.core.models import CalendarDay, CalendarYear
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
