"""Writes in core. Every function that changes state records an audit event."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from qcity.core import audit, workdays, workflow
from qcity.core.models import (
    ApiToken,
    CalendarDay,
    CalendarVersion,
    CalendarYear,
    OrgUnit,
    Role,
    UnitAlias,
    User,
)
from qcity.core.references import mappable_unit_references, reference_label
from qcity.core.workflow import take

# --- authentication -------------------------------------------------------------------------


def record_login_success(user: User, *, ip: str | None) -> None:
    User.objects.filter(pk=user.pk).update(failed_login_count=0, locked_until=None)
    audit.record("auth.login", by=user, obj=user, ip=ip)


def record_login_failure(username: str, *, ip: str | None) -> None:
    """Count a failed login and lock the account when the limit is reached.

    The user row is locked (SELECT … FOR UPDATE) while the count changes, so two
    concurrent attempts cannot both read the old value.
    """
    with transaction.atomic():
        user = User.objects.select_for_update().filter(username=username).first()
        if user is None:
            # Unknown names are audited too, but never echo the typed password.
            audit.record(
                "auth.login_failed",
                by=None,
                success=False,
                ip=ip,
                actor_label=username[:150],
                details={"reason": "unknown_user"},
            )
            return
        was_locked = user.is_locked()
        if user.locked_until is not None and not was_locked:
            # The lock has expired: count afresh, or one typo would lock the account again.
            user.failed_login_count, user.locked_until = 0, None
        user.failed_login_count += 1
        lock_now = not was_locked and user.failed_login_count >= settings.LOGIN_FAILURE_LIMIT
        if lock_now:
            user.locked_until = timezone.now() + dt.timedelta(
                minutes=settings.LOGIN_LOCKOUT_MINUTES
            )
        User.objects.filter(pk=user.pk).update(
            failed_login_count=user.failed_login_count, locked_until=user.locked_until
        )
        details = {"failed_count": user.failed_login_count}
        if was_locked:
            details["reason"] = "locked"
        audit.record(
            "auth.login_failed",
            by=None,
            obj=user,
            success=False,
            ip=ip,
            actor_label=username[:150],
            details=details,
        )
        if lock_now:
            audit.record(
                "auth.locked",
                by=None,
                obj=user,
                ip=ip,
                details={
                    "until": user.locked_until.isoformat(),
                    "after_failures": user.failed_login_count,
                },
            )


def record_logout(user: User, *, ip: str | None) -> None:
    audit.record("auth.logout", by=user, obj=user, ip=ip)


def record_session_end(user: User, *, reason: str, ip: str | None) -> None:
    action = "auth.idle_timeout" if reason == "idle" else "auth.session_expired"
    audit.record(action, by=user, obj=user, ip=ip, details={"reason": reason})


@transaction.atomic
def unlock_user(user: User, *, by: User) -> None:
    User.objects.filter(pk=user.pk).update(failed_login_count=0, locked_until=None)
    audit.record("user.unlocked", by=by, obj=user)


@transaction.atomic
def reset_password(user: User, *, by: User) -> str:
    """Give ``user`` a random temporary password, to be changed at next login.

    Returns the only clear-text copy; it is never stored or logged.
    """
    temporary = f"Tmp-{secrets.token_urlsafe(9)}-{secrets.randbelow(90) + 10}"
    user.set_password(temporary)
    user.must_change_password = True
    user.password_changed_at = timezone.now()
    user.failed_login_count, user.locked_until = 0, None
    user.save(
        update_fields=[
            "password",
            "must_change_password",
            "password_changed_at",
            "failed_login_count",
            "locked_until",
        ]
    )
    audit.record("user.password_reset", by=by, obj=user)
    return temporary


@transaction.atomic
def change_own_password(user: User, raw_password: str, *, ip: str | None) -> None:
    user.set_password(raw_password)
    user.must_change_password = False
    user.password_changed_at = timezone.now()
    user.save(update_fields=["password", "must_change_password", "password_changed_at"])
    audit.record("user.password_changed", by=user, obj=user, ip=ip)


# --- API tokens -----------------------------------------------------------------------------


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


# Ten years: beyond it a token is a password nobody rotates (and the date arithmetic overflows).
MAX_TOKEN_DAYS = 3650


@transaction.atomic
def issue_api_token(user: User, *, name: str, by: User, days: int | None = None) -> str:
    """Create a token and return its only clear-text copy."""
    if days is not None and not 1 <= days <= MAX_TOKEN_DAYS:
        raise ValueError(f"有效天数须为 1 到 {MAX_TOKEN_DAYS} 之间的整数")
    raw = "qc_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=raw[3:11],
        key_hash=hash_token(raw),
        expires_at=timezone.now() + dt.timedelta(days=days or settings.API_TOKEN_DAYS),
    )
    audit.record("api_token.issued", by=by, obj=token, details={"for": user.username})
    return raw


@transaction.atomic
def revoke_api_token(token: ApiToken, *, by: User) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    audit.record("api_token.revoked", by=by, obj=token)


TOKEN_LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def user_for_token(raw: str) -> User | None:
    now = timezone.now()
    token = (
        ApiToken.objects.select_related("user", "user__unit")
        .filter(key_hash=hash_token(raw), revoked_at__isnull=True, expires_at__gt=now)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    # To the minute is what the admin shows; a write per request made every call of a busy
    # client (the 12315 platform at 200 submissions a second) queue on this one row.
    if token.last_used_at is None or now - token.last_used_at >= TOKEN_LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


# --- org units ------------------------------------------------------------------------------


def resolve_unit_name(name: str) -> OrgUnit | None:
    """The unit a written name means: its own name, full name or an alias."""
    enabled = OrgUnit.objects.enabled()
    unit = enabled.filter(name=name).first() or enabled.filter(full_name=name).first()
    if unit is None:
        alias = UnitAlias.objects.select_related("unit").filter(name=name).first()
        unit = alias.unit if alias else None
    if unit is None:
        # A disabled unit keeps its name (names are unique); callers see disabled_on.
        unit = OrgUnit.objects.filter(name=name).first()
    return unit


@transaction.atomic
def create_unconfirmed_unit(name: str, *, by: User | None, source: str) -> OrgUnit:
    unit = OrgUnit.objects.create(
        name=name,
        kind=OrgUnit.Kind.UNCONFIRMED,
        confirmed=False,
        status=OrgUnit.Status.UNCONFIRMED,
    )
    audit.record("org_unit.unconfirmed_created", by=by, obj=unit, details={"source": source})
    return unit


def _confirmed_unit(value: OrgUnit | int | str | None, *, besides: OrgUnit) -> OrgUnit | None:
    """An enabled, confirmed unit other than ``besides``, given as object or key; else None."""
    if value is None or value == "":
        return None
    pk = value.pk if isinstance(value, OrgUnit) else value
    try:
        return (
            OrgUnit.objects.enabled()
            .filter(status=OrgUnit.Status.CONFIRMED)
            .exclude(pk=besides.pk)
            .get(pk=pk)
        )
    except (OrgUnit.DoesNotExist, ValueError, TypeError):
        return None


def _validate_confirm(
    unit: OrgUnit, by: User, *, kind: str = "", parent: OrgUnit | int | None = None
) -> dict:
    if kind not in OrgUnit.Kind.values or kind == OrgUnit.Kind.UNCONFIRMED:
        raise workflow.Invalid(_("请选择单位类型。"))
    parent_unit = _confirmed_unit(parent, besides=unit)
    if parent not in (None, "") and parent_unit is None:
        raise workflow.Invalid(_("上级单位必须是已确认且未停用的其他单位。"))
    return {"kind": kind, "parent": parent_unit}


def _apply_confirm(unit: OrgUnit, by: User, *, kind: str, parent: OrgUnit | None) -> dict:
    unit.kind, unit.parent, unit.confirmed = kind, parent, True
    return {"kind": kind, "parent": parent.name if parent else None}


def _validate_map(unit: OrgUnit, by: User, *, onto: OrgUnit | int | None = None) -> dict:
    target = _confirmed_unit(onto, besides=unit)
    if target is None:
        raise workflow.Invalid(_("映射目标必须是已确认且未停用的其他单位。"))
    alias = UnitAlias.objects.select_related("unit").filter(name=unit.name).first()
    if alias is not None and alias.unit_id != target.pk:
        raise workflow.Invalid(
            _("名称“%(name)s”已是“%(unit)s”的别名。") % {"name": unit.name, "unit": alias.unit}
        )
    return {"onto": target}


def _apply_map(unit: OrgUnit, by: User, *, onto: OrgUnit) -> dict:
    UnitAlias.objects.get_or_create(name=unit.name, defaults={"unit": onto})
    moved: dict[str, int] = {}
    # Only the references apps declared (core.references); a user's unit, say, stays put.
    for field in mappable_unit_references():
        moved[reference_label(field)] = field.model._default_manager.filter(
            **{field.name: unit}
        ).update(**{field.name: onto})
    unit.disabled_on = timezone.now()
    return {
        "onto": onto.name,
        "onto_id": onto.pk,
        "moved": moved,
        "references_moved": sum(moved.values()),
    }


# The confirmation workflow of a name that a plan import could not resolve.
UNIT_CONFIRMATION = workflow.Workflow(
    OrgUnit,
    name="core.orgunit.confirmation",
    steps=[
        workflow.Step(
            name="confirm",
            label=_lazy("确认为新单位"),
            sources={OrgUnit.Status.UNCONFIRMED},
            target=OrgUnit.Status.CONFIRMED,
            roles={Role.COORDINATOR},
            validate=_validate_confirm,
            apply=_apply_confirm,
            action="org_unit.confirmed",
        ),
        workflow.Step(
            name="map",
            label=_lazy("映射到已有单位"),
            sources={OrgUnit.Status.UNCONFIRMED},
            target=OrgUnit.Status.MAPPED,
            roles={Role.COORDINATOR},
            validate=_validate_map,
            apply=_apply_map,
            action="org_unit.mapped",
        ),
    ],
)


def confirm_unit(
    unit: OrgUnit | int, *, by: User, kind: str, parent: OrgUnit | int | None
) -> OrgUnit:
    """Accept an unknown name as a real unit of the tree (step ``confirm``).

    :raises core.workflow.WorkflowError: see ``core.workflow.take``; nothing changes.
    """
    return take(UNIT_CONFIRMATION, "confirm", unit, by=by, kind=kind, parent=parent).subject


def map_unit(unit: OrgUnit | int, *, onto: OrgUnit | int, by: User) -> OrgUnit:
    """Declare an unknown name to mean an existing unit (step ``map``).

    The name becomes an alias of ``onto`` so the next import resolves it, the
    references apps declared movable (core.references) move across, and the
    unconfirmed unit is disabled (never deleted: the audit trail still names it).
    Returns ``onto``.

    :raises core.workflow.WorkflowError: see ``core.workflow.take``; nothing changes.
    """
    transition = take(UNIT_CONFIRMATION, "map", unit, by=by, onto=onto)
    return OrgUnit.objects.get(pk=transition.details["onto_id"])


# --- calendar: entering a year's holiday arrangement ------------------------------------------

# No real festival block is longer than 9 days (国庆 with 中秋); a longer range is a typo.
MAX_HOLIDAY_DAYS = 15


@dataclass(frozen=True)
class HolidayRange:
    name: str
    start: dt.date
    end: dt.date

    def days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range((self.end - self.start).days + 1)]


@dataclass(frozen=True)
class MakeUpDay:
    date: dt.date
    name: str = ""


class CalendarEntryError(Exception):
    """The entered arrangement is inconsistent; ``messages`` say why, in Chinese."""

    code = "calendar_entry_invalid"

    def __init__(self, messages: list[str]) -> None:
        self.messages = messages
        super().__init__("；".join(messages))


def check_calendar_entry(
    year: int, holidays: Sequence[HolidayRange], make_up_days: Sequence[MakeUpDay]
) -> list[str]:
    """Every reason the arrangement cannot be entered as it stands (empty when it can)."""
    errors: list[str] = []
    if not 2000 <= year <= workdays.PROVISIONAL_LAST_YEAR:
        return [f"年度须在 2000 至 {workdays.PROVISIONAL_LAST_YEAR} 之间"]
    if CalendarYear.objects.filter(year=year).exists():
        errors.append(f"{year} 年的节假日安排已录入；个别日期请在“节假日与调休”中修改")
    if not holidays:
        errors.append("至少录入一个假期")
    seen: dict[dt.date, str] = {}
    for holiday in holidays:
        name = holiday.name.strip()
        if not name:
            errors.append(f"{holiday.start.isoformat()} 起的假期缺少名称")
            continue
        if holiday.end < holiday.start:
            errors.append(f"“{name}”的结束日期早于开始日期")
            continue
        if holiday.start.year != year or holiday.end.year != year:
            errors.append(f"“{name}”的日期不在 {year} 年内")
            continue
        if (holiday.end - holiday.start).days + 1 > MAX_HOLIDAY_DAYS:
            errors.append(f"“{name}”超过 {MAX_HOLIDAY_DAYS} 天，请检查日期")
            continue
        for day in holiday.days():
            if day in seen:
                errors.append(f"{day.isoformat()} 同时出现在“{seen[day]}”和“{name}”中")
            else:
                seen[day] = name
    make_up_seen: set[dt.date] = set()
    for make_up in make_up_days:
        day = make_up.date.isoformat()
        if make_up.date.year != year:
            errors.append(f"调休上班日 {day} 不在 {year} 年内")
        elif make_up.date in make_up_seen:
            errors.append(f"调休上班日 {day} 重复")
        elif make_up.date in seen:
            errors.append(f"{day} 既是假日（“{seen[make_up.date]}”）又是调休上班日")
        elif make_up.date.weekday() < 5:
            errors.append(f"调休上班日 {day} 不是周六或周日（平日本来就上班）")
        make_up_seen.add(make_up.date)
    return errors


def recompute_provisional_deadlines(year: int, *, by: User | None) -> list[workdays.Recomputed]:
    """Let every registered app re-derive its provisional deadlines; audit each change
    of due date or provisional mark, and return those changes.

    Runs in the caller's transaction, after the year's rows are written, so the
    recomputers already see the entered calendar.
    """
    changes = []
    for recompute in workdays.provisional_recomputers():
        for change in recompute(year):
            # A deadline that still runs into another missing year keeps its due date and
            # its mark; only its calendar version moves, which is no news to anyone.
            if (change.new.due, change.new.provisional) == (change.old.due, change.old.provisional):
                continue
            audit.record(
                "calendar.deadline_recomputed",
                by=by,
                obj=change.obj,
                actor_label="" if by is not None else "system",
                details={
                    "year": year,
                    "what": change.label,
                    "old": change.old.as_api(),
                    "new": change.new.as_api(),
                },
            )
            changes.append(change)
    return changes


@transaction.atomic
def enter_calendar_year(
    year: int,
    holidays: Sequence[HolidayRange],
    make_up_days: Sequence[MakeUpDay],
    *,
    by: User | None,
    source: str = "国务院办公厅通知",
) -> list[workdays.Recomputed]:
    """Enter a year's arrangement (holidays and 调休上班 days) and mark the year known.

    One transaction: the days, the year row, one version bump, the audit event
    ``calendar.year_entered``, and the recomputation of provisional deadlines
    (``calendar.deadline_recomputed`` each). Rows already in the table for other
    dates of that year (a local closure entered early) are kept.
    Raises ``CalendarEntryError`` and writes nothing when the entry is inconsistent.
    """
    # Serialise two administrators entering the same year: the version row is the lock.
    CalendarVersion.objects.select_for_update().filter(pk=1).first()
    errors = check_calendar_entry(year, holidays, make_up_days)
    if errors:
        raise CalendarEntryError(errors)
    rows = {
        day: CalendarDay(date=day, is_workday=False, name=h.name.strip(), source="manual")
        for h in holidays
        for day in h.days()
    }
    for m in make_up_days:
        rows[m.date] = CalendarDay(
            date=m.date, is_workday=True, name=m.name.strip() or "调休上班", source="manual"
        )
    CalendarDay.objects.filter(date__in=list(rows)).delete()
    CalendarDay.objects.bulk_create(rows.values())
    calendar_year = CalendarYear.objects.create(year=year, source=source[:200])
    workdays.bump_version()  # bulk_create sends no signals
    audit.record(
        "calendar.year_entered",
        by=by,
        obj=calendar_year,
        details={
            "year": year,
            "source": source,
            "holidays": [
                {"name": h.name.strip(), "start": h.start, "end": h.end} for h in holidays
            ],
            "make_up_days": [m.date for m in make_up_days],
        },
    )
    return recompute_provisional_deadlines(year, by=by)
