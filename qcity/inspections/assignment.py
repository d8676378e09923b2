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

from django.db import connection
from django.db.models import Max, Model, Q
from django.utils import timezone
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


def _exclusions(batch: Batch) -> tuple[dict[int, set[int]], dict[int, set[int]]]:
    """Per entity of the batch's (just inserted) tasks: inspectors in active conflict, and
    the team of the entity's most recent task in another batch.

    Joined on the batch's tasks in the database rather than sent 20,000 ids as parameters.
    """
    conflicts: dict[int, set[int]] = defaultdict(set)
    last_time: dict[int, set[int]] = defaultdict(set)
    mine = Task.objects.filter(batch=batch).values("entity_id")
    rows = Conflict.objects.filter(entity_id__in=mine, withdrawn_at__isnull=True)
    for entity, inspector in rows.values_list("entity_id", "inspector_id"):
        conflicts[entity].add(inspector)
    # "Last time" is the entity's latest task (by creation) in any other batch.
    latest = (
        Task.objects.filter(entity_id__in=mine)
        .exclude(batch=batch)
        .values("entity_id")
        .annotate(last=Max("pk"))
        .values("last")
    )
    teams = TaskInspector.objects.filter(task_id__in=latest)
    for entity, inspector in teams.values_list("task__entity_id", "inspector_id"):
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
    """The current draw's codes, the pools and the specialities (docs/assignment-algorithm.md §2).

    The exclusions are read by ``read_exclusions`` once the tasks are inserted.

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
        tasks=[],
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


def _insert(model: type[Model], fields: list[str], rows: list[tuple[Any, ...]]) -> None:
    """Insert plain rows through the database's own bulk path (COPY on PostgreSQL).

    80,000 rows through ``bulk_create`` cost seconds of model instances and SQL compiling;
    the rows here are integers and one constant, already validated, so they go straight in.
    Every other column gets the model's default, prepared once, as ``bulk_create`` would give
    it (so a field added later with a default needs no change here).
    """
    meta = model._meta
    given = [meta.get_field(name) for name in fields]
    now = timezone.now()
    defaults = []
    for field in meta.concrete_fields:
        if field.primary_key or field in given:
            continue
        auto = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        value = now if auto else field.get_default()
        defaults.append((field, field.get_db_prep_save(value, connection)))
    columns = [f.column for f in given] + [f.column for f, _value in defaults]
    constant = tuple(value for _field, value in defaults)
    table = connection.ops.quote_name(meta.db_table)
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row + constant)
        else:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(
                f"INSERT INTO {table} ({quoted}) VALUES ({marks})", [row + constant for row in rows]
            )


def insert_tasks(batch: Batch, inputs: Inputs) -> dict[int, int]:
    """One task per drawn code, in draw order; returns position → task id."""
    owner = inputs.units[0].pk
    _insert(
        Task,
        ["batch", "draw", "entity", "position", "owner_unit", "status"],
        [
            (batch.pk, inputs.draw.pk, e, i, owner, Task.Status.PENDING.value)
            for i, e in enumerate(inputs.entity_ids, start=1)
        ],
    )
    return dict(Task.objects.filter(batch=batch).values_list("position", "pk"))


def read_exclusions(batch: Batch, inputs: Inputs) -> None:
    """Fill ``inputs.tasks`` with each task's conflicts and last-time team."""
    conflicts, last_time = _exclusions(batch)
    inputs.tasks = [
        assignalgo.TaskInput(
            conflicts=frozenset(conflicts.get(e, ())), last_time=frozenset(last_time.get(e, ()))
        )
        for e in inputs.entity_ids
    ]


def insert_teams(
    inputs: Inputs, task_ids: dict[int, int], teams: list[list[tuple[int, int]]]
) -> None:
    """Each task's inspectors, in team order, with the unit that sent them."""
    unit_ids = [u.pk for u in inputs.units]
    _insert(
        TaskInspector,
        ["task", "inspector", "unit", "position"],
        [
            (task_ids[t], inspector, unit_ids[p], n)
            for t, team in enumerate(teams, start=1)
            for n, (p, inspector) in enumerate(team, start=1)
        ],
    )


def apply_assignment(batch: Batch, user, **params: Any) -> dict[str, Any]:
    """The BATCH ``assign`` hook: one task per drawn entity and its team; the audit details.

    :raises NoCurrentDraw, DrawEntityMissing, AssignmentInfeasible: the step's transaction
        rolls back, so no task or assignment is left behind.
    """
    inputs = read_inputs(batch)
    # The tasks go in first so that the exclusions are read by joining on them; a refusal
    # below rolls them back with the step's transaction.
    task_ids = insert_tasks(batch, inputs)
    read_exclusions(batch, inputs)
    result = compute(inputs)
    insert_teams(inputs, task_ids, result.teams)
    return {
        "tasks": len(task_ids),
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
