"""The indicator catalogue is reference data: the system administrator keeps it
(add, correct, disable; never delete), like the dictionaries. Values are business
data and are not in the admin."""

from __future__ import annotations

from django.contrib import admin

from qcity.core.admin import ReferenceAdmin
from qcity.metrics.models import Indicator


@admin.register(Indicator)
class IndicatorAdmin(ReferenceAdmin):
    list_display = ["code", "name", "unit", "direction", "period_type", "owner_unit", "disabled_on"]
    list_filter = ["period_type", "direction"]
    search_fields = ["code", "name"]
    readonly_fields = ["disabled_on"]
