"""The audit chain: ``record``/``record_many`` append, ``chain_pending`` links,
``checkpoint`` signs, ``verify_chain`` checks (ADR 0004, ADR 0009).

Every state change in qcity goes through an action function that calls
``record``; authentication events are recorded by ``core.signals``.

Append at commit: ``record`` only INSERTs the event into the caller's
transaction, unchained (``seq``/``prev_hash``/``hash`` NULL), and asks for
``chain_pending`` to run after commit. ``chain_pending`` takes the head lock in
its own short transaction, reads the committed unchained rows back *as stored*,
hashes them in id order and advances the head. So no lock is held across the
caller's transaction, a rolled-back caller leaves no row, and the hash covers
exactly what the database returns (no false alarm from a value the database
normalised).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import json
import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.db import DatabaseError, connection, models, transaction
from django.db.models import Func, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.ipv6 import clean_ipv6_address

from qcity.core import auditkeys
from qcity.core.auditkeys import KeyProblem
from qcity.core.models import AuditChainHead, AuditCheckpoint, AuditEvent, User

logger = logging.getLogger(__name__)

GENESIS = "0" * 64
_HEX = frozenset("0123456789abcdef")


# --- canonical form -------------------------------------------------------------------------


def _payload(
    *,
    seq: Any,
    time: str | None,
    actor: Any,
    actor_label: Any,
    action: Any,
    object_type: Any,
    object_id: Any,
    object_repr: Any,
    success: Any,
    ip: Any,
    details: Any,
    prev: Any,
) -> bytes:
    payload = {
        "seq": seq,
        "time": time,
        "actor": actor,
        "actor_label": actor_label,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "object_repr": object_repr,
        "success": success,
        "ip": ip,
        "details": details,
        "prev": prev,
    }
    return json.dumps(
        payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=repr
    ).encode()


def _utc_text(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def compute_hash(event: AuditEvent) -> str:
    """The hash of an event object as it would be stored (used to forge rows in tests)."""
    return hashlib.sha256(
        _payload(
            seq=event.seq,
            time=_utc_text(event.time),
            actor=event.actor_id,
            actor_label=event.actor_label,
            action=event.action,
            object_type=event.object_type,
            object_id=event.object_id,
            object_repr=event.object_repr,
            success=event.success,
            ip=event.ip,
            details=event.details,
            prev=event.prev_hash,
        )
    ).hexdigest()


class _UtcTimeText(Func):
    """The stored time as ISO text in UTC, or NULL for what is not a finite time.

    Reading text instead of a datetime lets a corrupted value (PostgreSQL
    'infinity', SQLite garbage) become a named break instead of a traceback.
    """

    output_field = TextField()

    def as_sql(self, compiler, connection, **extra_context):  # type: ignore[override]
        return super().as_sql(compiler, connection, template="CAST(%(expressions)s AS TEXT)")

    def as_postgresql(self, compiler, connection, **extra_context):
        # to_char ignores DateStyle and the session time zone; it is NULL for ±infinity.
        return super().as_sql(
            compiler,
            connection,
            template="to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')",
        )


_COLUMNS = (
    "id",
    "seq",
    "_time",
    "actor_id",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "success",
    "ip",
    "_details",
    "prev_hash",
    "hash",
)


@dataclass(frozen=True)
class StoredEvent:
    """One event row as the database returns it, with its canonical bytes."""

    id: Any
    seq: Any
    prev_hash: Any
    hash: Any
    problem: str | None
    fields: dict[str, Any] = field(repr=False)

    def digest(self, seq: Any, prev: Any) -> str:
        return hashlib.sha256(_payload(seq=seq, prev=prev, **self.fields)).hexdigest()

    @property
    def name(self) -> str:
        return f"第 {self.seq} 条" if _is_int(self.seq) else f"id={self.id} 的事件"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _parse_time(text: Any) -> tuple[str | None, str | None]:
    if not isinstance(text, str):
        return None, "时间为空或不是有效时间"
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return text, f"时间 {text[:40]!r} 不是有效时间"
    if timezone.is_naive(moment):
        # Django keeps SQLite datetimes as naive UTC text.
        moment = moment.replace(tzinfo=dt.UTC)
    return _utc_text(moment), None


def _read(row: tuple) -> StoredEvent:
    values = dict(zip(_COLUMNS, row, strict=True))
    problems: list[str] = []
    time, problem = _parse_time(values["_time"])
    if problem:
        problems.append(problem)
    raw_details = values["_details"]
    try:
        details = json.loads(raw_details)
    except (TypeError, ValueError):
        details = raw_details
        problems.append("details 不是合法的 JSON")
    else:
        if not isinstance(details, dict):
            problems.append("details 不是 JSON 对象")
    texts = ("actor_label", "action", "object_type", "object_id", "object_repr")
    # SQLite keeps whatever type was written; a wrong type is a malformed row, not a crash.
    for name in texts:
        if not isinstance(values[name], str):
            problems.append(f"{name} 类型不符")
    if values["actor_id"] is not None and not _is_int(values["actor_id"]):
        problems.append("actor 类型不符")
    if not isinstance(values["success"], bool):
        problems.append("success 不是布尔值")
    if values["ip"] is not None and not isinstance(values["ip"], str):
        problems.append("ip 类型不符")
    fields = {
        "time": time,
        "actor": values["actor_id"],
        "actor_label": values["actor_label"],
        "action": values["action"],
        "object_type": values["object_type"],
        "object_id": values["object_id"],
        "object_repr": values["object_repr"],
        "success": values["success"],
        "ip": values["ip"],
        "details": details,
    }
    return StoredEvent(
        id=values["id"],
        seq=values["seq"],
        prev_hash=values["prev_hash"],
        hash=values["hash"],
        problem="；".join(problems) or None,
        fields=fields,
    )


def stored_events(queryset: models.QuerySet[AuditEvent]) -> Iterator[StoredEvent]:
    """Read any events as stored (the same values and hash as ``_select`` gives)."""
    rows = queryset.annotate(
        _time=_UtcTimeText("time"), _details=Cast("details", TextField())
    ).values_list(*_COLUMNS)
    for row in rows.iterator(chunk_size=2000):
        yield _read(row)


_SELECT = {
    "postgresql": (
        "SELECT id, seq, to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'),"
        " actor_id, actor_label, action, object_type, object_id, object_repr, success, ip,"
        " details::text, prev_hash, hash FROM core_auditevent"
    ),
    "sqlite": (
        "SELECT id, seq, CAST(time AS TEXT), actor_id, actor_label, action, object_type,"
        " object_id, object_repr, success, ip, CAST(details AS TEXT), prev_hash, hash"
        " FROM core_auditevent"
    ),
}


def _select(where: str, params: list[Any]) -> list[StoredEvent]:
    """The hot path of chaining and verifying: one hand-written query, no ORM compile.

    Returns the same values as ``stored_events`` (the only backend conversion on
    these columns is SQLite's 0/1 for booleans, done here).
    """
    # SQLite and PostgreSQL are the supported databases (ADR 0001).
    with connection.cursor() as cursor:
        cursor.execute(f"{_SELECT[connection.vendor]} WHERE {where}", params)
        rows = cursor.fetchall()
    if connection.vendor == "sqlite":
        rows = [
            (*row[:9], bool(row[9]), *row[10:]) if type(row[9]) is int and row[9] in (0, 1) else row
            for row in rows
        ]
    return [_read(row) for row in rows]


def _chained(batch_size: int) -> Iterator[StoredEvent]:
    """Chained events in seq order, a page at a time (keyset paging: flat memory)."""
    rows = _select("seq IS NOT NULL ORDER BY seq, id LIMIT %s", [batch_size])
    while True:
        yield from rows
        if len(rows) < batch_size or not _is_int(rows[-1].seq):
            return  # the end, or a malformed seq that verify reports as a break
        rows = _select("seq > %s ORDER BY seq, id LIMIT %s", [rows[-1].seq, batch_size])


# --- appending ------------------------------------------------------------------------------


def _text(value: str, limit: int) -> str:
    # PostgreSQL refuses NUL in text; an event must never fail because of a typed name.
    return value.replace("\x00", "\ufffd")[:limit]


def _ip(ip: str | None) -> tuple[str | None, str | None]:
    """(address to store, raw text kept in details when it is not an address)."""
    if not ip:
        return None, None
    # A zone ("fe80::1%eth0") is not storable in PostgreSQL's inet: keep it in details.
    text = ip.strip()
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None, _text(ip, 100)
    raw = _text(ip, 100) if "%" in text else None
    if address.version == 6:
        return clean_ipv6_address(str(address)), raw
    return str(address), raw


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    if isinstance(value, dict):
        return {_without_nul(key): _without_nul(item) for key, item in value.items()}
    return value


def _details(details: Mapping[str, Any] | None) -> dict[str, Any]:
    # The JSON round trip gives what the database will hand back (str() for dates,
    # decimals, objects; string keys); PostgreSQL's jsonb refuses NUL characters.
    return _without_nul(json.loads(json.dumps(details or {}, ensure_ascii=False, default=str)))


def _build(
    action: str,
    *,
    by: User | None,
    obj: models.Model | None,
    success: bool,
    details: Mapping[str, Any] | None,
    ip: str | None,
    actor_label: str,
    now: dt.datetime,
) -> AuditEvent:
    actor = by if by is not None and by.pk else None
    address, raw_ip = _ip(ip)
    stored_details = _details(details)
    if raw_ip is not None:
        stored_details["ip_raw"] = raw_ip
    return AuditEvent(
        time=now,
        actor=actor,
        actor_label=_text(actor_label or (actor.get_username() if actor else ""), 150),
        action=_text(action, 64),
        object_type=obj._meta.label_lower[:64] if obj is not None else "",
        object_id=_text(str(obj.pk), 64) if obj is not None else "",
        object_repr=_text(str(obj), 200) if obj is not None else "",
        success=bool(success),
        ip=address,
        details=stored_details,
    )


def _chain_after_commit() -> None:
    chain_pending()


def _chain_at_commit() -> None:
    # One chaining pass per transaction is enough, however many events it recorded.
    pending = getattr(connection, "run_on_commit", [])
    if not any(entry[1] is _chain_after_commit for entry in pending):
        # robust: the events are committed already; a failed chaining pass is redone
        # by the next one (or by verify_audit / audit_checkpoint), never lost.
        transaction.on_commit(_chain_after_commit, robust=True)


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
    """Append one event.

    The row joins the caller's transaction, so an action that rolls back leaves
    no event behind (and a dry run leaves no trace); it is chained after commit,
    so the caller holds no audit lock while it works.
    """
    event = _build(
        action,
        by=by,
        obj=obj,
        success=success,
        details=details,
        ip=ip,
        actor_label=actor_label,
        now=timezone.now(),
    )
    if connection.in_atomic_block:
        event.save()
        _chain_at_commit()
        return event
    # Autocommit (a login, a command): no caller transaction to stay out of, so insert
    # and chain in one short transaction (one commit instead of two).
    with transaction.atomic():
        event.save()
        try:
            links = _chain(2000)  # a savepoint: if it fails, the event is still committed
        except Exception:
            logger.exception("audit chaining failed; the next chaining pass will retry")
            links = {}
    event.seq, event.prev_hash, event.hash = links.get(event.pk, (None, None, None))
    return event


def record_many(
    events: Iterable[Mapping[str, Any]],
    *,
    by: User | None = None,
    ip: str | None = None,
    actor_label: str = "",
) -> list[AuditEvent]:
    """Append many events in one bulk insert and one chaining pass (for imports).

    Each item is a mapping with ``action`` and optionally ``obj``, ``success``,
    ``details``, and ``by``/``ip``/``actor_label`` overriding the shared ones.
    """
    now = timezone.now()
    rows = [
        _build(
            item["action"],
            by=item.get("by", by),
            obj=item.get("obj"),
            success=item.get("success", True),
            details=item.get("details"),
            ip=item.get("ip", ip),
            actor_label=item.get("actor_label", actor_label),
            now=now,
        )
        for item in events
    ]
    if not rows:
        return []
    created = AuditEvent.objects.bulk_create(rows, batch_size=1000)
    _chain_at_commit()
    return created


class ChainHeadMissing(Exception):
    """The head row is gone while the chain has rows: never re-create it silently."""


def _lock_head() -> tuple[int, str]:
    """(seq, hash) of the head, locked until the chaining transaction ends."""
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT seq, hash FROM core_auditchainhead WHERE id = 1{lock}")
        head = cursor.fetchone()
    if head is not None:
        return head
    # Only a database with no chained event and no checkpoint (fresh, or emptied by a
    # test) may get a new head; otherwise its absence is what verify_audit reports.
    if AuditEvent.objects.filter(seq__isnull=False).exists() or AuditCheckpoint.objects.exists():
        raise ChainHeadMissing("审计链尾记录缺失")
    AuditChainHead.objects.create(pk=1, seq=0, hash=GENESIS)
    return 0, GENESIS


def _link(batch: list[tuple[int, str, str, int]]) -> None:
    """Write the links of one batch: (seq, prev_hash, hash, id) per row."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(batch) > 1:
            # One statement joining a VALUES list: one round trip for the whole batch.
            values = ", ".join(["(%s::bigint, %s::varchar, %s::varchar, %s::bigint)"] * len(batch))
            cursor.execute(
                "UPDATE core_auditevent AS e SET seq = v.seq, prev_hash = v.prev, hash = v.hash"
                f" FROM (VALUES {values}) AS v(seq, prev, hash, id) WHERE e.id = v.id",
                [value for row in batch for value in row],
            )
        else:
            # A keyed UPDATE per row: linear, where bulk_update's CASE is quadratic.
            cursor.executemany(
                "UPDATE core_auditevent SET seq = %s, prev_hash = %s, hash = %s WHERE id = %s",
                batch,
            )


def _chain(batch_size: int) -> dict[int, tuple[int, str, str]]:
    """Link every committed unchained event; return {id: (seq, prev_hash, hash)}."""
    links: dict[int, tuple[int, str, str]] = {}
    with transaction.atomic():
        seq, prev = _lock_head()
        while True:
            batch = []
            for event in _select("seq IS NULL ORDER BY id LIMIT %s", [batch_size]):
                seq += 1
                digest = event.digest(seq, prev)
                batch.append((seq, prev, digest, event.id))
                links[event.id] = (seq, prev, digest)
                prev = digest
            if not batch:
                break
            _link(batch)
            if len(batch) < batch_size:
                break  # that was all; spare the empty query
        if links:
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE core_auditchainhead SET seq = %s, hash = %s WHERE id = 1", [seq, prev]
                )
    return links


