"""The annual assessment as the coordinator runs it: scheme, scores, adjustments, ranking."""

from __future__ import annotations

from decimal import Decimal

import pytest

from qcity.assessment import selectors, services
from qcity.assessment.models import Adjustment, Result, Rule, Scheme, Score
from qcity.assessment.services import SCHEME, AssessmentRefused
from qcity.core.models import AuditEvent
from qcity.core.workflow import Forbidden, Invalid, NotFound, ReasonRequired, take

pytestmark = pytest.mark.django_db

RATES = [
    {"name": "报送完成率", "rule": Rule.COMPLETENESS, "weight": 50},
    {"name": "按时报送率", "rule": Rule.TIMELINESS, "weight": 50},
]


def scheme_with(plan, coordinator, rows=RATES) -> Scheme:
    scheme = services.create_scheme(plan, 2026, by=coordinator, default=False)
    services.set_criteria(coordinator, scheme.pk, rows)
    return scheme


def line(scheme, name) -> Result:
    return Result.objects.get(scheme=scheme, unit__name=name)


def ranks(scheme, group="department") -> dict[str, tuple[int, str]]:
    return {
        r.unit.name: (r.rank, f"{r.total:.2f}")
        for r in Result.objects.filter(scheme=scheme, group=group).select_related("unit")
    }


def test_the_ranking_with_a_manual_adjustment(plan, personas, year_of_reports):
    coordinator = personas["coordinator"]
    scheme = scheme_with(plan, coordinator)
    take(SCHEME, "compute", scheme, by=coordinator)
    # 农业农村局: 5/5 received, 4/5 on time → 50 + 40; 工信局: 9/10 and 9/10 → 45 + 45.
    before = ranks(scheme)
    assert before["市农业农村局"] == (1, "90.00")
    assert before["市工业和信息化局"] == (1, "90.00")
    # Units that sent nothing share the next rank after the two tied first: 3.
    assert before["市商务局"] == (3, "0.00")
    result = services.add_adjustment(
        coordinator,
        scheme.pk,
        line(scheme, "市农业农村局").unit_id,
        points="-2.5",
        reason="第1季度报告数据与统计局口径不一致",
    )
    assert (result.computed, result.adjustment, result.total) == (
        Decimal("90.00"),
        Decimal("-2.50"),
        Decimal("87.50"),
    )
    after = ranks(scheme)
    assert after["市工业和信息化局"] == (1, "90.00")
    assert after["市农业农村局"] == (2, "87.50")
    assert after["市商务局"] == (3, "0.00")
    event = AuditEvent.objects.get(action="assessment.adjustment.added")
    assert event.details["reason"] == "第1季度报告数据与统计局口径不一致"
    assert event.details["points"] == "-2.50" and event.actor == coordinator


def test_departments_and_counties_are_ranked_separately(plan, personas, year_of_reports):
    coordinator = personas["coordinator"]
    scheme = scheme_with(plan, coordinator)
    take(SCHEME, "compute", scheme, by=coordinator)
    assert ranks(scheme, "county") == {"开原市": (1, "100.00")}
    departments = ranks(scheme)
    assert "开原市" not in departments and "开原市市场监督管理局" not in departments
    # An institution answers through its department; bodies outside the city government
    # (海关, 税务) are not assessed.
    assert "铁岭检验检测中心" not in departments and "市市场监管局" in departments
    assert "铁岭海关" not in departments


def test_each_score_keeps_its_inputs(plan, personas, year_of_reports):
    coordinator = personas["coordinator"]
    scheme = scheme_with(plan, coordinator)
    take(SCHEME, "compute", scheme, by=coordinator)
    timeliness = Score.objects.get(
        scheme=scheme, unit__name="市农业农村局", criterion__rule=Rule.TIMELINESS
    )
    assert (timeliness.numerator, timeliness.denominator) == (Decimal(4), Decimal(5))
    assert timeliness.ratio == Decimal("0.8") and timeliness.points == Decimal("40.00")
    completeness = Score.objects.get(
        scheme=scheme, unit__name="市工业和信息化局", criterion__rule=Rule.COMPLETENESS
    )
    assert (completeness.numerator, completeness.denominator) == (Decimal(9), Decimal(10))


