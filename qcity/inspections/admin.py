"""Admin for 双随机 reference data (系统管理员): the 抽查事项清单 and the result codes.

Like every reference list (core.admin.ReferenceAdmin): added and changed here, disabled
and re-enabled by the actions, never deleted (old batches and results point at them);
each change is audited.
"""

from __future__ import annotations

from django.contrib import admin

from qcity.core.admin import ReferenceAdmin
from qcity.inspections.models import CheckItem, ResultCode


@admin.register(CheckItem)
class CheckItemAdmin(ReferenceAdmin):
    list_display = ["code", "name", "kind", "department", "default_ratio", "disabled_on"]
    list_filter = ["kind"]
    search_fields = ["code", "name", "legal_basis", "object_type"]
    filter_horizontal = ["required_specialities"]
    readonly_fields = ["disabled_on"]


@admin.register(ResultCode)
class ResultCodeAdmin(ReferenceAdmin):
    list_display = ["code", "name", "problem_found", "opens_follow_up", "disabled_on"]
    list_filter = ["problem_found", "opens_follow_up"]
    search_fields = ["code", "name"]
    readonly_fields = ["disabled_on"]
