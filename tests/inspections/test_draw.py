"""The draw as a BATCH step: population, record, attempts, refusals, scope (issue 8, item 5)."""

from __future__ import annotations

import datetime as dt
import gzip
import random

import pytest
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from qcity.core import files
from qcity.core.models import AuditEvent, OrgUnit
from qcity.core.workflow import NotFound, ReasonRequired, StepNotAllowed
from qcity.inspections import draw, drawalgo, selectors, services
from qcity.inspections.models import Batch, Draw, Result, Task
from qcity.registry.models import MarketEntity
from tests.inspections.draw_helpers import (
    check_item,
    county_bureau,
    make_batch,
    make_entities,
    uscc,
    use_tmp_store,
)

pytestmark = pytest.mark.django_db
SEED = bytes(range(32))
KAIYUAN, XIFENG = "211282", "211223"


@pytest.fixture
def store(settings, tmp_path):
    return use_tmp_store(settings, tmp_path)


@pytest.fixture
def kaiyuan_register(org_units):
    # 40 A, 30 B, 20 C, 10 D and 5 unclassified in 开原; 50 A in 西丰 that 开原 must never draw.
    classes = ["A"] * 40 + ["B"] * 30 + ["C"] * 20 + ["D"] * 10 + [""] * 5
    random.Random(7).shuffle(classes)
    make_entities("开原市", KAIYUAN, classes)
    make_entities("西丰县", XIFENG, ["A"] * 50, start=1000)


def kaiyuan_batch(personas, **kwargs) -> Batch:
    kwargs.setdefault(
        "quotas",
        {"A": {"ratio": "10"}, "B": {"ratio": "12.5"}, "C": {"count": 5}, "D": {"count": 50}},
    )
    return make_batch(county_bureau("开原市"), personas["kaiyuan"], **kwargs)


def test_it_draws_each_class_by_its_quota_from_the_owners_county_only(
    personas, kaiyuan_register, store
):
    batch = kaiyuan_batch(personas)

    result = services.draw_batch(personas["kaiyuan"], batch.pk, _seed=SEED)

    batch.refresh_from_db()
    assert batch.status == Batch.Status.DRAWN
    assert result.attempt == 1 and result.is_current
    # ratio 10 % of 40 = 4; 12.5 % of 30 = 3.75 → 4 (rounded up); count 5; count 50 of 10 → 10.
    assert result.strata == {
        "A": {"population": 40, "selected": 4},
        "B": {"population": 30, "selected": 4},
        "C": {"population": 20, "selected": 5},
        "D": {"population": 10, "selected": 10},
    }
    assert result.population_size == 100
    assert len(result.selected_codes) == 23 == len(set(result.selected_codes))
    drawn = MarketEntity.objects.filter(code__in=result.selected_codes)
    assert {e.region_code for e in drawn} == {KAIYUAN}
    # Strata come one after another in the order A, B, C, D.
    classes = {e.code: e.risk_class for e in drawn}
    assert [classes[c] for c in result.selected_codes] == sorted(
        classes[c] for c in result.selected_codes
    )
    assert result.seed == SEED.hex() and result.algorithm == drawalgo.ALGORITHM
    assert result.parameters["population_filter"]["statuses"] == ["active"]
    assert result.parameters["as_of"] == timezone.localdate().isoformat()


def test_the_stored_snapshot_is_the_population_file_the_digest_names(
    personas, kaiyuan_register, store
):
    result = services.draw_batch(personas["kaiyuan"], kaiyuan_batch(personas).pk, _seed=SEED)

    data = draw.population_bytes(result)
    assert drawalgo.digest(data) == result.population_digest
    assert result.population_file.startswith(f"draws/{result.batch_id}/1-")
    assert gzip.decompress((store / result.population_file).read_bytes()) == data
    lines = data.decode("ascii").split("\n")
    assert lines[0] == "code,stratum" and lines[-1] == ""
    rows = [tuple(line.split(",")) for line in lines[1:-1]]
    assert len(rows) == 100
    # Sorted by (stratum, code) bytewise, exactly as Python sorts bytes.
    assert rows == sorted(rows, key=lambda r: (r[1].encode(), r[0].encode()))
    expected = {
        (e.code, e.risk_class)
        for e in MarketEntity.objects.filter(region_code=KAIYUAN).exclude(risk_class="")
    }
    assert {(code, stratum) for code, stratum in rows} == expected
    # And the record recomputes from the two files alone.
    assert drawalgo.verify(draw.record_bytes(result), data).startswith("一致")