def test_report_quality_counts_reports_approved_without_a_return(plan, personas, year_of_reports):
    coordinator = personas["coordinator"]
    scheme = scheme_with(
        plan, coordinator, [{"name": "一次通过率", "rule": Rule.REPORT_QUALITY, "weight": 100}]
    )
    take(SCHEME, "compute", scheme, by=coordinator)
    nongye = Score.objects.get(scheme=scheme, unit__name="市农业农村局")
    assert (nongye.numerator, nongye.denominator, nongye.points) == (
        Decimal(4),
        Decimal(5),
        Decimal("80.00"),
    )
    # No approved report: the criterion does not apply, so the unit is not ranked on it.
    shangwu = Score.objects.get(scheme=scheme, unit__name="市商务局")
    assert shangwu.ratio is None and "不适用" in shangwu.note
    assert not Result.objects.filter(scheme=scheme, unit__name="市商务局").exists()


def test_a_recompute_keeps_the_adjustments(plan, personas, year_of_reports):
    coordinator = personas["coordinator"]
    scheme = scheme_with(plan, coordinator)
    take(SCHEME, "compute", scheme, by=coordinator)
    gongxin = line(scheme, "市工业和信息化局")
    services.add_adjustment(
        coordinator, scheme.pk, gongxin.unit_id, points=3, reason="牵头创建质量强市示范"
    )
    take(SCHEME, "compute", scheme, by=coordinator)
    again = line(scheme, "市工业和信息化局")
    assert again.pk != gongxin.pk  # the results were really recomputed
    assert (again.computed, again.adjustment, again.total, again.rank) == (
        Decimal("90.00"),
        Decimal("3.00"),
        Decimal("93.00"),
        1,
    )
    assert Adjustment.objects.filter(scheme=scheme).count() == 1


def test_weights_that_do_not_sum_to_100_are_refused(plan, personas, calendar):
    coordinator = personas["coordinator"]
    scheme = services.create_scheme(plan, 2026, by=coordinator)
    before = list(scheme.criteria.values_list("name", "weight"))
    for rows in (
        [
            {"name": "报送完成率", "rule": Rule.COMPLETENESS, "weight": 60},
            {"name": "按时报送率", "rule": Rule.TIMELINESS, "weight": 50},
        ],
        # 100 for the counties but 40 for the departments.
        [
            {"name": "报送完成率", "rule": Rule.COMPLETENESS, "weight": 40},
            {"name": "县区评价", "rule": Rule.QUALITATIVE, "weight": 60, "applies_to": "counties"},
        ],
    ):
        with pytest.raises(AssessmentRefused) as refused:
            services.set_criteria(coordinator, scheme.pk, rows)
        assert refused.value.code == "weights_not_100" and "100" in refused.value.message
    assert list(scheme.criteria.values_list("name", "weight")) == before
    assert not AuditEvent.objects.filter(action="assessment.criteria.set").exists()


def test_the_default_tieling_scheme_loads_in_one_call(plan, personas):
    scheme = services.create_scheme(plan, 2026, by=personas["coordinator"])
    assert list(scheme.criteria.values_list("name", "rule", "weight")) == [
        ("报送完成率", "completeness", Decimal("25.00")),
        ("按时报送率", "timeliness", Decimal("25.00")),
        ("目标达成", "targets_achieved", Decimal("30.00")),
        ("综合评价", "qualitative", Decimal("20.00")),
    ]
    assert scheme.status == Scheme.Status.DRAFT
    assert AuditEvent.objects.filter(action="assessment.scheme.created").count() == 1


