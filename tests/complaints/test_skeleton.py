"""The two workflows are declared once and take their first steps under the case's rules."""

import datetime as dt

import pytest
import time_machine

from qcity.complaints import services
from qcity.complaints.models import Case
from qcity.core.workflow import Forbidden, NotFound, StepNotAllowed, take
from tests.complaints.helpers import XIFENG_BUREAU, make_case

pytestmark = pytest.mark.django_db


def test_it_accepts_a_complaint_and_starts_the_mediation_clock_of_its_rules(personas, calendar):
    case = make_case(received_on=dt.date(2026, 6, 1))
    with time_machine.travel(dt.datetime(2026, 6, 3, 9, 0, tzinfo=dt.UTC), tick=False):
        take(services.COMPLAINT, "accept", case.pk, by=personas["kaiyuan"])
    case.refresh_from_db()
    assert case.status == Case.Status.ACCEPTED
    assert case.accepted_on == dt.date(2026, 6, 3)
    # Order 121: 60 days from acceptance; 2026-08-02 is a Sunday, so the period ends on Monday.
    assert case.due_on == dt.date(2026, 8, 3)
    assert case.due_rule == "complaint.mediation@order121"


def test_a_report_does_not_take_complaint_steps_and_another_county_cannot_see_it(personas):
    report = make_case(kind=Case.Kind.REPORT)
    with pytest.raises(Forbidden):
        take(services.COMPLAINT, "accept", report.pk, by=personas["kaiyuan"])
    with pytest.raises(NotFound):
        take(services.REPORT, "file", report.pk, by=personas["xifeng"])
    other = make_case(bureau=XIFENG_BUREAU, status=Case.Status.CLOSED)
    with pytest.raises(StepNotAllowed):
        take(services.COMPLAINT, "accept", other.pk, by=personas["xifeng"])
