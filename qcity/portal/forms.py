"""The public search form: every field optional, each bad value a specific Chinese error."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from qcity.core.orgdata import COUNTIES


class ResultSearchForm(forms.Form):
    q = forms.CharField(
        label=_("市场主体名称或统一社会信用代码"),
        required=False,
        max_length=100,
        error_messages={"max_length": _("搜索内容不能超过 %(limit_value)d 个字。")},
    )
    county = forms.ChoiceField(
        label=_("县（市、区）"),
        required=False,
        choices=[("", _("全部"))] + [(code, name) for code, name in COUNTIES],
        error_messages={"invalid_choice": _("没有这个县（市、区）。")},
    )
    date_from = forms.DateField(
        label=_("检查日期自"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("日期格式应为 2026-09-01。")},
    )
    date_to = forms.DateField(
        label=_("检查日期至"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("日期格式应为 2026-09-01。")},
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        for name in ("date_from", "date_to"):
            day = data.get(name)
            if day is not None and not dt.date(2000, 1, 1) <= day <= dt.date(2099, 12, 31):
                self.add_error(name, _("日期应在 2000 至 2099 年之间。"))
        if start and end and start > end:
            self.add_error("date_to", _("结束日期不能早于开始日期。"))
        return data

    @property
    def searching(self) -> bool:
        return any(self.data.get(name) for name in self.fields)
