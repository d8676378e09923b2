"""The indicator pages and the target-link review page, as each persona sees them."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from qcity.core.models import AuditEvent
from qcity.metrics.models import Indicator, IndicatorValue
from qcity.plans.models import Plan, Target

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_user(plan, personas):
    call_command("load_indicators", stdout=StringIO())

    def login(name: str) -> Client:
        client = Client()
        client.force_login(personas[name])
        return client

    return login


def test_every_internal_user_sees_the_catalogue(as_user):
    page = as_user("gongxin").get("/indicators/")
    assert page.status_code == 200
    assert page.content.decode().count('data-testid="indicator"') == 9
    assert "食品抽检合格率" in page.content.decode()


def test_the_owner_enters_a_value_on_the_page_and_sees_it_with_its_history(as_user):
    agri = Indicator.objects.get(code="agri_monitoring_pass_rate")
    nongye = as_user("nongye")
    page = nongye.get(f"/indicators/{agri.pk}/")
    assert 'data-testid="value-form"' in page.content.decode()
    saved = nongye.post(
        f"/indicators/{agri.pk}/",
        {"period": "2024", "value": "97.5", "unit": "%", "evidence_note": "年度监测报告"},
        follow=True,
    )
    html = saved.content.decode()
    assert "已保存 2024 的数值 97.5。" in html
    assert "97.5%" in html and "年度监测报告" in html
    assert html.count('data-testid="revision"') == 1


@pytest.mark.parametrize(
    ("value", "unit", "message"),
    [
        ("97", "件", "单位不符：指标“农产品质量安全例行监测合格率”以“%”计，填写的是“件”"),
        ("120", "%", "数值 120 超出范围：“农产品质量安全例行监测合格率”不能大于 100%"),
    ],
)
def test_a_wrong_unit_or_out_of_range_value_is_refused_in_chinese(as_user, value, unit, message):
    agri = Indicator.objects.get(code="agri_monitoring_pass_rate")
    page = as_user("nongye").post(
        f"/indicators/{agri.pk}/", {"period": "2024", "value": value, "unit": unit}
    )
    # 200 like every form shown again with its errors (a 4xx is a console error in browsers).
    assert page.status_code == 200
    assert 'data-testid="error"' in page.content.decode()
    assert message in page.content.decode()
    assert not IndicatorValue.objects.exists()


def test_another_unit_gets_no_entry_form_and_is_told_who_enters(as_user):
    agri = Indicator.objects.get(code="agri_monitoring_pass_rate")
    html = as_user("gongxin").get(f"/indicators/{agri.pk}/").content.decode()
    assert 'data-testid="value-form"' not in html
    assert "该指标由 市农业农村局 填报" in html
    assert "0 ～ 100" in html


def test_the_coordinator_confirms_a_proposed_link_on_the_review_page(as_user):
    plan = Plan.objects.get()
    coordinator = as_user("coordinator")
    page = coordinator.get(f"/plans/{plan.pk}/targets/").content.decode()
    assert page.count('data-testid="proposal"') >= 9
    target = Target.objects.get(indicator_name="科技成果本地转化率")
    indicator = Indicator.objects.get(code="tech_local_conversion_rate")
    done = coordinator.post(
        f"/plans/{plan.pk}/targets/{target.pk}/link/", {"indicator": indicator.pk}, follow=True
    )
    assert "已确认目标“科技成果本地转化率达到60%以上”的关联指标。" in done.content.decode()
    assert Target.objects.get(pk=target.pk).indicator == indicator
    assert AuditEvent.objects.filter(action="target.indicator_linked").count() == 1


def test_a_liaison_reads_the_statuses_but_cannot_link(as_user):
    plan = Plan.objects.get()
    nongye = as_user("nongye")
    assert nongye.get(f"/plans/{plan.pk}/targets/").status_code == 200
    target = Target.objects.get(indicator_name="农产品质量安全例行监测合格率")
    indicator = Indicator.objects.get(code="agri_monitoring_pass_rate")
    refused = nongye.post(
        f"/plans/{plan.pk}/targets/{target.pk}/link/", {"indicator": indicator.pk}
    )
    assert refused.status_code == 403
    assert Target.objects.get(pk=target.pk).indicator is None


def test_hostile_form_values_are_refused_cleanly_and_store_nothing_wrong(as_user):
    from tests.adversarial.corpus import _RAW

    agri = Indicator.objects.get(code="agri_monitoring_pass_rate")
    plan = Plan.objects.get()
    target = Target.objects.filter(plan=plan).order_by("seq").first()
    nongye, coordinator = as_user("nongye"), as_user("coordinator")
    nongye.raise_request_exception = coordinator.raise_request_exception = True
    for raw in _RAW:
        for field in ("period", "value", "unit", "evidence_note"):
            body = {"period": "2024", "value": "97", "unit": "%", field: raw}
            if body == {"period": "2024", "value": "97", "unit": "%", "evidence_note": raw}:
                continue  # any note is a fine note
            answer = nongye.post(f"/indicators/{agri.pk}/", body)
            # Some are fine ("0", "1.5"); the rest the form again with a Chinese error
            # (or the 400 page of the NUL guard).
            assert answer.status_code in (200, 302, 400), (field, raw)
        linked = coordinator.post(f"/plans/{plan.pk}/targets/{target.pk}/link/", {"indicator": raw})
        assert linked.status_code in (302, 400), raw
    stored = {(v.period, v.value) for v in IndicatorValue.objects.all()}
    assert {period for period, _ in stored} == {"2024"}
    assert all(0 <= value <= 100 for _, value in stored)
    assert Target.objects.get(pk=target.pk).indicator is None


def test_the_coordinator_enters_a_countys_figure_on_the_page(as_user):
    from qcity.core.models import OrgUnit

    agri = Indicator.objects.get(code="agri_monitoring_pass_rate")
    kaiyuan = OrgUnit.objects.get(name="开原市市场监督管理局")
    coordinator = as_user("coordinator")
    coordinator.post(
        f"/indicators/{agri.pk}/",
        {"period": "2024", "org_unit": kaiyuan.pk, "value": "96", "unit": "%"},
    )
    row = IndicatorValue.objects.get()
    assert (row.org_unit, row.value) == (kaiyuan, 96)
    # The county sees its own figure; another county does not.
    kaiyuan_page = as_user("kaiyuan").get(f"/indicators/{agri.pk}/").content.decode()
    assert kaiyuan_page.count('data-testid="value"') == 1
    xifeng_page = as_user("xifeng").get(f"/indicators/{agri.pk}/").content.decode()
    assert 'data-testid="value"' not in xifeng_page
