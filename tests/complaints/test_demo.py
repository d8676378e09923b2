"""make run's 12315 demo: a year of cases in every state, through the real steps."""

import datetime as dt

import pytest
from django.utils import timezone

from qcity.complaints.demo import load_demo_complaints
from qcity.complaints.models import Case
from qcity.core.demo import DemoDataRefused, create_demo_users
from qcity.core.models import Transition
from qcity.portal.models import PublishedComplaintStat
from qcity.registry.demo import load_demo_register

pytestmark = pytest.mark.django_db


@pytest.fixture
def register(org_units, calendar):
    create_demo_users()
    load_demo_register()


def test_it_files_a_few_hundred_cases_in_every_state_and_publishes_the_past_months(register):
    today = timezone.localdate()
    loaded = load_demo_complaints(today)
    assert loaded.refused == []
    assert loaded.cases >= 300
    assert set(Case.objects.values_list("status", flat=True)) == set(Case.Status.values)
    assert set(Case.objects.values_list("kind", flat=True)) >= {"complaint", "report"}
    # Steps happened on the story's days, after receipt, never in the future.
    for case in Case.objects.exclude(status_changed_at=None)[:100]:
        assert case.received_at <= case.status_changed_at <= timezone.now()
    oldest = Transition.objects.filter(workflow__startswith="complaints.").order_by("time").first()
    assert oldest.time.date() < today - dt.timedelta(days=90)
    assert PublishedComplaintStat.objects.exists()
    assert load_demo_complaints(today).already


def test_it_is_refused_under_production_settings(settings, register):
    settings.QCITY_DEMO_DATA = False
    with pytest.raises(DemoDataRefused):
        load_demo_complaints(timezone.localdate())
