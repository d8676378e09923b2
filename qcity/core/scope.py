"""Data scope: the one place that decides which rows a user may see.

A scoped model says which org units own a row by defining
``scope_q(cls, units) -> Q``, where ``units`` is a queryset of OrgUnit.
A user's scope (全部 / 本单位及下级 / 本单位 / 仅本人) turns into that
queryset here. Anything unknown — no role, no unit, a scope this module
does not know, a model without ``scope_q`` — yields nothing: fail closed.
"""

from __future__ import annotations

from typing import TypeVar

from django.db import models
from django.http import Http404

from qcity.core.models import DataScope, OrgUnit, Role, User

ROLE_DEFAULT_SCOPE: dict[str, str] = {
    Role.COORDINATOR: DataScope.ALL,
    Role.DEPARTMENT_LIAISON: DataScope.UNIT,
    Role.COUNTY_OFFICER: DataScope.UNIT_AND_BELOW,
    Role.INSPECTOR: DataScope.SELF,
    Role.LAB: DataScope.UNIT,
    Role.ENTERPRISE: DataScope.SELF,
    # 三员分立: the three administrators manage the system, not business data.
    Role.SYSTEM_ADMIN: DataScope.NONE,
    Role.SECURITY_ADMIN: DataScope.NONE,
    Role.AUDIT_ADMIN: DataScope.NONE,
}

M = TypeVar("M", bound=models.Model)


def effective_scope(user: User | None) -> str:
    if user is None or not user.is_authenticated or not user.is_active:
        return DataScope.NONE
    scope = user.data_scope or ROLE_DEFAULT_SCOPE.get(user.role, DataScope.NONE)
    return scope if scope in DataScope.values else DataScope.NONE


def units_in_scope(user: User | None) -> models.QuerySet[OrgUnit] | None:
    """The org units whose rows the user may see; None means every unit."""
    scope = effective_scope(user)
    if scope == DataScope.ALL:
        return None
    if user is None or user.unit_id is None or scope in (DataScope.NONE, DataScope.SELF):
        return OrgUnit.objects.none()
    if scope == DataScope.UNIT_AND_BELOW:
        return OrgUnit.objects.filter(path__startswith=user.unit.path, confirmed=True)
    if scope == DataScope.UNIT:
        return OrgUnit.objects.filter(pk=user.unit_id)
    return OrgUnit.objects.none()


def scoped(user: User | None, queryset: models.QuerySet[M]) -> models.QuerySet[M]:
    """Filter any queryset of a scoped model down to what ``user`` may see."""
    scope = effective_scope(user)
    if scope == DataScope.ALL:
        return queryset
    if scope == DataScope.SELF:
        self_q = getattr(queryset.model, "scope_self_q", None)
        return queryset.filter(self_q(user)).distinct() if self_q else queryset.none()
    scope_q = getattr(queryset.model, "scope_q", None)
    units = units_in_scope(user)
    if scope_q is None or units is None:
        return queryset.none()
    # distinct(): a row owned through several units must appear once.
    return queryset.filter(scope_q(units)).distinct()


def get_scoped_or_404(user: User | None, queryset: models.QuerySet[M], **lookup: object) -> M:
    """Fetch one object the user may see; anything else is indistinguishable from absent."""
    try:
        return scoped(user, queryset).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
