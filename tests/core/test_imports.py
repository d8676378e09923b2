"""The bulk-import mechanism's reading side: encodings, XLSX cells, headers, progress."""

from __future__ import annotations

import codecs
import datetime as dt
import zipfile

import pytest
from openpyxl import Workbook

from qcity.core.imports import (
    Column,
    ImportFileError,
    ImportSpec,
    detect_encoding,
    map_headers,
    open_table,
)
from tests.registry.importfiles import row, write_csv


class Register(ImportSpec):
    columns = [
        Column("code", "统一社会信用代码", ("信用代码",), True),
        Column("name", "名称", ("企业名称",), True),
        Column("address", "住所"),
    ]


TEXT = "统一社会信用代码,名称\n91211282MA0000007D,开原市奶粉店\n"


@pytest.mark.parametrize(
    "data,encoding",
    [
        (TEXT.encode("utf-8"), "utf-8-sig"),
        (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8-sig"),
        (TEXT.encode("gb18030"), "gb18030"),
    ],
)
def test_it_detects_utf8_with_or_without_bom_and_gb18030(tmp_path, data, encoding):
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    assert detect_encoding(path) == encoding
    table = open_table(path)
    assert table.headers == ["统一社会信用代码", "名称"]
    assert list(table.rows) == [(2, ["91211282MA0000007D", "开原市奶粉店"])]


def test_a_gb18030_file_with_a_long_utf8_looking_prefix_is_still_read(tmp_path):
    # The first MB is ASCII (valid UTF-8); a GB18030 character comes later.
    path = tmp_path / "f.csv"
    path.write_bytes(b"code,name\n" + b"1,abc\n" * 300_000 + "2,奶粉\n".encode("gb18030"))
    table = open_table(path)
    assert table.encoding == "gb18030"
    assert list(table.rows)[-1] == (300_002, ["2", "奶粉"])


def test_a_utf16_file_is_refused_with_advice(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(TEXT.encode("utf-16"))
    with pytest.raises(ImportFileError) as caught:
        open_table(path)
    assert caught.value.code == "encoding" and "UTF-16" in caught.value.message


@pytest.mark.parametrize(
    "name,data,code",
    [
        ("empty.csv", b"", "empty"),
        ("nul.csv", b"a,b\n\x00\x00\n", "binary_file"),
        ("broken.xlsx", b"PK\x03\x04garbage", "corrupt_file"),
        ("old.xls", b"\xd0\xcf\x11\xe0", "format"),
    ],
)
def test_unreadable_files_are_refused_with_a_code(tmp_path, name, data, code):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(ImportFileError) as caught:
        open_table(path)
    assert caught.value.code == code and caught.value.message


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(ImportFileError) as caught:
        open_table(tmp_path / "nope.csv")
    assert caught.value.code == "not_found"


def test_an_xlsx_zip_bomb_is_refused_before_openpyxl_reads_it(tmp_path):
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (50 * 1024 * 1024))
    with pytest.raises(ImportFileError) as caught:
        open_table(path)
    assert caught.value.code == "zip_bomb"


def test_xlsx_cells_become_the_text_a_person_typed(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["统一社会信用代码", "名称", "日期", "数"])
    sheet.append([110108000000016, "甲", dt.datetime(2026, 3, 31), 1.5])
    sheet.append([None, None, None, None])
    book.save(tmp_path / "f.xlsx")
    table = open_table(tmp_path / "f.xlsx")
    rows = list(table.rows)
    assert rows[0] == (2, ["110108000000016", "甲", "2026-03-31", "1.5"])
    assert table.encoding == "xlsx"


def test_headers_match_aliases_full_width_and_spaces_in_any_order():
    positions, ignored = map_headers(Register(), ["备注", " 企业名称 ", "信用代码", "住　所"])
    assert positions == [(1, "name"), (2, "code"), (3, "address")]
    assert ignored == ["备注"]


def test_a_missing_required_column_or_a_column_twice_refuses_the_file():
    with pytest.raises(ImportFileError) as caught:
        map_headers(Register(), ["名称"])
    assert caught.value.code == "missing_column" and "统一社会信用代码" in caught.value.message
    with pytest.raises(ImportFileError) as caught:
        map_headers(Register(), ["名称", "统一社会信用代码", "信用代码"])
    assert caught.value.code == "duplicate_column"


@pytest.mark.django_db
def test_progress_is_reported_up_to_the_total(org_units, tmp_path):
    from qcity.core.imports import run_import
    from qcity.registry.imports import EntityImport

    path = write_csv(tmp_path / "m.csv", [row(i) for i in range(6_000)] + [[""] * 11])
    seen = []
    result = run_import(
        EntityImport(), path, progress=lambda done, total: seen.append((done, total))
    )
    assert result.rows == 6_000  # the blank line is not a row
    assert seen == [(5000, 6_001), (6_000, 6_000)]