def chain_pending(batch_size: int = 2000) -> int:
    """Link every committed unchained event, in id order; return how many.

    Runs in its own short transaction (after the caller's commit), holding the
    head lock only while it hashes what is waiting: one keyed update per row,
    sent as one batch, and one head update.
    """
    return len(_chain(batch_size))


# --- checkpoints ----------------------------------------------------------------------------


CHECKPOINT_ACTION = "audit.checkpoint"


def checkpoint_message(seq: int, chain_hash: str, time_text: str) -> bytes:
    return f"qcity-audit-checkpoint/v1|{seq}|{chain_hash}|{time_text}".encode()


def checkpoint(*, by: User | None = None) -> AuditCheckpoint:
    """Sign the chain's current tip with the key outside the database and store it.

    Chains what is waiting and verifies the whole chain first: a broken chain is
    never signed (``ChainBroken``). ``KeyProblem`` when there is no usable key.
    """
    private_key = auditkeys.signing_key()
    chain_pending()
    result = verify_chain(private_key.public_key())
    if result.broken is not None:
        raise ChainBroken(result.broken)
    with transaction.atomic():
        head = AuditChainHead.objects.select_for_update().get(pk=1)
        now = timezone.now()
        signature, key_id = auditkeys.sign(checkpoint_message(head.seq, head.hash, _utc_text(now)))
        point = AuditCheckpoint(
            seq=head.seq, hash=head.hash, time=now, signature=signature, key_id=key_id
        )
        point.save()
        record(CHECKPOINT_ACTION, by=by, obj=point, details={"seq": head.seq, "key_id": key_id})
    return point


