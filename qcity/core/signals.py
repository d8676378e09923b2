"""Signal receivers: authentication audit and lockout; calendar versions."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from qcity.core import services, workdays
from qcity.core.models import CalendarDay, CalendarYear


def _ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") if request is not None else None


@receiver(user_logged_in)
def on_login(sender, request, user, **kwargs) -> None:
    services.record_login_success(user, ip=_ip(request))


@receiver(user_login_failed)
def on_login_failed(sender, credentials, request=None, **kwargs) -> None:
    services.record_login_failure(credentials.get("username", ""), ip=_ip(request))


@receiver(user_logged_out)
def on_logout(sender, request, user, **kwargs) -> None:
    if user is not None:
        services.record_logout(user, ip=_ip(request))


@receiver([post_save, post_delete], sender=CalendarDay)
@receiver([post_save, post_delete], sender=CalendarYear)
def on_calendar_change(sender, **kwargs) -> None:
    # In the writing transaction: a rollback takes the bump back with the edit.
    workdays.bump_version()
