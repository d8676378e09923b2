"""The 12315 reference data: loaded once, kept as the administrator left it."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from qcity.complaints import defaults
from qcity.complaints.intake import IntakeRefused, check
from qcity.complaints.models import Category, IssueType
from qcity.core.models import AuditEvent
from tests.complaints.test_intake import complaint_fields

pytestmark = pytest.mark.django_db


def test_it_loads_the_categories_and_issue_types_once(org_units):
    out = io.StringIO()
    call_command("load_complaint_defaults", stdout=out)
    assert Category.objects.count() == len(defaults.CATEGORIES)
    assert IssueType.objects.count() == len(defaults.ISSUE_TYPES)
    assert "新建商品服务类别" in out.getvalue()
    assert defaults.load().total == 0
    assert AuditEvent.objects.filter(action="complaints.defaults_loaded").count() == 1


def test_it_never_re_enables_or_renames_what_an_administrator_changed(org_units):
    defaults.load()
    food = Category.objects.get(code="G03")
    food.name, food.disabled_on = "食品（含保健食品）", timezone.now()
    food.save()
    defaults.load()
    food.refresh_from_db()
    assert food.name == "食品（含保健食品）" and food.disabled_on is not None
    assert not Category.objects.filter(name="食品类").exists()


def test_a_disabled_category_cannot_be_chosen_for_a_new_case(org_units):
    defaults.load()
    Category.objects.filter(code="G03").update(disabled_on=timezone.now())
    with pytest.raises(IntakeRefused) as refused:
        check(complaint_fields(category="G03"), received_on=timezone.localdate())
    assert (refused.value.code, refused.value.field) == ("invalid_choice", "category")
    checked = check(
        complaint_fields(category="G01", issue_type="quality"), received_on=timezone.localdate()
    )
    assert checked.values["category"].name == "家用电子电器类"


def test_load_defaults_loads_them_too(org_units):
    call_command("load_defaults", stdout=io.StringIO(), stderr=io.StringIO())
    assert Category.objects.filter(code="S03").exists()