# --- verifying ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainBreak:
    seq: int | None
    reason: str
    row: str = ""

    def __str__(self) -> str:
        where = f"第 {self.seq} 条" if self.seq is not None else "链尾"
        if self.row and self.row != where:
            where = f"{where}（{self.row}）"
        return f"审计链在{where}处断开：{self.reason}"


class ChainBroken(Exception):
    def __init__(self, broken: ChainBreak) -> None:
        super().__init__(str(broken))
        self.broken = broken


@dataclass(frozen=True)
class Verification:
    checked: int
    checkpoints: int
    broken: ChainBreak | None


def _checkpoints(key: Ed25519PublicKey) -> dict[int, str]:
    """{seq: hash} of every checkpoint; ``KeyProblem`` if any was not signed by ``key``."""
    expected_id = auditkeys.key_id(key)
    points: dict[int, str] = {}
    rows = (
        AuditCheckpoint.objects.annotate(_time=_UtcTimeText("time"))
        .order_by("seq", "id")
        .values_list("id", "seq", "hash", "_time", "signature", "key_id")
    )
    for pk, seq, chain_hash, time_text, signature, key_id in rows.iterator():
        time, problem = _parse_time(time_text)
        message = checkpoint_message(seq, chain_hash, time or "")
        if key_id != expected_id:
            raise KeyProblem(
                f"第 {seq} 条处的签名检查点（id={pk}）由密钥 {key_id} 签名，"
                f"与当前验证公钥 {expected_id} 不符"
            )
        if problem or not auditkeys.verifies(key, message, signature):
            raise KeyProblem(
                f"第 {seq} 条处的签名检查点（id={pk}）签名无效：验证公钥不对，或检查点被篡改"
            )
        points[seq] = chain_hash
    return points