def test_the_same_inputs_give_the_same_selection(personas, kaiyuan_register, store):
    first = services.draw_batch(personas["kaiyuan"], kaiyuan_batch(personas).pk, _seed=SEED)
    second = services.draw_batch(
        personas["kaiyuan"], kaiyuan_batch(personas, number=2).pk, _seed=SEED
    )
    other = services.draw_batch(
        personas["kaiyuan"], kaiyuan_batch(personas, number=3).pk, _seed=bytes(32)
    )

    assert first.population_digest == second.population_digest
    assert first.selected_codes == second.selected_codes
    assert other.selected_codes != first.selected_codes


def test_a_real_seed_is_32_fresh_bytes_from_the_server(personas, kaiyuan_register, store):
    one = services.draw_batch(personas["kaiyuan"], kaiyuan_batch(personas).pk)
    two = services.draw_batch(personas["kaiyuan"], kaiyuan_batch(personas, number=2).pk)

    assert len(bytes.fromhex(one.seed)) == 32
    assert one.seed != two.seed


def test_the_database_orders_codes_as_python_sorts_bytes(personas, org_units, store):
    # Letters sort after digits in bytes (and in "C"), unlike some locales' collations.
    unit = county_bureau("开原市")
    codes = [
        "91211282MA0000000A",
        "912112820000000001",
        "91211282Z00000000B",
        "9121128200000000Y1",
        "92211282MA00000010",
        "211282000000001",
    ]
    MarketEntity.objects.bulk_create(
        MarketEntity(
            code=c, name=c, kind="enterprise", region_code=KAIYUAN, owner_unit=unit, risk_class="A"
        )
        for c in codes
    )
    batch = kaiyuan_batch(personas, quotas={"A": {"count": 1}})
    params = {"quotas": {"A": {"count": 1}}, "population_filter": draw.clean_filter({})}

    texts = draw.population_texts(draw.population_queryset(batch, params), ["A"])

    assert texts["A"].split("\n") == sorted(codes, key=str.encode)


def test_a_redraw_needs_a_reason_and_keeps_every_attempt(personas, kaiyuan_register, store):
    batch = kaiyuan_batch(personas)
    first = services.draw_batch(personas["kaiyuan"], batch.pk, _seed=SEED)

    with pytest.raises(ReasonRequired):
        services.draw_batch(personas["kaiyuan"], batch.pk)
    second = services.draw_batch(personas["kaiyuan"], batch.pk, reason="原抽取时名录未更新")

    first.refresh_from_db()
    assert not first.is_current and second.is_current
    assert second.attempt == 2 and second.reason == "原抽取时名录未更新"
    assert draw.draw_record(second)["reason"] == "原抽取时名录未更新"
    assert draw.draw_record(second)["attempt"] == 2
    attempts = selectors.draw_attempts(personas["kaiyuan"], batch)
    assert [d.attempt for d in attempts] == [1, 2]
    actions = list(
        AuditEvent.objects.filter(action__startswith="inspections.batch.").values_list(
            "action", "details__reason"
        )
    )
    assert actions == [
        ("inspections.batch.draw", None),
        ("inspections.batch.redraw", "原抽取时名录未更新"),
    ]


def test_another_county_sees_and_draws_nothing_of_this_one(personas, kaiyuan_register, store):
    batch = kaiyuan_batch(personas)
    services.draw_batch(personas["kaiyuan"], batch.pk, _seed=SEED)

    with pytest.raises(Http404):
        selectors.draw_attempts(personas["xifeng"], batch)
    with pytest.raises(NotFound):
        services.draw_batch(personas["xifeng"], batch.pk, reason="试图重抽")
    assert Draw.objects.filter(batch=batch).count() == 1
    assert len(selectors.draw_attempts(personas["coordinator"], batch)) == 1


