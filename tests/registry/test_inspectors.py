"""The inspector pool and conflicts (回避): who may write what, and every write audited."""

import pytest
from django.db import transaction
from django.test import Client

from qcity.core.audit import AuditEvent
from qcity.core.models import OrgUnit
from qcity.core.services import issue_api_token
from qcity.registry import services
from qcity.registry.models import Conflict, Inspector
from qcity.registry.services import RegistryRefused
from tests.registry.conftest import KAIYUAN, KAIYUAN_STATION, XIFENG
from tests.registry.helpers import speciality

pytestmark = pytest.mark.django_db


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("pk"))


def api(personas, persona):
    token = issue_api_token(personas[persona], name="对接", by=personas["secadmin"])
    return Client(headers={"Authorization": f"Bearer {token}"})


# --- the pool ------------------------------------------------------------------------------


def test_a_county_officer_adds_an_inspector_to_a_station_of_the_county(personas, org_units):
    food = speciality()
    station = OrgUnit.objects.get(name=KAIYUAN_STATION)
    added = services.create_inspector(
        personas["kaiyuan"],
        name=" 郑 明 ",
        certificate_no="ky-0100",
        org_unit=station,
        speciality_ids=[food.pk],
    )
    assert (added.name, added.certificate_no, added.active) == ("郑 明", "KY-0100", True)
    assert list(added.specialities.all()) == [food]
    [event] = events("registry.inspector.created")
    assert event.details["certificate_no"] == "KY-0100"
    assert event.actor_id == personas["kaiyuan"].pk


def test_an_officer_cannot_add_an_inspector_to_another_county(personas, org_units):
    with pytest.raises(RegistryRefused) as refused:
        services.create_inspector(
            personas["kaiyuan"],
            name="越权",
            certificate_no="XF-9",
            org_unit=OrgUnit.objects.get(name=XIFENG),
        )
    assert refused.value.status == 403
    assert not Inspector.objects.exists()


@pytest.mark.parametrize("persona", ["inspector", "sysadmin", "enterprise", "lab"])
def test_other_roles_cannot_keep_the_pool(personas, org_units, persona):
    with pytest.raises(RegistryRefused) as refused:
        services.create_inspector(
            personas[persona],
            name="某",
            certificate_no="X-1",
            org_unit=OrgUnit.objects.get(name=KAIYUAN_STATION),
        )
    assert refused.value.code == "forbidden"


def test_a_certificate_number_is_in_the_pool_once(personas, registers):
    with pytest.raises(RegistryRefused) as refused:
        services.create_inspector(
            personas["kaiyuan"],
            name="重复",
            certificate_no="ky-0002",
            org_unit=OrgUnit.objects.get(name=KAIYUAN),
        )
    assert (refused.value.code, refused.value.status) == ("duplicate_certificate", 409)


def test_editing_an_inspector_records_what_changed(personas, registers):
    services.update_inspector(
        personas["kaiyuan"],
        registers.kaiyuan_officer.pk,
        name="孙检查",
        org_unit=OrgUnit.objects.get(name=KAIYUAN_STATION),
        speciality_ids=[speciality().pk],
    )
    [event] = events("registry.inspector.updated")
    assert event.details == {
        "unit": [KAIYUAN, KAIYUAN_STATION],
        "specialities": [[], ["food"]],
    }


def test_deactivation_needs_a_reason_keeps_the_row_and_can_be_undone(personas, registers):
    officer = registers.kaiyuan_officer
    with pytest.raises(RegistryRefused) as refused:
        services.set_inspector_active(personas["kaiyuan"], officer.pk, active=False, reason=" ")
    assert refused.value.code == "reason_required"
    services.set_inspector_active(personas["kaiyuan"], officer.pk, active=False, reason="调离")
    officer.refresh_from_db()
    assert officer.active is False
    assert events("registry.inspector.deactivated")[0].details == {"reason": "调离"}
    with pytest.raises(RegistryRefused) as refused:
        services.set_inspector_active(personas["kaiyuan"], officer.pk, active=False, reason="再停")
    assert refused.value.code == "unchanged"
    services.set_inspector_active(personas["kaiyuan"], officer.pk, active=True)
    officer.refresh_from_db()
    assert officer.active is True
    # Inspectors are never deleted: tasks and results keep pointing at them.
    assert Inspector.objects.filter(pk=officer.pk).exists()


