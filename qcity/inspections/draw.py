"""The reproducible draw: the BATCH steps ``draw`` and ``redraw`` (docs/draw-algorithm.md).

Where the work happens: the database builds, per stratum, the codes of the eligible
entities joined by LF in bytewise order (``group_concat`` over a code-ordered scan on
SQLite, ``string_agg(... ORDER BY code COLLATE "C")`` on PostgreSQL), so one string per
stratum comes back instead of millions of rows. population.csv is assembled from those
strings with a few C-level string operations, hashed with one SHA-256 over its bytes and
stored gzip-compressed; the selection then needs only k random indices per stratum
(``drawalgo``, pure Python, which ``qcity verify_draw`` runs alone). Nothing is hashed per
row and no per-row Python object is built beyond one split of each stratum's text.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
import zlib
from collections.abc import Callable
from typing import Any

from django.core.files.base import ContentFile
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from qcity.core import files
from qcity.core.models import OrgUnit
from qcity.core.workflow import Invalid
from qcity.inspections import drawalgo
from qcity.registry.models import MarketEntity

STORAGE_PREFIX = "draws/"
FILTER_KEYS = ("region_codes", "industry_prefixes", "kinds", "statuses")
DEFAULT_STATUSES = [MarketEntity.Status.ACTIVE.value]
_REGION_RE = re.compile(r"^[0-9]{6}$")
_INDUSTRY_RE = re.compile(r"^[A-T][0-9]{0,4}$")
# Every byte a normalised code may contain, and the LF between codes.
_CODE_BYTES = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ\n"


class DrawRefused(Invalid):
    """A draw refused by its own rules; ``code`` is stable (API), the message Chinese."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


# --- parameters -----------------------------------------------------------------------------


def clean_filter(population_filter: Any) -> dict[str, list[str]]:
    """The batch's population filter in canonical form (sorted lists; statuses defaulted)."""
    if population_filter in (None, ""):
        population_filter = {}
    if not isinstance(population_filter, dict):
        raise DrawRefused("population_filter_invalid", "抽查范围格式错误：须为 JSON 对象")
    unknown = sorted(set(population_filter) - set(FILTER_KEYS))
    if unknown:
        raise DrawRefused("population_filter_invalid", f"抽查范围含有未知条件“{unknown[0]}”")
    checks: dict[str, tuple[str, Callable[[str], bool]]] = {
        "region_codes": ("行政区划代码须为 6 位数字", lambda v: bool(_REGION_RE.match(v))),
        "industry_prefixes": (
            "行业代码须为门类字母加至多 4 位数字（如 C14）",
            lambda v: bool(_INDUSTRY_RE.match(v)),
        ),
        "kinds": ("主体类型无效", lambda v: v in MarketEntity.Kind.values),
        "statuses": ("登记状态无效", lambda v: v in MarketEntity.Status.values),
    }
    clean: dict[str, list[str]] = {}
    for key in FILTER_KEYS:
        values = population_filter.get(key) or []
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise DrawRefused("population_filter_invalid", f"抽查范围的 {key} 须为文本列表")
        problem, ok = checks[key]
        for value in values:
            if not ok(value):
                raise DrawRefused("population_filter_invalid", f"{problem}（收到“{value[:20]}”）")
        clean[key] = sorted(set(values))
    clean["statuses"] = clean["statuses"] or list(DEFAULT_STATUSES)
    return clean


def clean_quotas(quotas: Any) -> dict[str, dict[str, Any]]:
    try:
        return drawalgo.parse_quotas(quotas)
    except drawalgo.QuotaError as exc:
        raise DrawRefused("quotas_invalid", str(exc)) from None


# --- the population -------------------------------------------------------------------------


def jurisdiction(owner: OrgUnit) -> QuerySet[OrgUnit] | None:
    """The units whose entities a plan owner supervises; None means the whole city.

    A unit directly under the city government (the city bureau, a city department)
    supervises the whole city; any other unit (a county bureau) its own subtree.
    """
    parent = owner.parent
    if owner.parent_id is None or (parent is not None and parent.parent_id is None):
        return None
    return OrgUnit.objects.filter(path__startswith=owner.path)


