"""三员分立 in the admin: each administrator can do only their own job."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from qcity.core import audit
from qcity.core.demo import DemoDataRefused, create_demo_users
from qcity.core.models import AuditEvent, DictionaryItem, OrgUnit, User
from tests.conftest import PASSWORD

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


def test_the_system_admin_creates_accounts_but_cannot_grant_roles(client, staff):
    client.force_login(staff["sysadmin"])
    unit = OrgUnit.objects.get(name="市水利局")
    client.post(
        "/admin/core/user/add/",
        {"username": "shuili", "full_name": "水利联络员", "unit": unit.pk, "phone": ""},
    )
    created = User.objects.get(username="shuili")
    assert created.role == "" and not created.is_active and not created.has_usable_password()
    target = User.objects.get(username="nongye")
    client.post(
        f"/admin/core/user/{target.pk}/change/",
        {
            "username": "nongye",
            "full_name": "李农业",
            "unit": target.unit_id,
            "phone": "",
            "role": "coordinator",
            "data_scope": "all",
        },
    )
    target.refresh_from_db()
    assert target.role == "department_liaison" and target.data_scope == ""


def test_the_security_admin_grants_a_role_and_a_temporary_password(client, staff):
    client.force_login(staff["secadmin"])
    target = User.objects.get(username="nongye")
    client.post(
        f"/admin/core/user/{target.pk}/change/",
        {"role": "county_officer", "data_scope": "", "is_active": "on"},
    )
    target.refresh_from_db()
    assert target.role == "county_officer"
    response = client.post(
        "/admin/core/user/",
        {"action": "reset_password", "_selected_action": [target.pk]},
        follow=True,
    )
    notice = next(str(m) for m in response.context["messages"] if "临时密码" in str(m))
    temporary = notice.split("：")[1].split("（")[0]
    target.refresh_from_db()
    assert target.must_change_password and target.check_password(temporary)
    assert temporary not in str(list(AuditEvent.objects.values_list("details", flat=True)))


def test_no_administrator_edits_their_own_account(client, staff):
    for name in ("sysadmin", "secadmin"):
        me = staff[name]
        client.force_login(me)
        client.post(
            f"/admin/core/user/{me.pk}/change/",
            {"role": "coordinator", "data_scope": "all", "username": me.username},
        )
        me.refresh_from_db()
        assert me.role != "coordinator" and me.data_scope == ""


def test_a_temporary_password_must_be_changed_before_anything_else(client, staff):
    from qcity.core.services import reset_password

    temporary = reset_password(staff["nongye"], by=staff["secadmin"])
    assert (
        client.post("/accounts/login/", {"username": "nongye", "password": temporary}).status_code
        == 302
    )
    assert client.get("/plans/")["Location"] == "/accounts/password/"
    assert client.get("/api/v1/plans").json()["code"] == "password_change_required"
    response = client.post(
        "/accounts/password/",
        {
            "old_password": temporary,
            "new_password1": "Nongye#Tieling2026",
            "new_password2": "Nongye#Tieling2026",
        },
    )
    assert response.status_code == 302
    assert client.get("/plans/").status_code == 200
    assert AuditEvent.objects.filter(action="user.password_changed").exists()


def test_create_admin_makes_an_administrator_who_must_change_the_password(
    org_units, tmp_path, capsys
):
    secret = tmp_path / "pw"
    secret.write_text("Admin#Tieling2026")
    call_command(
        "create_admin",
        "root-sec",
        "--role",
        "security_admin",
        "--unit",
        "市市场监管局",
        "--password-file",
        str(secret),
    )
    user = User.objects.get(username="root-sec")
    assert user.is_staff and user.must_change_password and user.check_password("Admin#Tieling2026")
    secret.write_text("weak")
    with pytest.raises(CommandError):
        call_command(
            "create_admin",
            "root-sys",
            "--role",
            "system_admin",
            "--unit",
            "市市场监管局",
            "--password-file",
            str(secret),
        )
    assert not User.objects.filter(username="root-sys").exists()


# --- item 3: the unit decides what an account sees, so it is the security admin's to grant ---

CITY = "铁岭市人民政府"


def _post_user(client, target, **fields):
    """POST the change form with every field either admin could send."""
    data = {
        "username": target.username,
        "full_name": target.full_name,
        "phone": target.phone,
        "unit": target.unit_id or "",
        "role": target.role,
        "data_scope": target.data_scope,
        "is_active": "on" if target.is_active else "",
    }
    data.update(fields)
    return client.post(f"/admin/core/user/{target.pk}/change/", data)


def test_the_system_admin_cannot_widen_a_users_scope_by_moving_their_unit(client, staff, plan):
    from qcity.plans.selectors import my_measures

    kaiyuan = staff["kaiyuan"]
    assert my_measures(kaiyuan).count() == 0
    city = OrgUnit.objects.get(name=CITY)
    client.force_login(staff["sysadmin"])
    page = client.get(f"/admin/core/user/{kaiyuan.pk}/change/").content.decode()
    assert 'name="unit"' not in page  # shown, not editable
    _post_user(client, kaiyuan, unit=city.pk, full_name="孙开原")
    kaiyuan.refresh_from_db()
    assert kaiyuan.unit.name == "开原市市场监督管理局" and kaiyuan.full_name == "孙开原"
    assert my_measures(kaiyuan).count() == 0
    event = AuditEvent.objects.get(action="admin.user.changed", object_id=str(kaiyuan.pk))
    assert event.details["fields"] == ["full_name"]


def test_the_security_admin_moves_a_user_to_another_unit_and_it_is_audited(client, staff, plan):
    from qcity.plans.selectors import my_measures

    kaiyuan = staff["kaiyuan"]
    city = OrgUnit.objects.get(name=CITY)
    client.force_login(staff["secadmin"])
    _post_user(client, kaiyuan, unit=city.pk, full_name="改不了")
    kaiyuan.refresh_from_db()
    assert kaiyuan.unit == city and kaiyuan.full_name == "kaiyuan"
    assert my_measures(kaiyuan).count() > 0  # the grant is real, and it is the secadmin's
    event = AuditEvent.objects.get(action="admin.user.changed", object_id=str(kaiyuan.pk))
    assert event.actor == staff["secadmin"]
    assert event.details["changes"] == {"unit": ["开原市市场监督管理局", CITY]}


def test_the_system_admin_sets_the_unit_of_an_account_that_has_no_role_yet(client, staff):
    client.force_login(staff["sysadmin"])
    first = OrgUnit.objects.get(name="市水利局")
    client.post(
        "/admin/core/user/add/",
        {"username": "shuili", "full_name": "水利联络员", "unit": first.pk, "phone": ""},
    )
    created = User.objects.get(username="shuili")
    assert created.unit == first
    second = OrgUnit.objects.get(name="市农业农村局")
    _post_user(client, created, unit=second.pk)
    created.refresh_from_db()
    assert created.unit == second and created.role == "" and not created.is_active


def test_once_a_role_is_granted_the_system_admin_no_longer_moves_the_account(client, staff):
    created = User.objects.create(username="shuili", unit=OrgUnit.objects.get(name="市水利局"))
    client.force_login(staff["secadmin"])
    _post_user(client, created, role="department_liaison", is_active="on")
    created.refresh_from_db()
    assert created.role == "department_liaison"
    client.force_login(staff["sysadmin"])
    _post_user(client, created, unit=OrgUnit.objects.get(name=CITY).pk)
    created.refresh_from_db()
    assert created.unit.name == "市水利局"


def test_the_admin_password_form_leads_to_the_audited_change_page(client, staff):
    client.force_login(staff["sysadmin"])
    response = client.get("/admin/password_change/")
    assert response.status_code == 302 and response["Location"] == "/accounts/password/"
    html = client.get("/admin/").content.decode()
    assert 'href="/accounts/password/"' in html and "/admin/password_change/" not in html


def test_the_user_form_says_who_decides_what(client, staff):
    kaiyuan = staff["kaiyuan"]
    client.force_login(staff["sysadmin"])
    html = client.get(f"/admin/core/user/{kaiyuan.pk}/change/").content.decode()
    assert "由安全管理员授予" in html
    client.force_login(staff["secadmin"])
    html = client.get(f"/admin/core/user/{kaiyuan.pk}/change/").content.decode()
    assert "由系统管理员维护" in html


def test_the_admin_has_no_login_form_of_its_own(client, staff):
    # Its form was a second door past the login rate limits (ADR 0014).
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    response = client.get(response["Location"])
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/admin/"
    posted = client.post(
        "/admin/login/?next=/admin/", {"username": "sysadmin", "password": PASSWORD}
    )
    assert posted.status_code == 302 and posted["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302


def test_the_admin_login_url_sends_people_on_by_who_they_are(client, staff):
    client.force_login(staff["coordinator"])
    # A business user is refused (the login page would only send them back: a loop).
    assert client.get("/admin/login/?next=/admin/").status_code == 403
    client.force_login(staff["sysadmin"])
    response = client.get("/admin/login/")
    assert response.status_code == 302 and response["Location"] == "/admin/"