def test_the_pool_page_hides_deactivated_inspectors_unless_asked(client, personas, registers):
    services.set_inspector_active(
        personas["kaiyuan"], registers.kaiyuan_officer.pk, active=False, reason="退休"
    )
    client.force_login(personas["kaiyuan"])
    assert "孙检查" not in client.get("/registry/inspectors/").content.decode()
    html = client.get("/registry/inspectors/?active=0").content.decode()
    assert "孙检查" in html and "吴执法" not in html
    assert "孙检查" in client.get("/registry/inspectors/?active=all").content.decode()


def test_the_add_page_saves_and_shows_a_refusal_in_chinese(client, personas, registers):
    client.force_login(personas["kaiyuan"])
    unit = OrgUnit.objects.get(name=KAIYUAN)
    response = client.post(
        "/registry/inspectors/add/",
        {"name": "新人", "certificate_no": "KY-0002", "org_unit": unit.pk},
    )
    assert response.status_code == 200
    assert "执法证号 KY-0002 已在名录中" in response.content.decode()
    response = client.post(
        "/registry/inspectors/add/",
        {"name": "新人", "certificate_no": "KY-0003", "org_unit": unit.pk},
    )
    added = Inspector.objects.get(certificate_no="KY-0003")
    assert response.status_code == 302 and response.url == f"/registry/inspectors/{added.pk}/"


def test_the_deactivate_button_works_from_the_page(client, personas, registers):
    client.force_login(personas["kaiyuan"])
    url = f"/registry/inspectors/{registers.kaiyuan_officer.pk}/active/"
    client.post(url, {"active": "0", "reason": "调离"})
    registers.kaiyuan_officer.refresh_from_db()
    assert not registers.kaiyuan_officer.active
    page = client.get(f"/registry/inspectors/{registers.kaiyuan_officer.pk}/").content.decode()
    assert 'data-testid="inactive"' in page


# --- conflicts -----------------------------------------------------------------------------


def test_an_inspector_declares_their_own_conflict(personas, registers):
    target = registers.kaiyuan_entities[1]
    conflict = services.declare_conflict(
        personas["inspector"],
        inspector_id=registers.own.pk,
        entity_code=f" {target.code.lower()} ",
        reason="配偶在该企业任职",
    )
    assert (conflict.inspector, conflict.entity, conflict.withdrawn_at) == (
        registers.own,
        target,
        None,
    )
    [event] = events("registry.conflict.declared")
    assert event.details["by_self"] is True and event.details["entity"] == target.code


def test_an_inspector_cannot_declare_for_a_colleague(personas, registers):
    from django.http import Http404

    with pytest.raises(Http404):
        services.declare_conflict(
            personas["inspector"],
            inspector_id=registers.kaiyuan_officer.pk,
            entity_code=registers.kaiyuan_entities[1].code,
            reason="代人申报",
        )
    assert not events("registry.conflict.declared")


def test_an_officer_records_a_conflict_for_an_inspector_in_scope(personas, registers):
    conflict = services.declare_conflict(
        personas["kaiyuan"],
        inspector_id=registers.own.pk,
        entity_code=registers.kaiyuan_entities[2].code,
        reason="曾在该药房工作",
    )
    assert conflict.declared_by == personas["kaiyuan"]
    assert events("registry.conflict.declared")[0].details["by_self"] is False


def test_one_active_declaration_per_pair(personas, registers):
    with pytest.raises(RegistryRefused) as refused:
        services.declare_conflict(
            personas["inspector"],
            inspector_id=registers.own.pk,
            entity_code=registers.kaiyuan_entities[0].code,
            reason="再次申报",
        )
    assert (refused.value.code, refused.value.status) == ("conflict_exists", 409)


def test_a_declaration_needs_a_known_entity_a_reason_and_an_active_inspector(personas, registers):
    cases = [
        ({"entity_code": "911234567890123456", "reason": "x"}, "entity_not_found"),
        ({"entity_code": registers.kaiyuan_entities[1].code, "reason": "  "}, "reason_required"),
    ]
    for kwargs, code in cases:
        with pytest.raises(RegistryRefused) as refused:
            services.declare_conflict(personas["kaiyuan"], inspector_id=registers.own.pk, **kwargs)
        assert refused.value.code == code
    services.set_inspector_active(
        personas["kaiyuan"], registers.kaiyuan_officer.pk, active=False, reason="调离"
    )
    with pytest.raises(RegistryRefused) as refused:
        services.declare_conflict(
            personas["kaiyuan"],
            inspector_id=registers.kaiyuan_officer.pk,
            entity_code=registers.kaiyuan_entities[1].code,
            reason="亲属",
        )
    assert refused.value.code == "inspector_inactive"


