import pytest

from qcity.core.models import OrgUnit

pytestmark = pytest.mark.django_db


def test_moving_a_unit_moves_everything_below_it(org_units):
    county = OrgUnit.objects.get(name="开原市")
    station = OrgUnit.objects.get(name="开原市城区市场监督管理所")
    bureau = OrgUnit.objects.get(name="开原市市场监督管理局")
    regulator = OrgUnit.objects.get(name="市市场监管局")
    bureau.parent = regulator
    bureau.save()
    station.refresh_from_db()
    assert station.is_within(regulator) and station.is_within(bureau)
    assert not station.is_within(county)


def test_the_models_and_migrations_agree():
    from django.core.management import call_command

    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def _tree() -> dict[int, tuple[int | None, str]]:
    return {u.pk: (u.parent_id, u.path) for u in OrgUnit.objects.all()}


@pytest.mark.parametrize(
    "new_parent", ["开原市", "开原市市场监督管理局", "开原市城区市场监督管理所"]
)
def test_a_unit_cannot_be_moved_under_itself_or_below_itself(org_units, new_parent):
    from qcity.core.models import OrgTreeCycleError

    before = _tree()
    county = OrgUnit.objects.get(name="开原市")
    county.parent = OrgUnit.objects.get(name=new_parent)
    with pytest.raises(OrgTreeCycleError) as excinfo:
        county.save()
    assert excinfo.value.message_dict["parent"] == [
        f"不能把“开原市”移到“{new_parent}”之下：“{new_parent}”是它自己或它的下级单位"
    ]
    assert _tree() == before


def test_a_refused_move_leaves_the_callers_transaction_usable(org_units):
    from django.db import transaction

    from qcity.core.models import OrgTreeCycleError

    before = _tree()
    bureau = OrgUnit.objects.get(name="开原市市场监督管理局")
    with transaction.atomic():
        bureau.parent = OrgUnit.objects.get(name="开原市城区市场监督管理所")
        with pytest.raises(OrgTreeCycleError):
            bureau.save()
        # The move's own savepoint rolled back; the caller can go on (e.g. record the refusal).
        assert _tree() == before
    assert _tree() == before


def test_the_admin_form_shows_the_cycle_on_the_parent_field(client, personas):
    sysadmin = personas["sysadmin"]
    county = OrgUnit.objects.get(name="开原市")
    station = OrgUnit.objects.get(name="开原市城区市场监督管理所")
    before = _tree()
    client.force_login(sysadmin)
    response = client.post(
        f"/admin/core/orgunit/{county.pk}/change/",
        {
            "name": county.name,
            "full_name": county.full_name,
            "code": county.code,
            "kind": county.kind,
            "parent": station.pk,
            "confirmed": "on",
            "sort_order": county.sort_order,
            "aliases-TOTAL_FORMS": "0",
            "aliases-INITIAL_FORMS": "0",
            "aliases-MIN_NUM_FORMS": "0",
            "aliases-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["parent"] == [
        "不能把“开原市”移到“开原市城区市场监督管理所”之下：“开原市城区市场监督管理所”是它自己或它的下级单位"
    ]
    assert "是它自己或它的下级单位" in response.content.decode()
    assert _tree() == before


def test_the_admin_still_moves_a_unit_elsewhere(client, personas):
    from qcity.core.models import AuditEvent

    county = OrgUnit.objects.get(name="开原市")
    bureau = OrgUnit.objects.get(name="开原市市场监督管理局")
    regulator = OrgUnit.objects.get(name="市市场监管局")
    client.force_login(personas["sysadmin"])
    response = client.post(
        f"/admin/core/orgunit/{bureau.pk}/change/",
        {
            "name": bureau.name,
            "full_name": bureau.full_name,
            "code": bureau.code,
            "kind": bureau.kind,
            "parent": regulator.pk,
            "confirmed": "on",
            "sort_order": bureau.sort_order,
            "aliases-TOTAL_FORMS": "0",
            "aliases-INITIAL_FORMS": "0",
            "aliases-MIN_NUM_FORMS": "0",
            "aliases-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302
    station = OrgUnit.objects.get(name="开原市城区市场监督管理所")
    assert station.is_within(regulator) and not station.is_within(county)
    assert AuditEvent.objects.filter(
        action="admin.orgunit.changed", object_id=str(bureau.pk)
    ).exists()


def test_the_database_itself_refuses_a_unit_that_is_its_own_parent(org_units):
    from django.db import IntegrityError, transaction
    from django.db.models import F

    unit = OrgUnit.objects.get(name="开原市")
    with pytest.raises(IntegrityError), transaction.atomic():
        OrgUnit.objects.filter(pk=unit.pk).update(parent=F("pk"))
    assert OrgUnit.objects.get(pk=unit.pk).parent_id == unit.parent_id
