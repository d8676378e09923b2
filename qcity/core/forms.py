from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qcity.core.models import OrgUnit, User
from qcity.core.passwords import NotCurrentOrDemoPasswordValidator

# One message for a wrong password, an unknown name and a locked account, so the
# login page never tells a stranger which accounts exist (ADR 0016).
LOGIN_REFUSED = gettext_lazy(
    "用户名或密码错误，或账户已被锁定。连续输错多次的账户会被临时锁定，请稍后再试或联系安全管理员。"
)


class LoginForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": LOGIN_REFUSED,
        "inactive": LOGIN_REFUSED,
    }

    def clean(self):
        username = self.cleaned_data.get("username")
        user = User.objects.filter(username=username).first() if username else None
        if user is not None and user.is_locked():
            # Count this attempt too: a locked account is still under attack.
            from qcity.core.services import record_login_failure

            record_login_failure(
                username, ip=self.request.META.get("REMOTE_ADDR") if self.request else None
            )
            raise forms.ValidationError(LOGIN_REFUSED, code="invalid_login")
        return super().clean()


class ChangePasswordForm(PasswordChangeForm):
    """Change one's own password; never to the current (temporary) one.

    The settings' validators include the same check; it is repeated here so the
    forced change after a reset holds even if the validator list is edited.
    """

    def validate_password_for_user(self, user, password_field_name="new_password2") -> None:
        super().validate_password_for_user(user, password_field_name)
        password = self.cleaned_data.get(password_field_name)
        if password and password_field_name not in self.errors:
            try:
                NotCurrentOrDemoPasswordValidator().validate(password, user)
            except forms.ValidationError as error:
                self.add_error(password_field_name, error)


class MapUnitForm(forms.Form):
    onto = forms.ModelChoiceField(
        label=_("映射到"),
        queryset=OrgUnit.objects.enabled().filter(confirmed=True),
    )


class ConfirmUnitForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("类型"),
        # Most unknown names in a plan are departments, so that comes first.
        choices=sorted(
            (c for c in OrgUnit.Kind.choices if c[0] != OrgUnit.Kind.UNCONFIRMED),
            key=lambda c: c[0] != OrgUnit.Kind.DEPARTMENT,
        ),
    )
    parent = forms.ModelChoiceField(
        label=_("上级单位"),
        required=False,
        queryset=OrgUnit.objects.enabled().filter(confirmed=True),
    )


# --- calendar: 录入年度节假日安排 (the admin form; core.admin.CalendarYearAdmin) --------------


class HolidayRangeForm(forms.Form):
    """One festival block of the State Council's notice: a name and a date range."""

    name = forms.CharField(label=gettext_lazy("假期名称"), max_length=50, required=False)
    start = forms.DateField(
        label=gettext_lazy("开始日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    end = forms.DateField(
        label=gettext_lazy("结束日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def clean(self):
        data = super().clean()
        filled = [data.get(f) not in (None, "") for f in ("name", "start", "end")]
        if any(filled) and not all(filled):
            # A half-filled row is a mistake, an empty one is just a spare row.
            raise forms.ValidationError(_("请同时填写假期名称、开始日期和结束日期"))
        return data


HolidayRangeFormSet = forms.formset_factory(HolidayRangeForm, extra=3)


class CalendarYearEntryForm(forms.Form):
    year = forms.IntegerField(label=gettext_lazy("所录年度"), min_value=2000, max_value=2099)
    make_up_days = forms.CharField(
        label=gettext_lazy("调休上班日"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "class": "vLargeTextField"}),
        help_text=gettext_lazy("每行一个日期，日期后可写说明，如：2027-02-07 春节调休上班"),
    )
    source = forms.CharField(
        label=gettext_lazy("通知名称或文号"),
        max_length=200,
        widget=forms.TextInput(attrs={"class": "vTextField"}),
    )

    def clean_make_up_days(self) -> list:
        from qcity.core.services import MakeUpDay

        days = []
        for number, line in enumerate(self.cleaned_data["make_up_days"].splitlines(), start=1):
            if not line.strip():
                continue
            text, _sep, name = line.strip().partition(" ")
            try:
                day = dt.date.fromisoformat(text.strip())
            except ValueError:
                raise forms.ValidationError(
                    _("第 %(line)d 行：无法识别的日期“%(text)s”（格式如 2027-02-07）")
                    % {"line": number, "text": text[:20]}
                ) from None
            days.append(MakeUpDay(date=day, name=name.strip()[:50]))
        return days
