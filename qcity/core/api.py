import datetime as dt

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.pagination import paginate

from qcity.core import services, workflow
from qcity.core.models import OrgUnit, Transition
from qcity.core.paging import LimitOffset
from qcity.core.scope import get_scoped_or_404, scoped

router = Router(tags=["org units"])


class OrgUnitOut(Schema):
    id: int
    name: str
    full_name: str
    code: str | None
    kind: str
    parent_id: int | None
    confirmed: bool
    status: str
    enabled: bool
    aliases: list[str]

    @staticmethod
    def resolve_enabled(obj: OrgUnit) -> bool:
        return obj.disabled_on is None

    @staticmethod
    def resolve_aliases(obj: OrgUnit) -> list[str]:
        return [a.name for a in obj.aliases.all()]


@router.get("/org-units", response=list[OrgUnitOut])
@paginate(LimitOffset)
def list_org_units(request: HttpRequest):
    return scoped(request.user, OrgUnit.objects.prefetch_related("aliases").order_by("path"))


@router.get("/org-units/{unit_id}", response=OrgUnitOut)
def get_org_unit(request: HttpRequest, unit_id: int):
    return get_scoped_or_404(request.user, OrgUnit.objects.prefetch_related("aliases"), pk=unit_id)


class DeadlineOut(Schema):
    """How every endpoint shows a computed deadline (``core.workdays.Deadline``):
    ``provisional`` is true while the year it runs into has not been entered."""

    due: dt.date
    rule: str
    provisional: bool
    calendar_version: int


class StepError(Schema):
    """A refused step or an absent object (the API-wide ``Error`` less the 422 details)."""

    code: str
    message: str


class TransitionOut(Schema):
    id: int
    step: str
    from_state: str
    to_state: str
    actor: str | None
    time: str
    reason: str
    details: dict
    deadline_due: str | None
    deadline_rule: str
    deadline_provisional: bool

    @staticmethod
    def resolve_actor(obj: Transition) -> str | None:
        return obj.actor.get_username() if obj.actor else None

    @staticmethod
    def resolve_time(obj: Transition) -> str:
        return obj.time.isoformat()

    @staticmethod
    def resolve_deadline_due(obj: Transition) -> str | None:
        return obj.deadline_due.isoformat() if obj.deadline_due else None


class ConfirmIn(Schema):
    kind: str
    parent_id: int | None = None


class MapIn(Schema):
    onto_id: int


STEP_RESPONSES = {
    200: TransitionOut,
    403: StepError,
    404: StepError,
    409: StepError,
    422: StepError,
}


@router.post("/org-units/{unit_id}/confirm", response=STEP_RESPONSES)
def confirm_org_unit(request: HttpRequest, unit_id: int, payload: ConfirmIn):
    """Step ``confirm`` of the unit-confirmation workflow (coordinator only)."""
    return workflow.take(
        services.UNIT_CONFIRMATION,
        "confirm",
        unit_id,
        by=request.user,
        kind=payload.kind,
        parent=payload.parent_id,
    )


@router.post("/org-units/{unit_id}/map", response=STEP_RESPONSES)
def map_org_unit(request: HttpRequest, unit_id: int, payload: MapIn):
    """Step ``map`` of the unit-confirmation workflow (coordinator only)."""
    return workflow.take(
        services.UNIT_CONFIRMATION, "map", unit_id, by=request.user, onto=payload.onto_id
    )


@router.get("/org-units/{unit_id}/transitions", response={200: list[TransitionOut], 404: StepError})
def org_unit_transitions(request: HttpRequest, unit_id: int):
    return workflow.history(request.user, OrgUnit, unit_id)


class PingOut(Schema):
    status: str


@router.get("/ping", auth=None, response=PingOut, tags=["health"])
def ping(request: HttpRequest):
    """Liveness: the server answers through the whole middleware stack, touching no table.

    Also the framework's ceiling in ``benchmarks/intake.py`` (the trivial view of the same
    server that intake's throughput is compared with).
    """
    return {"status": "ok"}