def test_a_city_plan_draws_from_every_county(personas, kaiyuan_register, store):
    batch = make_batch(
        OrgUnit.objects.get(name="市市场监管局"),
        personas["coordinator"],
        quotas={"A": {"ratio": "100"}},
    )

    result = services.draw_batch(personas["coordinator"], batch.pk, _seed=SEED)

    assert result.strata == {"A": {"population": 90, "selected": 90}}


def test_the_scope_filters_narrow_the_population(personas, org_units, store):
    make_entities("开原市", KAIYUAN, ["A"] * 5, industry="C1441")
    make_entities("开原市", KAIYUAN, ["A"] * 4, start=100, industry="F5211")
    make_entities("开原市", KAIYUAN, ["A"] * 3, start=200, status=MarketEntity.Status.REVOKED)
    make_entities("开原市", KAIYUAN, ["A"] * 2, start=300, kind=MarketEntity.Kind.INDIVIDUAL)
    batch = kaiyuan_batch(
        personas,
        quotas={"A": {"ratio": "100"}},
        population_filter={"industry_prefixes": ["C14"], "kinds": ["enterprise", "individual"]},
    )

    result = services.draw_batch(personas["kaiyuan"], batch.pk, _seed=SEED)

    # Revoked entities are out (default status 存续 only); F52 is out by industry.
    assert result.population_size == 7


def test_entities_checked_for_the_same_item_recently_are_not_eligible(personas, org_units, store):
    item = check_item()
    entities = make_entities("开原市", KAIYUAN, ["A"] * 6)
    old = kaiyuan_batch(
        personas,
        quotas={"A": {"count": 2}},
        window=(dt.date(2026, 3, 1), dt.date(2026, 3, 31)),
        items=[item],
    )
    old_draw = services.draw_batch(personas["kaiyuan"], old.pk, _seed=SEED)
    for position, entity in enumerate(entities[:2], start=1):
        Task.objects.create(
            batch=old,
            draw=old_draw,
            entity=entity,
            position=position,
            owner_unit=old.plan.owner_unit,
        )
    checked = Task.objects.create(
        batch=make_batch(
            county_bureau("开原市"),
            personas["kaiyuan"],
            number=9,
            window=(dt.date(2024, 1, 1), dt.date(2024, 1, 31)),
            items=[item],
        ),
        draw=old_draw,
        entity=entities[2],
        position=1,
        owner_unit=old.plan.owner_unit,
    )
    Result.objects.create(
        task=checked,
        check_date=dt.date(2026, 6, 1),
        entered_by=personas["kaiyuan"],
        entered_at=timezone.now(),
    )
    new = kaiyuan_batch(personas, number=2, quotas={"A": {"ratio": "100"}}, items=[item])

    result = services.draw_batch(personas["kaiyuan"], new.pk, _seed=SEED)

    # Two by the old batch's window (ended 2026-03-31), one by its result's check date.
    assert result.population_size == 3
    assert set(result.selected_codes) == {e.code for e in entities[3:]}
    unrelated = kaiyuan_batch(personas, number=3, quotas={"A": {"ratio": "100"}})
    assert services.draw_batch(personas["kaiyuan"], unrelated.pk).population_size == 6


def test_a_batch_with_no_eligible_entity_is_refused_and_audited(personas, org_units, store):
    make_entities("开原市", KAIYUAN, ["A"] * 5, industry="C1441")
    batch = kaiyuan_batch(personas, population_filter={"industry_prefixes": ["F52"]})

    with pytest.raises(draw.DrawRefused) as refused:
        services.draw_batch(personas["kaiyuan"], batch.pk)

    assert refused.value.code == "no_eligible_entities"
    assert str(batch) in refused.value.message and "行业（F52）" in refused.value.message
    batch.refresh_from_db()
    assert batch.status == Batch.Status.DRAFT and not Draw.objects.exists()
    assert not list(store.rglob("*.gz"))
    event = AuditEvent.objects.get(action="inspections.batch.draw_refused")
    assert event.success is False and event.details["code"] == "no_eligible_entities"
    assert event.object_id == str(batch.pk)


