"""The data scope of the registers: pages, export and API, persona by persona.

County B (xifeng) sees nothing of county A (kaiyuan): no entity, inspector or conflict,
not in lists, counts, details, the XLSX export or the API.
"""

import io

import pytest
from django.test import Client
from openpyxl import load_workbook

from qcity.core.services import issue_api_token

pytestmark = pytest.mark.django_db

PERSONAS = ["coordinator", "kaiyuan", "xifeng", "inspector", "nongye", "sysadmin", "anonymous"]


def expected(r, persona: str) -> dict[str, set[str]]:
    ky = {e.code for e in r.kaiyuan_entities}
    xf = {e.code for e in r.xifeng_entities}
    ky_insp = {r.own.certificate_no, r.kaiyuan_officer.certificate_no}
    xf_insp = {r.xifeng_officer.certificate_no}
    table = {
        "coordinator": (ky | xf, ky_insp | xf_insp, {"ky", "xf"}),
        "kaiyuan": (ky, ky_insp, {"ky"}),
        "xifeng": (xf, xf_insp, {"xf"}),
        # An inspector reads entities through their tasks, and only their own record.
        "inspector": (set(), {r.own.certificate_no}, {"ky"}),
        "nongye": (set(), set(), set()),
        "sysadmin": (set(), set(), set()),
        "anonymous": (set(), set(), set()),
    }
    entities, inspectors, conflicts = table[persona]
    ids = {"ky": r.kaiyuan_conflict.pk, "xf": r.xifeng_conflict.pk}
    return {
        "entities": entities,
        "inspectors": inspectors,
        "conflicts": {ids[c] for c in conflicts},
    }


def page_client(personas, persona: str) -> Client:
    client = Client()
    if persona != "anonymous":
        client.force_login(personas[persona])
    return client


def api_client(personas, persona: str) -> Client:
    if persona == "anonymous":
        return Client()
    token = issue_api_token(personas[persona], name="对接", by=personas["secadmin"])
    return Client(headers={"Authorization": f"Bearer {token}"})


def codes_in(html: str, codes: set[str]) -> set[str]:
    return {c for c in codes if c in html}


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_entity_list_and_its_count_show_exactly_the_scope(registers, personas, persona):
    want = expected(registers, persona)["entities"]
    response = page_client(personas, persona).get("/registry/entities/")
    if persona == "anonymous":
        assert response.status_code == 302
        return
    html = response.content.decode()
    assert codes_in(html, registers.all_codes) == want
    if want:
        assert f"共 {len(want)} 个市场主体" in html
    else:
        assert 'data-testid="empty-reason"' in html
    # A search for a word both counties have still stays within the scope.
    html = page_client(personas, persona).get("/registry/entities/?q=奶粉").content.decode()
    assert codes_in(html, registers.all_codes) == {
        e.code
        for e in registers.kaiyuan_entities + registers.xifeng_entities
        if "奶粉" in e.name and e.code in want
    }


@pytest.mark.parametrize("persona", PERSONAS)
def test_entity_details_are_404_outside_the_scope(registers, personas, persona):
    client = page_client(personas, persona)
    want = expected(registers, persona)["entities"]
    for code in registers.all_codes:
        status = client.get(f"/registry/entities/{code}/").status_code
        if persona == "anonymous":
            assert status == 302
        else:
            assert status == (200 if code in want else 404), code


@pytest.mark.parametrize("persona", ["coordinator", "kaiyuan", "xifeng", "inspector", "nongye"])
def test_the_export_holds_exactly_the_scope(registers, personas, persona):
    response = page_client(personas, persona).get("/registry/entities/export.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    codes = {row[0] for row in sheet.iter_rows(min_row=3, values_only=True)}
    assert codes - {None} == expected(registers, persona)["entities"]


def test_the_export_follows_the_filters(registers, personas):
    client = page_client(personas, "coordinator")
    response = client.get("/registry/entities/export.xlsx?q=奶粉&risk_class=B")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    assert [r[1] for r in rows] == ["西丰县鹿茸奶粉专营店"]
    assert rows[0][8] == "B 信用风险一般"


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_api_entity_list_and_details_show_exactly_the_scope(registers, personas, persona):
    client = api_client(personas, persona)
    response = client.get("/api/v1/registry/entities")
    if persona == "anonymous":
        assert response.status_code == 401
        return
    body = response.json()
    want = expected(registers, persona)["entities"]
    assert {e["code"] for e in body["items"]} == want
    assert body["count"] == len(want)
    for code in registers.all_codes:
        status = client.get(f"/api/v1/registry/entities/{code}").status_code
        assert status == (200 if code in want else 404)


@pytest.mark.parametrize("persona", PERSONAS)
def test_inspectors_on_pages_and_api_show_exactly_the_scope(registers, personas, persona):
    want = expected(registers, persona)["inspectors"]
    every = {
        registers.own.certificate_no,
        registers.kaiyuan_officer.certificate_no,
        registers.xifeng_officer.certificate_no,
    }
    api = api_client(personas, persona)
    response = api.get("/api/v1/registry/inspectors")
    if persona == "anonymous":
        assert response.status_code == 401
        assert page_client(personas, persona).get("/registry/inspectors/").status_code == 302
        return
    assert {i["certificate_no"] for i in response.json()["items"]} == want
    html = page_client(personas, persona).get("/registry/inspectors/").content.decode()
    assert {c for c in every if c in html} == want
    for insp in (registers.own, registers.kaiyuan_officer, registers.xifeng_officer):
        status = api.get(f"/api/v1/registry/inspectors/{insp.pk}").status_code
        assert status == (200 if insp.certificate_no in want else 404)
        page = page_client(personas, persona).get(f"/registry/inspectors/{insp.pk}/")
        assert page.status_code == (200 if insp.certificate_no in want else 404)


@pytest.mark.parametrize("persona", PERSONAS)
def test_conflicts_show_exactly_the_scope(registers, personas, persona):
    want = expected(registers, persona)["conflicts"]
    response = api_client(personas, persona).get("/api/v1/registry/conflicts")
    if persona == "anonymous":
        assert response.status_code == 401
        return
    assert {c["id"] for c in response.json()["items"]} == want
    # The entity page of a kaiyuan entity never names a xifeng inspector, and vice versa.
    if persona == "coordinator":
        html = page_client(personas, persona).get(
            f"/registry/entities/{registers.xifeng_entities[0].code}/"
        )
        assert "周检查" in html.content.decode()


def test_xifeng_cannot_reach_kaiyuan_through_any_write(registers, personas):
    api = api_client(personas, "xifeng")
    response = api.post(
        f"/api/v1/registry/conflicts/{registers.kaiyuan_conflict.pk}/withdraw",
        {"reason": "试探"},
        content_type="application/json",
    )
    assert response.status_code == 404
    response = api.post(
        "/api/v1/registry/conflicts",
        {
            "inspector_id": registers.own.pk,
            "entity_code": registers.kaiyuan_entities[1].code,
            "reason": "试探",
        },
        content_type="application/json",
    )
    assert response.status_code == 404
    page = page_client(personas, "xifeng")
    assert (
        page.post(
            f"/registry/inspectors/{registers.kaiyuan_officer.pk}/active/",
            {"active": "0", "reason": "试探"},
        ).status_code
        == 404
    )
    assert page.get(f"/registry/inspectors/{registers.kaiyuan_officer.pk}/edit/").status_code == 404
    registers.kaiyuan_officer.refresh_from_db()
    assert registers.kaiyuan_officer.active