def test_an_adjustment_without_a_reason_is_refused(plan, personas, year_of_reports):
    coordinator = personas["coordinator"]
    scheme = scheme_with(plan, coordinator)
    take(SCHEME, "compute", scheme, by=coordinator)
    unit = line(scheme, "市农业农村局").unit_id
    for reason in ("", "   "):
        with pytest.raises(AssessmentRefused) as refused:
            services.add_adjustment(coordinator, scheme.pk, unit, points=5, reason=reason)
        assert refused.value.code == "reason_required"
    for points in ("0", "abc", "25", "1.234"):
        with pytest.raises(AssessmentRefused) as refused:
            services.add_adjustment(coordinator, scheme.pk, unit, points=points, reason="理由")
        assert refused.value.code == "invalid_points"
    assert not Adjustment.objects.exists()
    assert line(scheme, "市农业农村局").total == Decimal("90.00")


def test_a_liaison_can_neither_adjust_nor_see_unpublished_results(plan, personas, year_of_reports):
    coordinator, nongye = personas["coordinator"], personas["nongye"]
    scheme = scheme_with(plan, coordinator)
    take(SCHEME, "compute", scheme, by=coordinator)
    unit = line(scheme, "市农业农村局").unit_id
    with pytest.raises(AssessmentRefused) as refused:
        services.add_adjustment(nongye, scheme.pk, unit, points=5, reason="自评加分")
    assert refused.value.code == "not_found"
    with pytest.raises(NotFound):
        take(SCHEME, "publish", scheme, by=nongye)
    for name in ("nongye", "kaiyuan", "inspector", "lab", "enterprise", "sysadmin"):
        assert not selectors.visible_schemes(personas[name]).exists(), name
        assert not any(selectors.ranking(personas[name], scheme).values()), name
    assert not Adjustment.objects.exists()


