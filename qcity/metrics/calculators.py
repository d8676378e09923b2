"""The registration point for calculated indicators.

An operational app (sampling, inspections, complaints) registers a function in
its ``AppConfig.ready()``: ``register("food_sampling_pass_rate", fn)`` where
``fn(period: str, org_unit: OrgUnit) -> Decimal | None`` (None: no figure for that
period). ``qcity recompute_indicators`` runs them for the indicators whose
``calculator`` names them. metrics imports no operational app: they come to it.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from qcity.core.models import OrgUnit

Calculator = Callable[[str, OrgUnit], Decimal | None]

_REGISTRY: dict[str, Calculator] = {}


def register(code: str, fn: Calculator) -> None:
    if not code or len(code) > 60:
        raise ValueError("计算器代码应为 1–60 个字符")
    existing = _REGISTRY.get(code)
    if existing is not None and existing is not fn:
        raise ValueError(f"计算器“{code}”已被另一个函数注册")
    _REGISTRY[code] = fn


def unregister(code: str) -> None:
    _REGISTRY.pop(code, None)


def get(code: str) -> Calculator | None:
    return _REGISTRY.get(code)


def registered() -> dict[str, Calculator]:
    return dict(_REGISTRY)