def _stages(batch, params: dict[str, Any]) -> list[tuple[str, Q]]:
    """The filters of the population, each with the words that name it in a refusal."""
    owner = batch.plan.owner_unit
    flt, quotas = params["population_filter"], params["quotas"]
    stages: list[tuple[str, Q]] = []
    units = jurisdiction(owner)
    stages.append(
        (f"管辖范围（{owner.name}）", Q(owner_unit__in=units) if units is not None else Q())
    )
    labels = dict(MarketEntity.Status.choices)
    stages.append(
        (
            f"登记状态（{'、'.join(str(labels[s]) for s in flt['statuses'])}）",
            Q(status__in=flt["statuses"]),
        )
    )
    if flt["region_codes"]:
        stages.append(
            (
                f"行政区划（{'、'.join(flt['region_codes'])}）",
                Q(region_code__in=flt["region_codes"]),
            )
        )
    if flt["industry_prefixes"]:
        industry = Q()
        for prefix in flt["industry_prefixes"]:
            industry |= Q(industry_code__startswith=prefix)
        stages.append((f"行业（{'、'.join(flt['industry_prefixes'])}）", industry))
    if flt["kinds"]:
        kinds = dict(MarketEntity.Kind.choices)
        stages.append(
            (
                f"主体类型（{'、'.join(str(kinds[k]) for k in flt['kinds'])}）",
                Q(kind__in=flt["kinds"]),
            )
        )
    classes = [("" if s == drawalgo.UNCLASSIFIED else s) for s in quotas]
    stages.append(
        (
            f"风险类别（{'、'.join(quotas)}，即设置了抽查比例或数量的类别）",
            Q(risk_class__in=classes),
        )
    )
    days = batch.exclude_checked_within_days
    if days:
        from qcity.inspections.models import Task

        cutoff = batch.window_start - dt.timedelta(days=days)
        items = batch.check_items.values("pk")
        recent = (
            Task.objects.filter(batch__check_items__in=items)
            .exclude(batch=batch)
            .filter(Q(batch__window_end__gte=cutoff) | Q(result__check_date__gte=cutoff))
            .values("entity_id")
        )
        stages.append((f"排除 {days} 天内已就同一事项检查的主体", ~Q(pk__in=recent)))
    return stages


def population_queryset(batch, params: dict[str, Any]) -> QuerySet[MarketEntity]:
    rows = MarketEntity.objects.all()
    for _label, condition in _stages(batch, params):
        rows = rows.filter(condition)
    return rows


def _empty_stage(batch, params: dict[str, Any]) -> str:
    """The first filter after which nothing is left (only asked when the draw found none)."""
    rows = MarketEntity.objects.all()
    for label, condition in _stages(batch, params):
        rows = rows.filter(condition)
        if not rows.exists():
            return label
    return "全部条件"


def population_texts(rows: QuerySet[MarketEntity], strata: list[str]) -> dict[str, str]:
    """Per stratum, the codes of ``rows`` joined by LF in bytewise order, built by the database.

    One string per stratum comes back; a stratum without entities is absent.
    """
    # One query per stratum, its codes in a subquery ordered bytewise, aggregated in that
    # order: SQLite never flattens an ORDER BY subquery under an aggregate, PostgreSQL
    # aggregates a sorted subquery's rows as they come (tests check both against Python's
    # sort). With the default filter the index (status, risk_class, code) — code in
    # COLLATE "C" on PostgreSQL — serves each stratum as one covering range already in
    # that order: no sort, no table look-up per row.
    if connection.vendor == "postgresql":
        aggregate, order = "string_agg(code, chr(10))", 'ORDER BY "code" COLLATE "C"'
    else:
        aggregate, order = "group_concat(code, char(10))", 'ORDER BY "code"'
    found = {}
    with connection.cursor() as cursor:
        for stratum in strata:
            risk = "" if stratum == drawalgo.UNCLASSIFIED else stratum
            one = rows.filter(risk_class=risk).order_by().values_list("code")
            sql, params = one.query.sql_with_params()
            cursor.execute(f"SELECT {aggregate} FROM ({sql} {order}) AS population", params)
            found[risk] = cursor.fetchone()[0]
    texts = {}
    for stratum in strata:
        text = found.get("" if stratum == drawalgo.UNCLASSIFIED else stratum)
        if text:
            texts[stratum] = text
    return texts


# --- the step -------------------------------------------------------------------------------


def validate_draw(batch, user, **params: Any) -> dict[str, Any]:
    """Check the batch's quotas and population filter before anything is read."""
    return {
        "quotas": clean_quotas(batch.quotas),
        "population_filter": clean_filter(batch.population_filter),
    }


