"""The entity register import: real files, every messy case normalised+warned or refused."""

from __future__ import annotations

import csv
import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from qcity.core.imports import ImportFileError
from qcity.core.models import AuditEvent, OrgUnit
from qcity.registry import codes
from qcity.registry.imports import import_entities
from qcity.registry.models import MarketEntity

from .importfiles import HEADERS, KAIYUAN, XIFENG, row, write_csv, write_xlsx

pytestmark = pytest.mark.django_db


def add_up(result) -> None:
    # Nothing is silently dropped.
    s = result.summary()
    assert s["rows"] == s["created"] + s["updated"] + s["unchanged"] + s["errors"]


def issues_by_code(result) -> dict[str, list]:
    found: dict[str, list] = {}
    for issue in result.first_issues:
        found.setdefault(issue.code, []).append(issue)
    return found


def read_errors(path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_it_imports_a_csv_in_each_encoding(org_units, tmp_path, encoding):
    path = write_csv(tmp_path / "名录.csv", [row(1), row(2)], encoding=encoding)
    result = import_entities(str(path))
    assert result.summary() == {
        "rows": 2, "created": 2, "updated": 0, "unchanged": 0, "errors": 0, "warnings": 0
    }  # fmt: skip
    entity = MarketEntity.objects.get(code=codes.make_uscc(KAIYUAN, 1))
    assert entity.name == "铁岭测试1号乳业有限公司"
    assert entity.owner_unit == OrgUnit.objects.get(code=f"{KAIYUAN}-SCJG")
    assert (entity.kind, entity.status, entity.risk_class) == ("enterprise", "active", "B")
    assert entity.risk_classified_on == dt.date(2026, 3, 31)
    assert entity.industry_code == "C1441" and entity.code_kind == "uscc"


def test_it_imports_an_xlsx(org_units, tmp_path):
    path = write_xlsx(
        tmp_path / "名录.xlsx",
        [row(1), row(2, **{"分类日期": dt.date(2026, 1, 5)}), [None] * len(HEADERS)],
    )
    result = import_entities(str(path))
    assert (result.rows, result.created, result.errors) == (2, 2, 0)
    assert MarketEntity.objects.get(code=codes.make_uscc(KAIYUAN, 2)).risk_classified_on == dt.date(
        2026, 1, 5
    )


def test_an_xlsx_code_typed_as_a_number_keeps_its_digits(org_units, tmp_path):
    reg_no = codes.make_reg_no(KAIYUAN, 42)
    path = write_xlsx(
        tmp_path / "名录.xlsx",
        [row(1, **{"统一社会信用代码": int(reg_no), "主体类型": "个体工商户"})],
    )
    result = import_entities(str(path))
    assert result.created == 1
    assert MarketEntity.objects.get(code=reg_no).code_kind == "reg_no"


MESSY = [
    # (change, warning code, stored field, stored value)
    ({"统一社会信用代码": "ｆｕｌｌ"}, "code_normalised", None, None),
    ({"所属区县": "开原市"}, "county_name", "region_code", KAIYUAN),
    ({"所属区县": " 211282\u3000"}, "region_normalised", "region_code", KAIYUAN),
    ({"名称": "  铁岭测试乳业有限公司\u3000"}, "name_spaces", "name", "铁岭测试乳业有限公司"),
    ({"行业代码": "1441"}, "industry_section_added", "industry_code", "C1441"),
]


@pytest.mark.parametrize("code_form", ["fullwidth", "lower", "spaces", "ideographic"])
def test_messy_codes_are_normalised_and_warned(org_units, tmp_path, code_form):
    code = codes.make_uscc(KAIYUAN, 7)
    messy = {
        "fullwidth": code.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)}),
        "lower": code.lower(),
        "spaces": f" {code[:4]} {code[4:]} ",
        "ideographic": f"\u3000{code}\u3000",
    }[code_form]
    path = write_csv(tmp_path / "m.csv", [row(7, **{"统一社会信用代码": messy})])
    result = import_entities(str(path))
    assert (result.created, result.errors, result.warnings) == (1, 0, 1)
    assert issues_by_code(result)["code_normalised"][0].row == 2
    assert MarketEntity.objects.filter(code=code).exists()
    add_up(result)


