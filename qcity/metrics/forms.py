from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class ValueForm(forms.Form):
    # Text fields: the service gives the specific message (格式, 单位, 范围) in one place
    # for the page and the API alike.
    period = forms.CharField(label=_("统计期"), max_length=7)
    value = forms.CharField(label=_("数值"), max_length=40)
    unit = forms.CharField(label=_("计量单位"), max_length=20, required=False)
    evidence_note = forms.CharField(
        label=_("佐证说明"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
