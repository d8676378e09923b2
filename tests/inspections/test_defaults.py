"""The default 双随机 reference data: loaded by load_defaults, idempotent, disabled never deleted."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from qcity.core.models import AuditEvent
from qcity.inspections import defaults
from qcity.inspections.models import CheckItem, ResultCode
from qcity.registry.models import Speciality


def load_twice() -> tuple[defaults.Loaded, defaults.Loaded]:
    return defaults.load(), defaults.load()


@pytest.mark.django_db
def test_it_loads_specialities_result_codes_and_a_representative_check_item_list():
    first = defaults.load()
    assert first.specialities == Speciality.objects.count() >= 10
    assert first.result_codes == ResultCode.objects.count() == len(defaults.RESULT_CODES)
    assert 15 <= first.check_items == CheckItem.objects.count() <= 25
    kinds = set(CheckItem.objects.values_list("kind", flat=True))
    assert kinds == {CheckItem.Kind.KEY, CheckItem.Kind.GENERAL}
    for item in CheckItem.objects.all():
        assert item.legal_basis.startswith("《"), item.code
        assert item.sub_items and item.department and item.object_type
        assert item.required_specialities.exists(), item.code
        assert "不少于两人" in item.inspector_requirement
        if item.kind == CheckItem.Kind.GENERAL:
            # 一般检查事项: the ratio is strictly limited.
            assert item.default_ratio is not None and 0 < item.default_ratio <= 5, item.code
    assert CheckItem.objects.get(code="SJ-001").legal_basis == "《企业信息公示暂行条例》第十四条"


@pytest.mark.django_db
def test_only_the_result_code_for_problems_awaiting_handling_opens_a_follow_up():
    defaults.load()
    assert list(ResultCode.objects.filter(opens_follow_up=True).values_list("name", flat=True)) == [
        "发现问题待后续处理"
    ]
    assert not ResultCode.objects.get(name="未发现问题").problem_found
    assert ResultCode.objects.get(name="发现问题已责令改正").problem_found


@pytest.mark.django_db
def test_loading_twice_creates_nothing_the_second_time():
    first, second = load_twice()
    assert first.total > 0 and second.total == 0
    counts = (Speciality.objects.count(), ResultCode.objects.count(), CheckItem.objects.count())
    defaults.load()
    assert counts == (
        Speciality.objects.count(),
        ResultCode.objects.count(),
        CheckItem.objects.count(),
    )
    # One audit event for the load that changed something, none for the ones that did not.
    assert AuditEvent.objects.filter(action="inspections.defaults_loaded").count() == 1


@pytest.mark.django_db
def test_a_disabled_or_edited_item_stays_as_the_administrator_left_it():
    defaults.load()
    item = CheckItem.objects.get(code="SJ-017")
    CheckItem.objects.filter(pk=item.pk).update(disabled_on=timezone.now(), default_ratio=2)
    defaults.load()
    item.refresh_from_db()
    assert item.disabled_on is not None and item.default_ratio == 2
    assert not CheckItem.objects.enabled().filter(code="SJ-017").exists()
    with pytest.raises(PermissionError):
        item.delete()


@pytest.mark.django_db
def test_a_speciality_entered_by_hand_under_another_code_is_reused_not_duplicated():
    own = Speciality.objects.create(code="SP-FOOD", name="食品")
    defaults.load()
    assert Speciality.objects.filter(name="食品").get() == own
    assert CheckItem.objects.get(code="SJ-004").required_specialities.get() == own


def test_load_defaults_loads_the_inspection_reference_data_once(org_units):
    out = io.StringIO()
    call_command("load_defaults", stdout=out)
    assert f"抽查事项 {len(defaults.CHECK_ITEMS)}" in out.getvalue()
    counts = (Speciality.objects.count(), ResultCode.objects.count(), CheckItem.objects.count())
    call_command("load_defaults", stdout=io.StringIO())
    assert counts == (
        Speciality.objects.count(),
        ResultCode.objects.count(),
        CheckItem.objects.count(),
    )


@pytest.fixture
def sysadmin(personas):
    from qcity.core.models import User

    User.objects.filter(username="sysadmin").update(is_staff=True)
    return User.objects.get(username="sysadmin")


def test_the_system_admin_disables_a_check_item_and_old_batches_keep_it(client, sysadmin):
    import datetime as dt

    from qcity.core.models import User
    from qcity.inspections import services

    defaults.load()
    item = CheckItem.objects.get(code="SJ-001")
    kaiyuan = User.objects.get(username="kaiyuan")
    plan = services.create_plan(kaiyuan, year=2026, title="开原市2026年度计划")
    spec = services.BatchSpec(
        title="企业公示信息抽查",
        check_items=[item],
        region_codes=["211282"],
        industry_prefixes=[],
        kinds=[],
        statuses=["active"],
        window_start=dt.date(2026, 12, 1),
        window_end=dt.date(2026, 12, 20),
        quotas={"A": ("ratio", "3")},
        exclude_checked_within_days=365,
        min_inspectors=2,
    )
    batch = services.create_batch(kaiyuan, plan.pk, spec).batch
    client.force_login(sysadmin)
    assert client.get("/admin/inspections/checkitem/").status_code == 200
    client.post(
        "/admin/inspections/checkitem/", {"action": "disable", "_selected_action": [item.pk]}
    )
    item.refresh_from_db()
    assert item.disabled_on is not None
    assert AuditEvent.objects.filter(
        action="admin.checkitem.disabled", object_id=str(item.pk)
    ).exists()
    # Never deleted, in the admin or by a reload; the old batch still points at it.
    response = client.post(f"/admin/inspections/checkitem/{item.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    defaults.load()
    item.refresh_from_db()
    assert item.disabled_on is not None
    assert list(batch.check_items.all()) == [item]
    client.post(
        "/admin/inspections/resultcode/",
        {"action": "disable", "_selected_action": [ResultCode.objects.get(code="06").pk]},
    )
    assert ResultCode.objects.get(code="06").disabled_on is not None


def test_business_users_do_not_reach_the_check_item_admin(client, personas):
    client.force_login(personas["coordinator"])
    assert client.get("/admin/inspections/checkitem/").status_code in (302, 403)
