"""core.workflow: declared steps, taken in one call, refused with specific errors.

The unit-confirmation workflow (core.services.UNIT_CONFIRMATION) is the first user;
a small workflow over OrgUnit declared here exercises what it does not use
(reasons, deadlines, notices, expected state).
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from qcity.core import workflow
from qcity.core.models import AuditEvent, OrgUnit, Role, Transition, UnitAlias, User
from qcity.core.services import UNIT_CONFIRMATION, confirm_unit, create_unconfirmed_unit, map_unit
from qcity.core.workflow import Deadline, Step, Workflow, take
from tests.conftest import make_user
from tests.workflow_helpers import assert_step_table

pytestmark = pytest.mark.django_db

_names = itertools.count(1)


def _unconfirmed(name: str | None = None) -> OrgUnit:
    return create_unconfirmed_unit(name or f"待定单位{next(_names)}", by=None, source="test")


def _unit_in(state: str) -> OrgUnit:
    """A unit stored directly in ``state``, without taking any step."""
    unit = _unconfirmed()
    if state == OrgUnit.Status.CONFIRMED:
        OrgUnit.objects.filter(pk=unit.pk).update(status=state, confirmed=True)
    elif state == OrgUnit.Status.MAPPED:
        OrgUnit.objects.filter(pk=unit.pk).update(status=state, disabled_on=timezone.now())
    unit.refresh_from_db()
    return unit


def _snapshot() -> tuple:
    return (
        list(OrgUnit.objects.order_by("pk").values()),
        list(UnitAlias.objects.order_by("pk").values()),
        Transition.objects.count(),
        AuditEvent.objects.count(),
    )


@pytest.fixture
def coordinator(personas) -> User:
    return personas["coordinator"]


@pytest.fixture
def transport(org_units) -> OrgUnit:
    return OrgUnit.objects.get(name="市交通运输局")


# --- the declared table -----------------------------------------------------------------


def test_the_unit_confirmation_workflow_allows_exactly_its_declared_steps(coordinator, transport):
    city = OrgUnit.objects.get(name="铁岭市人民政府")

    def make(state: str) -> OrgUnit:
        unit = _unconfirmed()
        if state == OrgUnit.Status.CONFIRMED:
            confirm_unit(unit, by=coordinator, kind=OrgUnit.Kind.DEPARTMENT, parent=city)
        elif state == OrgUnit.Status.MAPPED:
            map_unit(unit, onto=transport, by=coordinator)
        unit.refresh_from_db()
        return unit

    assert_step_table(
        UNIT_CONFIRMATION,
        make,
        coordinator,
        expected={"confirm": {"unconfirmed"}, "map": {"unconfirmed"}},
        params={
            "confirm": {"kind": OrgUnit.Kind.DEPARTMENT, "parent": city},
            "map": {"onto": transport},
        },
    )


def test_the_step_table_helper_fails_when_a_declared_step_is_refused(coordinator, org_units):
    # A step that its own validation always refuses: the table must not pass it as declared.
    broken = Workflow(
        OrgUnit,
        name="test.broken",
        steps=[
            Step(
                name="confirm",
                label="确认",
                sources={OrgUnit.Status.UNCONFIRMED},
                target=OrgUnit.Status.CONFIRMED,
                roles={Role.COORDINATOR},
                validate=lambda obj, user: (_ for _ in ()).throw(workflow.Invalid("总是拒绝")),
            )
        ],
    )
    with pytest.raises(AssertionError, match="unconfirmed → confirm: Invalid: 总是拒绝"):
        assert_step_table(broken, _unit_in, coordinator)


def test_the_step_table_helper_fails_when_the_declaration_differs_from_the_spec(coordinator):
    with pytest.raises(AssertionError, match="declared"):
        assert_step_table(
            UNIT_CONFIRMATION,
            _unit_in,
            coordinator,
            expected={"confirm": {"unconfirmed", "mapped"}, "map": {"unconfirmed"}},
        )


# --- refusals: specific, and nothing changes ---------------------------------------------


def test_a_step_from_the_wrong_state_names_the_state_and_the_step_and_changes_nothing(
    coordinator, transport
):
    unit = _unconfirmed()
    map_unit(unit, onto=transport, by=coordinator)
    before = _snapshot()
    with pytest.raises(workflow.StepNotAllowed) as excinfo:
        confirm_unit(unit, by=coordinator, kind=OrgUnit.Kind.DEPARTMENT, parent=None)
    assert excinfo.value.code == "step_not_allowed"
    assert excinfo.value.message == "当前状态为“已映射”，不能执行“确认为新单位”。"
    assert _snapshot() == before


def test_a_step_by_a_role_that_may_see_but_not_change_is_forbidden(personas, transport):
    # May see ≠ may change: a liaison given the 全部 scope still may not confirm units.
    liaison = personas["nongye"]
    liaison.data_scope = "all"
    liaison.save()
    unit = _unconfirmed()
    before = _snapshot()
    with pytest.raises(workflow.Forbidden) as excinfo:
        map_unit(unit, onto=transport, by=liaison)
    assert excinfo.value.code == "forbidden"
    assert excinfo.value.message == "您无权执行此操作。"
    assert _snapshot() == before


@pytest.mark.parametrize("persona", ["nongye", "kaiyuan", "outsider", "sysadmin"])
def test_a_row_outside_the_users_scope_is_not_found_and_unchanged(personas, transport, persona):
    unit = _unconfirmed()
    before = _snapshot()
    with pytest.raises(workflow.NotFound) as excinfo:
        map_unit(unit, onto=transport, by=personas[persona])
    assert excinfo.value.code == "not_found"
    assert _snapshot() == before


@pytest.mark.parametrize("pk", [999_999_999, "abc", None, "1; DROP TABLE core_orgunit"])
def test_an_absent_or_malformed_key_is_not_found(coordinator, transport, pk):
    with pytest.raises(workflow.NotFound):
        map_unit(pk, onto=transport, by=coordinator)


def test_an_inactive_coordinator_takes_no_step(coordinator, transport):
    coordinator.is_active = False
    coordinator.save()
    unit = _unconfirmed()
    with pytest.raises(workflow.NotFound):
        map_unit(unit, onto=transport, by=coordinator)


@pytest.mark.parametrize(
    ("step", "params", "message"),
    [
        ("confirm", {"kind": "unconfirmed", "parent": None}, "请选择单位类型。"),
        ("confirm", {"kind": "palace", "parent": None}, "请选择单位类型。"),
        ("confirm", {"kind": "department", "parent": 999_999}, "上级单位必须是已确认"),
        ("confirm", {"kind": "department", "parent": "self"}, "上级单位必须是已确认"),
        ("confirm", {"kind": "department", "parent": "other-unconfirmed"}, "上级单位必须是已确认"),
        ("map", {"onto": "self"}, "映射目标必须是已确认且未停用的其他单位"),
        ("map", {"onto": "other-unconfirmed"}, "映射目标必须是已确认且未停用的其他单位"),
        ("map", {"onto": "disabled"}, "映射目标必须是已确认且未停用的其他单位"),
        ("map", {"onto": None}, "映射目标必须是已确认且未停用的其他单位"),
        ("map", {"onto": "alias-of-another"}, "已是“市财政局”的别名"),
    ],
)
def test_bad_parameters_are_invalid_and_change_nothing(
    coordinator, org_units, step, params, message
):
    unit = _unconfirmed("市交通局")
    other = _unconfirmed()
    disabled = OrgUnit.objects.get(name="市统计局")
    OrgUnit.objects.filter(pk=disabled.pk).update(disabled_on=timezone.now())
    if params.get("onto") == "alias-of-another":
        # An administrator made the name an alias of another unit since the import.
        UnitAlias.objects.create(name="市交通局", unit=OrgUnit.objects.get(name="市财政局"))
    named = {
        "self": unit,
        "other-unconfirmed": other,
        "disabled": disabled,
        "alias-of-another": OrgUnit.objects.get(name="市交通运输局"),
    }
    params = {key: named.get(value, value) for key, value in params.items()}
    before = _snapshot()
    with pytest.raises(workflow.Invalid, match=message) as excinfo:
        take(UNIT_CONFIRMATION, step, unit, by=coordinator, **params)
    assert excinfo.value.code == "invalid"
    assert _snapshot() == before


# --- a step taken: history, audit, declared references -----------------------------------


def test_a_step_stores_who_when_from_to_and_the_audit_event(coordinator, transport):
    unit = _unconfirmed()
    before = timezone.now()
    transition = take(
        UNIT_CONFIRMATION, "map", unit.pk, by=coordinator, onto=transport, reason="笔误"
    )
    stored = Transition.objects.get()
    assert stored.subject == unit
    assert (stored.step, stored.from_state, stored.to_state) == ("map", "unconfirmed", "mapped")
    assert stored.actor == coordinator and stored.reason == "笔误"
    assert before <= stored.time <= timezone.now()
    assert stored.workflow == "core.orgunit.confirmation"
    assert transition.subject.status == OrgUnit.Status.MAPPED
    event = AuditEvent.objects.get(action="org_unit.mapped")
    assert event.object_id == str(unit.pk) and event.actor == coordinator
    assert event.details["from"] == "unconfirmed" and event.details["to"] == "mapped"
    assert event.details["reason"] == "笔误" and event.details["transition"] == stored.pk
    assert workflow.history(coordinator, OrgUnit, unit.pk) == [stored]


def test_history_is_read_through_the_objects_scope(personas, transport):
    unit = _unconfirmed()
    map_unit(unit, onto=transport, by=personas["coordinator"])
    with pytest.raises(workflow.NotFound):
        workflow.history(personas["nongye"], OrgUnit, unit.pk)


def test_history_rows_are_append_only(coordinator, transport):
    unit = _unconfirmed()
    map_unit(unit, onto=transport, by=coordinator)
    row = Transition.objects.get()
    row.reason = "改写"
    with pytest.raises(PermissionError):
        row.save()
    with pytest.raises(PermissionError):
        row.delete()


def test_confirming_keeps_status_and_the_confirmed_flag_in_step(coordinator, org_units):
    unit = _unconfirmed()
    city = OrgUnit.objects.get(name="铁岭市人民政府")
    confirm_unit(unit, by=coordinator, kind=OrgUnit.Kind.DEPARTMENT, parent=city.pk)
    unit.refresh_from_db()
    assert unit.status == OrgUnit.Status.CONFIRMED and unit.confirmed
    assert unit.is_within(city) and unit.kind == OrgUnit.Kind.DEPARTMENT


def test_the_database_refuses_a_status_that_contradicts_the_confirmed_flag(org_units):
    from django.db import IntegrityError, transaction

    unit = _unconfirmed()
    with pytest.raises(IntegrityError), transaction.atomic():
        OrgUnit.objects.filter(pk=unit.pk).update(status=OrgUnit.Status.CONFIRMED)


def test_mapping_moves_only_the_declared_references_and_records_them(plan, personas):
    from qcity.plans.models import Plan

    coordinator = personas["coordinator"]
    typo = OrgUnit.objects.get(name="市交通运输局市")
    transport = OrgUnit.objects.get(name="市交通运输局")
    # Two references nobody declared movable: a user's unit and a child unit.
    someone = make_user("someone", Role.DEPARTMENT_LIAISON, "市交通运输局市")
    child = OrgUnit.objects.create(name="某科室", kind=OrgUnit.Kind.STATION, parent=typo)
    # A declared one besides the responsibility: the plan's owner.
    Plan.objects.filter(pk=plan.pk).update(owner_unit=typo)
    map_unit(typo, onto=transport, by=coordinator)
    event = AuditEvent.objects.get(action="org_unit.mapped")
    assert event.details["moved"] == {
        "plans.plan.owner_unit": 1,
        "plans.responsibility.org_unit": 1,
    }
    assert event.details["references_moved"] == 2
    plan.refresh_from_db()
    assert plan.owner_unit == transport
    someone.refresh_from_db()
    child.refresh_from_db()
    assert someone.unit == typo and child.parent == typo


def test_only_foreign_keys_to_org_units_can_be_declared_movable():
    from qcity.core.references import register_mappable_unit_reference
    from qcity.plans.models import Measure

    with pytest.raises(ImproperlyConfigured, match="not a foreign key to OrgUnit"):
        register_mappable_unit_reference(Measure, "plan")
    with pytest.raises(ImproperlyConfigured, match="no field"):
        register_mappable_unit_reference(Measure, "nowhere")


# --- what the unit workflow does not use: reasons, deadlines, expected state ----------------


def _flag_workflow(notices: list) -> Workflow:
    """A test workflow over OrgUnit: a coordinator 'flags' a confirmed unit for review."""
    return Workflow(
        OrgUnit,
        name="test.orgunit.flag",
        steps=[
            Step(
                name="flag",
                label="标记复核",
                sources={OrgUnit.Status.CONFIRMED},
                target=OrgUnit.Status.CONFIRMED,
                roles={Role.COORDINATOR},
                reason_required=True,
                deadline=lambda obj, now: Deadline(
                    due=dt.date(2026, 10, 13),
                    rule="测试规则：7 个工作日",
                    calendar_version="2026-v3",
                    provisional=False,
                ),
                notify=lambda obj, transition: notices.append((obj.pk, transition.pk)),
            )
        ],
    )


def test_a_reason_required_step_without_a_reason_is_refused(coordinator, transport):
    flag = _flag_workflow([])
    before = _snapshot()
    with pytest.raises(workflow.ReasonRequired) as excinfo:
        take(flag, "flag", transport, by=coordinator, reason="   ")
    assert excinfo.value.code == "reason_required"
    assert excinfo.value.message == "执行“标记复核”须填写理由。"
    assert _snapshot() == before


def test_a_deadline_is_stored_with_its_rule_and_calendar_version(coordinator, transport):
    transition = take(_flag_workflow([]), "flag", transport, by=coordinator, reason="核对名称")
    stored = Transition.objects.get(pk=transition.pk)
    assert stored.deadline_due == dt.date(2026, 10, 13)
    assert stored.deadline_rule == "测试规则：7 个工作日"
    assert stored.deadline_calendar_version == "2026-v3" and not stored.deadline_provisional
    event = AuditEvent.objects.get(action="core.orgunit.flag")
    assert event.details["deadline"]["due"] == "2026-10-13"


def test_a_step_on_a_state_the_user_did_not_see_is_stale(coordinator, transport):
    unit = _unconfirmed()
    confirm_unit(unit, by=coordinator, kind=OrgUnit.Kind.DEPARTMENT, parent=None)
    before = _snapshot()
    with pytest.raises(workflow.Stale) as excinfo:
        take(
            _flag_workflow([]),
            "flag",
            unit,
            by=coordinator,
            reason="x",
            expected_state=OrgUnit.Status.UNCONFIRMED,
        )
    assert excinfo.value.code == "stale"
    assert _snapshot() == before


def test_available_steps_are_what_the_user_may_take_from_the_current_state(personas):
    unit = _unconfirmed()
    names = [s.name for s in UNIT_CONFIRMATION.available_steps(unit, personas["coordinator"])]
    assert names == ["confirm", "map"]
    assert UNIT_CONFIRMATION.available_steps(unit, personas["nongye"]) == []


@pytest.mark.parametrize(
    ("step", "problem"),
    [
        (Step(name="s", label="s", sources={"confirmed"}, target="mapped"), "nobody may take"),
        (
            Step(name="s", label="s", sources={"lost"}, target="mapped", roles={"coordinator"}),
            "unknown states",
        ),
        (
            Step(name="s", label="s", sources={"confirmed"}, target="gone", roles={"x"}),
            "unknown state 'gone'",
        ),
    ],
)
def test_a_bad_declaration_is_refused_at_start_up(step, problem):
    with pytest.raises(ImproperlyConfigured, match=problem):
        Workflow(OrgUnit, name="test.bad", steps=[step])


def test_a_refusal_speaks_english_when_the_user_does(coordinator, transport):
    from django.utils import translation

    unit = _unconfirmed()
    map_unit(unit, onto=transport, by=coordinator)
    with translation.override("en"), pytest.raises(workflow.StepNotAllowed) as excinfo:
        map_unit(unit, onto=transport, by=coordinator)
    assert excinfo.value.message == (
        "The current state is “Mapped”; “Map onto an existing unit” cannot be taken from it."
    )
