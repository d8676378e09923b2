"""A year of reporting made through reporting.services, for the assessment tests.

Q1 2026 of the Tieling plan (on time until the cycle's ``on_time_by``):
  市农业农村局 (nongye)      5 reports, 4 on time and 1 late, all approved (one after a return)
  市工业和信息化局 (gongxin) 10 reports, 9 on time, 1 never submitted, 9 approved
  开原市 (a county)          1 report, on time, approved
every other responsible unit: nothing received.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from qcity.core.models import OrgUnit, Role, User
from qcity.core.workflow import take
from qcity.plans.models import Responsibility
from qcity.reporting import services as reporting
from qcity.reporting.models import ProgressReport
from qcity.reporting.services import REPORT
from tests.conftest import make_user


def at(day: dt.date, hour: int = 10):
    return time_machine.travel(dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC), tick=False)


def reports_of(user: User, cycle) -> list[ProgressReport]:
    return list(ProgressReport.objects.filter(cycle=cycle, org_unit=user.unit).order_by("pk"))


def submit(user: User, report: ProgressReport) -> None:
    reporting.save_report(
        user, report.pk, progress="on_track", narrative="按计划推进。", figures=[]
    )
    take(REPORT, "submit", report.pk, by=user)


@pytest.fixture
def county_liaison(plan, personas) -> User:
    """开原市人民政府 made responsible for measure 1, with its own liaison account."""
    county = OrgUnit.objects.get(name="开原市")
    measure = plan.measures.order_by("seq").first()
    last = measure.responsibilities.order_by("-order").first()
    Responsibility.objects.create(
        measure=measure, org_unit=county, written_name="开原市政府", order=last.order + 1
    )
    return make_user("kaiyuan_gov", Role.DEPARTMENT_LIAISON, "开原市")


@pytest.fixture
def year_of_reports(plan, personas, calendar, county_liaison):
    coordinator, nongye, gongxin = personas["coordinator"], personas["nongye"], personas["gongxin"]
    kaiyuan = personas["kaiyuan"]  # the county bureau pre-approves 开原市's report
    with at(dt.date(2026, 4, 1)):
        cycle = reporting.open_cycle(plan, "quarterly", 2026, 1, by=coordinator).cycle
    on_time, late = cycle.on_time_by, cycle.on_time_by + dt.timedelta(days=3)
    n_reports, g_reports = reports_of(nongye, cycle), reports_of(gongxin, cycle)
    k_reports = reports_of(county_liaison, cycle)
    assert (len(n_reports), len(g_reports), len(k_reports)) == (5, 10, 1)
    with at(on_time):
        for report in n_reports[:4]:
            submit(nongye, report)
        for report in g_reports[:9]:
            submit(gongxin, report)
        submit(county_liaison, k_reports[0])
        take(REPORT, "county_approve", k_reports[0].pk, by=kaiyuan)
        take(REPORT, "return", n_reports[0].pk, by=coordinator, reason="缺少佐证")
    with at(late):
        submit(nongye, n_reports[4])
        reporting.save_report(
            nongye, n_reports[0].pk, progress="on_track", narrative="已补充佐证。", figures=[]
        )
        take(REPORT, "resubmit", n_reports[0].pk, by=nongye)
        for report in n_reports + g_reports[:9] + k_reports:
            take(REPORT, "approve", report.pk, by=coordinator)
    return cycle