@pytest.mark.parametrize("change,warning,field,value", MESSY[1:])
def test_messy_cells_are_normalised_and_warned(org_units, tmp_path, change, warning, field, value):
    path = write_csv(tmp_path / "m.csv", [row(3, **change)])
    result = import_entities(str(path))
    assert (result.created, result.errors, result.warnings) == (1, 0, 1)
    assert warning in issues_by_code(result)
    assert getattr(MarketEntity.objects.get(), field) == value


def test_an_old_15_digit_registration_number_is_kept_as_reg_no_and_warned(org_units, tmp_path):
    reg_no = codes.make_reg_no(KAIYUAN, 12)
    path = write_csv(
        tmp_path / "m.csv", [row(1, **{"统一社会信用代码": reg_no, "主体类型": "个体工商户"})]
    )
    result = import_entities(str(path))
    assert (result.created, result.warnings) == (1, 1)
    entity = MarketEntity.objects.get(code=reg_no)
    assert entity.code_kind == "reg_no" and entity.kind == "individual" and entity.code_warning
    assert "code_reg_no" in issues_by_code(result)


def test_a_fujian_pilot_code_is_kept_with_its_warning(org_units, tmp_path):
    path = write_csv(tmp_path / "m.csv", [row(1, **{"统一社会信用代码": "91350100M0001TGQXM"})])
    result = import_entities(str(path))
    assert (result.created, result.errors, result.warnings) == (1, 0, 1)
    entity = MarketEntity.objects.get(code="91350100M0001TGQXM")
    assert "试点" in entity.code_warning


REFUSED = [
    ({"统一社会信用代码": "91211282MA0000007E"}, "code_check_digit"),  # last char wrong
    ({"统一社会信用代码": "9121128"}, "code_length"),
    ({"统一社会信用代码": "91211282MA0000O07D"}, "code_charset"),
    ({"统一社会信用代码": "211282600000057"}, "reg_no_check_digit"),
    ({"所属区县": "210102"}, "county_unknown"),  # 沈阳 和平区: not a Tieling county
    ({"所属区县": "开原"}, "county_unknown"),
    ({"主体类型": "外星企业"}, "kind_unknown"),
    ({"登记状态": "休眠"}, "status_unknown"),
    ({"名称": "  "}, "name_missing"),
    ({"分类日期": "2026-02-30"}, "date_invalid"),
    ({"分类日期": "去年"}, "date_invalid"),
    ({"信用风险分类": "E"}, "risk_unknown"),
    ({"经营异常名录": "也许"}, "flag_invalid"),
    ({"行业代码": "C9999"}, "industry_invalid"),
    ({"行业代码": "A1441"}, "industry_section_mismatch"),
]


@pytest.mark.parametrize("change,error", REFUSED)
def test_bad_rows_are_refused_with_a_reason_and_the_good_rows_kept(
    org_units, tmp_path, change, error
):
    path = write_csv(tmp_path / "m.csv", [row(1), row(2, **change), row(3)])
    result = import_entities(str(path))
    assert (result.rows, result.created, result.errors) == (3, 2, 1)
    add_up(result)
    (issue,) = issues_by_code(result)[error]
    assert issue.row == 3 and issue.reason
    lines = read_errors(result.errors_file)
    assert lines[0] == ["行号", "列", "值", "问题", "代码"]
    assert lines[1][0] == "3" and lines[1][4] == error
    assert MarketEntity.objects.count() == 2


