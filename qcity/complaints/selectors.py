"""Reads of 12315 for the officers' pages and exports, all through the data scope.

Every list, detail and export starts from ``cases_for(user)`` / ``get_case(user, number)``
(``core.scope``): a county bureau sees its own county's cases, the city bureau all of them;
an enterprise's own view of its complaints lives with ODR, not here (``OFFICERS`` only).
The complainant's phone is found by its keyed hash (``core.pii.blind_index``), never by a
LIKE over ciphertext; names and phones leave this module masked unless
``may_reveal_person`` says the user handles the case.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.db.models import Count, Q
from django.utils import timezone

from qcity.complaints.models import Case, Category
from qcity.core import pii, rulebook, scope, workdays
from qcity.core.models import OrgUnit, Role, Transition, User

OFFICERS = frozenset({Role.COUNTY_OFFICER, Role.COORDINATOR})
OPEN = ~Q(status=Case.Status.CLOSED)
# How far ahead "due within N working days" may look: beyond a quarter it is not a filter.
MAX_DUE_WITHIN = 60


def is_officer(user: User | None) -> bool:
    """Who uses these pages: the county bureaus and the city bureau (not admins, not firms)."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and getattr(user, "role", None) in OFFICERS
    )


@dataclass(frozen=True)
class CaseFilter:
    """The list's filters, already checked (a value that makes no sense is simply absent)."""

    kind: str = ""
    status: str = ""
    overdue: bool = False
    due_within: int | None = None
    unit: int | None = None
    received_from: dt.date | None = None
    received_to: dt.date | None = None
    category: int | None = None
    q: str = ""
    phone: str = ""

    @property
    def active(self) -> bool:
        return any(getattr(self, f) not in ("", None, False) for f in self.__dataclass_fields__)


def _today() -> dt.date:
    return timezone.localdate()


def due_limit(n: int, today: dt.date | None = None) -> dt.date:
    """The last due date that is "within n working days" of today (provisional past the
    known calendar: a filter must not fail on a December day)."""
    return workdays.snapshot().add(today or _today(), n, allow_provisional=True)


def visible_cases(user: User | None) -> models.QuerySet[Case]:
    """Every case ``user`` may see on the officers' pages (nothing for anyone else)."""
    if not is_officer(user):
        return Case.objects.none()
    return scope.scoped(user, Case.objects.all())


def cases_for(user: User | None, f: CaseFilter | None = None) -> models.QuerySet[Case]:
    """The filtered list, newest first, with what a row shows fetched in the same query."""
    f = f or CaseFilter()
    rows = visible_cases(user).select_related("owner_unit", "category")
    if f.kind:
        rows = rows.filter(kind=f.kind)
    if f.status:
        rows = rows.filter(status=f.status)
    today = _today()
    if f.overdue:
        rows = rows.filter(OPEN, due_on__lt=today)
    if f.due_within is not None:
        rows = rows.filter(OPEN, due_on__gte=today, due_on__lte=due_limit(f.due_within, today))
    if f.unit is not None:
        # Only the unit asked for; the scope above already removed other counties' rows.
        rows = rows.filter(owner_unit_id=f.unit)
    if f.received_from is not None:
        rows = rows.filter(received_on__gte=f.received_from)
    if f.received_to is not None:
        rows = rows.filter(received_on__lte=f.received_to)
    if f.category is not None:
        rows = rows.filter(category_id=f.category)
    if f.q:
        text = f.q
        rows = rows.filter(
            Q(number__iexact=text)
            | Q(number__istartswith=text)
            | Q(respondent_code__iexact=text)
            | Q(respondent_name__icontains=text)
        )
    if f.phone:
        # Exact match only, through the keyed hash: the ciphertext cannot be searched.
        rows = rows.filter(person_phone_index=pii.blind_index("phone", f.phone))
    return rows.order_by("-received_at", "-id")


def status_counts(user: User | None) -> dict[str, int]:
    """How many visible cases stand in each status (the counts above the list)."""
    rows = visible_cases(user).values("status").annotate(n=Count("id")).order_by()
    return {row["status"]: row["n"] for row in rows}


def overdue_count(user: User | None) -> int:
    return visible_cases(user).filter(OPEN, due_on__lt=_today()).count()


def units_for_filter(user: User | None) -> list[OrgUnit]:
    """The bureaus a user may filter by: those in the user's scope (the city bureau: all).

    Read from the org tree, not from the cases (a DISTINCT over every case of the city).
    """
    if not is_officer(user):
        return []
    units = scope.units_in_scope(user)
    allowed = None if units is None else set(units.values_list("pk", flat=True))
    return [u for u in _bureaus() if allowed is None or u.pk in allowed]


