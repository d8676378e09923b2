"""Real register files for the import tests: CSV in several encodings and XLSX, on disk."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from openpyxl import Workbook

from qcity.registry.codes import make_uscc

HEADERS = [
    "统一社会信用代码",
    "名称",
    "主体类型",
    "所属区县",
    "行业代码",
    "住所",
    "登记状态",
    "信用风险分类",
    "分类日期",
    "经营异常名录",
    "严重违法失信名单",
]
KAIYUAN = "211282"
XIFENG = "211223"


def row(serial: int, *, region: str = KAIYUAN, **changes: str) -> list[str]:
    values = {
        "统一社会信用代码": make_uscc(region, serial),
        "名称": f"铁岭测试{serial}号乳业有限公司",
        "主体类型": "企业",
        "所属区县": region,
        "行业代码": "C1441",
        "住所": f"开原市新华街{serial}号",
        "登记状态": "存续",
        "信用风险分类": "B",
        "分类日期": "2026-03-31",
        "经营异常名录": "否",
        "严重违法失信名单": "否",
    }
    values.update(changes)
    return [values[h] for h in HEADERS]


def write_csv(
    path: Path, rows: list[list[str]], *, encoding: str = "utf-8", headers=HEADERS
) -> Path:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, rows: list[list], *, headers=HEADERS) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.append(headers)
    for values in rows:
        sheet.append(values)
    book.save(path)
    return path
