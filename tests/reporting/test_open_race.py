"""Two coordinators opening overlapping cycles at the same moment: one cycle, one refusal.

Real commits in two threads with their own connections (as tests/core/test_workflow_commit.py):
the overlap check runs under the plan's row lock, so the second opener sees the first cycle.
"""

from __future__ import annotations

import datetime as dt
import os

import pytest
from django.core.management import call_command
from django.db import connection

from qcity.core.dbguards import install_audit_guards, remove_audit_guards
from qcity.core.models import Role
from qcity.plans.models import Plan
from qcity.reporting import services
from qcity.reporting.models import ProgressReport, ReportingCycle
from tests.conftest import BUNDLED_SEED, make_user
from tests.core.test_workflow_commit import _race


@pytest.fixture
def world(transactional_db):
    install_audit_guards(connection)
    quiet = open(os.devnull, "w")
    call_command("load_org_units", stdout=quiet)
    call_command("load_calendar", stdout=quiet)
    call_command("import_plan", str(BUNDLED_SEED), stdout=quiet)
    coordinators = [make_user(name, Role.COORDINATOR, "市市场监管局") for name in ("zhang", "wang")]
    yield Plan.objects.get(), coordinators
    remove_audit_guards(connection)


def test_overlapping_cycles_opened_at_once_leave_one_cycle(world):
    plan, (zhang, wang) = world
    outcomes = _race(
        lambda: services.open_cycle(plan.pk, "quarterly", 2026, 1, by=zhang),
        lambda: services.open_cycle(
            plan.pk, "quarterly", 2026, 2, by=wang, period_start=dt.date(2026, 3, 15)
        ),
    )
    opened = [o for o in outcomes if isinstance(o, services.Opened)]
    refused = [o for o in outcomes if isinstance(o, services.ReportingRefused)]
    assert len(opened) == 1 and len(refused) == 1, outcomes
    assert refused[0].code == "cycle_overlap"
    assert ReportingCycle.objects.count() == 1
    assert ProgressReport.objects.count() == opened[0].reports
