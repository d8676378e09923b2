"""Writes of the metrics app: each one audited through core.audit.record."""

from __future__ import annotations

import datetime as dt
import logging
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from qcity.core import audit, files
from qcity.core.models import Attachment, OrgUnit, User
from qcity.core.scope import get_for_write, get_scoped_or_404, may_change
from qcity.metrics import calculators
from qcity.metrics.models import (
    Direction,
    Indicator,
    IndicatorValue,
    IndicatorValueRevision,
    PeriodType,
    ValueSource,
)
from qcity.metrics.periods import PeriodError, current_period, period_end

logger = logging.getLogger(__name__)

# Decimal(18, 4): 14 digits before the point.
VALUE_LIMIT = Decimal("1e14")
# Evidence files per entry: enough for a report and its annexes, not a dump.
MAX_EVIDENCE_FILES = 10


class ValueRejected(Exception):
    """A value that cannot be stored. ``code`` is stable for the API; ``message`` is Chinese."""

    def __init__(self, code: str, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def normalize_unit(text: str) -> str:
    # NFKC folds the full-width ％ typed by Chinese input methods into %.
    return unicodedata.normalize("NFKC", text or "").strip()


def parse_value(raw: object) -> Decimal:
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        raise ValueRejected("invalid_value", f"“{raw}”不是数字") from None
    if not value.is_finite():
        raise ValueRejected("invalid_value", f"“{raw}”不是数字")
    if abs(value) >= VALUE_LIMIT or value != value.quantize(Decimal("0.0001")):
        raise ValueRejected("invalid_value", "数值最多 14 位整数、4 位小数")
    return value


def check_value(indicator: Indicator, value: Decimal, unit: str) -> None:
    """Refuse a value in another unit or outside the indicator's allowed range."""
    if normalize_unit(unit) != normalize_unit(indicator.unit):
        expected = indicator.unit or "无单位"
        raise ValueRejected(
            "wrong_unit",
            f"单位不符：指标“{indicator.name}”以“{expected}”计，填写的是“{unit or '无单位'}”",
        )
    if indicator.min_value is not None and value < indicator.min_value:
        raise ValueRejected(
            "out_of_range",
            f"数值 {value.normalize():f} 超出范围：“{indicator.name}”不能小于 "
            f"{indicator.min_value.normalize():f}{indicator.unit}",
        )
    if indicator.max_value is not None and value > indicator.max_value:
        raise ValueRejected(
            "out_of_range",
            f"数值 {value.normalize():f} 超出范围：“{indicator.name}”不能大于 "
            f"{indicator.max_value.normalize():f}{indicator.unit}",
        )


def _period_end(indicator: Indicator, period: str) -> dt.date:
    try:
        return period_end(indicator.period_type, period)
    except PeriodError as exc:
        raise ValueRejected(exc.code, str(exc)) from None


def _store(
    indicator: Indicator,
    period: str,
    org_unit: OrgUnit,
    value: Decimal,
    *,
    source: str,
    by: User | None,
    evidence_note: str,
    evidence_count: int = 0,
) -> tuple[IndicatorValue, IndicatorValueRevision | None]:
    """Insert or update one value under a row lock; a revision + an event per change.

    Returns ``(row, revision)``; writing the same figure again changes nothing
    (``revision`` is None) unless it brings evidence files: they need a revision of
    their own to hang on, so each revision keeps the evidence it was entered with.
    """
    end = _period_end(indicator, period)
    now = timezone.now()
    row = (
        IndicatorValue.objects.select_for_update()
        .filter(indicator=indicator, period=period, org_unit=org_unit)
        .first()
    )
    previous = None if row is None else row.value
    if (
        row is not None
        and row.value == value
        and row.evidence_note == evidence_note
        and not evidence_count
    ):
        return row, None
    if row is None:
        row = IndicatorValue(indicator=indicator, period=period, org_unit=org_unit)
    row.period_end = end
    row.value, row.source, row.entered_by, row.entered_at = value, source, by, now
    row.evidence_note = evidence_note
    row.save()
    revision = IndicatorValueRevision.objects.create(
        indicator_value=row,
        value=value,
        previous_value=previous,
        source=source,
        entered_by=by,
        entered_at=now,
        evidence_note=evidence_note,
    )
    details = {
        "indicator": indicator.code,
        "period": period,
        "org_unit": org_unit.name,
        "old": None if previous is None else format(previous.normalize(), "f"),
        "new": format(value.normalize(), "f"),
    }
    if evidence_count:
        # Each file's own file.attached event (on the revision) carries its checksum.
        details["evidence_files"] = evidence_count
    audit.record(
        "indicator_value.calculated"
        if source == ValueSource.CALCULATOR
        else "indicator_value.entered",
        by=by,
        obj=row,
        details=details,
    )
    return row, revision


def enter_value(
    indicator_id: int,
    *,
    period: str,
    value: object,
    unit: str,
    by: User,
    org_unit_id: int | None = None,
    evidence_note: str = "",
    evidence: Sequence = (),
) -> IndicatorValue:
    """Manual entry (or correction) of one value by the indicator's owner or the coordinator.

    ``evidence`` are uploaded files (``UploadedFile`` or file objects with a name),
    stored through ``core.files.attach`` on the revision this entry writes. All or
    nothing: value, revision and files are stored together, or none of them; a file
    already written when a later one is refused is deleted again (no orphan).

    :raises Http404: the indicator (or the org unit) is not visible to ``by``.
    :raises ValueRejected: no right, a calculated indicator, wrong unit, out of range,
        malformed period or number, too many files, or a file that ``core.files``
        refuses (its code and message: ``file_type_not_allowed``, ``file_too_large``,
        ``file_corrupted`` …). Nothing is stored then.
    """
    number = parse_value(value)
    if len(evidence_note) > 2000:
        raise ValueRejected("too_long", "佐证说明不能超过 2000 字")
    evidence = list(evidence)
    if len(evidence) > MAX_EVIDENCE_FILES:
        raise ValueRejected(
            "too_many_files",
            f"一次最多上传 {MAX_EVIDENCE_FILES} 个佐证材料，本次有 {len(evidence)} 个",
        )
    stored: list[Attachment] = []
    try:
        with transaction.atomic():
            indicator, allowed = get_for_write(by, Indicator.objects.all(), pk=indicator_id)
            if not allowed:
                raise ValueRejected(
                    "forbidden", f"只有责任单位（{indicator.owner_unit.name}）可以填报该指标", 403
                )
            if not indicator.is_enabled:
                raise ValueRejected("indicator_disabled", f"指标“{indicator.name}”已停用，不能填报")
            if indicator.calculator:
                raise ValueRejected(
                    "calculated_indicator",
                    f"指标“{indicator.name}”由系统自动计算，不能手工填报",
                )
            org_unit = (
                indicator.owner_unit
                if org_unit_id is None
                else get_scoped_or_404(by, OrgUnit.objects.enabled(), pk=org_unit_id)
            )
            check_value(indicator, number, unit)
            row, revision = _store(
                indicator,
                period,
                org_unit,
                number,
                source=ValueSource.MANUAL,
                by=by,
                evidence_note=evidence_note.strip(),
                evidence_count=len(evidence),
            )
            for upload in evidence:
                try:
                    stored.append(files.attach(revision, upload, by=by))
                except files.AttachmentRefused as exc:
                    raise ValueRejected(exc.code, exc.message) from None
    except BaseException:
        # attach() removes the bytes of the file it failed on; the files of this entry
        # it had already stored lose their rows with the rollback: remove their bytes.
        for attachment in stored:
            _delete_stored(attachment.storage_name)
        raise
    return row


def _delete_stored(name: str) -> None:
    try:
        files.storage().delete(name)
    except Exception:  # core.files' hourly sweep removes it later
        logger.exception("could not delete evidence file %s; the orphan sweep will", name)


@dataclass
class RecomputeResult:
    stored: int = 0
    unchanged: int = 0
    empty: int = 0
    missing_calculators: tuple[str, ...] = ()
    # (indicator code, message): a figure the indicator's own checks refuse is not stored.
    rejected: tuple[tuple[str, str], ...] = ()


def recompute_indicators(
    *, period: str | None = None, today: dt.date | None = None
) -> RecomputeResult:
    """Run the registered calculators for every enabled calculated indicator.

    Each indicator's figure is computed for its owner unit and ``period`` (default:
    the current period of its type); a figure equal to the stored one changes
    nothing, so running twice is harmless. A period malformed for an indicator's
    type skips that indicator; a figure that fails the indicator's checks (range,
    digits) is reported in ``rejected`` and the others still run.
    """
    today = today or timezone.localdate()
    result = RecomputeResult()
    missing: list[str] = []
    rejected: list[tuple[str, str]] = []
    for indicator in (
        Indicator.objects.enabled().exclude(calculator="").select_related("owner_unit")
    ):
        fn = calculators.get(indicator.calculator)
        if fn is None:
            missing.append(indicator.calculator)
            continue
        key = period or current_period(indicator.period_type, today)
        try:
            period_end(indicator.period_type, key)
        except PeriodError:
            continue
        figure = fn(key, indicator.owner_unit)
        if figure is None:
            result.empty += 1
            continue
        try:
            number = parse_value(figure)
            check_value(indicator, number, indicator.unit)
        except ValueRejected as exc:
            rejected.append((indicator.code, exc.message))
            continue
        with transaction.atomic():
            # Serialises two runs on the same indicator (the first insert of a period).
            Indicator.objects.select_for_update().filter(pk=indicator.pk).first()
            _row, revision = _store(
                indicator,
                key,
                indicator.owner_unit,
                number,
                source=ValueSource.CALCULATOR,
                by=None,
                evidence_note=f"计算器 {indicator.calculator}",
            )
        if revision is not None:
            result.stored += 1
        else:
            result.unchanged += 1
    result.missing_calculators = tuple(sorted(set(missing)))
    result.rejected = tuple(rejected)
    return result


# The catalogue for the Tieling plan's numeric targets (its 主要目标, 2025):
# (code, name, unit, direction, period type, owner, min, max).
DEFAULT_INDICATORS: list[tuple[str, str, str, str, str, str, str | None, str | None]] = [
    ("agri_monitoring_pass_rate", "农产品质量安全例行监测合格率", "%", Direction.HIGHER,
     PeriodType.YEARLY, "市农业农村局", "0", "100"),
    ("food_sampling_pass_rate", "食品抽检合格率", "%", Direction.HIGHER,
     PeriodType.YEARLY, "市市场监管局", "0", "100"),
    ("local_standards_revised", "制修订铁岭市地方标准", "项", Direction.HIGHER,
     PeriodType.YEARLY, "市市场监管局", "0", None),
    ("public_measurement_standards", "新建社会公用计量标准", "项", Direction.HIGHER,
     PeriodType.YEARLY, "市市场监管局", "0", None),
    ("valid_certificates", "各类有效认证证书保有量", "张", Direction.HIGHER,
     PeriodType.YEARLY, "市市场监管局", "0", None),
    ("major_safety_accidents", "产品质量安全监管领域系统性、区域性重大安全责任事故", "起",
     Direction.LOWER, PeriodType.YEARLY, "市市场监管局", "0", None),
    ("tech_contract_value", "全市技术合同登记额", "亿元", Direction.HIGHER,
     PeriodType.YEARLY, "市科技局", "0", None),
    ("tech_local_conversion_rate", "科技成果本地转化率", "%", Direction.HIGHER,
     PeriodType.YEARLY, "市科技局", "0", "100"),
    ("rural_food_store_standard_rate", "农村地区食品经营店规范化建设比例", "%", Direction.HIGHER,
     PeriodType.YEARLY, "市市场监管局", "0", "100"),
]  # fmt: skip


def load_default_indicators(*, by: User | None = None) -> int:
    """Create the default catalogue's missing indicators (existing ones are left as they are)."""
    created = 0
    with transaction.atomic():
        for order, (code, name, unit, direction, period_type, owner, low, high) in enumerate(
            DEFAULT_INDICATORS
        ):
            if Indicator.objects.filter(code=code).exists():
                continue
            owner_unit = OrgUnit.objects.get(name=owner)
            indicator = Indicator.objects.create(
                code=code,
                name=name,
                unit=unit,
                direction=direction,
                period_type=period_type,
                owner_unit=owner_unit,
                min_value=None if low is None else Decimal(low),
                max_value=None if high is None else Decimal(high),
                sort_order=order,
            )
            audit.record("indicator.created", by=by, obj=indicator, details={"code": code})
            created += 1
    return created


def may_enter(user: User, indicator: Indicator) -> bool:
    """Whether the entry form is offered (enter_value re-checks under the row lock)."""
    return not indicator.calculator and indicator.is_enabled and may_change(user, indicator)