def apply_draw(
    batch,
    user,
    *,
    quotas: dict[str, dict[str, Any]],
    population_filter: dict[str, list[str]],
    reason_text: str = "",
    _seed: bytes | None = None,
    _stored: list[str] | None = None,
    **params: Any,
) -> dict[str, Any]:
    """Draw one attempt: population, seed, selection, stored snapshot and the ``Draw`` row."""
    from qcity.inspections.models import Draw

    as_of = timezone.localdate()
    parameters = {
        "quotas": quotas,
        "population_filter": population_filter,
        "exclude_checked_within_days": batch.exclude_checked_within_days,
        "as_of": as_of.isoformat(),
    }
    strata = list(quotas)
    texts = population_texts(population_queryset(batch, parameters), strata)
    if not texts:
        stage = _empty_stage(batch, parameters)
        raise DrawRefused(
            "no_eligible_entities",
            f"批次“{batch}”没有符合条件的检查对象：按{stage}筛选后为 0 户",
        )
    # The seed exists from here on, after the parameters are fixed and before any result.
    seed = _seed if _seed is not None else secrets.token_bytes(drawalgo.SEED_BYTES)
    sha = hashlib.sha256(drawalgo.HEADER)
    packer = zlib.compressobj(1, zlib.DEFLATED, 31)  # gzip, level 1; mtime 0: reproducible
    packed = [packer.compress(drawalgo.HEADER)]
    codes: dict[str, list[bytes]] = {}
    for stratum in drawalgo.file_order(texts):
        raw = texts.pop(stratum).encode("ascii", errors="replace")
        if (
            raw.translate(None, _CODE_BYTES)
            or b"\n\n" in raw
            or raw.startswith(b"\n")
            or raw.endswith(b"\n")
        ):
            raise DrawRefused(
                "population_code_malformed",
                f"批次“{batch}”的名录中有未规范化的代码（须为大写字母和数字），请先修正名录",
            )
        chunk = drawalgo.population_chunk(stratum, raw.decode("ascii"))
        sha.update(chunk)
        packed.append(packer.compress(chunk))
        del chunk
        codes[stratum] = raw.split(b"\n")
    packed.append(packer.flush())
    selection = drawalgo.select(seed, quotas, codes)
    del codes
    selected = [code.decode("ascii") for code in selection.selected]
    population_size = sum(s["population"] for s in selection.strata.values())
    population_digest = sha.hexdigest()

    previous = Draw.objects.filter(batch=batch).order_by("-attempt").first()
    attempt = previous.attempt + 1 if previous else 1
    name = files.storage().save(
        f"{STORAGE_PREFIX}{batch.pk}/{attempt}-{population_digest[:16]}.csv.gz",
        ContentFile(b"".join(packed)),
    )
    if _stored is not None:
        _stored.append(name)
    Draw.objects.filter(batch=batch, is_current=True).update(is_current=False)
    draw = Draw.objects.create(
        batch=batch,
        attempt=attempt,
        is_current=True,
        reason=reason_text,
        seed=seed.hex(),
        algorithm=drawalgo.ALGORITHM,
        algorithm_version=drawalgo.ALGORITHM_VERSION,
        parameters=parameters,
        population_digest=population_digest,
        population_size=population_size,
        strata=selection.strata,
        selected_codes=selected,
        population_file=name,
        drawn_by=user,
        drawn_at=timezone.now(),
    )
    return {
        "draw": draw.pk,
        "attempt": attempt,
        "seed": draw.seed,
        "population_digest": population_digest,
        "population_size": population_size,
        "selected": len(selected),
    }


# --- the published record -------------------------------------------------------------------


def draw_record(draw) -> dict[str, Any]:
    """record.json of a draw (docs/draw-algorithm.md, "record.json")."""
    return {
        "format": drawalgo.RECORD_FORMAT,
        "format_version": drawalgo.RECORD_FORMAT_VERSION,
        "algorithm": draw.algorithm,
        "algorithm_version": draw.algorithm_version,
        "seed": draw.seed,
        "parameters": draw.parameters,
        "population_digest": draw.population_digest,
        "population_size": draw.population_size,
        "strata": draw.strata,
        "selected": draw.selected_codes,
        "batch": str(draw.batch),
        "attempt": draw.attempt,
        "reason": draw.reason,
        "drawn_at": draw.drawn_at.astimezone(dt.UTC).isoformat(timespec="seconds"),
    }


def record_bytes(draw) -> bytes:
    return (json.dumps(draw_record(draw), ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def population_bytes(draw) -> bytes:
    """The exact population.csv of a draw, from its stored gzip snapshot."""
    with files.storage().open(draw.population_file, "rb") as stored:
        return zlib.decompress(stored.read(), 31)


def stored_draw_files(names: list[str]) -> set[str]:
    """Which of these stored names a draw keeps (for core.files' orphan sweep)."""
    from qcity.inspections.models import Draw

    return set(
        Draw.objects.filter(population_file__in=names).values_list("population_file", flat=True)
    )


def delete_stored(names: list[str]) -> None:
    """Delete snapshots written by a draw that did not commit (the sweep finds any left)."""
    for name in names:
        files.delete_quietly(name)
