"""Random assignment of inspectors (BATCH step ``assign``) on the database.

The draw is not built here: tests create the current ``Draw`` with its selected codes.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections import Counter

import pytest
from django.db import transaction
from django.utils import timezone

from qcity.core.models import AuditEvent, OrgUnit
from qcity.core.workflow import Forbidden, Invalid, NotFound, StepNotAllowed
from qcity.inspections import services
from qcity.inspections.models import (
    Batch,
    BatchParticipant,
    CheckItem,
    Draw,
    InspectionPlan,
    Task,
    TaskInspector,
)
from qcity.registry.models import Conflict, Inspector, MarketEntity, Speciality

pytestmark = pytest.mark.django_db

KAIYUAN = "开原市市场监督管理局"
KAIYUAN_STATION = "开原市城区市场监督管理所"
XIFENG = "西丰县市场监督管理局"
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def uscc(n: int) -> str:
    """A valid 统一社会信用代码 (GB 32100 check digit) for test entity number n."""
    body = f"91211282MA{n:07d}"
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(body, USCC_WEIGHTS, strict=True))
    return body + USCC_CHARS[(31 - total % 31) % 31]


def unit(name: str) -> OrgUnit:
    return OrgUnit.objects.get(name=name)


def entities(count: int, start: int = 1) -> list[MarketEntity]:
    owner = unit(KAIYUAN)
    return MarketEntity.objects.bulk_create(
        MarketEntity(
            code=uscc(start + i),
            name=f"开原测试商贸有限公司{start + i}",
            kind=MarketEntity.Kind.ENTERPRISE,
            region_code="211282",
            owner_unit=owner,
        )
        for i in range(count)
    )


_certificates = iter(range(1, 10**6))


def inspectors(count: int, unit_name: str, *, specialities=(), active=True) -> list[Inspector]:
    made = []
    for _ in range(count):
        n = next(_certificates)
        made.append(
            Inspector.objects.create(
                name=f"执法员{n}",
                certificate_no=f"21120000{n:06d}",
                org_unit=unit(unit_name),
                active=active,
            )
        )
        made[-1].specialities.set(specialities)
    return made


def speciality(code: str, name: str) -> Speciality:
    return Speciality.objects.get_or_create(code=code, defaults={"name": name})[0]


def drawn_batch(
    owner_user,
    chosen: list[MarketEntity],
    *,
    number: int = 1,
    required=(),
    seed: str | None = None,
    min_inspectors: int = 2,
) -> Batch:
    plan, _ = InspectionPlan.objects.get_or_create(
        owner_unit=owner_user.unit,
        year=2026,
        title="2026年度双随机抽查计划",
        defaults={"created_by": owner_user},
    )
    batch = Batch.objects.create(
        plan=plan,
        number=number,
        title=f"第{number}批 食品经营抽查",
        window_start=dt.date(2026, 3, 1),
        window_end=dt.date(2026, 6, 30),
        status=Batch.Status.DRAWN,
        min_inspectors=min_inspectors,
    )
    item = CheckItem.objects.create(
        code=f"SC-{number}-{secrets.token_hex(3)}",
        name="食品经营者经营条件检查",
        legal_basis="《中华人民共和国食品安全法》第三十三条",
        department="市场监管部门",
        object_type="食品经营者",
        kind=CheckItem.Kind.GENERAL,
    )
    item.required_specialities.set(required)
    batch.check_items.add(item)
    Draw.objects.create(
        batch=batch,
        attempt=1,
        seed=seed or secrets.token_hex(32),
        algorithm="test",
        algorithm_version="1",
        population_digest="0" * 64,
        population_size=len(chosen),
        selected_codes=[e.code for e in chosen],
        drawn_by=owner_user,
        drawn_at=timezone.now(),
    )
    return batch


def teams(batch: Batch) -> dict[str, list[int]]:
    rows = TaskInspector.objects.filter(task__batch=batch).order_by("task__position", "position")
    result: dict[str, list[int]] = {}
    for code, inspector in rows.values_list("task__entity__code", "inspector_id"):
        result.setdefault(code, []).append(inspector)
    return result


def test_it_creates_one_task_per_drawn_code_in_draw_order_with_two_inspectors_each(personas):
    kaiyuan = personas["kaiyuan"]
    chosen = entities(6)
    pool = inspectors(3, KAIYUAN) + inspectors(2, KAIYUAN_STATION)
    batch = drawn_batch(kaiyuan, list(reversed(chosen)))

    assert services.assign_batch(kaiyuan, batch.pk) == 6

    batch.refresh_from_db()
    assert batch.status == Batch.Status.ASSIGNED
    tasks = list(Task.objects.filter(batch=batch).order_by("position"))
    assert [t.entity.code for t in tasks] == [e.code for e in reversed(chosen)]
    assert [t.position for t in tasks] == [1, 2, 3, 4, 5, 6]
    assert {t.owner_unit.name for t in tasks} == {KAIYUAN}
    assert {t.status for t in tasks} == {Task.Status.PENDING}
    assert {t.draw_id for t in tasks} == {batch.draws.get().pk}
    for task in tasks:
        team = list(task.assignments.order_by("position"))
        assert [a.position for a in team] == [1, 2]
        assert len({a.inspector_id for a in team}) == 2
        assert {a.unit.name for a in team} == {KAIYUAN}
        assert {a.inspector_id for a in team} <= {i.pk for i in pool}
    # 12 places over 5 inspectors: loads 2 or 3 (within one of the mean 2.4).
    loads = Counter(
        TaskInspector.objects.filter(task__batch=batch).values_list("inspector", flat=True)
    )
    assert sorted(loads.values()) == [2, 2, 2, 3, 3]

    event = AuditEvent.objects.get(action="inspections.batch.assign")
    assert event.object_id == str(batch.pk) and event.success
    assert event.details["tasks"] == 6 and event.details["inspectors"] == 5
    assert event.details["algorithm"] == "qcity-assign"
    assert event.details["load"] == [
        {"unit": KAIYUAN, "per_task": 2, "inspectors": 5, "min": 2, "max": 3, "mean": 2.4}
    ]


def test_only_active_inspectors_of_the_owner_and_its_stations_are_drawn(personas):
    kaiyuan = personas["kaiyuan"]
    chosen = entities(20)
    own = inspectors(2, KAIYUAN) + inspectors(2, KAIYUAN_STATION)
    inspectors(3, KAIYUAN, active=False)
    inspectors(5, XIFENG)
    batch = drawn_batch(kaiyuan, chosen)

    services.assign_batch(kaiyuan, batch.pk)

    drawn = set(TaskInspector.objects.filter(task__batch=batch).values_list("inspector", flat=True))
    assert drawn == {i.pk for i in own}


def test_no_inspector_gets_an_entity_they_declared_a_conflict_with(personas):
    kaiyuan = personas["kaiyuan"]
    chosen = entities(10)
    pool = inspectors(4, KAIYUAN)
    now = timezone.now()
    for entity in chosen:
        Conflict.objects.create(
            inspector=pool[0],
            entity=entity,
            reason="亲属在该企业任职",
            declared_at=now,
            declared_by=kaiyuan,
        )
    # A withdrawn declaration no longer excludes.
    Conflict.objects.create(
        inspector=pool[1],
        entity=chosen[0],
        reason="曾在该企业任职",
        declared_at=now,
        declared_by=kaiyuan,
        withdrawn_at=now,
    )
    batch = drawn_batch(kaiyuan, chosen)

    services.assign_batch(kaiyuan, batch.pk)

    drawn = teams(batch)
    assert all(pool[0].pk not in team for team in drawn.values())
    assert {i for team in drawn.values() for i in team} == {pool[1].pk, pool[2].pk, pool[3].pk}


def test_the_inspectors_of_an_entitys_last_check_are_not_sent_again(personas):
    kaiyuan = personas["kaiyuan"]
    chosen = entities(8)
    inspectors(5, KAIYUAN)
    first = drawn_batch(kaiyuan, chosen, number=1)
    services.assign_batch(kaiyuan, first.pk)
    second = drawn_batch(kaiyuan, chosen[:4], number=2)
    services.assign_batch(kaiyuan, second.pk)
    third = drawn_batch(kaiyuan, chosen, number=3)

    services.assign_batch(kaiyuan, third.pk)

    before, middle, now = teams(first), teams(second), teams(third)
    for code, team in now.items():
        # The most recent earlier task: batch 2 for the first four entities, else batch 1.
        last = middle.get(code) or before[code]
        assert not set(team) & set(last)


def test_a_joint_check_takes_each_departments_share_from_its_own_pool(personas):
    kaiyuan = personas["kaiyuan"]
    chosen = entities(12)
    own = inspectors(3, KAIYUAN_STATION)
    farming = inspectors(4, "市农业农村局")
    batch = drawn_batch(kaiyuan, chosen, min_inspectors=3)
    BatchParticipant.objects.create(batch=batch, unit=unit("市农业农村局"), inspectors_per_task=1)

    services.assign_batch(kaiyuan, batch.pk)

    for task in Task.objects.filter(batch=batch):
        team = list(task.assignments.select_related("unit").order_by("position"))
        assert [(a.unit.name, a.position) for a in team] == [
            (KAIYUAN, 1),
            (KAIYUAN, 2),
            ("市农业农村局", 3),
        ]
        assert {team[0].inspector_id, team[1].inspector_id} <= {i.pk for i in own}
        assert team[2].inspector_id in {i.pk for i in farming}
    loads = Counter(
        TaskInspector.objects.filter(task__batch=batch).values_list("inspector", flat=True)
    )
    assert sorted(loads[i.pk] for i in own) == [8, 8, 8]
    assert sorted(loads[i.pk] for i in farming) == [3, 3, 3, 3]


def test_the_owner_always_sends_at_least_one_inspector(personas):
    kaiyuan = personas["kaiyuan"]
    chosen = entities(3)
    own = inspectors(2, KAIYUAN)
    inspectors(3, "市农业农村局")
    batch = drawn_batch(kaiyuan, chosen)
    BatchParticipant.objects.create(batch=batch, unit=unit("市农业农村局"), inspectors_per_task=2)

    services.assign_batch(kaiyuan, batch.pk)

    for task in Task.objects.filter(batch=batch):
        units = [a.unit.name for a in task.assignments.order_by("position")]
        assert units == [KAIYUAN, "市农业农村局", "市农业农村局"]
        assert task.assignments.get(position=1).inspector_id in {i.pk for i in own}


def test_every_team_covers_the_specialities_the_check_items_require(personas):
    kaiyuan = personas["kaiyuan"]
    equipment = speciality("TZSB", "特种设备")
    food = speciality("SP", "食品")
    chosen = entities(15)
    specialists = inspectors(2, KAIYUAN, specialities=[equipment])
    both = inspectors(1, KAIYUAN_STATION, specialities=[equipment, food])
    general = inspectors(4, KAIYUAN)
    inspectors(1, KAIYUAN, specialities=[food])
    batch = drawn_batch(kaiyuan, chosen, required=[equipment])

    services.assign_batch(kaiyuan, batch.pk)

    qualified = {i.pk for i in specialists + both}
    for team in teams(batch).values():
        assert set(team) & qualified
    # The general inspectors fill the other place, so they are drawn too.
    drawn = {i for team in teams(batch).values() for i in team}
    assert drawn & {i.pk for i in general}


def test_the_same_seed_and_pools_give_the_same_assignment(personas):
    kaiyuan = personas["kaiyuan"]
    chosen = entities(30)
    inspectors(7, KAIYUAN)
    inspectors(4, KAIYUAN_STATION)
    seed = secrets.token_hex(32)
    batch = drawn_batch(kaiyuan, chosen, seed=seed)

    runs = []
    for _ in range(2):
        with transaction.atomic():
            services.assign_batch(kaiyuan, batch.pk)
            runs.append(teams(batch))
            transaction.set_rollback(True)
    assert runs[0] == runs[1]
    Draw.objects.filter(batch=batch).update(seed=secrets.token_hex(32))
    services.assign_batch(kaiyuan, batch.pk)
    assert teams(batch) != runs[0]


def test_too_few_inspectors_after_recusal_names_the_task_and_leaves_nothing(personas):
    kaiyuan = personas["kaiyuan"]
    chosen = entities(5)
    pool = inspectors(3, KAIYUAN)
    now = timezone.now()
    Conflict.objects.create(
        inspector=pool[2], entity=chosen[3], reason="近亲属", declared_at=now, declared_by=kaiyuan
    )
    Conflict.objects.create(
        inspector=pool[1], entity=chosen[3], reason="同学", declared_at=now, declared_by=kaiyuan
    )
    batch = drawn_batch(kaiyuan, chosen)

    with pytest.raises(Invalid) as refused:
        services.assign_batch(kaiyuan, batch.pk)

    assert refused.value.code == "assignment_infeasible"
    message = refused.value.message
    assert "第4号任务" in message and chosen[3].name in message and chosen[3].code in message
    assert KAIYUAN in message and "排除回避人员 2 名" in message and "仅剩 1 名" in message
    batch.refresh_from_db()
    assert batch.status == Batch.Status.DRAWN
    assert not Task.objects.filter(batch=batch).exists()
    assert not TaskInspector.objects.exists()
    assert not AuditEvent.objects.filter(action="inspections.batch.assign").exists()
    refusal = AuditEvent.objects.get(action="inspections.batch.assign_refused")
    assert not refusal.success and refusal.details["code"] == "assignment_infeasible"
    assert refusal.object_id == str(batch.pk)


def test_a_missing_speciality_is_named_in_the_refusal(personas):
    kaiyuan = personas["kaiyuan"]
    equipment = speciality("TZSB", "特种设备")
    chosen = entities(2)
    inspectors(4, KAIYUAN)
    batch = drawn_batch(kaiyuan, chosen, required=[equipment])

    with pytest.raises(Invalid) as refused:
        services.assign_batch(kaiyuan, batch.pk)

    assert refused.value.code == "assignment_infeasible"
    assert "第1号任务" in refused.value.message and "特种设备" in refused.value.message
    assert not Task.objects.exists()


def test_last_time_inspectors_are_counted_in_the_refusal(personas):
    kaiyuan = personas["kaiyuan"]
    chosen = entities(1)
    inspectors(3, KAIYUAN)
    first = drawn_batch(kaiyuan, chosen, number=1)
    services.assign_batch(kaiyuan, first.pk)
    second = drawn_batch(kaiyuan, chosen, number=2)

    with pytest.raises(Invalid) as refused:
        services.assign_batch(kaiyuan, second.pk)

    assert "上次检查该主体的人员 2 名" in refused.value.message
    assert not Task.objects.filter(batch=second).exists()


def test_a_batch_without_a_current_draw_cannot_be_assigned(personas):
    kaiyuan = personas["kaiyuan"]
    inspectors(2, KAIYUAN)
    batch = drawn_batch(kaiyuan, entities(1))
    Draw.objects.filter(batch=batch).update(is_current=False)

    with pytest.raises(Invalid) as refused:
        services.assign_batch(kaiyuan, batch.pk)
    assert refused.value.code == "no_current_draw"


def test_a_batch_is_assigned_once(personas):
    kaiyuan = personas["kaiyuan"]
    inspectors(2, KAIYUAN)
    batch = drawn_batch(kaiyuan, entities(2))
    services.assign_batch(kaiyuan, batch.pk)

    with pytest.raises(StepNotAllowed):
        services.assign_batch(kaiyuan, batch.pk)
    assert Task.objects.filter(batch=batch).count() == 2


@pytest.mark.parametrize("persona", ["xifeng", "inspector", "nongye"])
def test_nobody_outside_the_plan_owner_sees_the_batch_to_assign_it(personas, persona):
    kaiyuan = personas["kaiyuan"]
    inspectors(2, KAIYUAN)
    batch = drawn_batch(kaiyuan, entities(2))

    with pytest.raises(NotFound):
        services.assign_batch(personas[persona], batch.pk)

    assert not Task.objects.exists()
    batch.refresh_from_db()
    assert batch.status == Batch.Status.DRAWN


def test_a_participating_department_sees_the_batch_but_does_not_assign_it(personas):
    kaiyuan = personas["kaiyuan"]
    inspectors(2, KAIYUAN)
    inspectors(2, "市农业农村局")
    batch = drawn_batch(kaiyuan, entities(2), min_inspectors=3)
    BatchParticipant.objects.create(batch=batch, unit=unit("市农业农村局"))

    with pytest.raises(Forbidden):
        services.assign_batch(personas["nongye"], batch.pk)

    assert not Task.objects.exists()


def test_an_inspector_below_two_participating_units_serves_only_the_nearer_one(personas):
    coordinator = personas["coordinator"]
    chosen = entities(10)
    city = inspectors(2, "市市场监管局")
    centre = inspectors(2, "铁岭检验检测中心")  # a unit below the city bureau
    batch = drawn_batch(coordinator, chosen, min_inspectors=3)
    BatchParticipant.objects.create(batch=batch, unit=unit("铁岭检验检测中心"))

    services.assign_batch(coordinator, batch.pk)

    for task in Task.objects.filter(batch=batch):
        team = list(task.assignments.select_related("unit").order_by("position"))
        assert {a.inspector_id for a in team[:2]} == {i.pk for i in city}
        assert team[2].inspector_id in {i.pk for i in centre}
        assert team[2].unit.name == "铁岭检验检测中心"


def test_a_participant_short_of_inspectors_is_named(personas):
    kaiyuan = personas["kaiyuan"]
    chosen = entities(3)
    inspectors(3, KAIYUAN)
    inspectors(1, "市农业农村局")
    batch = drawn_batch(kaiyuan, chosen, min_inspectors=3)
    BatchParticipant.objects.create(batch=batch, unit=unit("市农业农村局"), inspectors_per_task=2)

    with pytest.raises(Invalid) as refused:
        services.assign_batch(kaiyuan, batch.pk)

    assert "第1号任务" in refused.value.message and "市农业农村局" in refused.value.message
    assert "少于每户须派出的 2 名" in refused.value.message
    assert not Task.objects.exists()


def test_a_real_draw_is_assigned_in_its_order_and_again_the_same_from_its_seed(
    personas, settings, tmp_path
):
    from tests.inspections import draw_helpers

    draw_helpers.use_tmp_store(settings, tmp_path)
    kaiyuan = personas["kaiyuan"]
    draw_helpers.make_entities("开原市", "211282", ["A"] * 12 + ["B"] * 8)
    batch = draw_helpers.make_batch(
        unit(KAIYUAN),
        kaiyuan,
        quotas={"A": {"count": 6}, "B": {"count": 3}},
        items=[draw_helpers.check_item()],
    )
    inspectors(4, KAIYUAN)
    inspectors(2, KAIYUAN_STATION)
    drawn = services.draw_batch(kaiyuan, batch.pk, _seed=bytes(range(32)))

    runs = []
    for _ in range(2):
        with transaction.atomic():
            assert services.assign_batch(kaiyuan, batch.pk) == 9
            runs.append(teams(batch))
            order = list(
                Task.objects.filter(batch=batch)
                .order_by("position")
                .values_list("entity__code", flat=True)
            )
            transaction.set_rollback(True)
    assert order == drawn.selected_codes
    assert runs[0] == runs[1]
    # A redraw (new seed) is what changes the assignment; the assignment has no seed of its own.
    redrawn = services.draw_batch(kaiyuan, batch.pk, reason="抽取时名录未更新")
    services.assign_batch(kaiyuan, batch.pk)
    assert set(Task.objects.filter(batch=batch).values_list("draw", flat=True)) == {redrawn.pk}
    event = AuditEvent.objects.filter(action="inspections.batch.assign").get()
    assert event.details["draw"] == redrawn.pk and event.details["draw_attempt"] == 2
