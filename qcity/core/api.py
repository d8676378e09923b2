from django.http import HttpRequest
from ninja import Router, Schema
from ninja.pagination import paginate

from qcity.core.models import OrgUnit
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
