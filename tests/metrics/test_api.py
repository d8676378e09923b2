"""Indicators, values and target status through the JSON API, under the data scope."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from qcity.core.services import issue_api_token
from qcity.metrics.models import Indicator, IndicatorValue

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(plan, personas):
    call_command("load_indicators", stdout=StringIO())

    def client_for(name: str):
        from django.test import Client

        token = issue_api_token(personas[name], name="t", by=personas["secadmin"])
        return Client(headers={"Authorization": f"Bearer {token}"})

    return client_for


def post_value(client, indicator: Indicator, **body):
    return client.post(
        f"/api/v1/indicators/{indicator.pk}/values", body, content_type="application/json"
    )


def test_the_owner_posts_a_value_and_reads_it_back(api):
    agri = Indicator.objects.get(code="agri_monitoring_pass_rate")
    nongye = api("nongye")
    created = post_value(nongye, agri, period="2024", value="97.2", unit="%")
    assert created.status_code == 200, created.content
    assert Decimal(created.json()["value"]) == Decimal("97.2")
    listed = nongye.get(f"/api/v1/indicators/{agri.pk}/values").json()
    assert listed["count"] == 1 and listed["items"][0]["entered_by"] == "nongye"
    assert api("gongxin").get(f"/api/v1/indicators/{agri.pk}/values").json()["count"] == 0


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"period": "2024", "value": "97", "unit": "件"}, 422, "wrong_unit"),
        ({"period": "2024", "value": "120", "unit": "%"}, 422, "out_of_range"),
        ({"period": "2024-01", "value": "97", "unit": "%"}, 422, "invalid_period"),
        ({"period": "2024", "value": "97"}, 422, "invalid_request"),
    ],
)
def test_a_bad_value_gets_a_stable_code_and_stores_nothing(api, body, status, code):
    agri = Indicator.objects.get(code="agri_monitoring_pass_rate")
    answer = post_value(api("nongye"), agri, **body)
    assert (answer.status_code, answer.json()["code"]) == (status, code)
    assert answer.json()["message"]
    assert not IndicatorValue.objects.exists()


def test_another_unit_may_read_the_indicator_but_not_enter_it(api):
    agri = Indicator.objects.get(code="agri_monitoring_pass_rate")
    gongxin = api("gongxin")
    assert gongxin.get(f"/api/v1/indicators/{agri.pk}").status_code == 200
    refused = post_value(gongxin, agri, period="2024", value="97", unit="%")
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    assert not IndicatorValue.objects.exists()


def test_target_status_is_served_for_the_plan(api, personas):
    from qcity.plans.models import Plan, Target
    from qcity.plans.target_links import link_indicator

    coordinator = api("coordinator")
    food = Indicator.objects.get(code="food_sampling_pass_rate")
    target = Target.objects.get(indicator_name="食品抽检合格率")
    link_indicator(target.pk, food.pk, by=personas["coordinator"])
    post_value(coordinator, food, period="2024", value="98.6", unit="%")
    plan = Plan.objects.get()
    rows = coordinator.get(f"/api/v1/plans/{plan.pk}/target-status").json()
    row = next(r for r in rows if r["target_id"] == target.pk)
    assert (row["status"], row["status_label"], row["indicator_id"]) == (
        "achieved",
        "已实现",
        food.pk,
    )
    one = coordinator.get(f"/api/v1/targets/{target.pk}/status").json()
    assert one["status"] == "achieved"
    unlinked = next(r for r in rows if r["indicator_name"] == "科技成果本地转化率")
    assert unlinked["status"] is None and unlinked["proposed_indicator_id"] is not None


def test_qualitative_goals_are_served_without_a_number_or_a_derived_status(plan, api):
    # 满意度达到全省平均水平: a person assesses it; no value, so never a computed status.
    rows = api("coordinator").get(f"/api/v1/plans/{plan.pk}/target-status").json()
    qualitative = [r for r in rows if r["qualitative"]]
    assert qualitative, "the Tieling plan's qualitative goals are targets too"
    assert all(r["target_value"] is None and r["status"] is None for r in qualitative)
    assert all(r["target_value"] is not None for r in rows if not r["qualitative"])
