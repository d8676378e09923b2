"""Django admin for reference data, split by 三员分立.

系统管理员 manages org units, dictionaries, the calendar and accounts;
安全管理员 manages account security (locks, activation, tokens);
审计管理员 reads the audit log. Nobody deletes anything here: reference data
is disabled, accounts are deactivated, audit events are permanent.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.utils import timezone

from qcity.core import audit, services
from qcity.core.models import (
    ApiToken,
    AuditEvent,
    CalendarDay,
    CalendarYear,
    DictionaryItem,
    OrgTreeCycleError,
    OrgUnit,
    Role,
    UnitAlias,
    User,
)


class RoleAdmin(admin.ModelAdmin):
    roles: tuple[str, ...] = ()
    read_only_roles: tuple[str, ...] = ()

    def _role(self, request) -> str:
        user = request.user
        return user.role if user.is_authenticated and user.is_active and user.is_staff else ""

    def has_module_permission(self, request) -> bool:
        return self._role(request) in self.roles + self.read_only_roles

    def has_view_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._role(request) in self.roles

    def has_add_permission(self, request) -> bool:
        return self._role(request) in self.roles

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        audit.record(
            f"admin.{obj._meta.model_name}.{'changed' if change else 'added'}",
            by=request.user,
            obj=obj,
            ip=request.META.get("REMOTE_ADDR"),
            details={"fields": sorted(form.changed_data)},
        )


class ReferenceAdmin(RoleAdmin):
    roles = (Role.SYSTEM_ADMIN,)
    actions = ["disable", "enable"]

    @admin.action(description="停用所选项")
    def disable(self, request, queryset) -> None:
        for obj in queryset.filter(disabled_on__isnull=True):
            type(obj).objects.filter(pk=obj.pk).update(disabled_on=timezone.now())
            audit.record(f"admin.{obj._meta.model_name}.disabled", by=request.user, obj=obj)

    @admin.action(description="启用所选项")
    def enable(self, request, queryset) -> None:
        for obj in queryset.filter(disabled_on__isnull=False):
            type(obj).objects.filter(pk=obj.pk).update(disabled_on=None)
            audit.record(f"admin.{obj._meta.model_name}.enabled", by=request.user, obj=obj)


class AliasInline(admin.TabularInline):
    model = UnitAlias
    extra = 1

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.role == Role.SYSTEM_ADMIN

    def has_add_permission(self, request, obj=None) -> bool:
        return request.user.role == Role.SYSTEM_ADMIN

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.role == Role.SYSTEM_ADMIN

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.role == Role.SYSTEM_ADMIN


@admin.register(OrgUnit)
class OrgUnitAdmin(ReferenceAdmin):
    list_display = ["name", "code", "kind", "parent", "confirmed", "disabled_on"]
    list_filter = ["kind", "confirmed"]
    search_fields = ["name", "full_name", "code", "aliases__name"]
    readonly_fields = ["path", "disabled_on"]
    inlines = [AliasInline]

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except OrgTreeCycleError as error:
            # The form refuses a cycle on its own (OrgUnit.clean); this is a concurrent
            # move that made one between that check and the save, which re-checked under
            # the row locks. The admin's transaction has rolled back: nothing changed.
            self.message_user(request, " ".join(error.messages), level=messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


@admin.register(DictionaryItem)
class DictionaryItemAdmin(ReferenceAdmin):
    list_display = ["dictionary", "code", "label", "sort_order", "disabled_on"]
    list_filter = ["dictionary"]
    search_fields = ["code", "label"]
    readonly_fields = ["disabled_on"]


@admin.register(CalendarYear)
class CalendarYearAdmin(RoleAdmin):
    roles = (Role.SYSTEM_ADMIN,)
    list_display = ["year", "source"]


@admin.register(CalendarDay)
class CalendarDayAdmin(RoleAdmin):
    roles = (Role.SYSTEM_ADMIN,)
    list_display = ["date", "is_workday", "name", "source"]
    list_filter = ["is_workday", "source"]
    date_hierarchy = "date"

    def save_model(self, request, obj, form, change) -> None:
        obj.source = "manual"
        super().save_model(request, obj, form, change)


@admin.register(User)
class UserAdmin(RoleAdmin):
    """Accounts under 三员分立.

    系统管理员 creates accounts and keeps their identity (name, unit) current;
    安全管理员 decides what an account may do (role, data scope, active) and
    resets passwords and locks. Nobody edits their own account here.
    """

    roles = (Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN)
    list_display = ["username", "full_name", "unit", "role", "is_active", "locked_until"]
    list_filter = ["role", "is_active"]
    search_fields = ["username", "full_name"]
    fields = [
        "username",
        "full_name",
        "unit",
        "phone",
        "role",
        "data_scope",
        "is_active",
        "must_change_password",
        "failed_login_count",
        "locked_until",
        "last_login",
    ]
    IDENTITY = ("username", "full_name", "unit", "phone")
    AUTHORITY = ("role", "data_scope", "is_active")
    ALWAYS_READ_ONLY = ("must_change_password", "failed_login_count", "locked_until", "last_login")
    actions = ["unlock", "reset_password", "deactivate"]

    def has_add_permission(self, request) -> bool:
        return self._role(request) == Role.SYSTEM_ADMIN

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.pk == request.user.pk:
            return False
        return super().has_change_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        if self._role(request) == Role.SECURITY_ADMIN:
            return self.IDENTITY + self.ALWAYS_READ_ONLY
        return self.AUTHORITY + self.ALWAYS_READ_ONLY

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            # A new account can do nothing until the security admin grants a role
            # and issues a temporary password.
            obj.set_unusable_password()
            obj.is_active = False
        super().save_model(request, obj, form, change)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if self._role(request) != Role.SECURITY_ADMIN:
            for name in ("unlock", "reset_password", "deactivate"):
                actions.pop(name, None)
        return actions

    def _others(self, request, queryset):
        return queryset.exclude(pk=request.user.pk)

    @admin.action(description="解除锁定")
    def unlock(self, request, queryset) -> None:
        for user in self._others(request, queryset):
            services.unlock_user(user, by=request.user)
        messages.success(request, "已解除锁定")

    @admin.action(description="重置为临时密码")
    def reset_password(self, request, queryset) -> None:
        for user in self._others(request, queryset):
            temporary = services.reset_password(user, by=request.user)
            # Shown once, to the security admin only; the user must change it at login.
            messages.warning(request, f"{user.username} 的临时密码：{temporary}（仅显示一次）")

    @admin.action(description="停用账户")
    def deactivate(self, request, queryset) -> None:
        for user in self._others(request, queryset).filter(is_active=True):
            User.objects.filter(pk=user.pk).update(is_active=False)
            audit.record("user.deactivated", by=request.user, obj=user)


@admin.register(ApiToken)
class ApiTokenAdmin(RoleAdmin):
    read_only_roles = (Role.SECURITY_ADMIN,)
    list_display = [
        "name",
        "user",
        "prefix",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    actions = ["revoke"]

    def get_actions(self, request):
        actions = super().get_actions(request)
        if self._role(request) != Role.SECURITY_ADMIN:
            actions.pop("revoke", None)
        return actions

    @admin.action(description="吊销令牌")
    def revoke(self, request, queryset) -> None:
        for token in queryset:
            services.revoke_api_token(token, by=request.user)


@admin.register(AuditEvent)
class AuditEventAdmin(RoleAdmin):
    read_only_roles = (Role.AUDIT_ADMIN,)
    list_display = ["seq", "time", "actor_label", "action", "object_repr", "success", "ip"]
    list_filter = ["action", "success"]
    search_fields = ["actor_label", "action", "object_repr"]
    date_hierarchy = "time"

    def get_actions(self, request):
        return {}
