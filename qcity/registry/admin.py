"""Specialities are reference data of the system administrator: disabled, never deleted.

Entities and inspectors are business data: they are kept on the register pages by
the units that own them (and the bulk import), never in the admin (三员分立).
"""

from django.contrib import admin

from qcity.core.admin import ReferenceAdmin
from qcity.registry.models import Speciality


@admin.register(Speciality)
class SpecialityAdmin(ReferenceAdmin):
    list_display = ["code", "name", "sort_order", "disabled_on"]
    search_fields = ["code", "name"]
    readonly_fields = ["disabled_on"]
