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
