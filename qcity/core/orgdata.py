"""Tieling's org units, as the default reference data.

Each entry: (name, kind, parent name, code, full name, aliases). Codes of the
seven county-level divisions are GB/T 2260; the others are qcity's own.
"""

from __future__ import annotations

from qcity.core.models import OrgUnit

K = OrgUnit.Kind
CITY = "铁岭市人民政府"

COUNTIES = [
    ("211202", "银州区"),
    ("211204", "清河区"),
    ("211221", "铁岭县"),
    ("211223", "西丰县"),
    ("211224", "昌图县"),
    ("211281", "调兵山市"),
    ("211282", "开原市"),
]

DEPARTMENTS = [
    ("市发展改革委", "铁岭市发展和改革委员会", ["市发改委", "市发展和改革委员会"]),
    ("市教育局", "铁岭市教育局", []),
    ("市科技局", "铁岭市科学技术局", ["市科学技术局"]),
    ("市工业和信息化局", "铁岭市工业和信息化局", ["市工信局"]),
    ("市公安局", "铁岭市公安局", []),
    ("市民政局", "铁岭市民政局", []),
    ("市财政局", "铁岭市财政局", []),
    ("市人力资源社会保障局", "铁岭市人力资源和社会保障局", ["市人社局", "市人力资源和社会保障局"]),
    ("市自然资源局", "铁岭市自然资源局", []),
    ("市生态环境局", "铁岭市生态环境局", []),
    ("市住房城乡建设局", "铁岭市住房和城乡建设局", ["市住建局", "市住房和城乡建设局"]),
    ("市交通运输局", "铁岭市交通运输局", []),
    ("市水利局", "铁岭市水利局", []),
    ("市农业农村局", "铁岭市农业农村局", []),
    ("市商务局", "铁岭市商务局", []),
    ("市文旅广电局", "铁岭市文化旅游和广播电视局", ["市文化旅游和广播电视局"]),
    ("市卫生健康委", "铁岭市卫生健康委员会", ["市卫健委", "市卫生健康委员会"]),
    ("市市场监管局", "铁岭市市场监督管理局", ["市市场监督管理局", "市场监管局"]),
    ("市统计局", "铁岭市统计局", []),
    ("市金融发展局", "铁岭市金融发展局", []),
]

# Institutions under the market-supervision bureau.
INSTITUTIONS = [
    ("铁岭检验检测中心", "铁岭市检验检测认证中心", ["市检验检测中心"]),
    ("市检验检测认证服务中心", "铁岭市检验检测认证服务中心", []),
]

# Bodies outside the city government (vertical administrations, Party and mass organisations).
EXTERNAL = [
    ("铁岭海关", "沈阳海关隶属铁岭海关", []),
    ("国家金融监督管理总局铁岭监管分局", "国家金融监督管理总局铁岭监管分局", ["铁岭金融监管分局"]),
    ("中国人民银行铁岭市中心支行", "中国人民银行铁岭市中心支行", ["人民银行铁岭市中心支行"]),
    ("市税务局", "国家税务总局铁岭市税务局", []),
    ("市检察院", "铁岭市人民检察院", ["市人民检察院"]),
    ("市总工会", "铁岭市总工会", []),
    ("团市委", "共青团铁岭市委员会", []),
]


def entries() -> list[tuple[str, str, str | None, str | None, str, list[str]]]:
    rows: list[tuple[str, str, str | None, str | None, str, list[str]]] = [
        (CITY, K.GOVERNMENT, None, "211200", CITY, ["铁岭市政府", "市政府"]),
    ]
    rows += [(name, K.DEPARTMENT, CITY, None, full, aliases) for name, full, aliases in DEPARTMENTS]
    rows += [
        (name, K.INSTITUTION, "市市场监管局", None, full, aliases)
        for name, full, aliases in INSTITUTIONS
    ]
    rows += [(name, K.EXTERNAL, None, None, full, aliases) for name, full, aliases in EXTERNAL]
    for code, county in COUNTIES:
        rows.append((county, K.COUNTY, CITY, code, f"{county}人民政府", [f"{county}政府"]))
        bureau = f"{county}市场监督管理局"
        rows.append((bureau, K.DEPARTMENT, county, f"{code}-SCJG", bureau, [f"{county}市场监管局"]))
        rows.append(
            (
                f"{county}城区市场监督管理所",
                K.STATION,
                bureau,
                f"{code}-SCJG-01",
                f"{bureau}城区市场监督管理所",
                [],
            )
        )
    return rows
