"""The metrics side of the API: values with filters and evidence, revisions, target status."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from qcity.core.models import Attachment, OrgUnit
from qcity.core.services import issue_api_token
from qcity.metrics.models import Indicator, IndicatorValue, IndicatorValueRevision
from qcity.metrics.services import enter_value
from qcity.plans.models import Target
from qcity.plans.target_links import link_indicator
from tests.core.test_files import pdf_bytes, stored_files

pytestmark = pytest.mark.django_db


@pytest.fixture
def store(settings, tmp_path) -> Path:
    root = tmp_path / "attachments"
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    return root


@pytest.fixture
def api(plan, personas, store):
    call_command("load_indicators", stdout=StringIO())

    def client_for(name: str) -> Client:
        token = issue_api_token(personas[name], name="t", by=personas["secadmin"])
        return Client(headers={"Authorization": f"Bearer {token}"})

    return client_for


def indicator(code: str) -> Indicator:
    return Indicator.objects.get(code=code)


def post_with_evidence(client: Client, ind: Indicator, files=(), **fields):
    return client.post(
        f"/api/v1/indicators/{ind.pk}/values/with-evidence",
        {**fields, "evidence": list(files)},
    )


def test_the_owner_posts_a_value_with_evidence_and_reads_its_revisions(api, personas):
    agri = indicator("agri_monitoring_pass_rate")
    nongye = api("nongye")
    report = pdf_bytes()
    created = post_with_evidence(
        nongye,
        agri,
        [SimpleUploadedFile("监测报告.pdf", report)],
        period="2024",
        value="97.2",
        unit="%",
        evidence_note="年度监测报告",
    )
    assert created.status_code == 200, created.content
    body = created.json()
    assert Decimal(body["value"]) == Decimal("97.2") and body["entered_by"] == "nongye"
    post_with_evidence(nongye, agri, period="2024", value="97.4", unit="%")

    revisions = nongye.get(f"/api/v1/indicators/{agri.pk}/values/{body['id']}/revisions")
    assert revisions.status_code == 200
    newest, first = revisions.json()
    assert (Decimal(newest["value"]), Decimal(newest["previous_value"])) == (
        Decimal("97.4"),
        Decimal("97.2"),
    )
    assert newest["evidence"] == []
    [evidence] = first["evidence"]
    attachment = Attachment.objects.get()
    assert evidence["name"] == "监测报告.pdf" and evidence["sha256"] == attachment.sha256
    assert evidence["download_url"] == f"/files/{attachment.pk}/"
    # The link is the page download, for a logged-in session of someone in scope.
    browser = Client()
    browser.force_login(personas["nongye"])
    assert b"".join(browser.get(evidence["download_url"]).streaming_content) == report


@pytest.mark.parametrize(
    ("fields", "files", "status", "code"),
    [
        ({"value": "97", "unit": "件"}, [("报告.pdf", pdf_bytes())], 422, "wrong_unit"),
        ({"value": "120", "unit": "%"}, [("报告.pdf", pdf_bytes())], 422, "out_of_range"),
        ({"value": "97", "unit": "%"}, [("报告.pdf", b"MZ" + b"\x00" * 100)], 422,
         "file_type_not_allowed"),
        ({"value": "97", "unit": "%"}, [("报告.docx", pdf_bytes())], 422,
         "file_extension_mismatch"),
        ({"value": "97"}, [], 422, "invalid_request"),
    ],
)  # fmt: skip
def test_a_refused_entry_with_evidence_gets_a_stable_code_and_stores_nothing(
    api, store, fields, files, status, code
):
    agri = indicator("agri_monitoring_pass_rate")
    answer = post_with_evidence(
        api("nongye"),
        agri,
        [SimpleUploadedFile(name, data) for name, data in files],
        period="2024",
        **fields,
    )
    assert (answer.status_code, answer.json()["code"]) == (status, code)
    assert answer.json()["message"]
    assert not IndicatorValue.objects.exists() and not IndicatorValueRevision.objects.exists()
    assert not Attachment.objects.exists() and stored_files(store) == []


def test_another_unit_may_not_enter_and_an_enterprise_finds_nothing(api):
    agri = indicator("agri_monitoring_pass_rate")
    forbidden = post_with_evidence(api("gongxin"), agri, period="2024", value="97", unit="%")
    assert (forbidden.status_code, forbidden.json()["code"]) == (403, "forbidden")
    missing = post_with_evidence(api("enterprise"), agri, period="2024", value="97", unit="%")
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    assert not IndicatorValue.objects.exists()


def test_values_are_listed_by_period_and_unit_within_the_scope(api, personas):
    agri = indicator("agri_monitoring_pass_rate")
    coordinator = personas["coordinator"]
    kaiyuan = OrgUnit.objects.get(name="开原市市场监督管理局")
    xifeng = OrgUnit.objects.get(name="西丰县市场监督管理局")
    for period, unit, value in [
        ("2023", kaiyuan, "96.1"),
        ("2024", kaiyuan, "96.8"),
        ("2024", xifeng, "95.2"),
        ("2024", None, "97.3"),
    ]:
        enter_value(
            agri.pk,
            period=period,
            value=value,
            unit="%",
            org_unit_id=unit.pk if unit else None,
            by=coordinator,
        )
    url = f"/api/v1/indicators/{agri.pk}/values"

    def listed(name: str, **query) -> set[tuple[str, str]]:
        items = api(name).get(url, query).json()["items"]
        return {(i["period"], i["org_unit"]) for i in items}

    assert listed("coordinator", period="2024") == {
        ("2024", "开原市市场监督管理局"),
        ("2024", "西丰县市场监督管理局"),
        ("2024", "市农业农村局"),
    }
    assert listed("coordinator", org_unit_id=kaiyuan.pk) == {
        ("2023", "开原市市场监督管理局"),
        ("2024", "开原市市场监督管理局"),
    }
    assert listed("nongye", period="2024", org_unit_id=xifeng.pk) == {
        ("2024", "西丰县市场监督管理局")
    }
    # A county sees its own figures only, whatever it asks for.
    assert listed("kaiyuan") == {("2023", "开原市市场监督管理局"), ("2024", "开原市市场监督管理局")}
    assert listed("kaiyuan", org_unit_id=xifeng.pk) == set()
    bad = api("coordinator").get(url, {"period": "2024-01-01"})
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_request")


def test_revisions_of_a_value_out_of_scope_or_of_another_indicator_are_not_found(api, personas):
    agri = indicator("agri_monitoring_pass_rate")
    xifeng = OrgUnit.objects.get(name="西丰县市场监督管理局")
    row = enter_value(
        agri.pk, period="2024", value="95", unit="%", org_unit_id=xifeng.pk,
        by=personas["coordinator"],
    )  # fmt: skip
    url = f"/api/v1/indicators/{agri.pk}/values/{row.pk}/revisions"
    assert api("xifeng").get(url).status_code == 200
    for name in ("kaiyuan", "gongxin", "inspector", "enterprise"):
        answer = api(name).get(url)
        assert (answer.status_code, answer.json()["code"]) == (404, "not_found"), name
    food = indicator("food_sampling_pass_rate")
    other = api("coordinator").get(f"/api/v1/indicators/{food.pk}/values/{row.pk}/revisions")
    assert other.status_code == 404


# --- target status --------------------------------------------------------------------------


def test_the_plans_targets_status_shows_each_state_with_its_indicator_and_path_value(
    plan, api, personas
):
    coordinator = personas["coordinator"]
    codes = {
        # indicator code: (baseline 2022, latest 2024); deadline 2025-12-31 for all.
        "food_sampling_pass_rate": ("97.0", "98.5"),  # ≥98 met → achieved
        "tech_local_conversion_rate": ("45", "56"),  # path 55.00 at 2024 → on track
        "rural_food_store_standard_rate": ("62", "76"),  # path 77.34, behind 1.34 ≤ 1.91
        "valid_certificates": ("1350", "1500"),  # path 1783.6, far behind → off track
    }
    for target in Target.objects.filter(plan=plan, indicator__isnull=True, qualitative=False):
        match = Indicator.objects.filter(name=target.indicator_name).first()
        if match is not None:
            link_indicator(target.pk, match.pk, by=coordinator)
    for code, (baseline, latest) in codes.items():
        ind = indicator(code)
        for period, value in (("2022", baseline), ("2024", latest)):
            enter_value(ind.pk, period=period, value=value, unit=ind.unit, by=coordinator)

    answer = api("gongxin").get(f"/api/v1/plans/{plan.pk}/targets/status")
    assert answer.status_code == 200
    rows = {r["indicator"]["code"]: r for r in answer.json() if r["indicator"]}
    assert {code: rows[code]["status"] for code in codes} == {
        "food_sampling_pass_rate": "achieved",
        "tech_local_conversion_rate": "on_track",
        "rural_food_store_standard_rate": "at_risk",
        "valid_certificates": "off_track",
    }
    assert rows["major_safety_accidents"]["status"] == "no_data"
    tech = rows["tech_local_conversion_rate"]
    assert tech["indicator"]["name"] == "科技成果本地转化率" and tech["indicator"]["unit"] == "%"
    assert (tech["latest_period"], Decimal(tech["latest_value"])) == ("2024", Decimal("56"))
    assert (tech["baseline_period"], tech["deadline"]) == ("2022", "2025-12-31")
    assert round(Decimal(tech["path_value"]), 2) == Decimal("55.00")
    assert round(Decimal(rows["rural_food_store_standard_rate"]["path_value"]), 2) == Decimal(
        "77.34"
    )
    assert rows["major_safety_accidents"]["path_value"] is None
    # The first path still answers, the same rows.
    assert api("gongxin").get(f"/api/v1/plans/{plan.pk}/target-status").json() == answer.json()
    # Same scope as the pages: an enterprise or an administrator sees no plan.
    for name in ("enterprise", "sysadmin"):
        refused = api(name).get(f"/api/v1/plans/{plan.pk}/targets/status")
        assert refused.status_code in (403, 404), name


# What each persona sees of one indicator's values (owner 市农业农村局) for three units.
VALUE_SCOPE = {
    "coordinator": {"市农业农村局", "开原市市场监督管理局", "西丰县市场监督管理局"},
    "nongye": {"市农业农村局", "开原市市场监督管理局", "西丰县市场监督管理局"},
    "gongxin": set(),
    "kaiyuan": {"开原市市场监督管理局"},
    "xifeng": {"西丰县市场监督管理局"},
    "inspector": set(),
    "lab": set(),
    "enterprise": set(),
    "outsider": set(),
    "sysadmin": set(),
    "secadmin": set(),
    "auditadmin": set(),
}


@pytest.mark.parametrize("persona", VALUE_SCOPE)
def test_values_and_their_revisions_follow_the_scope_in_the_api(api, personas, persona):
    agri = indicator("agri_monitoring_pass_rate")
    rows = {}
    for name in ("市农业农村局", "开原市市场监督管理局", "西丰县市场监督管理局"):
        rows[name] = enter_value(
            agri.pk,
            period="2024",
            value="96",
            unit="%",
            org_unit_id=OrgUnit.objects.get(name=name).pk,
            by=personas["coordinator"],
        )
    client = api(persona)
    listed = client.get(f"/api/v1/indicators/{agri.pk}/values")
    seen = {i["org_unit"] for i in listed.json()["items"]} if listed.status_code == 200 else set()
    assert seen == VALUE_SCOPE[persona]
    for name, row in rows.items():
        answer = client.get(f"/api/v1/indicators/{agri.pk}/values/{row.pk}/revisions")
        if name in VALUE_SCOPE[persona]:
            assert answer.status_code == 200 and len(answer.json()) == 1
        else:
            assert answer.status_code in (403, 404), (persona, name)


@pytest.mark.parametrize("unit_id", [10**40, 2**63, 0])
def test_a_unit_out_of_the_id_range_is_an_invalid_request_and_stores_nothing(api, unit_id):
    agri = indicator("agri_monitoring_pass_rate")
    coordinator = api("coordinator")
    listed = coordinator.get(f"/api/v1/indicators/{agri.pk}/values", {"org_unit_id": unit_id})
    assert listed.status_code == 422 and listed.json()["code"]
    entered = coordinator.post(
        f"/api/v1/indicators/{agri.pk}/values",
        {"period": "2024", "value": "97", "unit": "%", "org_unit_id": unit_id},
        content_type="application/json",
    )
    assert entered.status_code == 422 and entered.json()["code"]
    assert not IndicatorValue.objects.exists()
