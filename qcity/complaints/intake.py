"""Intake: one ``submit`` for the portal form, the staff entry page and the JSON API.

``submit(fields, channel=..., by=..., client=..., idempotency_key=..., files=...)`` checks
every field (``IntakeRefused(code, message, field)`` with a stable code, a Chinese message
and the field's name; ``errors`` lists every problem found, for forms), then in ONE
transaction writes the ``Submission``, one case per kind asked for (a complaint and a
report from one submission are two cases linked both ways), their attachments
(``core.files``) and one ``complaints.case.submitted`` audit event per case. A failure
anywhere leaves no row, and the files already written are deleted again.

What the rules require (Order 20 Art.9/10, Order 121 Art.10/11, complaint-rules.md §17):
a complaint needs the complainant's real identity (name, phone, postal address), a
respondent, a request and the facts; a report needs a respondent and the facts and may be
anonymous. The respondent is found in the register by its 统一社会信用代码, or else given
by name and address. The competent bureau comes from ``routing.resolve``; a complaint
about an enterprise in ODR goes to it first (status ODR, ``odr.settle``), else it waits
for acceptance (``complaint.accept``); a report waits for verification (``report.verify``).

Numbers are ``TS``/``JB``/``XS`` + the received date + a 6-digit serial from a counter row
per prefix and day, counted by one upsert (no max()+1 race). The serial is taken before
the case's transaction so concurrent submissions do not queue on the counter row while
they write; a submission that fails after that leaves a gap in the serials, never a
duplicate.

The receipt code (10 characters, about 50 bits) is shown once; only its keyed hash
(``core.pii.blind_index``, key outside the database) is kept on the submission. An API
submission with an idempotency key gets a code derived from the server secret, the
client and the key, so a replay can show it again; a web submission gets a random one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import secrets
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.crypto import salted_hmac

from qcity.complaints import casenotices, routing
from qcity.complaints.models import (
    Case,
    CaseNumberCounter,
    Category,
    IssueType,
    OdrEnrolment,
    Submission,
)
from qcity.core import audit, pii, rulebook
from qcity.core import files as core_files
from qcity.core.models import Attachment, User
from qcity.core.workflow import Deadline
from qcity.registry.codes import check_code, normalise_code
from qcity.registry.models import MarketEntity

PREFIX = {Case.Kind.COMPLAINT: "TS", Case.Kind.REPORT: "JB", Case.Kind.LEAD: "XS"}
MAX_FILES = 10
# Lengths of the text fields the model keeps as TextField (the others use max_length).
TEXT_LIMITS = {"request": 2000, "facts": 5000}
MAX_AMOUNT = Decimal("9999999999.99")
EARLIEST_DATE = dt.date(1990, 1, 1)
RECEIPT_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud on the phone
RECEIPT_LENGTH = 10
DUPLICATE_WINDOW_DAYS = 90

LABELS = {
    "kinds": "类型（投诉/举报）",
    "person_name": "姓名",
    "person_phone": "联系电话",
    "person_id_number": "身份证号码",
    "person_address": "通讯地址",
    "respondent_code": "被投诉（举报）人统一社会信用代码",
    "respondent_name": "被投诉（举报）人名称",
    "respondent_address": "被投诉（举报）人经营地址",
    "platform_code": "电子商务平台统一社会信用代码",
    "platform_name": "电子商务平台名称",
    "category": "商品服务类别",
    "issue_type": "问题类别",
    "goods": "商品或服务名称",
    "request": "投诉请求",
    "facts": "事实与理由",
    "amount": "涉及金额",
    "incident_on": "消费（发现）日期",
    "files": "附件",
    "channel": "渠道",
    "received_at": "接收时间",
    "idempotency_key": "幂等键",
}
# The stable codes (API) of every refusal ``submit`` can raise; core.files adds its own
# (file_type_not_allowed, file_extension_mismatch, file_too_large, file_empty, file_corrupted,
# zip_bomb).
CODES = (
    "missing_field",
    "anonymous_complaint",
    "invalid_choice",
    "invalid_credit_code",
    "invalid_phone",
    "invalid_id_number",
    "too_long",
    "invalid_amount",
    "invalid_date",
    "too_many_files",
    "idempotency_conflict",
)


@dataclass(frozen=True)
class FieldError:
    code: str
    message: str
    field: str


class IntakeRefused(Exception):
    """A submission that is not stored: ``code`` is stable (API), ``message`` Chinese.

    ``field`` names the first field at fault ("" for the whole submission); ``errors``
    holds every problem found, so a form can mark them all at once.
    """

    def __init__(
        self, code: str, message: str, field: str = "", errors: Sequence[FieldError] = ()
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.errors = tuple(errors) or (FieldError(code, message, field),)


@dataclass(frozen=True)
class Submitted:
    """What ``submit`` returns: the cases (complaint first), and the receipt code to show.

    ``replayed`` is True when the same client sent the same idempotency key and payload
    again: nothing new was written and the first submission's cases are returned.
    """

    submission: Submission
    cases: tuple[Case, ...]
    receipt_code: str
    replayed: bool = False

    @property
    def numbers(self) -> list[str]:
        return [case.number for case in self.cases]


# --- small checks ---------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_MOBILE = re.compile(r"1[3-9]\d{9}")
# Area code (3 or 4 digits, leading 0) and a 7- or 8-digit number, written together.
_LANDLINE = re.compile(r"0\d{2,3}\d{7,8}")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def clean_text(value: Any) -> str:
    """Text as stored: line ends unified, control characters (NUL …) dropped, trimmed.

    Markup is kept as typed: it is text, and every page shows it escaped.
    """
    if value is None:
        return ""
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text).strip()


def normalise_phone(value: str) -> str:
    return pii.normalise("phone", value)


def is_valid_phone(value: str) -> bool:
    """A mainland mobile number (1[3-9] + 9 digits) or a landline with its area code."""
    phone = normalise_phone(value)
    return bool(_MOBILE.fullmatch(phone) or _LANDLINE.fullmatch(phone))


def is_valid_id_number(value: str) -> bool:
    """An 18-character 居民身份号码 with a real birth date and its GB 11643 check character."""
    number = pii.normalise("id_number", value)
    if not re.fullmatch(r"\d{17}[\dX]", number):
        return False
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    if born < dt.date(1900, 1, 1) or born > timezone.localdate():
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == number[17]


def normalise_for_fingerprint(text: str) -> str:
    """Letters and digits only, half-width and lower case: what a retyped text keeps."""
    folded = unicodedata.normalize("NFKC", text or "").lower()
    return "".join(ch for ch in folded if ch.isalnum())


def fingerprint(*, respondent: str, phone_index: str, request: str, facts: str) -> str:
    """Near-duplicate key: the same respondent, phone and (normalised) request and facts."""
    parts = [
        normalise_for_fingerprint(respondent),
        phone_index,
        normalise_for_fingerprint(request),
        normalise_for_fingerprint(facts),
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


# --- validation -----------------------------------------------------------------------------


@dataclass
class _Checked:
    """The submission after every check: what will be written."""

    kinds: list[str]
    values: dict[str, Any]
    entity: MarketEntity | None
    platform: MarketEntity | None
    uploads: list[tuple[Any, str, str]] = field(default_factory=list)  # (upload, name, sha256)


class _Errors:
    def __init__(self) -> None:
        self.items: list[FieldError] = []

    def add(self, code: str, message: str, name: str) -> None:
        if not any(e.field == name for e in self.items if name):
            self.items.append(FieldError(code, message, name))

    def missing(self, name: str, why: str = "") -> None:
        self.add("missing_field", f"请填写{LABELS[name]}{why}", name)

    def raise_if_any(self) -> None:
        if self.items:
            first = self.items[0]
            raise IntakeRefused(first.code, first.message, first.field, self.items)


def _model_limit(name: str) -> int | None:
    if name in TEXT_LIMITS:
        return TEXT_LIMITS[name]
    target = {"platform_code": "respondent_code"}.get(name, name)
    try:
        return Case._meta.get_field(target).max_length
    except Exception:  # a field that is not on the model (kinds, files …)
        return None


def _kinds(raw: Any, errors: _Errors) -> list[str]:
    if raw in (None, "", [], ()):
        errors.missing("kinds")
        return []
    if isinstance(raw, str):
        raw = ["complaint", "report"] if raw == "both" else [raw]
    kinds: list[str] = []
    for kind in raw:
        if kind not in (Case.Kind.COMPLAINT, Case.Kind.REPORT):
            errors.add("invalid_choice", "类型只能是“投诉”“举报”或两者", "kinds")
            return []
        if kind not in kinds:
            kinds.append(str(kind))
    # The complaint first: it is the case the receipt is about, the report its linked case.
    return sorted(kinds, key=[Case.Kind.COMPLAINT, Case.Kind.REPORT].index)


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "on", "yes", "y")
    return bool(value)


def _amount(raw: Any, errors: _Errors) -> Decimal | None:
    if raw in (None, ""):
        return None
    text = clean_text(raw).replace(",", "").replace("，", "").removesuffix("元").strip()
    text = unicodedata.normalize("NFKC", text).lstrip("¥￥")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        amount = None
    if (
        amount is None
        or not amount.is_finite()
        or amount < 0
        or amount > MAX_AMOUNT
        or amount.as_tuple().exponent < -2  # type: ignore[operator]
    ):
        errors.add(
            "invalid_amount",
            "涉及金额应为不小于 0 的数字，最多两位小数，且不超过 99 亿元",
            "amount",
        )
        return None
    return amount.quantize(Decimal("0.01"))


def _date(raw: Any, name: str, latest: dt.date, errors: _Errors) -> dt.date | None:
    if raw in (None, ""):
        return None
    if isinstance(raw, dt.datetime):
        raw = raw.date()
    if isinstance(raw, dt.date):
        day = raw
    else:
        try:
            day = dt.date.fromisoformat(unicodedata.normalize("NFKC", clean_text(raw)))
        except ValueError:
            errors.add("invalid_date", f"{LABELS[name]}应为“年-月-日”格式的日期", name)
            return None
    if day > latest or day < EARLIEST_DATE:
        errors.add("invalid_date", f"{LABELS[name]}不能晚于收到日期，也不能早于1990年", name)
        return None
    return day


def _reference(model: type[Category] | type[IssueType], raw: Any, name: str, errors: _Errors):
    code = clean_text(raw)
    if not code:
        return None
    row = model.objects.enabled().filter(code=code).first()
    if row is None:
        errors.add("invalid_choice", f"{LABELS[name]}“{code[:20]}”不存在或已停用", name)
    return row


def _entity_by_code(raw: str, name: str, errors: _Errors) -> tuple[str, MarketEntity | None]:
    code = normalise_code(raw)
    if not code:
        return "", None
    checked = check_code(code)
    if not checked.ok:
        errors.add("invalid_credit_code", f"{LABELS[name]}有误：{checked.message}", name)
        return code, None
    return code, MarketEntity.objects.filter(code=code).select_related("owner_unit").first()


def check(
    fields: Mapping[str, Any], *, files_: Sequence[Any] = (), received_on: dt.date
) -> _Checked:
    """Every check of ``submit`` without writing anything (the staff page uses it too)."""
    errors = _Errors()
    kinds = _kinds(fields.get("kinds"), errors)
    complaint = Case.Kind.COMPLAINT in kinds
    values: dict[str, Any] = {}
    for name in (
        "person_name",
        "person_phone",
        "person_id_number",
        "person_address",
        "respondent_name",
        "respondent_address",
        "platform_name",
        "goods",
        "request",
        "facts",
    ):
        text = clean_text(fields.get(name))
        limit = _model_limit(name)
        if limit is not None and len(text) > limit:
            errors.add("too_long", f"{LABELS[name]}过长（{len(text)} 字，上限 {limit} 字）", name)
        values[name] = text
    anonymous = _truthy(fields.get("anonymous"))
    if anonymous and complaint:
        errors.add(
            "anonymous_complaint",
            "投诉须提供投诉人的真实身份信息（姓名、电话、通讯地址），不能匿名；匿名只能举报",
            "anonymous",
        )
    if anonymous and not complaint:
        # An anonymous report keeps no identity at all, whatever the form carried.
        for name in ("person_name", "person_phone", "person_id_number", "person_address"):
            values[name] = ""
    values["anonymous"] = anonymous and not complaint
    if complaint:
        for name in ("person_name", "person_phone", "person_address"):
            if not values[name]:
                errors.missing(name, "（投诉须提供真实身份信息）")
    elif kinds and not anonymous:
        for name in ("person_name", "person_phone"):
            if not values[name]:
                errors.missing(name, "（实名举报须提供；也可选择匿名举报）")
    if values["person_phone"]:
        if is_valid_phone(values["person_phone"]):
            values["person_phone"] = normalise_phone(values["person_phone"])
        else:
            errors.add(
                "invalid_phone",
                "联系电话格式不正确：应为11位手机号码，或带区号的固定电话（如 024-12345678）",
                "person_phone",
            )
    if values["person_id_number"]:
        if is_valid_id_number(values["person_id_number"]):
            values["person_id_number"] = pii.normalise("id_number", values["person_id_number"])
        else:
            errors.add(
                "invalid_id_number",
                "身份证号码不正确：应为18位，出生日期有效且校验位正确（GB 11643）",
                "person_id_number",
            )

    code, entity = _entity_by_code(
        clean_text(fields.get("respondent_code")), "respondent_code", errors
    )
    values["respondent_code"] = code
    if entity is not None:
        # The register is the authority on the name; the address given (the shop where it
        # happened) is kept when there is one.
        values["respondent_name"] = entity.name
        values["respondent_address"] = values["respondent_address"] or entity.address
    elif not any(e.field == "respondent_code" for e in errors.items):
        why = "（未提供统一社会信用代码或名录中未找到时须填写名称和地址）"
        if not values["respondent_name"]:
            errors.missing("respondent_name", why)
        if not values["respondent_address"]:
            errors.missing("respondent_address", why)
    platform_code, platform = _entity_by_code(
        clean_text(fields.get("platform_code")), "platform_code", errors
    )
    values["platform_code"] = platform_code
    if platform is not None:
        values["platform_name"] = platform.name
    elif platform_code and not values["platform_name"]:
        errors.missing("platform_name", "（名录中未找到该平台）")

    if complaint and not values["request"]:
        errors.missing("request")
    if kinds and not values["facts"]:
        errors.missing("facts")
    values["amount"] = _amount(fields.get("amount"), errors)
    values["incident_on"] = _date(fields.get("incident_on"), "incident_on", received_on, errors)
    values["category"] = _reference(Category, fields.get("category"), "category", errors)
    values["issue_type"] = _reference(IssueType, fields.get("issue_type"), "issue_type", errors)
    values["consents_to_publication"] = _truthy(fields.get("consents_to_publication"))

    uploads: list[tuple[Any, str, str]] = []
    if len(files_) > MAX_FILES:
        errors.add("too_many_files", f"附件最多 {MAX_FILES} 个，实为 {len(files_)} 个", "files")
    else:
        for upload in files_:
            name = core_files.neutral_name(getattr(upload, "name", ""))
            try:
                # The same checks core.files.attach makes, before anything is numbered or
                # written: a refused file refuses the submission with the file's own code.
                data = core_files._read_limited(upload, name)
                core_files.detect(data, name)
            except core_files.AttachmentRefused as exc:
                errors.add(exc.code, exc.message, "files")
                break
            uploads.append((upload, name, hashlib.sha256(data).hexdigest()))
    errors.raise_if_any()
    return _Checked(kinds=kinds, values=values, entity=entity, platform=platform, uploads=uploads)


# --- numbers, receipts, idempotency ---------------------------------------------------------


def next_number(kind: str, day: dt.date) -> str:
    """The next case number for ``kind`` received on ``day``: TS20261128000123.

    One ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` counts and reads, so concurrent
    callers (threads, processes, hosts) never get the same serial.
    """
    prefix = PREFIX[kind]
    table = connection.ops.quote_name(CaseNumberCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (prefix, day, last) VALUES (%s, %s, 1) "
            f"ON CONFLICT (prefix, day) DO UPDATE SET last = {table}.last + 1 RETURNING last",
            [prefix, day],
        )
        serial = cursor.fetchone()[0]
    return f"{prefix}{day:%Y%m%d}{serial:06d}"


def _code_from(digest: bytes) -> str:
    number = int.from_bytes(digest[:8], "big")
    chars = []
    for _ in range(RECEIPT_LENGTH):
        number, index = divmod(number, len(RECEIPT_ALPHABET))
        chars.append(RECEIPT_ALPHABET[index])
    return "".join(chars)


def format_receipt(code: str) -> str:
    """ABCDE-FGHJK: two groups, easier to read out and to type."""
    return f"{code[:5]}-{code[5:]}" if len(code) == RECEIPT_LENGTH else code


def _receipt_code(client: User | None, idempotency_key: str) -> str:
    if client is not None and idempotency_key:
        mac = salted_hmac("qcity.complaints.receipt", f"{client.pk}\x00{idempotency_key}")
        return _code_from(mac.digest())
    return _code_from(secrets.token_bytes(8))


def receipt_hash(code: str) -> str:
    return pii.blind_index("receipt", code)


def _payload_digest(checked: _Checked, channel: str) -> str:
    values = {
        key: (value.code if hasattr(value, "code") else value)
        for key, value in checked.values.items()
    }
    body = {
        "channel": channel,
        "kinds": checked.kinds,
        "values": values,
        "files": [sha for _upload, _name, sha in checked.uploads],
    }
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _replay(existing: Submission, digest: str, client: User | None, key: str) -> Submitted:
    if existing.payload_digest != digest:
        raise IntakeRefused(
            "idempotency_conflict",
            "该幂等键已用于内容不同的另一次提交；新的提交请使用新的幂等键",
            "idempotency_key",
        )
    cases = tuple(
        sorted(
            existing.cases.all(),
            key=lambda c: [Case.Kind.COMPLAINT, Case.Kind.REPORT].index(c.kind),
        )
    )
    code = _receipt_code(client, key)
    if not hmac.compare_digest(receipt_hash(code), existing.receipt_hash):
        code = ""  # the server secret changed since: the code cannot be shown again
    return Submitted(existing, cases, code, replayed=True)


# --- the service ----------------------------------------------------------------------------


def _odr_enrolled(entity: MarketEntity | None, day: dt.date) -> bool:
    if entity is None:
        return False
    return OdrEnrolment.objects.filter(
        entity=entity, joined_on__lte=day, left_on__isnull=True
    ).exists()


def _initial(kind: str, received_on: dt.date, odr: bool) -> tuple[str, Deadline]:
    if kind == Case.Kind.COMPLAINT and odr:
        return Case.Status.ODR, rulebook.deadline("odr.settle", received_on)
    if kind == Case.Kind.COMPLAINT:
        return Case.Status.RECEIVED, rulebook.deadline("complaint.accept", received_on)
    return Case.Status.VERIFYING, rulebook.deadline("report.verify", received_on)


def submit(
    fields: Mapping[str, Any],
    *,
    channel: str,
    by: User | None = None,
    client: User | None = None,
    idempotency_key: str = "",
    files: Sequence[Any] = (),
    received_at: dt.datetime | None = None,
    ip: str | None = None,
) -> Submitted:
    """Check and store one submission: one case per kind, linked, numbered and audited.

    :param fields: the form's or the API's values by name: ``kinds`` ("complaint",
        "report", "both" or a list of the first two), ``anonymous`` (reports only),
        ``person_name``, ``person_phone``, ``person_id_number``, ``person_address``,
        ``consents_to_publication``, ``respondent_code`` (统一社会信用代码) or
        ``respondent_name`` + ``respondent_address``, ``platform_code`` /
        ``platform_name`` (a seller on a platform), ``category`` and ``issue_type`` (codes
        of the reference data), ``goods``, ``request``, ``facts``, ``amount``,
        ``incident_on`` (ISO date). Missing keys are empty.
    :param channel: a ``Submission.Channel`` value.
    :param by: who typed it in (staff entry, API client), None for the public form.
    :param client: the account an ``idempotency_key`` belongs to (the API client).
    :param files: uploads (``UploadedFile`` or named file objects), at most ``MAX_FILES``.
    :param received_at: when the bureau received it (a letter, a call); default now.
    :param ip: the client address, for the audit trail.
    :raises IntakeRefused: with a stable ``code`` and the ``field`` at fault; nothing stored.
    """
    if channel not in Submission.Channel.values:
        raise IntakeRefused("invalid_choice", "渠道不正确", "channel")
    now = timezone.now()
    received_at = received_at or now
    if received_at > now + dt.timedelta(minutes=5):
        raise IntakeRefused("invalid_date", "接收时间不能晚于现在", "received_at")
    received_on = timezone.localdate(received_at)
    key = clean_text(idempotency_key)
    if len(key) > Submission._meta.get_field("idempotency_key").max_length:
        raise IntakeRefused("too_long", "幂等键过长（上限 100 个字符）", "idempotency_key")
    if key and client is None:
        raise IntakeRefused("missing_field", "使用幂等键时须指明提交账户", "idempotency_key")
    checked = check(fields, files_=files, received_on=received_on)
    digest = _payload_digest(checked, channel)
    if key:
        existing = Submission.objects.filter(client=client, idempotency_key=key).first()
        if existing is not None:
            return _replay(existing, digest, client, key)

    rules = rulebook.version_on(received_on)
    route = routing.resolve(
        rules=rules,
        entity=checked.entity,
        address=checked.values["respondent_address"],
        platform=checked.platform,
    )
    odr = _odr_enrolled(checked.entity, received_on)
    numbers = {kind: next_number(kind, received_on) for kind in checked.kinds}
    code = _receipt_code(client, key)
    stored: list[Attachment] = []
    try:
        with transaction.atomic():
            submission = Submission.objects.create(
                channel=channel,
                received_at=received_at,
                idempotency_key=key,
                client=client if key else None,
                payload_digest=digest,
                receipt_hash=receipt_hash(code),
            )
            cases = _write_cases(submission, checked, numbers, route, rules, odr, by)
            for case in cases:
                for upload, name, _sha in checked.uploads:
                    stored.append(core_files.attach(case, upload, by=by, name=name))
            for case in cases:
                _audit(case, channel, route, len(checked.uploads), by, ip)
                if case.status == Case.Status.ODR:
                    # ODR 分送: the enterprise and the complainant are told, kept with the case.
                    casenotices.after_dispatch(case)
    except IntegrityError:
        _delete_files(stored)
        if key:
            # Another request with the same key won the race: answer as its replay.
            existing = Submission.objects.filter(client=client, idempotency_key=key).first()
            if existing is not None:
                return _replay(existing, digest, client, key)
        raise
    except BaseException:
        _delete_files(stored)
        raise
    return Submitted(submission, tuple(cases), code)


def _write_cases(
    submission: Submission,
    checked: _Checked,
    numbers: dict[str, str],
    route: routing.Route,
    rules: str,
    odr: bool,
    by: User | None,
) -> list[Case]:
    v = checked.values
    phone_index = pii.blind_index("phone", v["person_phone"])
    respondent_key = v["respondent_code"] or f"{v['respondent_name']}{v['respondent_address']}"
    cases: list[Case] = []
    for kind in checked.kinds:
        status, deadline = _initial(kind, timezone.localdate(submission.received_at), odr)
        request = v["request"] if kind == Case.Kind.COMPLAINT else ""
        case = Case.objects.create(
            number=numbers[kind],
            kind=kind,
            submission=submission,
            received_at=submission.received_at,
            received_on=timezone.localdate(submission.received_at),
            rules=rules,
            owner_unit=route.unit,
            routing_basis=route.basis[:200],
            status=status,
            status_changed_at=submission.received_at,
            status_changed_by=by,
            due_on=deadline.due,
            due_rule=deadline.rule,
            due_calendar_version=deadline.calendar_version,
            anonymous=v["anonymous"],
            person_name=v["person_name"],
            person_phone=pii.encrypt(v["person_phone"]),
            person_phone_index=phone_index,
            person_id_number=pii.encrypt(v["person_id_number"]),
            person_id_index=pii.blind_index("id_number", v["person_id_number"]),
            person_address=v["person_address"],
            consents_to_publication=v["consents_to_publication"],
            respondent_entity=checked.entity,
            respondent_code=v["respondent_code"],
            respondent_name=v["respondent_name"],
            respondent_address=v["respondent_address"],
            platform_entity=checked.platform,
            platform_name=v["platform_name"],
            category=v["category"],
            issue_type=v["issue_type"],
            goods=v["goods"],
            request=request,
            facts=v["facts"],
            amount=v["amount"],
            incident_on=v["incident_on"],
            fingerprint=fingerprint(
                respondent=respondent_key,
                phone_index=phone_index,
                request=request,
                facts=v["facts"],
            ),
            odr=odr and kind == Case.Kind.COMPLAINT,
            created_by=by,
        )
        cases.append(case)
    if len(cases) == 2:
        first, second = cases
        first.linked_case, second.linked_case = second, first
        Case.objects.filter(pk=first.pk).update(linked_case=second)
        Case.objects.filter(pk=second.pk).update(linked_case=first)
    return cases


def _audit(
    case: Case, channel: str, route: routing.Route, attachments: int, by: User | None, ip
) -> None:
    # No personal data here: the audit trail is read far more widely than the case.
    audit.record(
        "complaints.case.submitted",
        by=by,
        obj=case,
        ip=ip,
        details={
            "number": case.number,
            "kind": case.kind,
            "channel": channel,
            "owner_unit": route.unit.name,
            "routing_basis": route.basis,
            "rules": case.rules,
            "status": case.status,
            "due_on": case.due_on.isoformat() if case.due_on else None,
            "due_rule": case.due_rule,
            "linked_case": case.linked_case.number if case.linked_case_id else None,
            "attachments": attachments,
        },
    )


def _delete_files(stored: Iterable[Attachment]) -> None:
    for attachment in stored:
        core_files.delete_quietly(attachment.storage_name)


# --- reads of intake ------------------------------------------------------------------------


def find_by_receipt(number: str, code: str) -> Case | None:
    """The case a complainant follows with its number and receipt code; None otherwise.

    A wrong code and an unknown number give the same None (no probing for numbers), and
    the hash is compared in constant time.
    """
    number = unicodedata.normalize("NFKC", clean_text(number)).upper().replace(" ", "")
    wanted = receipt_hash(code) if clean_text(code) else ""
    case = (
        Case.objects.select_related("submission").filter(number=number).first()
        if number and len(number) <= 24
        else None
    )
    stored = case.submission.receipt_hash if case is not None else ""
    if not hmac.compare_digest(wanted or "-", stored or "+"):
        return None
    return case


def duplicate_candidates(
    *,
    fingerprint_: str,
    phone_index: str,
    respondent_code: str,
    respondent_name: str,
    since: dt.date,
) -> QuerySet[Case]:
    """Cases that may be the same matter: the same fingerprint, or the same phone about the
    same respondent, received since ``since``. The caller applies its data scope."""
    same = Q(fingerprint=fingerprint_) if fingerprint_ else Q(pk__in=[])
    if phone_index:
        respondent = (
            Q(respondent_code=respondent_code)
            if respondent_code
            else Q(respondent_name=respondent_name)
        )
        same |= Q(person_phone_index=phone_index) & respondent
    return Case.objects.filter(same, received_on__gte=since).order_by("-received_at")


def possible_duplicates(case: Case) -> QuerySet[Case]:
    """Other cases that may be the same matter as ``case`` (near-duplicates, for staff)."""
    return duplicate_candidates(
        fingerprint_=case.fingerprint,
        phone_index=case.person_phone_index,
        respondent_code=case.respondent_code,
        respondent_name=case.respondent_name,
        since=case.received_on - dt.timedelta(days=DUPLICATE_WINDOW_DAYS),
    ).exclude(submission_id=case.submission_id)


def duplicates_for(fields: Mapping[str, Any], *, received_on: dt.date) -> QuerySet[Case]:
    """Near-duplicates of a submission not yet saved (the staff entry's warning)."""
    checked = check(fields, received_on=received_on)
    v = checked.values
    phone_index = pii.blind_index("phone", v["person_phone"])
    respondent_key = v["respondent_code"] or f"{v['respondent_name']}{v['respondent_address']}"
    request = v["request"] if Case.Kind.COMPLAINT in checked.kinds else ""
    return duplicate_candidates(
        fingerprint_=fingerprint(
            respondent=respondent_key, phone_index=phone_index, request=request, facts=v["facts"]
        ),
        phone_index=phone_index,
        respondent_code=v["respondent_code"],
        respondent_name=v["respondent_name"],
        since=received_on - dt.timedelta(days=DUPLICATE_WINDOW_DAYS),
    )