def test_the_errors_file_is_beside_the_input_with_a_bom_and_inert_values(org_units, tmp_path):
    path = write_csv(tmp_path / "名录.csv", [row(1, **{"名称": "", "主体类型": "=HYPERLINK(1)"})])
    result = import_entities(str(path))
    assert result.errors == 1  # one refused row, listed with both of its problems
    add_up(result)
    assert result.errors_file == str(tmp_path / "名录.csv.errors.csv")
    raw = (tmp_path / "名录.csv.errors.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = read_errors(result.errors_file)
    assert lines[1:] == [
        ["2", "名称", "", "名称为空", "name_missing"],
        ["2", "主体类型", "'=HYPERLINK(1)", lines[2][3], "kind_unknown"],
    ]
    # A clean re-run removes the stale list instead of leaving it to mislead.
    write_csv(path, [row(1)])
    assert import_entities(str(path)).errors_file == ""
    assert not (tmp_path / "名录.csv.errors.csv").exists()


def test_identical_duplicate_rows_are_warned_and_conflicting_ones_refused(org_units, tmp_path):
    path = write_csv(
        tmp_path / "m.csv",
        [row(1), row(1), row(1, **{"名称": "另一个名称"}), row(2)],
    )
    result = import_entities(str(path))
    add_up(result)
    assert (result.rows, result.created, result.unchanged, result.errors, result.warnings) == (
        4,
        2,
        1,
        1,
        1,
    )
    found = issues_by_code(result)
    assert found["duplicate_row"][0].row == 3
    assert found["duplicate_conflict"][0].row == 4
    # The first row wins, never the last.
    assert (
        MarketEntity.objects.get(code=codes.make_uscc(KAIYUAN, 1)).name == "铁岭测试1号乳业有限公司"
    )


def test_reimport_updates_by_code_without_duplicates(org_units, tmp_path):
    path = write_csv(tmp_path / "m.csv", [row(1), row(2)])
    import_entities(str(path))
    first = MarketEntity.objects.get(code=codes.make_uscc(KAIYUAN, 1))
    again = import_entities(str(path))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert MarketEntity.objects.get(pk=first.pk).updated_at == first.updated_at
    write_csv(path, [row(1, **{"信用风险分类": "较高"}), row(2)])
    changed = import_entities(str(path))
    assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 1)
    assert MarketEntity.objects.count() == 2
    updated = MarketEntity.objects.get(pk=first.pk)
    assert updated.risk_class == "C" and updated.updated_at > first.updated_at


def test_columns_absent_from_the_file_keep_their_stored_values(org_units, tmp_path):
    import_entities(str(write_csv(tmp_path / "full.csv", [row(1, **{"信用风险分类": "D"})])))
    short = HEADERS[:4]
    path = write_csv(
        tmp_path / "short.csv", [row(1, **{"名称": "改名后的公司"})[:4]], headers=short
    )
    result = import_entities(str(path))
    assert result.updated == 1
    entity = MarketEntity.objects.get()
    assert (entity.name, entity.risk_class, entity.industry_code) == ("改名后的公司", "D", "C1441")


def test_dry_run_reports_as_if_written_and_leaves_nothing(org_units, tmp_path):
    import_entities(str(write_csv(tmp_path / "a.csv", [row(1)])))
    events = AuditEvent.objects.count()
    path = write_csv(
        tmp_path / "b.csv", [row(1, **{"名称": "新名称"}), row(2), row(3, **{"名称": ""})]
    )
    result = import_entities(str(path), dry_run=True)
    assert result.summary() == {
        "rows": 3, "created": 1, "updated": 1, "unchanged": 0, "errors": 1, "warnings": 0
    }  # fmt: skip
    assert MarketEntity.objects.count() == 1
    assert MarketEntity.objects.get().name == "铁岭测试1号乳业有限公司"
    assert AuditEvent.objects.count() == events


def test_all_or_nothing_writes_nothing_when_one_row_is_bad(org_units, tmp_path):
    path = write_csv(tmp_path / "m.csv", [row(1), row(2), row(3, **{"所属区县": "火星"})])
    result = import_entities(str(path), all_or_nothing=True)
    assert result.refused and not result.written
    assert (result.rows, result.errors) == (3, 1)
    add_up(result)
    assert MarketEntity.objects.count() == 0
    assert not AuditEvent.objects.filter(action="registry.entities.imported").exists()
    clean = write_csv(tmp_path / "ok.csv", [row(1), row(2)])
    assert import_entities(str(clean), all_or_nothing=True).written
    assert MarketEntity.objects.count() == 2


