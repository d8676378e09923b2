"""Writes of the registers: inspectors (add, edit, deactivate) and conflicts (declare, withdraw).

One function per write, each recording its audit event in the same transaction
(labels in ``core.audit_labels``). Entities are written by the bulk import
(``registry.imports``), not here. Refusals raise ``RegistryRefused`` with a
stable ``code`` (for the API) and a Chinese ``message`` (for pages).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from qcity.core import audit
from qcity.core.models import OrgUnit, Role, User
from qcity.core.scope import get_for_write, units_in_scope
from qcity.registry.models import Conflict, Inspector, MarketEntity, Speciality

# Who keeps an inspector pool: the city, county bureaus, departments taking part in joint checks.
MANAGER_ROLES = frozenset({Role.COORDINATOR, Role.COUNTY_OFFICER, Role.DEPARTMENT_LIAISON})
MAX_NAME = 50
MAX_CERTIFICATE = 30
MAX_REASON = 200


class RegistryRefused(Exception):
    """A write the registers refuse: ``code`` is stable for the API, ``message`` Chinese."""

    def __init__(self, code: str, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, str(message), status


def may_manage_inspectors(user: User | None) -> bool:
    return bool(user is not None and user.is_authenticated and user.role in MANAGER_ROLES)


def _may_use_unit(user: User, unit: OrgUnit) -> bool:
    units = units_in_scope(user)
    return units is None or units.filter(pk=unit.pk).exists()


def _clean_text(value: Any, label: str, limit: int, code: str) -> str:
    text = " ".join(str(value or "").replace("\x00", "").split())
    if not text:
        raise RegistryRefused(code, f"请填写{label}")
    if len(text) > limit:
        raise RegistryRefused(code, f"{label}最多 {limit} 个字，当前 {len(text)} 个字")
    return text


def _specialities(ids: Iterable[int]) -> list[Speciality]:
    wanted = {int(i) for i in ids}
    found = list(Speciality.objects.enabled().filter(pk__in=wanted))
    if len(found) != len(wanted):
        raise RegistryRefused("invalid_speciality", "所选专业领域不存在或已停用")
    return found


def _manager_or_refuse(user: User | None) -> User:
    if not may_manage_inspectors(user):
        raise RegistryRefused(
            "forbidden", "只有本单位或上级单位的监管人员可以维护执法人员名录", 403
        )
    return user  # type: ignore[return-value]


def create_inspector(
    user: User | None,
    *,
    name: str,
    certificate_no: str,
    org_unit: OrgUnit,
    speciality_ids: Iterable[int] = (),
    account: User | None = None,
) -> Inspector:
    """Add an inspector to the pool of ``org_unit`` (the user's unit or one below it).

    :raises RegistryRefused: ``forbidden`` (403), ``invalid_name``,
        ``invalid_certificate``, ``duplicate_certificate`` (409), ``invalid_speciality``.
    """
    user = _manager_or_refuse(user)
    if not _may_use_unit(user, org_unit):
        raise RegistryRefused("forbidden", "只能在本单位或下级单位登记执法人员", 403)
    name = _clean_text(name, "姓名", MAX_NAME, "invalid_name")
    certificate_no = _clean_text(certificate_no, "执法证号", MAX_CERTIFICATE, "invalid_certificate")
    certificate_no = certificate_no.upper()
    chosen = _specialities(speciality_ids)
    with transaction.atomic():
        if Inspector.objects.filter(certificate_no=certificate_no).exists():
            raise RegistryRefused(
                "duplicate_certificate", f"执法证号 {certificate_no} 已在名录中", 409
            )
        try:
            with transaction.atomic():
                inspector = Inspector.objects.create(
                    name=name, certificate_no=certificate_no, org_unit=org_unit, user=account
                )
        except IntegrityError:
            # A concurrent add of the same certificate (or the account already linked).
            raise RegistryRefused(
                "duplicate_certificate", f"执法证号 {certificate_no} 已在名录中", 409
            ) from None
        inspector.specialities.set(chosen)
        audit.record(
            "registry.inspector.created",
            by=user,
            obj=inspector,
            details={
                "certificate_no": certificate_no,
                "unit": org_unit.name,
                "specialities": [s.code for s in chosen],
            },
        )
    return inspector


def update_inspector(
    user: User | None,
    inspector_id: object,
    *,
    name: str,
    org_unit: OrgUnit,
    speciality_ids: Iterable[int] = (),
) -> Inspector:
    """Change an inspector's name, unit or specialities (the certificate number is the key).

    :raises Http404: not in the user's scope.
    :raises RegistryRefused: as ``create_inspector``.
    """
    user = _manager_or_refuse(user)
    name = _clean_text(name, "姓名", MAX_NAME, "invalid_name")
    chosen = _specialities(speciality_ids)
    with transaction.atomic():
        inspector, may = get_for_write(user, Inspector.objects.all(), pk=inspector_id)
        if not may:
            raise RegistryRefused("forbidden", "无权修改该执法人员", 403)
        if not _may_use_unit(user, org_unit):
            raise RegistryRefused("forbidden", "只能在本单位或下级单位登记执法人员", 403)
        before = {
            "name": inspector.name,
            "unit": inspector.org_unit.name,
            "specialities": sorted(s.code for s in inspector.specialities.all()),
        }
        inspector.name, inspector.org_unit = name, org_unit
        inspector.save(update_fields=["name", "org_unit", "updated_at"])
        inspector.specialities.set(chosen)
        after = {
            "name": name,
            "unit": org_unit.name,
            "specialities": sorted(s.code for s in chosen),
        }
        changes = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
        audit.record("registry.inspector.updated", by=user, obj=inspector, details=changes)
    return inspector


def set_inspector_active(
    user: User | None, inspector_id: object, *, active: bool, reason: str = ""
) -> Inspector:
    """Take an inspector out of the pool (never deleted: tasks keep pointing at them) or back.

    Deactivation needs a reason (调离, 退休, 执法证失效 …).

    :raises RegistryRefused: ``forbidden`` (403), ``reason_required``, ``unchanged`` (409).
    """
    user = _manager_or_refuse(user)
    if not active:
        reason = _clean_text(reason, "停用原因", MAX_REASON, "reason_required")
    with transaction.atomic():
        inspector, may = get_for_write(user, Inspector.objects.all(), pk=inspector_id)
        if not may:
            raise RegistryRefused("forbidden", "无权修改该执法人员", 403)
        if inspector.active == active:
            state = "在库" if active else "已停用"
            raise RegistryRefused("unchanged", f"{inspector.name} 已经是{state}状态", 409)
        inspector.active = active
        inspector.save(update_fields=["active", "updated_at"])
        action = "registry.inspector.reactivated" if active else "registry.inspector.deactivated"
        audit.record(action, by=user, obj=inspector, details={"reason": reason} if reason else {})
    return inspector


# --- conflicts (回避) -------------------------------------------------------------------------


def entity_by_code(code: str) -> MarketEntity:
    """The entity with exactly this code, for a declaration (inspectors see no register).

    :raises RegistryRefused: ``entity_not_found`` (404).
    """
    normalised = "".join(str(code or "").split()).upper()
    entity = MarketEntity.objects.filter(code=normalised).first() if normalised else None
    if entity is None:
        raise RegistryRefused(
            "entity_not_found", f"未找到统一社会信用代码为“{normalised[:18]}”的市场主体", 404
        )
    return entity


def declare_conflict(
    user: User | None, *, inspector_id: object, entity_code: str, reason: str
) -> Conflict:
    """Record a conflict of interest (回避): the inspector is never drawn for the entity.

    An inspector declares their own; an officer records one for an inspector of
    their unit or below. One active declaration per pair; the inspector must be
    in the pool.

    :raises Http404: the inspector is not visible to the user.
    :raises RegistryRefused: ``forbidden`` (403), ``entity_not_found`` (404),
        ``reason_required``, ``inspector_inactive``, ``conflict_exists`` (409).
    """
    if user is None or not user.is_authenticated:
        raise RegistryRefused("forbidden", "请先登录", 403)
    reason = _clean_text(reason, "回避事由", MAX_REASON, "reason_required")
    entity = entity_by_code(entity_code)
    with transaction.atomic():
        inspector, may = get_for_write(user, Inspector.objects.all(), pk=inspector_id)
        own = inspector.user_id is not None and inspector.user_id == user.pk
        if not own and not (may and may_manage_inspectors(user)):
            raise RegistryRefused(
                "forbidden", "只能为本人或本单位及下级单位的执法人员申报回避", 403
            )
        if not inspector.active:
            raise RegistryRefused("inspector_inactive", f"{inspector.name} 已停用，无需申报回避")
        if Conflict.objects.filter(
            inspector=inspector, entity=entity, withdrawn_at__isnull=True
        ).exists():
            raise RegistryRefused(
                "conflict_exists", f"{inspector.name} 对“{entity.name}”已有有效的回避申报", 409
            )
        try:
            with transaction.atomic():
                conflict = Conflict.objects.create(
                    inspector=inspector,
                    entity=entity,
                    reason=reason,
                    declared_at=timezone.now(),
                    declared_by=user,
                )
        except IntegrityError:
            raise RegistryRefused(
                "conflict_exists", f"{inspector.name} 对“{entity.name}”已有有效的回避申报", 409
            ) from None
        audit.record(
            "registry.conflict.declared",
            by=user,
            obj=conflict,
            details={
                "inspector": inspector.certificate_no,
                "entity": entity.code,
                "reason": reason,
                "by_self": own,
            },
        )
    return conflict


def withdraw_conflict(user: User | None, conflict_id: object, *, reason: str) -> Conflict:
    """Withdraw a declaration (kept for the record; the inspector may be drawn again).

    :raises Http404: not visible.
    :raises RegistryRefused: ``forbidden`` (403), ``reason_required``, ``already_withdrawn`` (409).
    """
    if user is None or not user.is_authenticated:
        raise RegistryRefused("forbidden", "请先登录", 403)
    reason = _clean_text(reason, "撤回原因", MAX_REASON, "reason_required")
    with transaction.atomic():
        conflict, may = get_for_write(
            user, Conflict.objects.select_related("inspector", "entity"), pk=conflict_id
        )
        own = conflict.inspector.user_id is not None and conflict.inspector.user_id == user.pk
        if not own and not (may and may_manage_inspectors(user)):
            raise RegistryRefused("forbidden", "无权撤回该回避申报", 403)
        if conflict.withdrawn_at is not None:
            raise RegistryRefused("already_withdrawn", "该回避申报已撤回", 409)
        conflict.withdrawn_at = timezone.now()
        conflict.save(update_fields=["withdrawn_at"])
        audit.record(
            "registry.conflict.withdrawn",
            by=user,
            obj=conflict,
            details={
                "inspector": conflict.inspector.certificate_no,
                "entity": conflict.entity.code,
                "reason": reason,
            },
        )
    return conflict