def categories() -> list[Category]:
    return list(Category.objects.all())


def get_case(user: User | None, number: str) -> Case:
    """One case the user may see, by its number; anything else is ``Http404``."""
    rows = visible_cases(user).select_related(
        "owner_unit",
        "category",
        "issue_type",
        "respondent_entity",
        "platform_entity",
        "mediator",
        "created_by",
        "submission",
    )
    return scope.get_scoped_or_404(user, rows, number=number)


def is_overdue(case: Case, today: dt.date | None = None) -> bool:
    return (
        case.status != Case.Status.CLOSED
        and case.due_on is not None
        and case.due_on < (today or _today())
    )


def may_reveal_person(user: User | None, case: Case) -> bool:
    """The handling officer only: an officer of the bureau that owns the case.

    Not another county, not the enterprise, and not the city bureau for a county's case
    (it supervises, it does not handle): the unit must be the owner unit itself.
    """
    return (
        is_officer(user)
        and case.owner_unit_id is not None
        and user.unit_id == case.owner_unit_id
        and not case.anonymous
    )


def _may_change(user: User | None, case: Case) -> bool:
    return is_officer(user) and scope.may_change(user, case)


def may_record_payment(user: User | None, case: Case) -> bool:
    """先行赔付 or an agreement's payment: complaints, by an officer who may change the case."""
    return case.kind == Case.Kind.COMPLAINT and _may_change(user, case)


IN_MEDIATION = frozenset({Case.Status.ACCEPTED, Case.Status.MEDIATING, Case.Status.SUSPENDED})


def may_record_lead(user: User | None, case: Case) -> bool:
    """A violation lead is recorded while a complaint is being mediated."""
    return (
        case.kind == Case.Kind.COMPLAINT and case.status in IN_MEDIATION and _may_change(user, case)
    )


@dataclass(frozen=True)
class MaskedPerson:
    """The complainant or reporter as everyone but the handling officer sees them."""

    anonymous: bool
    name: str
    phone: str
    id_number: str
    has_address: bool


def _safe_decrypt(token: str) -> str:
    try:
        return pii.decrypt(token)
    except pii.PiiKeyProblem:
        return ""


def masked_person(case: Case) -> MaskedPerson:
    """Masked name, phone and ID number. The phone and ID are decrypted only to be masked
    (a mask keeps the first and last digits, which the keyed hash cannot give)."""
    return MaskedPerson(
        anonymous=case.anonymous,
        name=pii.mask_name(case.person_name),
        phone=pii.mask_phone(_safe_decrypt(case.person_phone)),
        id_number=pii.mask_id_number(_safe_decrypt(case.person_id_number)),
        has_address=bool(case.person_address),
    )


@dataclass(frozen=True)
class DeadlineInfo:
    """The running clock of a case, with everything that produced it."""

    due: dt.date
    rule_key: str
    rule: rulebook.Rule | None
    version_label: str
    calendar_version: str
    provisional: bool
    overdue: bool
    working_days_left: int | None


def _provisional(case: Case, history: list[Transition]) -> bool:
    for t in reversed(history):
        if t.deadline_due == case.due_on and t.deadline_rule == case.due_rule:
            return t.deadline_provisional
    # Set at intake (no step yet): provisional when a year it spans has no holiday table.
    cal = workdays.snapshot()
    start = case.received_on or case.due_on
    return any(not cal.is_known(y) for y in range(start.year, case.due_on.year + 1))


def deadline_info(case: Case, history: list[Transition]) -> DeadlineInfo | None:
    if case.due_on is None or case.status == Case.Status.CLOSED:
        return None
    rule = rulebook.describe(case.due_rule) if case.due_rule else None
    today = _today()
    try:
        left = workdays.snapshot().between(today, case.due_on, allow_provisional=True)
    except workdays.CalendarUnknown:
        left = None
    return DeadlineInfo(
        due=case.due_on,
        rule_key=case.due_rule,
        rule=rule,
        version_label=rule.version_label if rule else "",
        calendar_version=case.due_calendar_version,
        provisional=_provisional(case, history),
        overdue=is_overdue(case, today),
        working_days_left=left,
    )


def applied_settings(case: Case) -> list[rulebook.Choice]:
    """The settings the texts leave open (``rulebook.choices``) that bear on this case."""
    received = case.received_on
    rule = rulebook.describe(case.due_rule) if case.due_rule else None
    applies = {
        # Mediation of a complaint received while Order 20 and the regulation both spoke.
        "COMPLAINT_MEDIATION_FROM_2024": case.kind == Case.Kind.COMPLAINT
        and rulebook.REGULATION_FROM <= received < rulebook.ORDER121_FROM,
        # A case received under Order 20: which rules its later clocks follow.
        "COMPLAINT_PENDING_CASES_RULES": received < rulebook.ORDER121_FROM,
        # A period in days (Art.45's roll-over) is running.
        "COMPLAINT_WEEKEND_IS_HOLIDAY": rule is not None and rule.unit == "days",
        "COMPLAINT_ODR_WORKDAYS": case.odr,
    }
    return [c for c in rulebook.choices() if applies.get(c.setting)]


