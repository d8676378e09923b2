"""Forms of the plan pages (the coordinator's edits)."""

from __future__ import annotations

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from qcity.core.models import OrgUnit
from qcity.plans.models import SubTask

PHONE = RegexValidator(r"^[0-9+\- ]{3,30}$", _("请填写有效的电话号码（数字、空格、+ 或 -）。"))


class SubTaskForm(forms.ModelForm):
    class Meta:
        model = SubTask
        fields = ["title", "unit", "deadline", "contact_name", "contact_phone", "outputs"]
        widgets = {
            "deadline": forms.DateInput(attrs={"type": "date"}),
            "outputs": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = (
            OrgUnit.objects.enabled().filter(confirmed=True).order_by("path")
        )
        self.fields["contact_phone"].validators.append(PHONE)
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-control form-control-sm")
        self.fields["unit"].widget.attrs["class"] = "form-select form-select-sm"
