"""三员分立 in the admin: each administrator can do only their own job."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from qcity.core import audit
from qcity.core.demo import DemoDataRefused, create_demo_users
from qcity.core.models import AuditEvent, DictionaryItem, OrgUnit, User

pytestmark = pytest.mark.django_db

ADMIN_PAGES = {
    "/admin/core/orgunit/": {"sysadmin"},
    "/admin/core/dictionaryitem/": {"sysadmin"},
    "/admin/core/calendarday/": {"sysadmin"},
    "/admin/core/user/": {"sysadmin", "secadmin"},
    "/admin/core/apitoken/": {"secadmin"},
    "/admin/core/auditevent/": {"auditadmin"},
}


@pytest.fixture
def staff(personas):
    for name in ("sysadmin", "secadmin", "auditadmin"):
        User.objects.filter(username=name).update(is_staff=True)
    return {name: User.objects.get(username=name) for name in personas}


@pytest.mark.parametrize("page", ADMIN_PAGES)
@pytest.mark.parametrize("persona", ["sysadmin", "secadmin", "auditadmin", "coordinator"])
def test_each_administrator_reaches_only_their_own_pages(client, staff, page, persona):
    client.force_login(staff[persona])
    response = client.get(page)
    if persona in ADMIN_PAGES[page]:
        assert response.status_code == 200
    else:
        assert response.status_code in (302, 403)


def test_the_audit_admin_cannot_change_or_add_events(client, staff):
    event = audit.record("test.event", by=None)
    client.force_login(staff["auditadmin"])
    response = client.post(f"/admin/core/auditevent/{event.pk}/change/", {"action": "forged"})
    assert AuditEvent.objects.get(pk=event.pk).action == "test.event"
    assert response.status_code in (200, 403)
    assert client.get("/admin/core/auditevent/add/").status_code == 403


def test_the_system_admin_cannot_delete_reference_data(client, staff):
    unit = OrgUnit.objects.get(name="市水利局")
    client.force_login(staff["sysadmin"])
    assert client.post(f"/admin/core/orgunit/{unit.pk}/delete/", {"post": "yes"}).status_code == 403
    assert OrgUnit.objects.filter(pk=unit.pk).exists()


def test_the_system_admin_disables_a_unit_and_it_is_audited(client, staff):
    unit = OrgUnit.objects.get(name="市水利局")
    client.force_login(staff["sysadmin"])
    client.post("/admin/core/orgunit/", {"action": "disable", "_selected_action": [unit.pk]})
    unit.refresh_from_db()
    assert unit.disabled_on is not None
    assert not OrgUnit.objects.enabled().filter(pk=unit.pk).exists()
    assert AuditEvent.objects.filter(
        action="admin.orgunit.disabled", object_id=str(unit.pk)
    ).exists()


def test_reference_data_refuses_deletion_in_code():
    item = DictionaryItem.objects.create(dictionary="risk_class", code="A", label="信用风险低")
    with pytest.raises(PermissionError):
        item.delete()


def test_the_security_admin_unlocks_an_account(client, staff):
    from django.utils import timezone

    User.objects.filter(username="nongye").update(
        locked_until=timezone.now() + timezone.timedelta(minutes=30), failed_login_count=5
    )
    client.force_login(staff["secadmin"])
    target = User.objects.get(username="nongye")
    client.post("/admin/core/user/", {"action": "unlock", "_selected_action": [target.pk]})
    target.refresh_from_db()
    assert not target.is_locked() and target.failed_login_count == 0
    assert AuditEvent.objects.filter(action="user.unlocked", actor=staff["secadmin"]).exists()


def test_the_system_admin_cannot_unlock(client, staff):
    from django.utils import timezone

    User.objects.filter(username="nongye").update(
        locked_until=timezone.now() + timezone.timedelta(minutes=30)
    )
    client.force_login(staff["sysadmin"])
    target = User.objects.get(username="nongye")
    client.post("/admin/core/user/", {"action": "unlock", "_selected_action": [target.pk]})
    target.refresh_from_db()
    assert target.is_locked()


@override_settings(QCITY_DEMO_DATA=False)
def test_no_demo_user_is_created_under_production_settings(org_units):
    with pytest.raises(DemoDataRefused):
        create_demo_users()
    assert not User.objects.exists()


def test_issue_token_requires_a_security_admin(staff, capsys):
    with pytest.raises(CommandError):
        call_command("issue_token", "nongye", "--name", "x", "--by", "sysadmin")
    call_command("issue_token", "nongye", "--name", "对接", "--by", "secadmin")
    assert capsys.readouterr().out.strip().startswith("qc_")
