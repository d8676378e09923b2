"""System check: every model of ours says how data scope applies to it.

``scoped`` / ``get_scoped_or_404`` / ``get_for_write`` are the only doors from a
user to rows, and they yield nothing for a model without ``scope_q``. That is
safe but silent: a new model would simply show nobody anything. This check
makes the decision explicit instead. Every concrete model of a ``qcity.*`` app
either defines ``scope_q(units)`` (and then appears in the scope matrix tests)
or declares ``scope_exempt = "why"``: reference tables, accounts, the audit log,
which no selector, export or API endpoint lists to business users.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.apps import AppConfig, apps
from django.core.checks import CheckMessage, Error, Tags, register

PROJECT_PACKAGE = "qcity"


def _ours(config: AppConfig) -> bool:
    return config.name == PROJECT_PACKAGE or config.name.startswith(PROJECT_PACKAGE + ".")


@register(Tags.models)
def check_data_scope_declared(
    app_configs: Iterable[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    for config in app_configs if app_configs is not None else apps.get_app_configs():
        if not _ours(config):
            continue
        for model in config.get_models():
            label = model._meta.label
            scope_q = getattr(model, "scope_q", None)
            exempt = getattr(model, "scope_exempt", None)
            if scope_q is not None and exempt is not None:
                errors.append(
                    Error(
                        f"{label} 同时定义了 scope_q 和 scope_exempt",
                        hint="二者只能选一：要么按数据范围过滤，要么说明为何不需要。",
                        obj=model,
                        id="qcity.E002",
                    )
                )
            elif scope_q is not None and not callable(scope_q):
                errors.append(
                    Error(
                        f"{label}.scope_q 不是可调用的类方法",
                        hint="定义 @classmethod scope_q(cls, units) -> Q。",
                        obj=model,
                        id="qcity.E003",
                    )
                )
            elif scope_q is None and exempt is None:
                errors.append(
                    Error(
                        f"{label} 没有 scope_q：数据范围无法过滤它，scoped() 对任何用户都返回空",
                        hint=(
                            "定义 @classmethod scope_q(cls, units) -> Q（多值关系用 Exists()），"
                            "并把它加入数据范围矩阵测试；参考数据等不经选择器、导出或 API "
                            '列给业务用户的表，声明 scope_exempt = "原因"。'
                        ),
                        obj=model,
                        id="qcity.E001",
                    )
                )
            elif scope_q is None and not (isinstance(exempt, str) and exempt.strip()):
                errors.append(
                    Error(
                        f"{label}.scope_exempt 必须是一句说明原因的文字",
                        obj=model,
                        id="qcity.E004",
                    )
                )
    return errors
