"""Django admin for reference data, split by 三员分立.

系统管理员 manages org units, dictionaries, the calendar and accounts;
安全管理员 manages account security (locks, activation, tokens);
审计管理员 reads the audit log. Nobody deletes anything here: reference data
is disabled, accounts are deactivated, audit events are permanent.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _

from qcity.core import audit, services, workdays
from qcity.core.forms import CalendarYearEntryForm, HolidayRangeFormSet
from qcity.core.models import (
    ApiToken,
    AuditCheckpoint,
    AuditEvent,
    CalendarDay,
    CalendarYear,
    DictionaryItem,
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
    # Confirmation is a workflow step (待确认单位 page), never a checkbox.
    readonly_fields = ["path", "confirmed", "status", "disabled_on"]
    inlines = [AliasInline]


@admin.register(DictionaryItem)
class DictionaryItemAdmin(ReferenceAdmin):
    list_display = ["dictionary", "code", "label", "sort_order", "disabled_on"]
    list_filter = ["dictionary"]
    search_fields = ["code", "label"]
    readonly_fields = ["disabled_on"]


@admin.register(CalendarYear)
class CalendarYearAdmin(RoleAdmin):
    """Known years. A year is added only with its days, through 录入年度节假日安排."""

    roles = (Role.SYSTEM_ADMIN,)
    list_display = ["year", "source"]

    def has_add_permission(self, request) -> bool:
        # A bare year row would declare a year known with no holidays at all.
        return False

    def get_urls(self):
        enter = path(
            "enter/",
            self.admin_site.admin_view(self.enter_year_view),
            name="core_calendaryear_enter",
        )
        return [enter, *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "may_enter_year": self._may_enter(request)}
        return super().changelist_view(request, extra_context)

    def _may_enter(self, request) -> bool:
        return self._role(request) == Role.SYSTEM_ADMIN

    def enter_year_view(self, request):
        """录入年度节假日安排: the holidays and 调休上班 days of one year, in one go."""
        if not self._may_enter(request):
            raise PermissionDenied
        if request.method == "POST":
            form = CalendarYearEntryForm(request.POST)
            formset = HolidayRangeFormSet(request.POST, prefix="holidays")
            if form.is_valid() and formset.is_valid():
                holidays = [
                    services.HolidayRange(name=row["name"], start=row["start"], end=row["end"])
                    for row in formset.cleaned_data
                    if row.get("name")
                ]
                try:
                    changes = services.enter_calendar_year(
                        form.cleaned_data["year"],
                        holidays,
                        form.cleaned_data["make_up_days"],
                        by=request.user,
                        source=form.cleaned_data["source"],
                    )
                except services.CalendarEntryError as error:
                    for message in error.messages:
                        form.add_error(None, message)
                else:
                    messages.success(
                        request,
                        _("%(year)d 年节假日安排已录入；重算暂定期限 %(count)d 个。")
                        % {"year": form.cleaned_data["year"], "count": len(changes)},
                    )
                    return redirect("admin:core_calendaryear_changelist")
        else:
            year = _requested_year(request)
            form = CalendarYearEntryForm(
                initial={"year": year, "source": f"国务院办公厅关于{year}年部分节假日安排的通知"}
            )
            formset = HolidayRangeFormSet(prefix="holidays", initial=_statutory_ranges(year))
        context = {
            **self.admin_site.each_context(request),
            "title": _("录入年度节假日安排"),
            "opts": self.model._meta,
            "form": form,
            "formset": formset,
        }
        return TemplateResponse(request, "admin/core/calendaryear/enter_year.html", context)


def _requested_year(request) -> int:
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        year = 0
    if 2000 <= year <= workdays.PROVISIONAL_LAST_YEAR:
        return year
    today = timezone.localdate()
    return workdays.first_unentered_year(today) or today.year + 1


def _statutory_ranges(year: int) -> list[dict]:
    """The Decree's fixed days of ``year`` as a starting point for the form's rows."""
    try:
        days = sorted(workdays.statutory_holidays(year).items())
    except workdays.CalendarUnknown:
        return []
    ranges: list[dict] = []
    for day, name in days:
        last = ranges[-1] if ranges else None
        if last and last["name"] == name and last["end"] + dt.timedelta(days=1) == day:
            last["end"] = day
        else:
            ranges.append({"name": name, "start": day, "end": day})
    return ranges


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


@admin.register(AuditCheckpoint)
class AuditCheckpointAdmin(RoleAdmin):
    """Read-only: checkpoints are written only by ``qcity audit_checkpoint``."""

    read_only_roles = (Role.AUDIT_ADMIN,)
    list_display = ["seq", "time", "key_id", "hash"]

    def get_actions(self, request):
        return {}
