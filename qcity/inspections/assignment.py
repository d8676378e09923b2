"""Random assignment of inspectors with recusal: the BATCH step ``assign``.

The pure algorithm is ``inspections.assignalgo`` (docs/assignment-algorithm.md); this module
reads its inputs from the database, runs it, and writes the tasks and their inspectors in
the step's transaction, so a refused assignment leaves nothing behind (the batch stays
已抽取).

Inputs, read once for the whole batch:

- the current draw's selected codes (one task each, in the draw's order) and its seed;
- the pools: the plan owner's unit and, for a joint check, each participating department
  (by unit id), each with the active inspectors of that unit and the units below it. An
  inspector whose unit lies below two participating units belongs to the nearer one only,
  so nobody can be drawn twice for one team;
- the specialities the batch's check items require, which the team as a whole must cover;
- per entity, the inspectors with an active conflict (回避) and those of the entity's most
  recent task in another batch (the last time it was checked).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Max, Q
from django.utils.translation import gettext as _

from qcity.core.models import OrgUnit
from qcity.core.workflow import Invalid
from qcity.inspections import assignalgo
from qcity.inspections.models import Batch, Draw, Task, TaskInspector
from qcity.registry.models import Conflict, Inspector, MarketEntity, Speciality

# IN lists stay well below every database's limit on bound parameters.
_CHUNK = 2000


class AssignmentInfeasible(Invalid):
    """No team can be found for a task; the message names the task and the constraint."""

    code = "assignment_infeasible"


class NoCurrentDraw(Invalid):
    code = "no_current_draw"


class DrawEntityMissing(Invalid):
    code = "draw_entity_missing"


def _chunks(values: list[Any]) -> list[list[Any]]:
    return [values[i : i + _CHUNK] for i in range(0, len(values), _CHUNK)]


def owner_per_task(batch: Batch, participants: list[Any]) -> int:
    """How many inspectors the plan owner sends: the rest of ``min_inspectors``, at least one."""
    return max(1, batch.min_inspectors - sum(p.inspectors_per_task for p in participants))


def _pools(units: list[OrgUnit]) -> list[list[int]]:
    """Active inspectors of each unit and below; an inspector goes to the nearest unit."""
    where = Q()
    for unit in units:
        where |= Q(org_unit__path__startswith=unit.path)
    members: list[list[int]] = [[] for _ in units]
    rows = Inspector.objects.filter(where, active=True).values_list("pk", "org_unit__path")
    for pk, path in rows:
        best = max(
            (i for i, unit in enumerate(units) if path.startswith(unit.path)),
            key=lambda i: len(units[i].path),
        )
        members[best].append(pk)
    return [sorted(m) for m in members]


def _required_specialities(batch: Batch) -> dict[str, str]:
    """Speciality code → name required by any of the batch's check items.

    A disabled speciality is no longer asked for: reference data is retired by disabling
    it, and a requirement nobody can be recorded as meeting any more would block every batch.
    """
    rows = Speciality.objects.enabled().filter(check_items__batches=batch).distinct()
    return dict(rows.values_list("code", "name"))


def _speciality_codes(inspectors: list[int], required: dict[str, str]) -> dict[int, set[str]]:
    through = Inspector.specialities.through
    codes: dict[int, set[str]] = defaultdict(set)
    if not required:
        return codes
    for chunk in _chunks(inspectors):
        rows = through.objects.filter(
            inspector_id__in=chunk, speciality__code__in=list(required)
        ).values_list("inspector_id", "speciality__code")
        for inspector, code in rows:
            codes[inspector].add(code)
    return codes


def _exclusions(
    batch: Batch, entity_ids: list[int]
) -> tuple[dict[int, set[int]], dict[int, set[int]]]:
    """Per entity: inspectors in active conflict, and the team of its most recent other task."""
    conflicts: dict[int, set[int]] = defaultdict(set)
    last_time: dict[int, set[int]] = defaultdict(set)
    for chunk in _chunks(entity_ids):
        rows = Conflict.objects.filter(entity_id__in=chunk, withdrawn_at__isnull=True)
        for entity, inspector in rows.values_list("entity_id", "inspector_id"):
            conflicts[entity].add(inspector)
        # "Last time" is the entity's latest task (by creation) in any other batch.
        latest = (
            Task.objects.filter(entity_id__in=chunk)
            .exclude(batch=batch)
            .values("entity_id")
            .annotate(last=Max("pk"))
            .values_list("last", flat=True)
        )
        teams = TaskInspector.objects.filter(task_id__in=list(latest)).values_list(
            "task__entity_id", "inspector_id"
        )
        for entity, inspector in teams:
            last_time[entity].add(inspector)
    return conflicts, last_time


def _infeasible_message(
    problem: assignalgo.Infeasible,
    task: dict[str, Any],
    units: list[OrgUnit],
    required: dict[str, str],
) -> str:
    where = _("第%(position)s号任务“%(name)s（%(code)s）”") % task
    if problem.kind == "too_few":
        unit = units[problem.pool or 0]
        return _(
            "%(task)s无法分派：%(unit)s在库执法人员 %(members)s 名，排除回避人员 %(conflicts)s 名、"
            "上次检查该主体的人员 %(last)s 名后仅剩 %(available)s 名，少于每户须派出的 "
            "%(needed)s 名。"
        ) % {
            "task": where,
            "unit": unit.name,
            "members": problem.members,
            "conflicts": problem.conflicts,
            "last": problem.last_time,
            "available": problem.available,
            "needed": problem.needed,
        }
    if problem.uncoverable:
        names = "、".join(required[c] for c in problem.uncoverable)
        return _(
            "%(task)s无法分派：排除回避人员和上次检查该主体的人员后，各派出单位中没有具备"
            "“%(names)s”专业领域的执法人员。"
        ) % {"task": where, "names": names}
    names = "、".join(required[c] for c in problem.missing)
    return _(
        "%(task)s无法分派：检查组人数不足以同时覆盖所需专业领域“%(names)s”"
        "（已排除回避人员和上次检查该主体的人员）。"
    ) % {"task": where, "names": names}


@dataclass
class Inputs:
    """Everything the algorithm reads for one batch, as read from the database."""

    draw: Draw
    codes: list[str]
    names: list[str]
    entity_ids: list[int]
    units: list[OrgUnit]
    pools: list[assignalgo.Pool]
    tasks: list[assignalgo.TaskInput]
    specialities: dict[int, set[str]]
    required: dict[str, str]


def read_inputs(batch: Batch) -> Inputs:
    """The current draw's tasks, the pools and the exclusions (docs/assignment-algorithm.md §2).

    :raises NoCurrentDraw, DrawEntityMissing.
    """
    draw = Draw.objects.filter(batch=batch, is_current=True).first()
    if draw is None:
        raise NoCurrentDraw(
            _("批次“%(batch)s”没有有效的抽取记录，不能分派。") % {"batch": batch.title}
        )
    codes: list[str] = list(draw.selected_codes)
    entities: dict[str, tuple[int, str]] = {}
    for chunk in _chunks(codes):
        rows = MarketEntity.objects.filter(code__in=chunk).values_list("code", "pk", "name")
        for code, pk, name in rows:
            entities[code] = (pk, name)
    missing = [c for c in codes if c not in entities]
    if missing:
        raise DrawEntityMissing(
            _("抽取记录中的主体 %(code)s 已不在名录库中，不能分派。") % {"code": missing[0]}
        )

    participants = list(batch.participants.select_related("unit").order_by("unit_id"))
    units = [batch.plan.owner_unit] + [p.unit for p in participants]
    per_task = [owner_per_task(batch, participants)] + [p.inspectors_per_task for p in participants]
    members = _pools(units)
    required = _required_specialities(batch)
    specialities = _speciality_codes([m for pool in members for m in pool], required)
    entity_ids = [entities[c][0] for c in codes]
    conflicts, last_time = _exclusions(batch, entity_ids)
    return Inputs(
        draw=draw,
        codes=codes,
        names=[entities[c][1] for c in codes],
        entity_ids=entity_ids,
        units=units,
        pools=[
            assignalgo.Pool(per_task=k, members=m, label=u.name)
            for k, m, u in zip(per_task, members, units, strict=True)
        ],
        tasks=[
            assignalgo.TaskInput(
                conflicts=frozenset(conflicts.get(e, ())),
                last_time=frozenset(last_time.get(e, ())),
            )
            for e in entity_ids
        ],
        specialities=specialities,
        required=required,
    )


def compute(inputs: Inputs) -> assignalgo.Assignment:
    """Run the algorithm; an infeasible task becomes an ``AssignmentInfeasible`` naming it."""
    try:
        return assignalgo.assign(
            assignalgo.seed_bytes(inputs.draw.seed),
            inputs.pools,
            inputs.tasks,
            inputs.specialities,
            sorted(inputs.required),
        )
    except assignalgo.Infeasible as problem:
        where = {
            "position": problem.task + 1,
            "name": inputs.names[problem.task],
            "code": inputs.codes[problem.task],
        }
        message = _infeasible_message(problem, where, inputs.units, inputs.required)
        raise AssignmentInfeasible(message) from None


def write(batch: Batch, inputs: Inputs, result: assignalgo.Assignment) -> int:
    """Two bulk inserts: the tasks (draw order), then their inspectors (team order)."""
    owner = inputs.units[0]
    created = Task.objects.bulk_create(
        [
            Task(batch=batch, draw=inputs.draw, entity_id=e, position=i, owner_unit=owner)
            for i, e in enumerate(inputs.entity_ids, start=1)
        ],
        batch_size=_CHUNK,
    )
    TaskInspector.objects.bulk_create(
        [
            TaskInspector(task_id=task.pk, inspector_id=inspector, unit=inputs.units[p], position=n)
            for task, team in zip(created, result.teams, strict=True)
            for n, (p, inspector) in enumerate(team, start=1)
        ],
        batch_size=_CHUNK,
    )
    return len(created)


def apply_assignment(batch: Batch, user, **params: Any) -> dict[str, Any]:
    """The BATCH ``assign`` hook: one task per drawn entity and its team; the audit details.

    :raises NoCurrentDraw, DrawEntityMissing, AssignmentInfeasible: before any row is
        written (the step's transaction rolls back in any case).
    """
    inputs = read_inputs(batch)
    result = compute(inputs)
    created = write(batch, inputs, result)
    return {
        "tasks": created,
        "inspectors": sum(1 for n in result.loads.values() if n > 0),
        "draw": inputs.draw.pk,
        "draw_attempt": inputs.draw.attempt,
        "algorithm": assignalgo.ALGORITHM,
        "algorithm_version": assignalgo.VERSION,
        "required_specialities": sorted(inputs.required),
        "load": [
            {"unit": u.name, "per_task": pool.per_task, "inspectors": len(pool.members), **stats}
            for u, pool, stats in zip(inputs.units, inputs.pools, result.pool_loads, strict=True)
        ],
        "load_overall": _overall(result.loads),
    }


def _overall(loads: dict[int, int]) -> dict[str, float]:
    values = list(loads.values())
    if not values:
        return {"min": 0, "max": 0, "mean": 0.0}
    return {"min": min(values), "max": max(values), "mean": round(statistics.fmean(values), 3)}