def _head() -> tuple[int, str] | None:
    return AuditChainHead.objects.filter(pk=1).values_list("seq", "hash").first()


def verify_chain(key: Ed25519PublicKey, batch_size: int = 2000) -> Verification:
    """Recompute the chain against the signed checkpoints and the head.

    ``KeyProblem`` when a checkpoint does not verify with ``key``; otherwise the
    number of rows and checkpoints checked and the first break, or None.

    Safe while others append: the checkpoints are read first, then the head
    (``before``), then the rows, then the head again (``after``). A legitimate
    chain has before.seq <= rows <= after.seq, since rows and head move together.
    """
    points = _checkpoints(key)
    before = _head()
    expected_prev, expected_seq, checked = GENESIS, 1, 0
    hash_at_before = None
    for event in _chained(batch_size):
        first = _check(event, expected_seq, expected_prev, points)
        if first is not None:
            return Verification(checked, len(points), first)
        expected_prev = event.hash
        expected_seq += 1
        checked += 1
        if before is not None and event.seq == before[0]:
            hash_at_before = event.hash
    after = _head()

    def break_at(seq: int | None, reason: str) -> Verification:
        return Verification(checked, len(points), ChainBreak(seq, reason))

    beyond = [seq for seq in points if seq > checked]
    if beyond:
        reason = f"签名检查点记录了第 {max(beyond)} 条，实际只有 {checked} 条（末尾被删除）"
        return break_at(checked + 1, reason)
    if before is None or after is None:
        return break_at(None, "链尾记录（AuditChainHead）缺失：链尾或整条链可能被删除")
    if checked < before[0]:
        reason = f"链尾记录为第 {before[0]} 条，实际只有 {checked} 条（末尾被删除）"
        return break_at(checked + 1, reason)
    if before[0] and hash_at_before != before[1]:
        # The last row has no successor to vouch for it; the head row does.
        return break_at(before[0], "该条与链尾记录的哈希不符（末条被修改）")
    if checked > after[0]:
        reason = f"已链接 {checked} 条，链尾记录却为第 {after[0]} 条（链尾被改回）"
        return break_at(after[0] + 1, reason)
    if checked == after[0] and expected_prev != after[1]:
        return break_at(checked, "末条事件与链尾记录的哈希不符（末条被修改）")
    return Verification(checked, len(points), None)


