"""Notices: one in-app notice per recipient, kept with its object, sent through channels.

``notify(recipients, obj, subject, body)`` writes the ``Notice`` rows and one
``NoticeDelivery`` per channel in the caller's transaction, and enqueues their sending
(the ``deliver_notices`` task, core.jobs) after commit: a rolled-back action sends
nothing, and a slow mail server never holds a request (ADR 0018).

A channel is a class with a ``name`` and ``send(notice) -> bool`` (False: the recipient
has no address for it), registered with ``register_channel``. ``email`` (Django's mail
API, SMTP in production) and ``log`` exist; an SMS gateway adds one class.
``NOTICE_CHANNELS`` chooses which ones run.

A person without an account (a complainant who filed on the portal) is reached at an
address instead: ``send_to_address(kind, address, subject, body)`` offers it to every
configured channel that has ``send_to_address`` (``email`` for an e-mail address, ``log``
for any, with the address masked; an SMS gateway is one more class for ``phone``).
The caller keeps its own record of what was sent (complaints: ``CaseNotice``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, Protocol

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail import EmailMessage
from django.db import models, transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from qcity.core import audit
from qcity.core.models import Notice, NoticeDelivery, User

logger = logging.getLogger(__name__)


class Channel(Protocol):
    name: str

    def send(self, notice: Notice) -> bool:
        """Send; False when the recipient has no address for this channel; raise on failure."""


class EmailChannel:
    name = "email"

    def send(self, notice: Notice) -> bool:
        address = notice.recipient.email
        if not address:
            return False
        EmailMessage(
            subject=notice.subject,
            body=notice.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[address],
        ).send(fail_silently=False)
        return True

    def send_to_address(self, kind: str, address: str, subject: str, body: str) -> bool:
        if kind != "email" or not address:
            return False
        EmailMessage(
            subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[address]
        ).send(fail_silently=False)
        return True


def mask_address(kind: str, address: str) -> str:
    """What a log may show of an address: 138****8000, z***@example.com."""
    from qcity.core.pii import mask_phone

    if kind == "phone":
        return mask_phone(address)
    local, _at, domain = (address or "").partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


class LogChannel:
    name = "log"
    logger = logging.getLogger("qcity.notices")

    def send(self, notice: Notice) -> bool:
        self.logger.info(
            "notice %s to %s: %s", notice.pk, notice.recipient.get_username(), notice.subject
        )
        return True

    def send_to_address(self, kind: str, address: str, subject: str, body: str) -> bool:
        # Development's stand-in for SMS: never the phone or e-mail address in clear.
        if not address:
            return False
        self.logger.info("notice to %s %s: %s", kind, mask_address(kind, address), subject)
        return True


CHANNELS: dict[str, Channel] = {}


def register_channel(channel: Channel) -> Channel:
    CHANNELS[channel.name] = channel
    return channel


register_channel(EmailChannel())
register_channel(LogChannel())


def configured_channels() -> list[str]:
    return [name for name in settings.NOTICE_CHANNELS if name in CHANNELS]


def send_to_address(
    kind: str, address: str, subject: str, body: str = "", *, channels: Iterable[str] | None = None
) -> dict[str, str]:
    """Send to a person without an account, at a phone number or e-mail address.

    Every configured channel that can reach an address is tried; a failure is logged
    (without the address) and reported, never raised. Returns ``{channel: "sent" |
    "skipped" | "failed"}``.
    """
    names = list(channels) if channels is not None else configured_channels()
    result: dict[str, str] = {}
    for name in names:
        channel = CHANNELS.get(name)
        send = getattr(channel, "send_to_address", None)
        if send is None:
            continue
        try:
            result[name] = "sent" if send(kind, address, str(subject), str(body)) else "skipped"
        except Exception as exc:  # one channel's failure must not stop the others
            logger.warning("notice to a %s address via %s failed: %s", kind, name, type(exc))
            result[name] = "failed"
    return result


def notify(
    recipients: Iterable[User],
    obj: models.Model | None,
    subject: str,
    body: str = "",
    *,
    channels: Iterable[str] | None = None,
    by: User | None = None,
) -> list[Notice]:
    """Leave a notice for each recipient about ``obj`` and send it after commit."""
    names = list(channels) if channels is not None else configured_channels()
    unknown = [name for name in names if name not in CHANNELS]
    if unknown:
        raise ValueError(f"unknown notice channel(s): {', '.join(unknown)}")
    now = timezone.now()
    content_type = ContentType.objects.get_for_model(obj, for_concrete_model=False) if obj else None
    people = list({user.pk: user for user in recipients}.values())
    with transaction.atomic():
        notices = Notice.objects.bulk_create(
            [
                Notice(
                    recipient=user,
                    content_type=content_type,
                    object_id=str(obj.pk) if obj is not None else "",
                    subject=str(subject)[:200],
                    body=str(body),
                    created_at=now,
                )
                for user in people
            ]
        )
        # bulk_create sets primary keys on PostgreSQL and SQLite ≥ 3.35 (RETURNING).
        NoticeDelivery.objects.bulk_create(
            [NoticeDelivery(notice=notice, channel=name) for notice in notices for name in names]
        )
        if notices:
            audit.record(
                "notice.created",
                by=by,
                obj=obj,
                details={
                    "subject": str(subject)[:200],
                    "recipients": [user.get_username() for user in people],
                    "channels": names,
                },
            )
        if names and notices:
            ids = [notice.pk for notice in notices]
            transaction.on_commit(lambda: _enqueue_delivery(ids), robust=True)
    return notices


def _enqueue_delivery(notice_ids: list[int]) -> None:
    from qcity.core.jobs import deliver_notices

    deliver_notices.enqueue(notice_ids)


def deliver(notice_ids: Iterable[int]) -> dict[str, int]:
    """Send every pending delivery of these notices; each delivery is tried once per call.

    A row is claimed (pending → sent/failed/skipped) under a row lock, so two workers
    never send the same delivery twice.
    """
    counts = {"sent": 0, "failed": 0, "skipped": 0}
    pending = NoticeDelivery.objects.filter(
        notice_id__in=list(notice_ids), status=NoticeDelivery.Status.PENDING
    ).values_list("pk", flat=True)
    for pk in list(pending):
        with transaction.atomic():
            delivery = (
                NoticeDelivery.objects.select_for_update()
                .select_related("notice__recipient")
                .filter(pk=pk, status=NoticeDelivery.Status.PENDING)
                .first()
            )
            if delivery is None:
                continue
            channel = CHANNELS.get(delivery.channel)
            delivery.attempts = F("attempts") + 1
            try:
                if channel is None:
                    raise LookupError(f"channel {delivery.channel} is not registered")
                sent = channel.send(delivery.notice)
            except Exception as exc:  # a channel's failure is recorded, never raised
                logger.warning(
                    "notice %s via %s failed: %s", delivery.notice_id, delivery.channel, exc
                )
                delivery.status = NoticeDelivery.Status.FAILED
                delivery.last_error = f"{type(exc).__name__}: {exc}"[:500]
            else:
                delivery.status = (
                    NoticeDelivery.Status.SENT if sent else NoticeDelivery.Status.SKIPPED
                )
                delivery.sent_at = timezone.now() if sent else None
            delivery.save(update_fields=["attempts", "status", "last_error", "sent_at"])
            counts[delivery.status] += 1
    return counts


MAX_ATTEMPTS = 3


def retry_failed(max_attempts: int = MAX_ATTEMPTS) -> dict[str, int]:
    """Try failed deliveries again (the hourly job), up to ``max_attempts`` in all."""
    with transaction.atomic():
        again = NoticeDelivery.objects.select_for_update().filter(
            status=NoticeDelivery.Status.FAILED, attempts__lt=max_attempts
        )
        notice_ids = sorted(set(again.values_list("notice_id", flat=True)))
        again.update(status=NoticeDelivery.Status.PENDING)
    return deliver(notice_ids)


# --- reading and marking --------------------------------------------------------------------


def for_user(user: User) -> models.QuerySet[Notice]:
    """The notices a person may read: their own, nobody else's."""
    if not getattr(user, "is_authenticated", False):
        return Notice.objects.none()
    return Notice.objects.filter(recipient=user)


def mark_read(user: User, notice_ids: Iterable[int] | None = None) -> int:
    """Mark the user's own notices read (all unread ones when ``notice_ids`` is None)."""
    unread = for_user(user).filter(read_at__isnull=True)
    if notice_ids is not None:
        unread = unread.filter(pk__in=list(notice_ids))
    with transaction.atomic():
        count = unread.update(read_at=timezone.now())
        if count:
            audit.record("notice.read", by=user, details={"count": count})
    return count


def unread_notices(request: HttpRequest) -> dict[str, Any]:
    """Context processor: the unread count for the navigation bar, queried only if shown."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def count() -> int:
        return for_user(user).filter(read_at__isnull=True).count()

    return {"unread_notice_count": count}
