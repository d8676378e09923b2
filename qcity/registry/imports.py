"""The market-entity register import (检查对象名录库), on the one mechanism of ``core.imports``.

Columns, accepted values and the warnings and errors are documented in docs/导入格式.md.
An entity belongs to its county's market bureau (OrgUnit ``<region>-SCJG``); a county
officer imports only their own county, the coordinator (or the command without ``--by``)
any. Columns absent from the file keep their stored values on update (an import of codes
and names does not wipe the risk classes).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any

from django.db import connection
from django.utils import timezone
from django_tasks import task

from qcity.core.imports import (
    BatchCounts,
    Column,
    ImportSpec,
    Issue,
    create_job,
    run_import,
    run_job,
)
from qcity.core.models import OrgUnit, User
from qcity.core.scope import units_in_scope
from qcity.registry import codes
from qcity.registry.models import MarketEntity

AUDIT_ACTION = "registry.entities.imported"

C = Column
COLUMNS = [
    C(
        "code",
        "统一社会信用代码",
        ("社会信用代码", "信用代码", "注册号", "统一社会信用代码/注册号"),
        True,
    ),
    C("name", "名称", ("主体名称", "企业名称", "市场主体名称"), True),
    C("kind", "主体类型", ("类型", "市场主体类型"), True),
    C("region", "所属区县", ("区县", "行政区划代码", "区划代码", "所属区县代码"), True),
    C("industry_code", "行业代码", ("国民经济行业代码", "行业分类代码")),
    C("address", "住所", ("住所（经营场所）", "经营场所", "地址")),
    C("status", "登记状态", ("状态", "经营状态")),
    C("risk_class", "信用风险分类", ("风险分类", "信用风险类别")),
    C("risk_classified_on", "分类日期", ("信用风险分类日期", "风险分类日期")),
    C("on_abnormal_list", "经营异常名录", ("列入经营异常名录",)),
    C("on_serious_list", "严重违法失信名单", ("列入严重违法失信名单",)),
]
HEADER = {c.field: c.header for c in COLUMNS}

K = MarketEntity.Kind
KINDS = {
    "企业": K.ENTERPRISE,
    "公司": K.ENTERPRISE,
    "企业法人": K.ENTERPRISE,
    "个体工商户": K.INDIVIDUAL,
    "个体户": K.INDIVIDUAL,
    "个体": K.INDIVIDUAL,
    "农民专业合作社": K.COOPERATIVE,
    "农民合作社": K.COOPERATIVE,
    "合作社": K.COOPERATIVE,
    "其他": K.OTHER,
    **{v: v for v in K.values},
}
S = MarketEntity.Status
STATUSES = {
    "存续": S.ACTIVE,
    "在业": S.ACTIVE,
    "开业": S.ACTIVE,
    "存续（在营、开业、在册）": S.ACTIVE,
    "注销": S.DEREGISTERED,
    "吊销": S.REVOKED,
    "吊销未注销": S.REVOKED,
    "吊销，未注销": S.REVOKED,
    "撤销": S.CANCELLED,
    "迁出": S.MOVED_OUT,
    "": S.ACTIVE,  # blank: 存续
    **{v: v for v in S.values},
}
RISKS = {
    "": "",  # blank: not classified yet
    "A": "A",
    "B": "B",
    "C": "C",
    "D": "D",
    "低": "A",
    "一般": "B",
    "较高": "C",
    "高": "D",
    "信用风险低": "A",
    "信用风险一般": "B",
    "信用风险较高": "C",
    "信用风险高": "D",
    "A类": "A",
    "B类": "B",
    "C类": "C",
    "D类": "D",
}
FLAGS = {"是": True, "否": False, "y": True, "n": False, "1": True, "0": False, "true": True}
FLAGS |= {"false": False, "yes": True, "no": False, "": False}

# GB/T 4754-2017: the section letter of each two-digit division.
_SECTIONS = [
    ("A", 1, 5), ("B", 6, 12), ("C", 13, 43), ("D", 44, 46), ("E", 47, 50), ("F", 51, 52),
    ("G", 53, 60), ("H", 61, 62), ("I", 63, 65), ("J", 66, 69), ("K", 70, 70), ("L", 71, 72),
    ("M", 73, 75), ("N", 76, 79), ("O", 80, 82), ("P", 83, 83), ("Q", 84, 85), ("R", 86, 90),
    ("S", 91, 97), ("T", 98, 98),
]  # fmt: skip
SECTION_OF = {d: s for s, lo, hi in _SECTIONS for d in range(lo, hi + 1)}
INDUSTRY_RE = re.compile(r"([A-T])?(\d{2}|\d{3}|\d{4})?")
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y年%m月%d日", "%Y.%m.%d")

# The stored fields, in the order of the bulk statements.
FIELDS = [
    "code",
    "code_kind",
    "code_warning",
    "name",
    "kind",
    "region_code",
    "owner_unit_id",
    "industry_code",
    "address",
    "status",
    "risk_class",
    "risk_classified_on",
    "on_abnormal_list",
    "on_serious_list",
]
# Always written on update: derived from the required columns.
ALWAYS = ["code_kind", "code_warning", "name", "kind", "region_code", "owner_unit_id"]
OPTIONAL = {
    "industry_code": ["industry_code"],
    "address": ["address"],
    "status": ["status"],
    "risk_class": ["risk_class"],
    "risk_classified_on": ["risk_classified_on"],
    "on_abnormal_list": ["on_abnormal_list"],
    "on_serious_list": ["on_serious_list"],
}


def _fold(value: str) -> str:
    """Full-width → half-width, every whitespace (U+3000 too) removed: for short coded values."""
    if value.isascii() and " " not in value and "\t" not in value:
        return value
    return "".join(unicodedata.normalize("NFKC", value).split())


def _trim(value: str) -> str:
    return value.strip(" \t\r\n\u3000\u00a0")


def county_units() -> tuple[dict[str, int], dict[str, str]]:
    """(region code → its market bureau's id, county name → region code) from the org tree."""
    bureaus = {
        u.code[:-5]: u.pk
        for u in OrgUnit.objects.filter(code__endswith="-SCJG").only("pk", "code")
        if len(u.code) == 11
    }
    names: dict[str, str] = {}
    for unit in OrgUnit.objects.filter(kind=OrgUnit.Kind.COUNTY).only("name", "full_name", "code"):
        if unit.code in bureaus:
            names[unit.name] = unit.code
            if unit.full_name:
                names[unit.full_name] = unit.code
    return bureaus, names


class EntityImport(ImportSpec):
    name = "registry.entities"
    audit_action = AUDIT_ACTION
    columns = COLUMNS
    key = "code"

    def __init__(self, by: User | None = None) -> None:
        self.by = by
        self.bureaus, self.county_names = county_units()
        self.allowed_units: set[int] | None = None  # None: every county
        if by is not None:
            units = units_in_scope(by)
            if units is not None:
                self.allowed_units = set(units.values_list("pk", flat=True))
        self.update_fields = list(ALWAYS)
        self.latest_date = timezone.localdate() + dt.timedelta(days=1)
        self.dates: dict[str, dt.date] = {}  # a register repeats a few dates a million times
        self.known_industries: set[str] = set()

    def prepare(self, fields: list[str]) -> None:
        self.update_fields = list(ALWAYS) + [f for f in OPTIONAL if f in fields]

    # --- one row ------------------------------------------------------------------------------

    def clean_row(
        self, raw: dict[str, str], row: int
    ) -> tuple[dict | None, list[Issue], list[Issue]]:
        # Written for speed (a million rows): every column tries the exact text first and
        # folds (full-width, spaces) only when that fails; issues are built only on problems.
        errors: list[Issue] = []
        warnings: list[Issue] = []

        def err(field: str, value: str, reason: str, code: str) -> None:
            errors.append(Issue(row, HEADER[field], value, reason, code))

        def warn(field: str, value: str, reason: str, code: str) -> None:
            warnings.append(Issue(row, HEADER[field], value, reason, code))

        get = raw.get
        values: dict[str, Any] = {}

        # 统一社会信用代码 / 注册号
        raw_code = get("code", "")
        if len(raw_code) == 18 and codes.is_valid_uscc(raw_code):
            values["code"] = raw_code
            values["code_kind"] = "uscc"
            values["code_warning"] = ""
        else:
            code = codes.normalise_code(raw_code)
            check = codes.check_code(code)
            if check.error:
                err("code", raw_code, check.message, check.error)
            else:
                if code != raw_code:
                    warn(
                        "code",
                        raw_code,
                        f"代码含全角字符、小写字母或空格，已规范为{code}",
                        "code_normalised",
                    )
                values["code"] = code
                values["code_kind"] = check.kind
                values["code_warning"] = check.message if check.warning else ""
                if check.warning:
                    warn("code", code, check.message, check.warning)

        # 名称
        raw_name = get("name", "")
        name = _trim(raw_name)
        if not name:
            err("name", raw_name, "名称为空", "name_missing")
        elif len(name) > 200:
            err("name", name[:50], f"名称过长（{len(name)}字，上限200字）", "name_too_long")
        else:
            if name != raw_name:
                warn("name", raw_name, "名称前后有空格，已去除", "name_spaces")
            values["name"] = name

        # 主体类型
        raw_kind = get("kind", "")
        kind = KINDS.get(raw_kind) or KINDS.get(_fold(raw_kind))
        if kind is None:
            err(
                "kind",
                raw_kind,
                "主体类型无法识别（企业、个体工商户、农民专业合作社、其他）",
                "kind_unknown",
            )
        values["kind"] = kind

        # 所属区县: a GB/T 2260 code or a county name
        raw_region = get("region", "")
        region = raw_region if raw_region in self.bureaus else _fold(raw_region)
        if region in self.bureaus:
            if region != raw_region:
                warn(
                    "region",
                    raw_region,
                    f"区县代码含空格或全角字符，已规范为{region}",
                    "region_normalised",
                )
        elif region in self.county_names:
            warn(
                "region",
                raw_region,
                f"以区县名称代替代码，已识别为{self.county_names[region]}",
                "county_name",
            )
            region = self.county_names[region]
        else:
            err(
                "region",
                raw_region,
                "所属区县无法识别（应为本市区县的行政区划代码或名称）",
                "county_unknown",
            )
            region = ""
        if region:
            unit_id = self.bureaus[region]
            if self.allowed_units is not None and unit_id not in self.allowed_units:
                err(
                    "region",
                    raw_region,
                    "该区县不在您的管辖范围内，不能导入",
                    "county_out_of_scope",
                )
            values["region_code"] = region
            values["owner_unit_id"] = unit_id

        # 行业代码 (GB/T 4754-2017)
        raw_industry = get("industry_code", "")
        if raw_industry in self.known_industries:
            values["industry_code"] = raw_industry
        else:
            values["industry_code"] = self._industry(raw_industry, err, warn)

        # 住所
        raw_address = get("address", "")
        address = _trim(raw_address) if raw_address else ""
        if len(address) > 300:
            err(
                "address",
                address[:50],
                f"住所过长（{len(address)}字，上限300字）",
                "address_too_long",
            )
        values["address"] = address

        # 登记状态 (blank: 存续)
        raw_status = get("status", "")
        status = STATUSES.get(raw_status) or STATUSES.get(_fold(raw_status))
        if status is None:
            err(
                "status",
                raw_status,
                "登记状态无法识别（存续、注销、吊销、撤销、迁出）",
                "status_unknown",
            )
        values["status"] = status

        # 信用风险分类 and its date
        raw_risk = get("risk_class", "")
        risk = RISKS.get(raw_risk)
        if risk is None:
            folded = _fold(raw_risk)
            risk = RISKS.get(folded.upper() if folded.isascii() else folded)
        if risk is None:
            err(
                "risk_class",
                raw_risk,
                "信用风险分类无法识别（A/B/C/D，或低/一般/较高/高，或留空）",
                "risk_unknown",
            )
        values["risk_class"] = risk or ""
        raw_date = get("risk_classified_on", "")
        values["risk_classified_on"] = None
        if raw_date:
            parsed = self.dates.get(raw_date)
            if parsed is None:
                parsed = _parse_date(_fold(raw_date))
                if parsed is not None and len(self.dates) < 10_000:
                    self.dates[raw_date] = parsed
            if parsed is None:
                err(
                    "risk_classified_on",
                    raw_date,
                    "分类日期不是有效日期（如2026-03-31）",
                    "date_invalid",
                )
            elif parsed > self.latest_date:
                err("risk_classified_on", raw_date, "分类日期在未来", "date_in_future")
            else:
                values["risk_classified_on"] = parsed

        # 名录 flags
        for field in ("on_abnormal_list", "on_serious_list"):
            raw_flag = get(field, "")
            flag = FLAGS.get(raw_flag)
            if flag is None:
                flag = FLAGS.get(_fold(raw_flag).lower())
            if flag is None:
                err(field, raw_flag, "应填“是”或“否”", "flag_invalid")
            values[field] = bool(flag)

        if errors:
            return None, errors, warnings
        return values, errors, warnings

    def _industry(self, raw: str, err: Any, warn: Any) -> str:
        industry = _fold(raw).upper()
        if not industry:
            return ""
        match = INDUSTRY_RE.fullmatch(industry)
        section, digits = match.groups() if match else (None, None)
        expected = SECTION_OF.get(int(digits[:2])) if digits else None
        if not match or not (section or digits) or (digits and expected is None):
            err(
                "industry_code", raw, "行业代码格式不正确（GB/T 4754，如C1441）", "industry_invalid"
            )
            return ""
        if section and digits and section != expected:
            err(
                "industry_code",
                raw,
                f"行业代码门类与大类不符（{digits[:2]}大类属于{expected}门类）",
                "industry_section_mismatch",
            )
            return ""
        if not section:
            industry = f"{expected}{digits}"
            warn(
                "industry_code",
                raw,
                f"行业代码缺少门类字母，已补为{industry}",
                "industry_section_added",
            )
        elif industry == raw and len(self.known_industries) < 10_000:
            self.known_industries.add(industry)  # exact and valid: the next one skips the checks
        return industry

    # --- a batch ------------------------------------------------------------------------------

    def write_batch(self, rows: list[tuple[int, dict]]) -> BatchCounts:
        if connection.vendor == "postgresql":
            return self._write_postgresql(rows)
        return self._write_sqlite(rows)

    def _refuse_foreign(
        self, existing: dict[str, int], rows: list[tuple[int, dict]]
    ) -> tuple[list, list[Issue]]:
        """Rows whose code is already registered to a unit outside the importer's scope."""
        if self.allowed_units is None:
            return rows, []
        kept, refused = [], []
        for number, values in rows:
            owner = existing.get(values["code"])
            if owner is not None and owner not in self.allowed_units:
                refused.append(
                    Issue(
                        number,
                        HEADER["code"],
                        values["code"],
                        "该代码已登记在您管辖范围以外的区县，不能修改",
                        "code_out_of_scope",
                    )
                )
            else:
                kept.append((number, values))
        return kept, refused

    def _existing_owners(self, cursor: Any, table: str, codes_: list[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for start in range(0, len(codes_), 500):
            chunk = codes_[start : start + 500]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                f"SELECT code, owner_unit_id FROM {table} WHERE code IN ({marks})", chunk
            )
            found.update(cursor.fetchall())
        return found

    def _sets(self, excluded: str) -> tuple[str, str]:
        sets = ", ".join(f"{f} = {excluded}.{f}" for f in self.update_fields)
        if connection.vendor == "postgresql":
            changed = " OR ".join(
                f"e.{f} IS DISTINCT FROM {excluded}.{f}" for f in self.update_fields
            )
        else:
            changed = " OR ".join(f"e.{f} IS NOT {excluded}.{f}" for f in self.update_fields)
        return sets + f", updated_at = {excluded}.updated_at", changed

    def _write_sqlite(self, rows: list[tuple[int, dict]]) -> BatchCounts:
        table = MarketEntity._meta.db_table
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        sets, changed = self._sets("excluded")
        cols = ", ".join([*FIELDS, "created_at", "updated_at"])
        marks = ", ".join(["%s"] * (len(FIELDS) + 2))
        with connection.cursor() as cursor:
            refused: list[Issue] = []
            if self.allowed_units is not None:
                existing = self._existing_owners(cursor, table, [v["code"] for _, v in rows])
                rows, refused = self._refuse_foreign(existing, rows)
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
            (max_before,) = cursor.fetchone()
            params = [
                (
                    v["code"], v["code_kind"], v["code_warning"], v["name"], v["kind"],
                    v["region_code"], v["owner_unit_id"], v["industry_code"], v["address"],
                    v["status"], v["risk_class"],
                    v["risk_classified_on"].isoformat() if v["risk_classified_on"] else None,
                    v["on_abnormal_list"], v["on_serious_list"], now, now,
                )
                for _, v in rows
            ]  # fmt: skip
            cursor.executemany(
                f"INSERT INTO {table} AS e ({cols}) VALUES ({marks}) "
                f"ON CONFLICT (code) DO UPDATE SET {sets} WHERE {changed}",
                params,
            )
            written = cursor.rowcount
            cursor.execute(f"SELECT COUNT(*) FROM {table} WHERE id > %s", [max_before])
            (created,) = cursor.fetchone()
        return BatchCounts(created, written - created, len(rows) - written, refused)

    def _write_postgresql(self, rows: list[tuple[int, dict]]) -> BatchCounts:
        table = MarketEntity._meta.db_table
        temp = "qcity_import_entity"
        now = timezone.now()
        sets, changed = self._sets("EXCLUDED")
        cols = ", ".join(FIELDS)
        with connection.cursor() as cursor:
            # Dropped at commit; within one all-or-nothing transaction it is reused.
            cursor.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {temp} (row_no integer, "
                "code varchar(18), code_kind varchar(8), code_warning varchar(200), "
                "name varchar(200), kind varchar(12), region_code varchar(6), owner_unit_id bigint, "
                "industry_code varchar(5), address varchar(300), status varchar(12), "
                "risk_class varchar(1), risk_classified_on date, on_abnormal_list boolean, "
                "on_serious_list boolean) ON COMMIT DROP"
            )
            cursor.execute(f"TRUNCATE {temp}")
            with cursor.cursor.copy(f"COPY {temp} (row_no, {cols}) FROM STDIN") as copy:
                for number, v in rows:
                    copy.write_row(
                        (
                            number, v["code"], v["code_kind"], v["code_warning"], v["name"],
                            v["kind"], v["region_code"], v["owner_unit_id"], v["industry_code"],
                            v["address"], v["status"], v["risk_class"], v["risk_classified_on"],
                            v["on_abnormal_list"], v["on_serious_list"],
                        )
                    )  # fmt: skip
            refused: list[Issue] = []
            if self.allowed_units is not None:
                cursor.execute(
                    f"SELECT t.row_no, t.code FROM {temp} t JOIN {table} e ON e.code = t.code "
                    "WHERE NOT (e.owner_unit_id = ANY(%s))",
                    [list(self.allowed_units)],
                )
                foreign = cursor.fetchall()
                refused = [
                    Issue(
                        n,
                        HEADER["code"],
                        c,
                        "该代码已登记在您管辖范围以外的区县，不能修改",
                        "code_out_of_scope",
                    )
                    for n, c in foreign
                ]
                if foreign:
                    cursor.execute(
                        f"DELETE FROM {temp} WHERE code = ANY(%s)", [[c for _, c in foreign]]
                    )
            cursor.execute(
                f"WITH written AS (INSERT INTO {table} AS e ({cols}, created_at, updated_at) "
                f"SELECT {cols}, %s, %s FROM {temp} "
                f"ON CONFLICT (code) DO UPDATE SET {sets} WHERE {changed} "
                "RETURNING (xmax = 0) AS inserted) "
                "SELECT COUNT(*) FILTER (WHERE inserted), COUNT(*) FILTER (WHERE NOT inserted) FROM written",
                [now, now],
            )
            created, updated = cursor.fetchone()
        kept = len(rows) - len(refused)
        return BatchCounts(created, updated, kept - created - updated, refused)


def _parse_date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        pass
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def import_entities(
    path: str,
    *,
    by: User | None = None,
    dry_run: bool = False,
    all_or_nothing: bool = False,
    progress: Any = None,
    source_name: str = "",
):
    """Import a register file of market entities (the command's and the browser job's entry)."""
    return run_import(
        EntityImport(by),
        path,
        by=by,
        dry_run=dry_run,
        all_or_nothing=all_or_nothing,
        progress=progress,
        source_name=source_name,
    )


# --- the browser job --------------------------------------------------------------------------

JOB_KIND = "registry.entities"


@task()
def run_entity_import_job(job_id: int) -> dict[str, int]:
    """The worker's side of the browser import (``qcity db_worker``)."""
    return run_job(job_id, import_entities)


def start_entity_import(upload: Any, *, by: User, dry_run: bool, all_or_nothing: bool) -> Any:
    """Keep the upload and enqueue its import; raises ``ImportFileError`` for a bad file."""
    return create_job(
        EntityImport(by),
        upload,
        kind=JOB_KIND,
        by=by,
        dry_run=dry_run,
        all_or_nothing=all_or_nothing,
        task=run_entity_import_job,
    )
