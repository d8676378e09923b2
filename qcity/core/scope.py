"""Data scope: the one place that decides which rows a user may see, and change.

A scoped model says which org units own a row by defining
``scope_q(cls, units) -> Q``, where ``units`` is a queryset of OrgUnit.
A user's scope (全部 / 本单位及下级 / 本单位 / 仅本人) turns into that
queryset here. Anything unknown — no role, no unit, a scope this module
does not know, a model without ``scope_q`` — yields nothing, for every scope
including 全部: fail closed. ``core.checks`` refuses to start a project in
which a model of ours neither defines ``scope_q`` nor declares
``scope_exempt = "why"``.

``scope_q`` must not join a many-valued relation directly (that would repeat
rows and need DISTINCT, which PostgreSQL refuses together with FOR UPDATE and
which costs a hash over every column): it uses ``Exists()`` for "some
responsibility of this row is in those units", and plain lookups only through
foreign keys that point at one row.

May see is not may change. ``get_for_write`` locks one visible row and says
whether the user may change it, through the model's optional
``scope_write_q(units)`` (default: ``scope_q``) or, for 仅本人,
``scope_self_write_q(user)`` (default: ``scope_self_q``). Administrators
(三员分立) never change business rows.
"""

from __future__ import annotations

from typing import TypeVar

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.transaction import TransactionManagementError
from django.http import Http404

from qcity.core.models import ADMIN_ROLES, DataScope, OrgUnit, Role, User

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
        # A prefix match on the materialised path; PostgreSQL serves it from the
        # varchar_pattern_ops index that Django creates beside path's plain index.
        return OrgUnit.objects.filter(path__startswith=user.unit.path, confirmed=True)
    if scope == DataScope.UNIT:
        return OrgUnit.objects.filter(pk=user.unit_id)
    return OrgUnit.objects.none()


def is_scoped_model(model: type[models.Model]) -> bool:
    return callable(getattr(model, "scope_q", None))


def scoped(user: User | None, queryset: models.QuerySet[M]) -> models.QuerySet[M]:
    """Filter any queryset of a scoped model down to what ``user`` may see.

    Each row appears once (no DISTINCT is applied or needed), so the result can
    be counted, paginated, ordered by anything and locked with FOR UPDATE.
    """
    model = queryset.model
    if not is_scoped_model(model):
        # Fails closed for every scope, 全部 included: forgetting scope_q hides the
        # model instead of exposing it (and core.checks refuses to start).
        return queryset.none()
    scope = effective_scope(user)
    if scope == DataScope.ALL:
        return queryset
    if scope == DataScope.SELF:
        self_q = getattr(model, "scope_self_q", None)
        return queryset.filter(self_q(user)) if self_q else queryset.none()
    units = units_in_scope(user)
    if units is None:
        return queryset.none()
    return queryset.filter(model.scope_q(units))


def get_scoped_or_404(user: User | None, queryset: models.QuerySet[M], **lookup: object) -> M:
    """Fetch one object the user may see; anything else is indistinguishable from absent."""
    try:
        return scoped(user, queryset).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError, ValidationError):
        raise Http404 from None


def get_for_write(
    user: User | None, queryset: models.QuerySet[M], **lookup: object
) -> tuple[M, bool]:
    """Fetch and lock one row the user may see, and say whether they may change it.

    Like healthchecks' ``(check, rw)``: the row is ``SELECT … FOR UPDATE``d
    (only its own table, ``of=("self",)``, so ``select_related`` joins stay
    unlocked), so the caller can re-check its state and change it without a
    concurrent writer in between. On SQLite the IMMEDIATE transaction already
    serialises writers. Out of scope, absent or malformed ids are ``Http404``.

    :raises TransactionManagementError: outside ``transaction.atomic()``: the
        lock would end with the statement and protect nothing.
    :raises Http404: the user may not see the row.
    :returns: ``(obj, may_change)``.
    """
    if not _in_transaction(queryset.db):
        raise TransactionManagementError(
            "get_for_write() 必须在 transaction.atomic() 中调用：否则行锁随语句结束而释放"
        )
    try:
        obj = scoped(user, queryset).select_for_update(of=("self",)).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError, ValidationError):
        raise Http404 from None
    return obj, may_change(user, obj)


def _in_transaction(using: str) -> bool:
    connection = transaction.get_connection(using)
    # The atomic blocks a test case wraps around each test are not the caller's
    # transaction (Django's own durable=True check skips them the same way), so a
    # test that forgets transaction.atomic() fails here as production code would.
    blocks = getattr(connection, "atomic_blocks", None)
    if blocks is None:
        return connection.in_atomic_block
    return any(not getattr(block, "_from_testcase", False) for block in blocks)


def may_change(user: User | None, obj: models.Model) -> bool:
    """Whether ``user`` may change ``obj`` (which they are assumed to see).

    全部 may change any row the model's write rule gives to some unit;
    本单位及下级 / 本单位 the rows it gives to their units; 仅本人 the rows the
    model's self-write rule gives them. Administrators never.
    """
    if user is None or getattr(user, "role", None) in ADMIN_ROLES:
        return False
    model = type(obj)
    if not is_scoped_model(model):
        return False
    scope = effective_scope(user)
    if scope == DataScope.SELF:
        rule = getattr(model, "scope_self_write_q", None) or getattr(model, "scope_self_q", None)
        if rule is None:
            return False
        condition = rule(user)
    elif scope in (DataScope.ALL, DataScope.UNIT_AND_BELOW, DataScope.UNIT):
        units = OrgUnit.objects.all() if scope == DataScope.ALL else units_in_scope(user)
        rule = getattr(model, "scope_write_q", None) or model.scope_q
        condition = rule(units)
    else:
        return False
    # _base_manager: the row is already locked and visible; no default filtering applies.
    return model._base_manager.using(obj._state.db).filter(pk=obj.pk).filter(condition).exists()