def test_withdrawal_keeps_the_record_and_allows_a_new_declaration(personas, registers):
    conflict = registers.kaiyuan_conflict
    services.withdraw_conflict(personas["inspector"], conflict.pk, reason="亲属已离职")
    conflict.refresh_from_db()
    assert conflict.withdrawn_at is not None
    assert events("registry.conflict.withdrawn")[0].details["reason"] == "亲属已离职"
    with pytest.raises(RegistryRefused) as refused:
        services.withdraw_conflict(personas["inspector"], conflict.pk, reason="再撤")
    assert refused.value.code == "already_withdrawn"
    again = services.declare_conflict(
        personas["inspector"],
        inspector_id=registers.own.pk,
        entity_code=conflict.entity.code,
        reason="亲属又入职",
    )
    assert Conflict.objects.filter(inspector=registers.own, entity=conflict.entity).count() == 2
    assert again.withdrawn_at is None


def test_the_database_refuses_a_second_active_declaration_too(personas, registers):
    from django.db import IntegrityError
    from django.utils import timezone

    with pytest.raises(IntegrityError), transaction.atomic():
        Conflict.objects.create(
            inspector=registers.own,
            entity=registers.kaiyuan_entities[0],
            reason="绕过服务",
            declared_at=timezone.now(),
            declared_by=personas["inspector"],
        )


def test_conflicts_through_the_api(personas, registers):
    client = api(personas, "inspector")
    response = client.post(
        "/api/v1/registry/conflicts",
        {
            "inspector_id": registers.own.pk,
            "entity_code": registers.kaiyuan_entities[2].code,
            "reason": "同学开办",
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["entity_name"] == "开原市康宁药房" and body["active"] is True
    response = client.post(
        "/api/v1/registry/conflicts",
        {
            "inspector_id": registers.own.pk,
            "entity_code": registers.kaiyuan_entities[2].code,
            "reason": "同学开办",
        },
        content_type="application/json",
    )
    assert (response.status_code, response.json()["code"]) == (409, "conflict_exists")
    response = client.post(
        f"/api/v1/registry/conflicts/{body['id']}/withdraw",
        {"reason": "误报"},
        content_type="application/json",
    )
    assert response.status_code == 200 and response.json()["active"] is False
    response = client.get(
        f"/api/v1/registry/conflicts?entity_code={registers.kaiyuan_entities[2].code}"
    )
    assert [c["id"] for c in response.json()["items"]] == [body["id"]]


def test_the_api_refuses_a_one_character_search_with_a_stable_code(personas, registers):
    response = api(personas, "kaiyuan").get("/api/v1/registry/entities?q=奶")
    assert response.status_code == 422
    assert response.json()["code"] == "query_too_short"


def test_the_page_says_why_a_search_was_refused_and_why_a_list_is_empty(
    client, personas, registers
):
    client.force_login(personas["kaiyuan"])
    html = client.get("/registry/entities/?q=奶").content.decode()
    assert 'data-testid="search-refused"' in html and "两个字" in html
    html = client.get("/registry/entities/?q=不存在的词").content.decode()
    assert "没有符合条件的市场主体" in html
    client.force_login(personas["nongye"])
    html = client.get("/registry/entities/").content.decode()
    assert "您的数据范围内还没有市场主体" in html


def test_the_entity_page_shows_the_code_warning_and_the_risk_class_date(
    client, personas, registers
):
    import datetime as dt

    entity = registers.kaiyuan_entities[1]
    entity.code_warning = "校验位不符（早期试点代码），已保留"
    entity.risk_classified_on = dt.date(2026, 3, 1)
    entity.save()
    client.force_login(personas["kaiyuan"])
    html = client.get(f"/registry/entities/{entity.code}/").content.decode()
    assert "校验位不符（早期试点代码），已保留" in html
    assert "2026-03-01 分类" in html and "列入经营异常名录" in html
