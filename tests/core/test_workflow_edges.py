"""Workflow steps at the edges: the pending-units pages and the JSON API.

A refused step is a Chinese message on a page and a stable code in the API, and it
changes nothing.
"""

from __future__ import annotations

import pytest

from qcity.core.models import AuditEvent, OrgUnit, Transition, UnitAlias
from qcity.core.services import create_unconfirmed_unit, issue_api_token, map_unit

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(org_units) -> OrgUnit:
    return create_unconfirmed_unit("市交通局", by=None, source="test")


@pytest.fixture
def transport(org_units) -> OrgUnit:
    return OrgUnit.objects.get(name="市交通运输局")


def _snapshot() -> tuple:
    return (
        list(OrgUnit.objects.order_by("pk").values()),
        list(UnitAlias.objects.order_by("pk").values()),
        Transition.objects.count(),
        AuditEvent.objects.count(),
    )


def _bearer(user) -> dict:
    raw = issue_api_token(user, name="测试", by=user)
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


# --- pages ---------------------------------------------------------------------------------


def test_a_page_step_on_a_unit_someone_already_mapped_says_why_in_chinese(
    client, personas, pending, transport
):
    map_unit(pending, onto=transport, by=personas["coordinator"])
    client.force_login(personas["coordinator"])
    before = _snapshot()
    response = client.post(
        f"/units/pending/{pending.pk}/confirm/", {"kind": "department"}, follow=True
    )
    assert response.status_code == 200
    assert "当前状态为“已映射”，不能执行“确认为新单位”。" in response.content.decode()
    assert _snapshot() == before


def test_a_page_step_with_a_bad_target_says_why_and_changes_nothing(
    client, personas, pending, transport
):
    other = create_unconfirmed_unit("市交通委", by=None, source="test")
    client.force_login(personas["coordinator"])
    before = _snapshot()
    # The form only offers confirmed units; a forged value is refused by the form.
    response = client.post(f"/units/pending/{pending.pk}/map/", {"onto": other.pk}, follow=True)
    assert "请选择要映射到的单位。" in response.content.decode()
    assert _snapshot() == before


def test_a_page_step_on_an_absent_unit_is_404(client, personas, transport):
    client.force_login(personas["coordinator"])
    response = client.post("/units/pending/999999/map/", {"onto": transport.pk})
    assert response.status_code == 404


def test_a_page_step_succeeds_and_says_so(client, personas, pending, transport):
    client.force_login(personas["coordinator"])
    response = client.post(f"/units/pending/{pending.pk}/map/", {"onto": transport.pk}, follow=True)
    assert "已将“市交通局”映射为“市交通运输局”。" in response.content.decode()
    pending.refresh_from_db()
    assert pending.status == OrgUnit.Status.MAPPED


# --- API -----------------------------------------------------------------------------------


def test_the_api_takes_a_step_and_returns_the_history_row(client, personas, pending, transport):
    headers = _bearer(personas["coordinator"])
    response = client.post(
        f"/api/v1/org-units/{pending.pk}/map",
        {"onto_id": transport.pk},
        content_type="application/json",
        **headers,
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["step"], body["from_state"], body["to_state"]) == ("map", "unconfirmed", "mapped")
    assert body["actor"] == "coordinator"
    assert body["details"]["moved"] == {
        "plans.plan.owner_unit": 0,
        "plans.responsibility.org_unit": 0,
    }
    history = client.get(f"/api/v1/org-units/{pending.pk}/transitions", **headers).json()
    assert [row["id"] for row in history] == [body["id"]]
    assert client.get(f"/api/v1/org-units/{pending.pk}", **headers).json()["status"] == "mapped"


@pytest.mark.parametrize(
    ("persona", "path", "payload", "status", "code"),
    [
        ("coordinator", "confirm", {"kind": "palace"}, 422, "invalid"),
        ("coordinator", "map", {"onto_id": 999999}, 422, "invalid"),
        ("coordinator", "map-absent", {"onto_id": "transport"}, 404, "not_found"),
        ("nongye", "map", {"onto_id": "transport"}, 404, "not_found"),
        ("liaison-all", "map", {"onto_id": "transport"}, 403, "forbidden"),
        ("coordinator", "map-again", {"onto_id": "transport"}, 409, "step_not_allowed"),
    ],
)
def test_a_refused_api_step_has_a_stable_code_and_changes_nothing(
    client, personas, pending, transport, persona, path, payload, status, code
):
    if persona == "liaison-all":
        # May see (全部) but may not change: the step's role rule decides.
        user = personas["nongye"]
        user.data_scope = "all"
        user.save()
    else:
        user = personas[persona]
    if path == "map-again":
        map_unit(pending, onto=transport, by=personas["coordinator"])
    unit_id = 999999 if path == "map-absent" else pending.pk
    payload = {k: transport.pk if v == "transport" else v for k, v in payload.items()}
    headers = _bearer(user)
    before = _snapshot()
    response = client.post(
        f"/api/v1/org-units/{unit_id}/{path.split('-')[0]}",
        payload,
        content_type="application/json",
        **headers,
    )
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code and body["message"]
    if code == "step_not_allowed":
        assert body["message"] == "当前状态为“已映射”，不能执行“映射到已有单位”。"
    assert _snapshot() == before


def test_the_history_of_a_unit_outside_the_scope_is_not_found(client, personas, pending):
    response = client.get(
        f"/api/v1/org-units/{pending.pk}/transitions", **_bearer(personas["nongye"])
    )
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("{big}/map", {"onto_id": 1}),
        ("{pk}/map", {"onto_id": 9223372036854775808}),
        ("{pk}/map", {"onto_id": -1}),
        ("{pk}/confirm", {"kind": "department", "parent_id": 9223372036854775807}),
        ("{pk}/confirm", {"kind": "depart\x00ment"}),
        ("{pk}/confirm", {"kind": "市" * 10_000}),
        ("{pk}/confirm", {}),
        ("{pk}/map", {"onto_id": "市交通运输局"}),
    ],
)
def test_hostile_step_requests_get_a_code_never_a_server_error(
    client, personas, pending, path, payload
):
    headers = _bearer(personas["coordinator"])
    before = _snapshot()
    url = "/api/v1/org-units/" + path.format(pk=pending.pk, big=9223372036854775808)
    response = client.post(url, payload, content_type="application/json", **headers)
    assert response.status_code in (404, 409, 422), response.content
    assert response.json()["code"] in ("not_found", "invalid", "invalid_request")
    assert _snapshot() == before