def test_a_class_without_a_quota_names_the_risk_class_filter(personas, org_units, store):
    make_entities("开原市", KAIYUAN, ["B"] * 5)
    batch = kaiyuan_batch(personas, quotas={"A": {"count": 3}})

    with pytest.raises(draw.DrawRefused, match="风险类别"):
        services.draw_batch(personas["kaiyuan"], batch.pk)


@pytest.mark.parametrize(
    "quotas",
    [
        {},
        {"E": {"count": 1}},
        {"A": {"count": 0}},
        {"A": {"count": True}},
        {"A": {"ratio": 5}},
        {"A": {"ratio": "150"}},
        {"A": {"ratio": "1e2"}},
        {"A": {"ratio": "3", "count": 2}},
        {"A": 5},
    ],
)
def test_malformed_quotas_are_refused_with_a_stable_code(personas, kaiyuan_register, quotas, store):
    batch = kaiyuan_batch(personas, quotas=quotas)

    with pytest.raises(draw.DrawRefused) as refused:
        services.draw_batch(personas["kaiyuan"], batch.pk)

    assert refused.value.code == "quotas_invalid"
    assert not Draw.objects.exists()
    assert Batch.objects.get(pk=batch.pk).status == Batch.Status.DRAFT


def test_a_malformed_population_filter_is_refused(personas, kaiyuan_register, store):
    batch = kaiyuan_batch(personas, population_filter={"region_codes": ["开原市"]})

    with pytest.raises(draw.DrawRefused) as refused:
        services.draw_batch(personas["kaiyuan"], batch.pk)

    assert refused.value.code == "population_filter_invalid"


def test_an_assigned_batch_cannot_be_drawn_again(personas, kaiyuan_register, store):
    batch = kaiyuan_batch(personas)
    services.draw_batch(personas["kaiyuan"], batch.pk, _seed=SEED)
    Batch.objects.filter(pk=batch.pk).update(status=Batch.Status.ASSIGNED)

    with pytest.raises(StepNotAllowed):
        services.draw_batch(personas["kaiyuan"], batch.pk, reason="想换一批")

    assert Draw.objects.filter(batch=batch).count() == 1


def test_a_snapshot_whose_draw_rolled_back_is_swept_and_a_kept_one_is_not(
    personas, kaiyuan_register, store
):
    kept = services.draw_batch(personas["kaiyuan"], kaiyuan_batch(personas).pk)
    # A caller's transaction that rolls back after the step (Django has no on_rollback)
    # leaves a snapshot without its Draw row: the orphan sweep removes it.
    with pytest.raises(RuntimeError), transaction.atomic():
        services.draw_batch(personas["kaiyuan"], kaiyuan_batch(personas, number=2).pk)
        raise RuntimeError("the page failed after the draw")
    assert Draw.objects.count() == 1 and len(list(store.rglob("*.gz"))) == 2

    removed = files.sweep_orphans(older_than=dt.timedelta(0))

    assert len(removed) == 1 and removed[0].startswith("draws/")
    assert [p.name for p in store.rglob("*.gz")] == [kept.population_file.rsplit("/", 1)[1]]


def test_codes_are_valid_uscc():
    assert uscc("440300", 19220382) == "914403001922038216"


def test_a_register_code_that_was_never_normalised_is_refused_not_published(
    personas, org_units, store
):
    make_entities("开原市", KAIYUAN, ["A"] * 3)
    MarketEntity.objects.create(
        code="91211282mA0000000x",
        name="未规范化代码",
        kind="enterprise",
        region_code=KAIYUAN,
        owner_unit=county_bureau("开原市"),
        risk_class="A",
    )
    batch = kaiyuan_batch(personas, quotas={"A": {"count": 2}})

    with pytest.raises(draw.DrawRefused) as refused:
        services.draw_batch(personas["kaiyuan"], batch.pk)

    assert refused.value.code == "population_code_malformed"
    assert not Draw.objects.exists() and not list(store.rglob("*.gz"))