def test_publication_makes_the_ranking_readable_and_freezes_it(plan, personas, year_of_reports):
    coordinator, nongye, gongxin = personas["coordinator"], personas["nongye"], personas["gongxin"]
    scheme = scheme_with(plan, coordinator)
    take(SCHEME, "compute", scheme, by=coordinator)
    take(SCHEME, "publish", scheme, by=coordinator)
    for name in ("nongye", "gongxin", "kaiyuan", "inspector", "lab"):
        ranking = selectors.ranking(personas[name], scheme)
        assert (
            len(ranking["department"])
            == Result.objects.filter(scheme=scheme, group="department").count()
        ), name
    assert not selectors.visible_schemes(personas["enterprise"]).exists()
    assert not selectors.visible_schemes(personas["sysadmin"]).exists()
    # A unit opens its own details, not another's.
    mine = selectors.unit_details(nongye, scheme, nongye.unit_id)
    assert {s.criterion.rule for s in mine.scores} == {"completeness", "timeliness"}
    from django.http import Http404

    with pytest.raises(Http404):
        selectors.unit_details(nongye, scheme, gongxin.unit_id)
    # Read-only once published: no adjustment until it is reopened, with a reason.
    with pytest.raises(AssessmentRefused) as refused:
        services.add_adjustment(coordinator, scheme.pk, nongye.unit_id, points=1, reason="补充")
    assert refused.value.code == "scheme_published"
    with pytest.raises(ReasonRequired):
        take(SCHEME, "reopen", scheme, by=coordinator)
    with pytest.raises(Forbidden):
        take(SCHEME, "reopen", scheme, by=personas["gongxin"], reason="我不同意")
    take(SCHEME, "reopen", scheme, by=coordinator, reason="县区提出复核申请")
    scheme.refresh_from_db()
    assert scheme.status == Scheme.Status.COMPUTED
    assert not selectors.visible_schemes(nongye).exists()
    actions = list(
        AuditEvent.objects.filter(action__startswith="assessment.scheme.")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == [
        "assessment.scheme.created",
        "assessment.scheme.computed",
        "assessment.scheme.published",
        "assessment.scheme.reopened",
    ]


def test_a_qualitative_score_counts_at_once_and_publication_waits_for_all(
    plan, personas, year_of_reports
):
    coordinator = personas["coordinator"]
    scheme = services.create_scheme(plan, 2026, by=coordinator)
    take(SCHEME, "compute", scheme, by=coordinator)
    with pytest.raises(Invalid, match="未评分"):
        take(SCHEME, "publish", scheme, by=coordinator)
    qualitative = scheme.criteria.get(rule=Rule.QUALITATIVE)
    # No target is linked to an indicator yet: 目标达成 does not apply; 综合评价 waits.
    nongye = line(scheme, "市农业农村局")
    assert nongye.applicable_weight == Decimal(50) and nongye.total == Decimal("90.00")
    with pytest.raises(AssessmentRefused) as refused:
        services.score_qualitative(
            coordinator, scheme.pk, qualitative.pk, nongye.unit_id, points=80, comment=""
        )
    assert refused.value.code == "comment_required"
    services.score_qualitative(
        coordinator, scheme.pk, qualitative.pk, nongye.unit_id, points=80, comment="工作扎实"
    )
    nongye = line(scheme, "市农业农村局")
    # (25 × 1 + 25 × 0.8 + 20 × 0.8) ÷ 70 × 100 = 61 ÷ 70 × 100
    assert nongye.applicable_weight == Decimal(70) and nongye.computed == Decimal("87.14")
    for result in Result.objects.filter(scheme=scheme).exclude(unit=nongye.unit):
        services.score_qualitative(
            coordinator, scheme.pk, qualitative.pk, result.unit_id, points=60, comment="一般"
        )
    take(SCHEME, "publish", scheme, by=coordinator)
    assert Scheme.objects.get(pk=scheme.pk).status == Scheme.Status.PUBLISHED


def test_targets_achieved_counts_the_targets_whose_indicator_the_unit_owns(
    plan, personas, calendar
):
    from qcity.metrics.models import Indicator
    from qcity.metrics.services import enter_value, load_default_indicators
    from qcity.plans.models import Target
    from qcity.plans.target_links import link_indicator

    coordinator = personas["coordinator"]
    load_default_indicators()
    values = {
        "agri_monitoring_pass_rate": "98.5",  # 市农业农村局: achieved
        "food_sampling_pass_rate": "95",  # 市市场监管局: missed at the deadline
        "tech_contract_value": "4.5",  # 市科技局: achieved
        "tech_local_conversion_rate": "50",  # 市科技局: missed
    }
    for code, value in values.items():
        indicator = Indicator.objects.get(code=code)
        target = Target.objects.get(plan=plan, indicator_name=indicator.name)
        link_indicator(target.pk, indicator.pk, by=coordinator)
        enter_value(indicator.pk, period="2025", value=value, unit=indicator.unit, by=coordinator)
    scheme = scheme_with(
        plan,
        coordinator,
        [
            {"name": "报送完成率", "rule": Rule.COMPLETENESS, "weight": 40},
            {"name": "目标达成", "rule": Rule.TARGETS_ACHIEVED, "weight": 60},
        ],
    )
    take(SCHEME, "compute", scheme, by=coordinator)
    # No reporting cycle in 2026 yet: completeness does not apply; targets decide alone.
    assert ranks(scheme) == {
        "市农业农村局": (1, "100.00"),
        "市科技局": (2, "50.00"),
        "市市场监管局": (3, "0.00"),
    }
    keji = Score.objects.get(
        scheme=scheme, unit__name="市科技局", criterion__rule=Rule.TARGETS_ACHIEVED
    )
    assert (keji.numerator, keji.denominator, keji.points) == (
        Decimal(1),
        Decimal(2),
        Decimal("30.00"),
    )


def test_a_year_without_cycles_or_linked_targets_cannot_be_computed(plan, personas):
    coordinator = personas["coordinator"]
    scheme = scheme_with(plan, coordinator)
    with pytest.raises(Invalid, match="没有可考核的单位"):
        take(SCHEME, "compute", scheme, by=coordinator)
    assert Scheme.objects.get().status == Scheme.Status.DRAFT
