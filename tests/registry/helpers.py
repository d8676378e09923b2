"""Test data for the registers: valid 统一社会信用代码 and entities/inspectors in two counties.

A tiny code generator (regulations §6: weights 3^(i-1) mod 31, charset without I O S V Z)
until ``registry.codes`` lands; the test vectors of §6 check it.
"""

from __future__ import annotations

from qcity.core.models import OrgUnit
from qcity.registry.models import Inspector, MarketEntity, Speciality

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = [pow(3, i, 31) for i in range(17)]
COUNTY_CODES = {"开原市市场监督管理局": "211282", "西丰县市场监督管理局": "211223"}


def check_char(first17: str) -> str:
    total = sum(CHARSET.index(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def make_code(region: str, serial: int, *, category: str = "1") -> str:
    """A valid code: 9 (market regulation), category, county, a serial as 主体标识码."""
    body = f"9{category}{region}"
    n, digits = serial, []
    for _ in range(9):
        n, r = divmod(n, 31)
        digits.append(CHARSET[r])
    first17 = body + "".join(reversed(digits))
    return first17 + check_char(first17)


def entity(name: str, unit_name: str = "开原市市场监督管理局", serial: int = 1, **extra):
    unit = OrgUnit.objects.get(name=unit_name)
    region = COUNTY_CODES[unit_name]
    fields = {
        "code": make_code(region, serial),
        "name": name,
        "kind": MarketEntity.Kind.ENTERPRISE,
        "region_code": region,
        "owner_unit": unit,
        "industry_code": "F5221",
        **extra,
    }
    return MarketEntity.objects.create(**fields)


def inspector(name: str, unit_name: str, cert: str, *, user=None, **extra) -> Inspector:
    return Inspector.objects.create(
        name=name,
        certificate_no=cert,
        org_unit=OrgUnit.objects.get(name=unit_name),
        user=user,
        **extra,
    )


def speciality(code: str = "food", name: str = "食品") -> Speciality:
    return Speciality.objects.get_or_create(code=code, defaults={"name": name})[0]
