"""The system administrator keeps the indicator catalogue in the admin."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from qcity.core.models import AuditEvent, OrgUnit, User
from qcity.metrics.models import Indicator
from tests.core.test_admin_i18n import english_headers

pytestmark = pytest.mark.django_db


@pytest.fixture
def sysadmin(personas) -> Client:
    call_command("load_indicators", stdout=StringIO())
    User.objects.filter(username="sysadmin").update(is_staff=True)
    client = Client()
    client.force_login(User.objects.get(username="sysadmin"))
    return client


def test_the_system_admin_adds_an_indicator_audited(sysadmin):
    owner = OrgUnit.objects.get(name="市市场监管局")
    answer = sysadmin.post(
        "/admin/metrics/indicator/add/",
        {
            "code": "complaint_closure_rate",
            "name": "投诉按期办结率",
            "unit": "%",
            "direction": "higher",
            "period_type": "quarterly",
            "owner_unit": owner.pk,
            "calculator": "",
            "min_value": "0",
            "max_value": "100",
            "description": "",
            "sort_order": "20",
        },
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    assert Indicator.objects.get(code="complaint_closure_rate").period_type == "quarterly"
    assert AuditEvent.objects.filter(action="admin.indicator.added").count() == 1


def test_the_catalogue_pages_are_chinese_and_an_indicator_cannot_be_deleted(sysadmin):
    indicator = Indicator.objects.get(code="food_sampling_pass_rate")
    for url in (
        "/admin/metrics/indicator/",
        f"/admin/metrics/indicator/{indicator.pk}/change/",
        "/admin/metrics/indicator/add/",
    ):
        page = sysadmin.get(url)
        assert page.status_code == 200, url
        assert english_headers(page.content.decode()) == [], url
    assert sysadmin.get(f"/admin/metrics/indicator/{indicator.pk}/delete/").status_code == 403


def test_a_minimum_above_the_maximum_is_refused(sysadmin):
    indicator = Indicator.objects.get(code="food_sampling_pass_rate")
    page = sysadmin.post(
        f"/admin/metrics/indicator/{indicator.pk}/change/",
        {
            "code": indicator.code,
            "name": indicator.name,
            "unit": "%",
            "direction": "higher",
            "period_type": "yearly",
            "owner_unit": indicator.owner_unit_id,
            "calculator": "",
            "min_value": "100",
            "max_value": "0",
            "description": "",
            "sort_order": "1",
        },
    )
    assert page.status_code == 200
    assert "允许最小值不能大于允许最大值。" in page.content.decode()
    assert Indicator.objects.get(pk=indicator.pk).min_value == 0
