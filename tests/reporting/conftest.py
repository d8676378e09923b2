"""Fixtures of the reporting tests: a plan with an open cycle, and a county's reporter."""

from __future__ import annotations

import io

import pytest

from qcity.core.models import OrgUnit, Role, User
from qcity.plans.models import Responsibility
from qcity.reporting import services
from tests.conftest import make_user


@pytest.fixture
def q1(plan, personas, calendar):
    """2026 年第 1 季度 of the Tieling plan, opened by the coordinator."""
    return services.open_cycle(plan, "quarterly", 2026, 1, by=personas["coordinator"]).cycle


@pytest.fixture
def county_reporter(plan, personas) -> User:
    """开原市人民政府 made responsible for measure 1, with its own liaison account."""
    county = OrgUnit.objects.get(name="开原市")
    measure = plan.measures.order_by("seq").first()
    last = measure.responsibilities.order_by("-order").first()
    Responsibility.objects.create(
        measure=measure, org_unit=county, written_name="开原市政府", order=last.order + 1
    )
    return make_user("kaiyuan_gov", Role.DEPARTMENT_LIAISON, "开原市")


def pdf_bytes() -> bytes:
    """A real one-page PDF (core.files reads the structure, not just the magic bytes)."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