def linked_cases(user: User | None, case: Case) -> list[Case]:
    """The other case of the same submission and the case it duplicates, if visible."""
    ids = {case.linked_case_id, case.duplicate_of_id} - {None}
    q = Q(linked_case=case) | Q(pk__in=ids)
    return list(visible_cases(user).filter(q).exclude(pk=case.pk).order_by("received_at"))


def mediators_for(case: Case) -> list[User]:
    """Who may be named mediator (``mediation.MEDIATOR_ROLES``): the active officers and
    inspectors of the bureau that owns the case and of its stations."""
    from qcity.complaints import mediation

    # Until the mediation work's role list reaches this branch: the same three roles.
    roles = getattr(
        mediation, "MEDIATOR_ROLES", {Role.COUNTY_OFFICER, Role.COORDINATOR, Role.INSPECTOR}
    )
    return list(
        User.objects.filter(
            unit__path__startswith=case.owner_unit.path,
            role__in=roles,
            is_active=True,
        ).order_by("unit__path", "full_name", "username")
    )


def _bureaus() -> list[OrgUnit]:
    from qcity.complaints.routing import is_bureau

    rows = OrgUnit.objects.filter(
        Q(code__endswith="-SCJG") | Q(name="市市场监管局"), confirmed=True
    ).order_by("path")
    return [unit for unit in rows if is_bureau(unit) and unit.is_enabled]


def transfer_targets(case: Case) -> list[OrgUnit]:
    """The bureaus a case can go to (``routing.is_bureau``): the county bureaus and the city
    bureau; a transfer never to the case's own, a designation to either side."""
    keep_own = case.status == Case.Status.DISPUTED
    return [u for u in _bureaus() if keep_own or u.pk != case.owner_unit_id]


def dispute_targets(case: Case) -> list[OrgUnit]:
    """A jurisdiction dispute is with another county bureau."""
    from qcity.complaints.routing import BUREAU_CODE

    return [u for u in _bureaus() if u.pk != case.owner_unit_id and BUREAU_CODE.match(u.code or "")]


def repeat_originals(user: User | None, case: Case) -> list[Case]:
    """Earlier reports by the same reporter (same phone hash) that this one may repeat."""
    if not case.person_phone_index:
        return []
    return list(
        visible_cases(user)
        .filter(
            kind=Case.Kind.REPORT,
            person_phone_index=case.person_phone_index,
            received_at__lte=case.received_at,
        )
        .exclude(pk=case.pk)
        .order_by("-received_at")[:20]
    )


@dataclass
class StepChoices:
    """What the step forms offer, from the case's own rules and bureau."""

    refusal: rulebook.Grounds | None = None
    termination: rulebook.Grounds | None = None
    routes: list[tuple[str, str]] = field(default_factory=list)
    mediators: list[User] = field(default_factory=list)
    units: list[OrgUnit] = field(default_factory=list)
    dispute_units: list[OrgUnit] = field(default_factory=list)
    channels: list[tuple[str, Any]] = field(default_factory=list)
    originals: list[Case] = field(default_factory=list)


def step_choices(user: User | None, case: Case, step_names: set[str]) -> StepChoices:
    from qcity.complaints import casenotices, mediation

    choices = StepChoices()
    try:
        # The grounds of the rules the decision is taken under (today, for the setting on
        # cases pending on 2026-04-15).
        today = _today()
        if "refuse" in step_names:
            choices.refusal = rulebook.case_grounds(case.received_on, "complaint.refusal", today)
            choices.routes = list(mediation.ROUTES)
        if "terminate" in step_names:
            choices.termination = rulebook.case_grounds(
                case.received_on, "complaint.termination", today
            )
    except rulebook.RuleError:
        pass  # a date no rule covers: the step's own validation refuses it with a message
    if step_names & {"mediate", "change_mediator", "resume"}:
        choices.mediators = mediators_for(case)
    if step_names & {"transfer", "designate"}:
        choices.units = transfer_targets(case)
    if "dispute" in step_names:
        choices.dispute_units = dispute_targets(case)
    if "notify" in step_names:
        choices.channels = list(casenotices.DELIVERY_CHANNELS.items())
    if "repeat" in step_names:
        choices.originals = repeat_originals(user, case)
    return choices
