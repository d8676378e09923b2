from django.contrib import admin

from qcity.core.admin import RoleAdmin
from qcity.core.models import Role
from qcity.plans.models import Plan


@admin.register(Plan)
class PlanAdmin(RoleAdmin):
    """Plans change only through import; the admin shows them to the system admin."""

    read_only_roles = (Role.SYSTEM_ADMIN,)
    list_display = ["title", "issuer", "owner_unit", "imported_at", "updated_at"]
