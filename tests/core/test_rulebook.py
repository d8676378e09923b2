"""The dated rulebook: hand-counted deadlines of every rule under both Orders.

Every expected date below is counted by hand from the State Council's holiday notices as
the loaded calendar holds them (chinese-calendar's table), never by calling the code under
test. The days that matter (H = day off, W = 调休 working weekend day):

    2026  元旦 1-1…1-3 H, 1-4 (Sun) W        春节 2-15 (Sun)…2-23 (Mon) H, 2-14 (Sat) W, 2-28 (Sat) W
          清明 4-4 (Sat)…4-6 (Mon) H         劳动节 5-1 (Fri)…5-5 (Tue) H, 5-9 (Sat) W
          端午 6-19 (Fri)…6-21 (Sun) H       中秋 9-25 (Fri)…9-27 (Sun) H, 9-20 (Sun) W
          国庆 10-1 (Thu)…10-7 (Wed) H, 10-10 (Sat) W
    2024  no holiday between 7-2 and 9-3.

Order 20 governs cases received up to 2026-04-14, Order 121 from 2026-04-15. The start day
is never counted (Order 121 Art.45; 民法典 Art.201).
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from qcity.complaints import mediation, odr, reports, routing, services
from qcity.complaints.models import Case
from qcity.core import rulebook, workdays
from qcity.core.models import CalendarDay
from qcity.core.rulebook import (
    BadSuspension,
    DateOutOfRange,
    NoExtension,
    NotSuspendable,
    RuleNotInForce,
    UnknownRule,
    case_deadline,
    deadline,
)
from qcity.core.workflow import take
from tests.complaints.helpers import make_case

D = dt.date
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _calendar(calendar):
    """Every test here counts with the loaded 2026 holiday table."""


def due(name: str, start: dt.date, **kw) -> tuple[dt.date, str]:
    d = deadline(name, start, **kw)
    return d.due, d.rule


# --- complaint.accept: 7 working days from receipt (Order 20 Art.14, Order 121 Art.15) ------


def test_it_gives_order_20_seven_working_days_to_accept_across_the_spring_festival():
    # Received Thu 2-12: 2-13 (1), 2-14 Sat W (2), 2-15…2-23 off, 2-24 (3), 2-25 (4),
    # 2-26 (5), 2-27 (6), 2-28 Sat W (7).
    assert due("complaint.accept", D(2026, 2, 12)) == (D(2026, 2, 28), "complaint.accept@order20")


def test_it_gives_order_20_seven_working_days_to_accept_across_qingming():
    # Received Thu 4-2: 4-3 (1), 4-4…4-6 off, 4-7 (2), 4-8 (3), 4-9 (4), 4-10 (5), 4-13 (6),
    # 4-14 (7).
    assert due("complaint.accept", D(2026, 4, 2)) == (D(2026, 4, 14), "complaint.accept@order20")


def test_it_gives_order_121_seven_working_days_to_accept_across_labour_day():
    # Received Thu 4-30: 5-1…5-5 off, 5-6 (1), 5-7 (2), 5-8 (3), 5-9 Sat W (4), 5-11 (5),
    # 5-12 (6), 5-13 (7).
    assert due("complaint.accept", D(2026, 4, 30)) == (D(2026, 5, 13), "complaint.accept@order121")


def test_it_gives_order_121_seven_working_days_to_accept_across_national_day():
    # Received Tue 9-29: 9-30 (1), 10-1…10-7 off, 10-8 (2), 10-9 (3), 10-10 Sat W (4),
    # 10-12 (5), 10-13 (6), 10-14 (7).
    assert due("complaint.accept", D(2026, 9, 29)) == (
        D(2026, 10, 14),
        "complaint.accept@order121",
    )


def test_a_complaint_received_on_the_14th_is_under_order_20_and_on_the_15th_under_order_121():
    # Tue 4-14: 4-15 (1) … 4-17 (3), 4-20 (4) … 4-23 (7).
    before = case_deadline(D(2026, 4, 14), "complaint.accept", D(2026, 4, 14))
    # Wed 4-15: 4-16 (1), 4-17 (2), 4-20 (3) … 4-24 (7).
    after = case_deadline(D(2026, 4, 15), "complaint.accept", D(2026, 4, 15))
    assert (before.due, before.rule) == (D(2026, 4, 23), "complaint.accept@order20")
    assert (after.due, after.rule) == (D(2026, 4, 24), "complaint.accept@order121")
    assert rulebook.describe(before.rule).citation == "《市场监督管理投诉举报处理暂行办法》第十四条"
    assert rulebook.describe(after.rule).citation == "《市场监督管理投诉举报处理办法》第十五条"


# --- complaint.mediation: 45 working days (Order 20) or 60 days (regulation, Order 121) -----


def test_order_20_mediation_is_45_working_days_from_acceptance_across_the_spring_festival():
    # Accepted Mon 1-5: 1-6…1-9 (1-4), 1-12…1-16 (5-9), 1-19…1-23 (10-14), 1-26…1-30 (15-19),
    # 2-2…2-6 (20-24), 2-9…2-13 (25-29), 2-14 W (30), 2-24…2-27 (31-34), 2-28 W (35),
    # 3-2…3-6 (36-40), 3-9…3-13 (41-45).
    assert due("complaint.mediation", D(2026, 1, 5), on=D(2026, 1, 4)) == (
        D(2026, 3, 13),
        "complaint.mediation@order20",
    )


def test_the_suspended_clock_adds_working_days_under_order_20():
    # 45 + 5 suspended = 50: from 3-13 (45), 3-16 (46) … 3-20 (50).
    assert due("complaint.mediation", D(2026, 1, 5), on=D(2026, 1, 4), suspended=5) == (
        D(2026, 3, 20),
        "complaint.mediation@order20",
    )


def test_order_121_mediation_is_60_days_and_a_sunday_end_rolls_to_monday():
    # Accepted Wed 6-3: 6-30 is day 27, 7-31 day 58, 8-2 (Sun) day 60 → Mon 8-3.
    assert due("complaint.mediation", D(2026, 6, 3)) == (
        D(2026, 8, 3),
        "complaint.mediation@order121",
    )


def test_the_suspended_clock_adds_calendar_days_under_order_121():
    # 60 + 10 = 70: 6-30 is day 27, 7-31 day 58, 8-12 (Wed) day 70.
    assert due("complaint.mediation", D(2026, 6, 3), suspended=10) == (
        D(2026, 8, 12),
        "complaint.mediation@order121",
    )


def test_a_calendar_day_period_ending_in_the_national_day_holiday_ends_the_day_after_it():
    # Accepted Mon 8-3: 8-31 is day 28, 9-30 day 58, 10-2 (Fri, 国庆) day 60; the holiday
    # runs to 10-7, so the period ends on Thu 10-8.
    assert due("complaint.mediation", D(2026, 8, 3))[0] == D(2026, 10, 8)


def test_a_calendar_day_period_ending_on_a_make_up_working_saturday_does_not_roll():
    # Accepted Tue 8-11: 8-31 is day 20, 9-30 day 50, 10-10 (Sat, 调休上班) day 60.
    assert due("complaint.mediation", D(2026, 8, 11))[0] == D(2026, 10, 10)


def test_an_ordinary_weekend_end_stays_when_weekends_are_not_holidays(settings):
    settings.COMPLAINT_WEEKEND_IS_HOLIDAY = False
    # Accepted 6-3: day 60 is Sun 8-2, not a statutory holiday: it stays.
    assert due("complaint.mediation", D(2026, 6, 3))[0] == D(2026, 8, 2)
    # A statutory holiday still rolls: 10-2 (day 60 from 8-3) → 10-8.
    assert due("complaint.mediation", D(2026, 8, 3))[0] == D(2026, 10, 8)


def test_the_mediation_setting_picks_order_20_by_default_between_2024_and_2026():
    # Received Sun 2026-01-04, in the overlap: default order20 → 45 working days (3-13).
    assert due("complaint.mediation", D(2026, 1, 5), on=D(2026, 1, 4)) == (
        D(2026, 3, 13),
        "complaint.mediation@order20",
    )


def test_the_regulation_setting_gives_60_days_to_cases_received_from_2024_07_01(settings):
    settings.COMPLAINT_MEDIATION_FROM_2024 = "regulation"
    # Accepted Mon 1-5: 1-31 is day 26, 2-28 day 54, 3-6 (Fri) day 60.
    assert due("complaint.mediation", D(2026, 1, 5), on=D(2026, 1, 4)) == (
        D(2026, 3, 6),
        "complaint.mediation@regulation",
    )
    # Accepted Thu 2025-12-18: 12-31 is day 13, 1-31 day 44, 2-16 (春节) day 60; the
    # holiday runs to 2-23, so Tue 2-24.
    assert due("complaint.mediation", D(2025, 12, 18))[0] == D(2026, 2, 24)
    # Accepted Tue 2025-12-30: 12-31 is day 1, 1-31 day 32, 2-28 (Sat, 调休上班) day 60.
    assert due("complaint.mediation", D(2025, 12, 30))[0] == D(2026, 2, 28)
    cited = rulebook.describe("complaint.mediation@regulation").citation
    assert cited == "《中华人民共和国消费者权益保护法实施条例》第四十六条第三款"


def test_the_regulation_setting_does_not_reach_cases_received_before_2024_07_01(settings):
    settings.COMPLAINT_MEDIATION_FROM_2024 = "regulation"
    # Received 2024-06-30, accepted Tue 7-2: Order 20's 45 working days: 7-3…7-5 (1-3),
    # 7-8…7-12 (4-8), 7-15… (9-13), 7-22… (14-18), 7-29…8-2 (19-23), 8-5… (24-28),
    # 8-12… (29-33), 8-19… (34-38), 8-26…8-30 (39-43), 9-2 (44), 9-3 (45).
    assert due("complaint.mediation", D(2024, 7, 2), on=D(2024, 6, 30)) == (
        D(2024, 9, 3),
        "complaint.mediation@order20",
    )
    assert due("complaint.mediation", D(2024, 7, 2), on=D(2024, 7, 1))[1] == (
        "complaint.mediation@regulation"
    )


def test_order_121_governs_from_the_15th_whatever_the_mediation_setting(settings):
    settings.COMPLAINT_MEDIATION_FROM_2024 = "regulation"
    assert due("complaint.mediation", D(2026, 4, 20), on=D(2026, 4, 15))[1] == (
        "complaint.mediation@order121"
    )


# --- the change of rules for a case still open on 2026-04-15 --------------------------------


def test_a_case_received_on_the_14th_keeps_order_20_for_a_clock_started_after_the_change():
    # Received Tue 4-14, accepted Mon 4-20 → Order 20, 45 working days: 4-21…4-24 (1-4),
    # 4-27…4-30 (5-8), 5-1…5-5 off, 5-6…5-8 (9-11), 5-9 W (12), 5-11…5-15 (13-17),
    # 5-18… (18-22), 5-25… (23-27), 6-1… (28-32), 6-8… (33-37), 6-15…6-18 (38-41),
    # 6-19…6-21 off, 6-22…6-25 (42-45).
    d = case_deadline(D(2026, 4, 14), "complaint.mediation", D(2026, 4, 20))
    assert (d.due, d.rule) == (D(2026, 6, 25), "complaint.mediation@order20")


def test_a_case_received_on_the_15th_has_60_days_from_acceptance():
    # Accepted Mon 4-20: 4-30 is day 10, 5-31 day 41, 6-19 (端午) day 60; the holiday runs
    # to Sun 6-21, so Mon 6-22.
    d = case_deadline(D(2026, 4, 15), "complaint.mediation", D(2026, 4, 20))
    assert (d.due, d.rule) == (D(2026, 6, 22), "complaint.mediation@order121")


def test_the_current_setting_moves_a_clock_started_after_the_change_to_order_121(settings):
    settings.COMPLAINT_PENDING_CASES_RULES = "current"
    # Received 4-14 but accepted 4-20: Order 121's 60 days, as counted above → 6-22.
    d = case_deadline(D(2026, 4, 14), "complaint.mediation", D(2026, 4, 20))
    assert (d.due, d.rule) == (D(2026, 6, 22), "complaint.mediation@order121")
    # A clock started before the change keeps the received date's rules: accepted Mon 4-13,
    # 45 working days: 4-14…4-17 (1-4), 4-20…4-24 (5-9), 4-27…4-30 (10-13), 5-6…5-8 (14-16),
    # 5-9 W (17), 5-11… (18-22), 5-18… (23-27), 5-25… (28-32), 6-1… (33-37), 6-8… (38-42),
    # 6-15…6-17 (43-45).
    early = case_deadline(D(2026, 4, 10), "complaint.mediation", D(2026, 4, 13))
    assert (early.due, early.rule) == (D(2026, 6, 17), "complaint.mediation@order20")
    assert rulebook.case_version(D(2026, 4, 14), D(2026, 4, 20)) == "order121"
    assert rulebook.case_version(D(2026, 4, 14), D(2026, 4, 13)) == "order20"


def test_the_grounds_follow_the_case_and_the_pending_cases_setting(settings):
    assert (
        len(rulebook.case_grounds(D(2026, 4, 14), "complaint.refusal", D(2026, 4, 16)).items) == 6
    )
    assert (
        len(rulebook.case_grounds(D(2026, 4, 15), "complaint.refusal", D(2026, 4, 16)).items) == 7
    )
    settings.COMPLAINT_PENDING_CASES_RULES = "current"
    refusal = rulebook.case_grounds(D(2026, 4, 14), "complaint.refusal", D(2026, 4, 16))
    assert (refusal.version, refusal.article, len(refusal.items)) == ("order121", "第十六条", 7)
    termination = rulebook.case_grounds(D(2026, 4, 14), "complaint.termination", D(2026, 4, 13))
    assert (termination.version, len(termination.items)) == ("order20", 7)


# --- complaint.termination_notice: 7 working days (Order 20 Art.21(2), Order 121 Art.23(2)) --


def test_the_termination_notice_is_due_in_seven_working_days_under_both_orders():
    # Order 20, decided Thu 2-12: 2-13 (1), 2-14 W (2), 2-24 (3) … 2-27 (6), 2-28 W (7).
    assert due("complaint.termination_notice", D(2026, 2, 12)) == (
        D(2026, 2, 28),
        "complaint.termination_notice@order20",
    )
    # Order 121, decided Wed 6-17: 6-18 (1), 6-19…6-21 off, 6-22 (2) … 6-26 (6), 6-29 (7).
    assert due("complaint.termination_notice", D(2026, 6, 17)) == (
        D(2026, 6, 29),
        "complaint.termination_notice@order121",
    )


def test_the_termination_notice_is_not_suspended_nor_extended():
    with pytest.raises(NotSuspendable, match="不因鉴定、检测而扣除"):
        deadline("complaint.termination_notice", D(2026, 6, 17), suspended=3)
    with pytest.raises(NoExtension, match="没有可以延长的期限"):
        deadline("complaint.termination_notice", D(2026, 6, 17), extended=True)


# --- complaint.lead_check: 15 (+15) working days (Order 20 Art.23, Order 121 Art.27) --------


def test_order_20_checks_a_lead_in_15_working_days_and_30_when_extended():
    # Found Thu 2-12: 2-13 (1), 2-14 W (2), 2-24…2-27 (3-6), 2-28 W (7), 3-2…3-6 (8-12),
    # 3-9 (13), 3-10 (14), 3-11 (15).
    assert due("complaint.lead_check", D(2026, 2, 12)) == (
        D(2026, 3, 11),
        "complaint.lead_check@order20",
    )
    # +15: 3-12, 3-13 (16-17), 3-16…3-20 (18-22), 3-23…3-27 (23-27), 3-30, 3-31, 4-1 (28-30).
    assert due("complaint.lead_check", D(2026, 2, 12), extended=True)[0] == D(2026, 4, 1)
    assert not rulebook.rule("complaint.lead_check", D(2026, 2, 12)).extension_needs_approval


def test_order_121_checks_a_lead_across_mid_autumn_and_national_day_and_needs_approval():
    # Found Thu 9-24: 9-25…9-27 off, 9-28…9-30 (1-3), 10-1…10-7 off, 10-8 (4), 10-9 (5),
    # 10-10 W (6), 10-12…10-16 (7-11), 10-19…10-22 (12-15).
    assert due("complaint.lead_check", D(2026, 9, 24)) == (
        D(2026, 10, 22),
        "complaint.lead_check@order121",
    )
    # +15: 10-23 (16), 10-26…10-30 (17-21), 11-2…11-6 (22-26), 11-9…11-12 (27-30).
    assert due("complaint.lead_check", D(2026, 9, 24), extended=True)[0] == D(2026, 11, 12)
    assert rulebook.rule("complaint.lead_check", D(2026, 9, 24)).extension_needs_approval


# --- report.verify: 15 (+15) working days (行政处罚程序规定 Art.18 via Art.31 / Art.35) -------


def test_a_report_received_on_the_14th_and_one_on_the_15th():
    # Order 20, received Tue 4-14: 4-15…4-17 (1-3), 4-20…4-24 (4-8), 4-27…4-30 (9-12),
    # 5-1…5-5 off, 5-6 (13), 5-7 (14), 5-8 (15).
    assert due("report.verify", D(2026, 4, 14)) == (D(2026, 5, 8), "report.verify@order20")
    # Order 121, received Wed 4-15: 4-16, 4-17 (1-2), 4-20…4-24 (3-7), 4-27…4-30 (8-11),
    # 5-6…5-8 (12-14), 5-9 Sat W (15).
    assert due("report.verify", D(2026, 4, 15)) == (D(2026, 5, 9), "report.verify@order121")
    assert rulebook.describe("report.verify@order121").citation == (
        "《市场监督管理投诉举报处理办法》第三十五条、《市场监督管理行政处罚程序规定》第十八条"
    )


def test_a_report_check_is_extended_and_suspended_in_working_days():
    # From 5-9 (15): 5-11…5-15 (16-20), 5-18…5-22 (21-25), 5-25…5-29 (26-30).
    assert due("report.verify", D(2026, 4, 15), extended=True)[0] == D(2026, 5, 29)
    # 15 + 3 suspended: 5-11 (16), 5-12 (17), 5-13 (18).
    assert due("report.verify", D(2026, 4, 15), suspended=3)[0] == D(2026, 5, 13)
    # 15 + 15 + 3 = 33: 5-29 (30), 6-1 (31), 6-2 (32), 6-3 (33).
    assert due("report.verify", D(2026, 4, 15), suspended=3, extended=True)[0] == D(2026, 6, 3)


# --- report.notify: Order 20 Art.31(2) only ---------------------------------------------------


def test_order_20_tells_a_real_name_reporter_within_five_working_days():
    # Decided Thu 2-12: 2-13 (1), 2-14 W (2), 2-24 (3), 2-25 (4), 2-26 (5).
    assert due("report.notify", D(2026, 2, 12)) == (D(2026, 2, 26), "report.notify@order20")


def test_order_121_has_no_five_day_notice_to_the_reporter():
    with pytest.raises(RuleNotInForce) as excinfo:
        deadline("report.notify", D(2026, 4, 15))
    assert excinfo.value.code == "rule_not_in_force"
    assert "report.notify 在 2026-04-15 不适用" in str(excinfo.value)
    assert "2020-01-01至2026-04-14" in str(excinfo.value)


def test_a_report_received_before_the_change_keeps_its_notice_duty_unless_set_to_current(
    settings,
):
    # Received 4-01, decided Mon 4-20: Order 20: 4-21 (1) … 4-24 (4), 4-27 (5).
    kept = case_deadline(D(2026, 4, 1), "report.notify", D(2026, 4, 20))
    assert (kept.due, kept.rule) == (D(2026, 4, 27), "report.notify@order20")
    settings.COMPLAINT_PENDING_CASES_RULES = "current"
    with pytest.raises(RuleNotInForce):
        case_deadline(D(2026, 4, 1), "report.notify", D(2026, 4, 20))


# --- jurisdiction.dispute: 7 working days (Order 20 Art.30, Order 121 Art.33) ---------------


def test_a_jurisdiction_dispute_has_seven_working_days_under_both_orders(settings):
    # Order 20, from Mon 4-13: 4-14 (1) … 4-17 (4), 4-20 (5), 4-21 (6), 4-22 (7).
    assert due("jurisdiction.dispute", D(2026, 4, 13)) == (
        D(2026, 4, 22),
        "jurisdiction.dispute@order20",
    )
    # Order 121, from Wed 9-30: 10-8 (1), 10-9 (2), 10-10 W (3), 10-12 (4) … 10-15 (7).
    assert due("jurisdiction.dispute", D(2026, 9, 30)) == (
        D(2026, 10, 15),
        "jurisdiction.dispute@order121",
    )
    # A case received 4-1 whose dispute arises Thu 4-16: 4-17 (1), 4-20 (2) … 4-24 (6),
    # 4-27 (7); Order 20's article by default, Order 121's under "current".
    assert case_deadline(D(2026, 4, 1), "jurisdiction.dispute", D(2026, 4, 16)).rule == (
        "jurisdiction.dispute@order20"
    )
    settings.COMPLAINT_PENDING_CASES_RULES = "current"
    current = case_deadline(D(2026, 4, 1), "jurisdiction.dispute", D(2026, 4, 16))
    assert (current.due, current.rule) == (D(2026, 4, 27), "jurisdiction.dispute@order121")


# --- odr.settle: a configured figure ---------------------------------------------------------


def test_the_odr_period_is_configured_and_marked_so(settings):
    # From Wed 9-30: 10-8 (1), 10-9 (2), 10-10 W (3), 10-12…10-16 (4-8), 10-19 (9), 10-20 (10).
    assert due("odr.settle", D(2026, 9, 30)) == (D(2026, 10, 20), "odr.settle@local")
    assert rulebook.rule("odr.settle", D(2026, 9, 30)).configured
    settings.COMPLAINT_ODR_WORKDAYS = 5
    # 10-8 (1), 10-9 (2), 10-10 W (3), 10-12 (4), 10-13 (5).
    assert due("odr.settle", D(2026, 9, 30))[0] == D(2026, 10, 13)


# --- what a deadline records, and the calendar it came from ----------------------------------


def test_a_deadline_records_the_calendar_version_and_changes_with_an_edited_calendar():
    before = deadline("complaint.accept", D(2026, 4, 15))
    assert before.calendar_version == str(workdays.current_version())
    assert not before.provisional
    # A local closure on Mon 4-20 (entered by the system administrator) moves day 7 to 4-27.
    CalendarDay.objects.create(date=D(2026, 4, 20), is_workday=False, name="临时停止办公")
    after = deadline("complaint.accept", D(2026, 4, 15))
    assert after.due == D(2026, 4, 27)
    assert int(after.calendar_version) > int(before.calendar_version)


def test_a_deadline_past_the_known_calendar_is_provisional():
    # Mon 2026-12-28: 12-29…12-31 (1-3), 2027-01-01 (元旦, by the Decree) off, 1-4…1-7 (4-7).
    d = deadline("complaint.accept", D(2026, 12, 28))
    assert (d.due, d.provisional) == (D(2027, 1, 7), True)
    # 60 days from Thu 2027-06-03: 6-30 is day 27, 7-31 day 58, 8-2 (Mon) day 60.
    d = deadline("complaint.mediation", D(2027, 6, 3))
    assert (d.due, d.provisional) == (D(2027, 8, 2), True)
    assert not deadline("complaint.mediation", D(2026, 6, 3)).provisional


# --- bad requests -----------------------------------------------------------------------------


def test_it_refuses_what_it_cannot_answer_with_a_specific_error():
    with pytest.raises(UnknownRule, match=r"complaint\.accept"):
        deadline("complaint.acept", D(2026, 4, 15))
    with pytest.raises(RuleNotInForce):
        deadline("complaint.accept", D(2019, 12, 31))  # before Order 20 (2020-01-01)
    with pytest.raises(BadSuspension):
        deadline("report.verify", D(2026, 4, 15), suspended=-1)
    with pytest.raises(BadSuspension):
        deadline("report.verify", D(2026, 4, 15), suspended=rulebook.MAX_SUSPENDED + 1)
    with pytest.raises(NotSuspendable):
        deadline("complaint.accept", D(2026, 4, 15), suspended=1)
    with pytest.raises(NoExtension):
        deadline("complaint.mediation", D(2026, 4, 15), extended=True)
    with pytest.raises(DateOutOfRange):
        deadline("complaint.mediation", D(2099, 12, 1))
    with pytest.raises(UnknownRule):
        rulebook.grounds("complaint.refusals", D(2026, 4, 15))


# --- the rules and grounds as the rules page reads them --------------------------------------


def test_every_rule_of_the_issue_exists_with_a_full_citation_and_a_validity():
    assert set(rulebook.rule_names()) == {
        "complaint.accept",
        "complaint.mediation",
        "complaint.termination_notice",
        "complaint.lead_check",
        "report.verify",
        "report.notify",
        "jurisdiction.dispute",
        "odr.settle",
    }
    for r in rulebook.all_rules():
        assert r.citation.startswith("《") or r.configured, r.key
        assert r.valid_to is None or r.valid_from <= r.valid_to
    assert [r.version for r in rulebook.versions("complaint.mediation")] == [
        "order20",
        "regulation",
        "order121",
    ]
    assert [r.version for r in rulebook.versions("report.notify")] == ["order20"]


def test_the_ground_lists_have_six_and_seven_refusals_and_seven_and_eight_terminations():
    o20, o121 = D(2026, 4, 14), D(2026, 4, 15)
    refusal20 = rulebook.grounds("complaint.refusal", o20)
    refusal121 = rulebook.grounds("complaint.refusal", o121)
    assert (len(refusal20.items), len(refusal121.items)) == (6, 7)
    assert refusal121.label("6") == "冒用他人名义或者拒不配合市场监督管理部门核验真实身份信息的"
    assert "依法成立的其他调解组织" in refusal20.label("2")
    assert "依法成立的其他调解组织" not in refusal121.label("2")
    assert refusal121.item_citation("6") == "《市场监督管理投诉举报处理办法》第十六条第（六）项"
    term20 = rulebook.grounds("complaint.termination", o20)
    term121 = rulebook.grounds("complaint.termination", o121)
    assert (len(term20.items), len(term121.items)) == (7, 8)
    assert term20.label("5") == "自投诉受理之日起四十五个工作日内投诉人和被投诉人未能达成调解协议的"
    assert term121.label("5") == "自投诉受理之日起六十日内投诉人和被投诉人未能达成调解协议的"
    assert term121.label("7") == "投诉人、被投诉人死亡或者主体资格灭失的"
    assert term121.citation == "《市场监督管理投诉举报处理办法》第二十三条第一款"


def test_the_choices_show_each_setting_and_whether_it_is_the_default(settings):
    assert all(c.is_default for c in rulebook.choices())
    settings.COMPLAINT_PENDING_CASES_RULES = "current"
    changed = {c.setting: c for c in rulebook.choices()}["COMPLAINT_PENDING_CASES_RULES"]
    assert (changed.value, changed.is_default) == ("current", False)


# --- the complaints modules take their clocks from the case's rules --------------------------

AT = dt.datetime(2026, 4, 20, 9, 0, tzinfo=dt.UTC)  # Mon 4-20, 17:00 in Beijing


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        # Order 20, 45 working days from 4-20 (counted above) → 6-25.
        ("received", (D(2026, 6, 25), "complaint.mediation@order20")),
        # Order 121, 60 days from 4-20 (counted above) → 6-22.
        ("current", (D(2026, 6, 22), "complaint.mediation@order121")),
    ],
)
def test_accepting_a_case_received_on_the_14th_starts_the_clock_of_the_setting(
    personas, settings, setting, expected
):
    settings.COMPLAINT_PENDING_CASES_RULES = setting
    case = make_case(received_on=D(2026, 4, 14))
    with time_machine.travel(AT, tick=False):
        take(services.COMPLAINT, "accept", case.pk, by=personas["kaiyuan"])
    case.refresh_from_db()
    assert (case.due_on, case.due_rule) == expected
    assert case.due_calendar_version == str(workdays.current_version())


def test_the_step_clocks_of_every_module_follow_the_received_date(personas, settings):
    old = make_case(received_on=D(2026, 4, 10))
    report = make_case(kind=Case.Kind.REPORT, received_on=D(2026, 4, 10))
    # Termination notice / dispute / bureau acceptance from 4-20: 4-21 (1) … 4-24 (4),
    # 4-27 (5), 4-28 (6), 4-29 (7); report notice 5 working days → 4-27.
    assert mediation.termination_notice_deadline(old, AT).rule.endswith("@order20")
    assert routing.dispute_deadline(old, AT).due == D(2026, 4, 29)
    assert odr.deadline_at_bureau(old, AT).rule == "complaint.accept@order20"
    assert reports.notify_deadline(report, AT).due == D(2026, 4, 27)
    settings.COMPLAINT_PENDING_CASES_RULES = "current"
    assert mediation.termination_notice_deadline(old, AT).rule.endswith("@order121")
    assert routing.dispute_deadline(old, AT).rule == "jurisdiction.dispute@order121"
    assert odr.deadline_at_bureau(old, AT).rule == "complaint.accept@order121"
    assert reports.notify_deadline(report, AT) is None  # Order 121 Art.36: no such duty
    # The verification clock started on the received date (4-10), before the change.
    assert reports.verify_deadline(report, AT).rule == "report.verify@order20"


def test_a_period_is_labelled_as_the_texts_write_it():
    assert rulebook.rule("complaint.accept", D(2026, 4, 15)).period_label == "7个工作日"
    assert rulebook.rule("complaint.mediation", D(2026, 4, 15)).period_label == "60日"
