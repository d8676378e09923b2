"""Targets point at indicators: qcity proposes, the coordinator confirms; status is derived."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from qcity.core.models import AuditEvent
from qcity.metrics.models import Indicator
from qcity.metrics.services import enter_value
from qcity.metrics.status import Status
from qcity.plans import target_links
from qcity.plans.models import Plan, Target
from tests.conftest import truth

pytestmark = pytest.mark.django_db


@pytest.fixture
def linked_plan(plan, personas) -> Plan:
    call_command("load_indicators", stdout=StringIO())
    return Plan.objects.get()


def test_every_tieling_target_gets_the_indicator_of_its_text_proposed(linked_plan, personas):
    states = target_links.target_states(personas["coordinator"], linked_plan)
    proposed = {s.target.indicator_name: s.proposal.indicator.name for s in states if s.proposal}
    expected = {t["indicator"] for t in truth()["targets"]}
    assert len(expected) == 9
    assert {name: proposed.get(name) for name in expected} == {name: name for name in expected}
    assert all(s.status is None for s in states)  # nothing linked until confirmed


def test_a_near_name_is_proposed_and_an_unrelated_one_is_not(linked_plan):
    indicators = list(Indicator.objects.all())
    near = Target(indicator_name=" 食品抽检　合格率 ")
    assert target_links.propose(near, indicators).indicator.code == "food_sampling_pass_rate"
    assert target_links.propose(near, indicators).exact
    similar = Target(indicator_name="食品安全抽检合格率")
    proposal = target_links.propose(similar, indicators)
    assert proposal.indicator.code == "food_sampling_pass_rate" and not proposal.exact
    assert target_links.propose(Target(indicator_name="群众满意度"), indicators) is None


def test_the_coordinator_confirms_and_rejects_a_link_audited(linked_plan, personas):
    target = Target.objects.get(indicator_name="食品抽检合格率")
    food = Indicator.objects.get(code="food_sampling_pass_rate")
    target_links.link_indicator(target.pk, food.pk, by=personas["coordinator"])
    assert Target.objects.get(pk=target.pk).indicator == food
    target_links.unlink_indicator(target.pk, by=personas["coordinator"])
    assert Target.objects.get(pk=target.pk).indicator is None
    actions = list(
        AuditEvent.objects.filter(action__startswith="target.").values_list("action", flat=True)
    )
    assert actions == ["target.indicator_linked", "target.indicator_unlinked"]


def test_only_the_coordinator_links(linked_plan, personas):
    target = Target.objects.get(indicator_name="农产品质量安全例行监测合格率")
    agri = Indicator.objects.get(code="agri_monitoring_pass_rate")
    with pytest.raises(target_links.LinkRefused) as refused:
        target_links.link_indicator(target.pk, agri.pk, by=personas["nongye"])
    assert refused.value.status == 403
    assert Target.objects.get(pk=target.pk).indicator is None


@pytest.mark.parametrize(
    ("baseline", "latest", "status"),
    [
        ("90", "98.5", Status.ACHIEVED),
        ("90", "96", Status.ON_TRACK),
        ("90", "95", Status.AT_RISK),
        ("90", "93", Status.OFF_TRACK),
    ],
)
def test_a_linked_target_shows_the_status_of_its_indicator_values(
    linked_plan, personas, baseline, latest, status
):
    # 食品抽检合格率 ≥ 98% in 2025: path from 2022 (90) to 2025-12-31; in 2024 the path
    # stands at 90 + 8 × 731/1096 ≈ 95.34, the remaining gap ≈ 2.66, the band ≈ 0.67.
    target = Target.objects.get(indicator_name="食品抽检合格率")
    food = Indicator.objects.get(code="food_sampling_pass_rate")
    coordinator = personas["coordinator"]
    target_links.link_indicator(target.pk, food.pk, by=coordinator)
    enter_value(food.pk, period="2022", value=baseline, unit="%", by=coordinator)
    enter_value(food.pk, period="2024", value=latest, unit="%", by=coordinator)
    state = next(
        s for s in target_links.target_states(coordinator, linked_plan) if s.target.pk == target.pk
    )
    assert state.status == status
    assert (state.baseline.period, state.latest.period) == ("2022", "2024")


def test_a_linked_target_without_values_has_no_data(linked_plan, personas):
    target = Target.objects.get(indicator_name="食品抽检合格率")
    food = Indicator.objects.get(code="food_sampling_pass_rate")
    target_links.link_indicator(target.pk, food.pk, by=personas["coordinator"])
    assert target_links.status_of(Target.objects.get(pk=target.pk))[0] == Status.NO_DATA
