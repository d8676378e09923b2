"""Writes in core. Every function that changes state records an audit event."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from qcity.core import audit
from qcity.core.models import ApiToken, OrgUnit, UnitAlias, User

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


def user_for_token(raw: str) -> User | None:
    now = timezone.now()
    token = (
        ApiToken.objects.select_related("user", "user__unit")
        .filter(key_hash=hash_token(raw), revoked_at__isnull=True, expires_at__gt=now)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
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
    unit = OrgUnit.objects.create(name=name, kind=OrgUnit.Kind.UNCONFIRMED, confirmed=False)
    audit.record("org_unit.unconfirmed_created", by=by, obj=unit, details={"source": source})
    return unit


@transaction.atomic
def confirm_unit(unit: OrgUnit, *, by: User, kind: str, parent: OrgUnit | None) -> OrgUnit:
    """Accept an unknown name as a real unit of the tree."""
    if unit.confirmed:
        raise ValueError("该单位已确认")
    unit.kind, unit.parent, unit.confirmed = kind, parent, True
    unit.save()
    audit.record(
        "org_unit.confirmed",
        by=by,
        obj=unit,
        details={"kind": kind, "parent": parent.name if parent else None},
    )
    return unit


@transaction.atomic
def map_unit(unit: OrgUnit, *, onto: OrgUnit, by: User) -> OrgUnit:
    """Declare an unknown name to mean an existing unit.

    The name becomes an alias of ``onto`` so the next import resolves it, every
    reference to the unconfirmed unit is moved across, and the unconfirmed
    unit is disabled (never deleted: the audit trail still names it).
    """
    if unit.confirmed:
        raise ValueError("只能映射待确认单位")
    if not onto.confirmed or onto.pk == unit.pk:
        raise ValueError("映射目标必须是已确认的其他单位")
    UnitAlias.objects.get_or_create(name=unit.name, defaults={"unit": onto})
    moved = 0
    for relation in OrgUnit._meta.related_objects:
        if relation.one_to_many and relation.related_model not in (OrgUnit, UnitAlias, User):
            moved += relation.related_model._default_manager.filter(
                **{relation.field.name: unit}
            ).update(**{relation.field.name: onto})
    unit.disabled_on = timezone.now()
    OrgUnit.objects.filter(pk=unit.pk).update(disabled_on=unit.disabled_on)
    audit.record(
        "org_unit.mapped",
        by=by,
        obj=unit,
        details={"onto": onto.name, "onto_id": onto.pk, "references_moved": moved},
    )
    return onto