def test_one_audit_event_per_batch_with_counts_and_file_digest(org_units, tmp_path, personas):
    from qcity.core.imports import run_import
    from qcity.registry.imports import EntityImport

    path = write_csv(tmp_path / "m.csv", [row(i) for i in range(5)])
    result = run_import(
        EntityImport(personas["coordinator"]), path, by=personas["coordinator"], batch_size=2
    )
    assert result.batches == 3 and result.created == 5
    events = list(AuditEvent.objects.filter(action="registry.entities.imported").order_by("pk"))
    assert len(events) == 3
    assert [e.details["rows"] for e in events] == [2, 2, 1]
    assert events[0].details["file"] == "m.csv" and len(events[0].details["sha256"]) == 64
    assert (
        events[0].details["dry_run"] is False and events[0].actor_id == personas["coordinator"].pk
    )


def test_a_county_officer_imports_only_their_own_county(org_units, personas, tmp_path):
    import_entities(str(write_csv(tmp_path / "x.csv", [row(9, region=XIFENG)])))
    path = write_csv(
        tmp_path / "m.csv",
        [
            row(1),
            row(2, region=XIFENG),
            # A 西丰 entity's code, claimed for 开原: refused, 西丰's row untouched.
            row(9, region=KAIYUAN, **{"统一社会信用代码": codes.make_uscc(XIFENG, 9)}),
        ],
    )
    result = import_entities(str(path), by=personas["kaiyuan"])
    add_up(result)
    assert (result.created, result.errors) == (1, 2)
    found = issues_by_code(result)
    assert found["county_out_of_scope"][0].row == 3
    assert found["code_out_of_scope"][0].row == 4
    assert MarketEntity.objects.get(code=codes.make_uscc(XIFENG, 9)).region_code == XIFENG
    coordinator = import_entities(str(path), by=personas["coordinator"])
    assert coordinator.errors == 0


def test_undecodable_file_is_refused_naming_the_line(org_units, tmp_path):
    path = tmp_path / "bad.csv"
    good = "统一社会信用代码,名称,主体类型,所属区县\n".encode()
    path.write_bytes(good + b"91211282MA0000007D,\xff\xfe\xff,x,y\n")
    with pytest.raises(ImportFileError) as caught:
        import_entities(str(path))
    assert "第 2 行" in caught.value.message


def test_a_missing_required_column_refuses_the_file(org_units, tmp_path):
    path = write_csv(tmp_path / "m.csv", [["x"]], headers=["名称"])
    with pytest.raises(ImportFileError) as caught:
        import_entities(str(path))
    assert caught.value.code == "missing_column" and "统一社会信用代码" in caught.value.message


def run(*args: str) -> tuple[list[str], str]:
    out, err = StringIO(), StringIO()
    call_command("import_entities", *args, stdout=out, stderr=err)
    return out.getvalue().splitlines(), err.getvalue()


def test_the_command_prints_the_json_summary_as_its_last_line(org_units, tmp_path):
    path = write_csv(tmp_path / "m.csv", [row(1), row(2, **{"统一社会信用代码": "bad"})])
    lines, _ = run(str(path))
    assert json.loads(lines[-1]) == {
        "rows": 2, "created": 1, "updated": 0, "unchanged": 0, "errors": 1, "warnings": 0
    }  # fmt: skip
    assert any("错误清单" in line for line in lines)
    assert "统一社会信用代码" in "\n".join(lines[:-1])


def test_the_command_exits_1_when_all_or_nothing_refused(org_units, tmp_path):
    path = write_csv(tmp_path / "m.csv", [row(1), row(2, **{"统一社会信用代码": "bad"})])
    out = StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("import_entities", str(path), "--all-or-nothing", stdout=out)
    assert caught.value.returncode == 1
    assert json.loads(out.getvalue().splitlines()[-1])["errors"] == 1
    assert MarketEntity.objects.count() == 0


@pytest.mark.parametrize(
    "args,message",
    [(["/nonexistent/m.csv"], "文件不存在"), (["--by", "nobody", "X"], "找不到用户")],
)
def test_the_command_refuses_bad_arguments_with_one_line_and_exit_2(org_units, args, message):
    with pytest.raises(CommandError) as caught:
        run(*args)
    assert caught.value.returncode == 2 and message in str(caught.value)
    assert "\n" not in str(caught.value)
