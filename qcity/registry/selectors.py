"""Reads of the two registers, always through the data scope (``core.scope``).

A county bureau sees its own county's entities and its own (and its stations')
inspectors; the city sees all; an inspector sees their own inspector record and
conflicts, never the register. Counts, exports and the API read through these
same functions, so what a list shows and what it counts cannot differ.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import models
from django.db.models import Exists, OuterRef, Q

from qcity.core.models import OrgUnit, User
from qcity.core.orgdata import COUNTIES
from qcity.core.scope import get_scoped_or_404, scoped, units_in_scope
from qcity.registry import search
from qcity.registry.models import Conflict, Inspector, MarketEntity, Speciality

# GB/T 4754-2017 sections (门类): the first letter of an industry code.
INDUSTRY_SECTIONS: list[tuple[str, str]] = [
    ("A", "农、林、牧、渔业"),
    ("B", "采矿业"),
    ("C", "制造业"),
    ("D", "电力、热力、燃气及水生产和供应业"),
    ("E", "建筑业"),
    ("F", "批发和零售业"),
    ("G", "交通运输、仓储和邮政业"),
    ("H", "住宿和餐饮业"),
    ("I", "信息传输、软件和信息技术服务业"),
    ("J", "金融业"),
    ("K", "房地产业"),
    ("L", "租赁和商务服务业"),
    ("M", "科学研究和技术服务业"),
    ("N", "水利、环境和公共设施管理业"),
    ("O", "居民服务、修理和其他服务业"),
    ("P", "教育"),
    ("Q", "卫生和社会工作"),
    ("R", "文化、体育和娱乐业"),
    ("S", "公共管理、社会保障和社会组织"),
    ("T", "国际组织"),
]
COUNTY_CHOICES: list[tuple[str, str]] = list(COUNTIES)
UNCLASSIFIED = "none"  # the risk-class filter value for entities not yet classified


@dataclass
class EntityFilter:
    """What the entity list is narrowed by; every field optional ("" = any)."""

    q: str = ""
    region_code: str = ""
    risk_class: str = ""
    status: str = ""
    kind: str = ""
    industry: str = ""
    flags: list[str] = field(default_factory=list)


def county_choices(user: User | None) -> list[tuple[str, str]]:
    """The counties whose register the user may see (a county bureau: its own)."""
    units = units_in_scope(user)
    if units is None:
        return COUNTY_CHOICES
    bureaus = set(units.filter(code__endswith="-SCJG").values_list("code", flat=True))
    return [(code, name) for code, name in COUNTY_CHOICES if f"{code}-SCJG" in bureaus]


def visible_entities(user: User | None) -> models.QuerySet[MarketEntity]:
    return scoped(user, MarketEntity.objects.select_related("owner_unit"))


def search_entities(user: User | None, f: EntityFilter) -> models.QuerySet[MarketEntity]:
    """The entities ``user`` may see that match ``f``, in code order.

    :raises search.SearchRefused: a query too short or too long (see ``search.parse``).
    """
    qs = search.filter_entities(visible_entities(user), f.q)
    if f.region_code:
        qs = qs.filter(region_code=f.region_code)
    if f.risk_class == UNCLASSIFIED:
        qs = qs.filter(risk_class="")
    elif f.risk_class:
        qs = qs.filter(risk_class=f.risk_class)
    if f.status:
        qs = qs.filter(status=f.status)
    if f.kind:
        qs = qs.filter(kind=f.kind)
    if f.industry:
        qs = qs.filter(industry_code__startswith=f.industry)
    if "abnormal" in f.flags:
        qs = qs.filter(on_abnormal_list=True)
    if "serious" in f.flags:
        qs = qs.filter(on_serious_list=True)
    return qs.order_by("code")


def get_entity(user: User | None, code: str) -> MarketEntity:
    """One visible entity by its code (normalised as stored); 404 otherwise."""
    return get_scoped_or_404(user, visible_entities(user), code=(code or "").strip().upper())


def entity_tasks(user: User | None, entity: MarketEntity) -> models.QuerySet:
    """The inspection tasks of an entity the user may see, newest batch first.

    Empty until the draw and assignment helpers write tasks; the scope of tasks
    (the plan's owner and joint-check departments) applies, not the entity's.
    """
    from qcity.inspections.models import Task

    return scoped(
        user,
        Task.objects.filter(entity=entity).select_related("batch", "batch__plan", "owner_unit"),
    ).order_by("-batch__plan__year", "-batch__number", "position")


# --- inspectors ------------------------------------------------------------------------------


@dataclass
class InspectorFilter:
    q: str = ""
    unit: int | None = None
    speciality: int | None = None
    active: bool | None = True


def visible_inspectors(user: User | None) -> models.QuerySet[Inspector]:
    return scoped(user, Inspector.objects.select_related("org_unit", "user")).prefetch_related(
        "specialities"
    )


def search_inspectors(user: User | None, f: InspectorFilter) -> models.QuerySet[Inspector]:
    qs = visible_inspectors(user)
    q = search._CONTROL.sub(" ", f.q or "").strip()[: search.MAX_QUERY_CHARS]
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(certificate_no__istartswith=q))
    if f.unit:
        unit = OrgUnit.objects.filter(pk=f.unit).first()
        # The unit and the stations under it.
        qs = qs.filter(org_unit__path__startswith=unit.path) if unit else qs.none()
    if f.speciality:
        qs = qs.filter(
            Exists(
                Inspector.specialities.through.objects.filter(
                    inspector=OuterRef("pk"), speciality_id=f.speciality
                )
            )
        )
    if f.active is not None:
        qs = qs.filter(active=f.active)
    return qs.order_by("org_unit__path", "certificate_no")


def get_inspector(user: User | None, pk: object) -> Inspector:
    return get_scoped_or_404(user, visible_inspectors(user), pk=pk)


def own_inspector(user: User | None) -> Inspector | None:
    """The inspector record of the logged-in user, if they have one."""
    if user is None or not user.is_authenticated:
        return None
    return Inspector.objects.select_related("org_unit").filter(user=user).first()


def units_for_inspectors(user: User | None) -> models.QuerySet[OrgUnit]:
    """The units an officer may put inspectors in (their unit and below; the city: all)."""
    units = units_in_scope(user)
    base = OrgUnit.objects.filter(confirmed=True, disabled_on__isnull=True).order_by("path")
    return base if units is None else base.filter(pk__in=units)


def specialities() -> models.QuerySet[Speciality]:
    return Speciality.objects.enabled()


# --- conflicts -------------------------------------------------------------------------------


def visible_conflicts(
    user: User | None,
    *,
    inspector: Inspector | None = None,
    entity: MarketEntity | None = None,
    active_only: bool = False,
) -> models.QuerySet[Conflict]:
    """Conflicts the user may see: by the inspector's unit (officers) or their own (inspectors).

    For an entity, only declarations by inspectors in scope are shown: a county
    never learns which officers of another county declared a conflict.
    """
    qs = scoped(
        user,
        Conflict.objects.select_related(
            "inspector", "inspector__org_unit", "entity", "declared_by"
        ),
    )
    if inspector is not None:
        qs = qs.filter(inspector=inspector)
    if entity is not None:
        qs = qs.filter(entity=entity)
    if active_only:
        qs = qs.filter(withdrawn_at__isnull=True)
    return qs.order_by("-declared_at", "-pk")


def get_conflict(user: User | None, pk: object) -> Conflict:
    return get_scoped_or_404(
        user, Conflict.objects.select_related("inspector", "entity", "inspector__org_unit"), pk=pk
    )