def _check(
    event: StoredEvent, expected_seq: int, expected_prev: str, points: dict[int, str]
) -> ChainBreak | None:
    if event.problem:
        return ChainBreak(event.seq if _is_int(event.seq) else None, event.problem, event.name)
    if not _is_int(event.seq) or event.seq < expected_seq:
        return ChainBreak(None, f"序号 {event.seq!r} 不合法", f"id={event.id} 的事件")
    if event.seq != expected_seq:
        return ChainBreak(
            expected_seq, f"第 {expected_seq} 条事件缺失（下一条为第 {event.seq} 条）"
        )
    if not _is_hash(event.hash) or not _is_hash(event.prev_hash):
        return ChainBreak(event.seq, "hash/prev_hash 不是 64 位十六进制", event.name)
    if event.prev_hash != expected_prev:
        return ChainBreak(event.seq, "前一条事件的哈希不符（前一条被修改或删除）")
    if event.digest(event.seq, event.prev_hash) != event.hash:
        return ChainBreak(event.seq, "内容与哈希不符（该条被修改）")
    if event.seq in points and points[event.seq] != event.hash:
        return ChainBreak(event.seq, "与签名检查点记录的哈希不符（链在检查点之前被改写）")
    if event.fields["action"] == CHECKPOINT_ACTION:
        # Each checkpoint is itself an event in the chain: a checkpoint row deleted to
        # let the chain before it be rewritten leaves this event without its signature.
        signed = event.fields["details"].get("seq")
        if signed not in points:
            return ChainBreak(
                event.seq, f"该条记录的签名检查点（第 {signed} 条处）已不存在（检查点被删除）"
            )
    return None


def _is_hash(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 64 and set(value) <= _HEX


def verify(batch_size: int = 2000) -> Verification:
    """What ``qcity verify_audit`` runs: chain what waits, then verify with the key."""
    key = auditkeys.verify_key()
    try:
        chain_pending()
    except (ChainHeadMissing, DatabaseError):
        # A missing head, or a waiting row the triggers will not let be linked: what
        # is wrong is reported by the walk below, as a break, never as a traceback.
        logger.warning("audit chaining before verification failed", exc_info=True)
    return verify_chain(key, batch_size)
