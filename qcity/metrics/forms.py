from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from qcity.core.models import OrgUnit, User
from qcity.core.scope import scoped


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (Django's documented recipe); core.files checks each."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data]
        return [] if data in (None, "") else [super().clean(data, initial)]


class ValueForm(forms.Form):
    # Text fields: the service gives the specific message (格式, 单位, 范围) in one place
    # for the page and the API alike.
    period = forms.CharField(label=_("统计期"), max_length=7)
    org_unit = forms.ModelChoiceField(
        label=_("单位"),
        queryset=OrgUnit.objects.none(),
        required=False,
        empty_label=_("责任单位（全市）"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    value = forms.CharField(label=_("数值"), max_length=40)
    unit = forms.CharField(label=_("计量单位"), max_length=20, required=False)
    evidence_note = forms.CharField(
        label=_("佐证说明"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    evidence = MultipleFileField(label=_("佐证材料"), required=False)

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Figures per unit: any unit the user may see (the coordinator: every unit).
        self.fields["org_unit"].queryset = scoped(
            user, OrgUnit.objects.enabled().filter(confirmed=True)
        ).order_by("path")
