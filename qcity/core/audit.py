"""The audit chain: one function appends, one function verifies.

Every state change in qcity goes through an action function that calls
``record``; authentication events are recorded by ``core.signals``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from qcity.core.models import AuditChainHead, AuditEvent, User

GENESIS = "0" * 64


def _canonical(event: AuditEvent) -> bytes:
    payload = {
        "seq": event.seq,
        "time": event.time.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "actor": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "object_repr": event.object_repr,
        "success": event.success,
        "ip": event.ip,
        "details": event.details,
        "prev": event.prev_hash,
    }
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def compute_hash(event: AuditEvent) -> str:
    return hashlib.sha256(_canonical(event)).hexdigest()


def record(
    action: str,
    *,
    by: User | None,
    obj: models.Model | None = None,
    success: bool = True,
    details: dict[str, Any] | None = None,
    ip: str | None = None,
    actor_label: str = "",
) -> AuditEvent:
    """Append one event to the chain.

    Runs inside the caller's transaction when there is one, so an action that
    rolls back leaves no event behind (and a dry run leaves no trace).
    """
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
        event = AuditEvent(
            seq=head.seq + 1,
            time=timezone.now(),
            actor=by if by is not None and by.pk else None,
            actor_label=actor_label or (by.get_username() if by is not None and by.pk else ""),
            action=action,
            object_type=obj._meta.label_lower if obj is not None else "",
            object_id=str(obj.pk) if obj is not None else "",
            object_repr=str(obj)[:200] if obj is not None else "",
            success=success,
            ip=ip,
            details=json.loads(json.dumps(details or {}, ensure_ascii=False, default=str)),
            prev_hash=head.hash,
        )
        event.hash = compute_hash(event)
        event.save()
        head.seq, head.hash = event.seq, event.hash
        head.save(update_fields=["seq", "hash"])
    return event


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    reason: str


def verify_chain(batch_size: int = 2000) -> tuple[int, ChainBreak | None]:
    """Recompute the chain; return (rows checked, first break or None)."""
    expected_prev = GENESIS
    expected_seq = 1
    checked = 0
    for event in _events(batch_size):
        if event.seq != expected_seq:
            return checked, ChainBreak(
                expected_seq, f"第 {expected_seq} 条事件缺失（下一条为第 {event.seq} 条）"
            )
        if event.prev_hash != expected_prev:
            return checked, ChainBreak(event.seq, "前一条事件的哈希不符（前一条被修改或删除）")
        if compute_hash(event) != event.hash:
            return checked, ChainBreak(event.seq, "内容与哈希不符（该条被修改）")
        expected_prev = event.hash
        expected_seq += 1
        checked += 1
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and head.seq == checked and head.hash != expected_prev:
        # The last row has no successor to vouch for it; the head row does.
        return checked, ChainBreak(checked, "末条事件与链尾记录的哈希不符（末条被修改）")
    if head is not None and head.seq != checked:
        return checked, ChainBreak(
            checked + 1, f"链尾记录为第 {head.seq} 条，实际只有 {checked} 条（末尾被删除）"
        )
    return checked, None


def _events(batch_size: int) -> Iterator[AuditEvent]:
    return AuditEvent.objects.order_by("seq").iterator(chunk_size=batch_size)
