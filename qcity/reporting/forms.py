"""The forms of the reporting pages; the services give the specific Chinese refusals."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qcity.core.models import User
from qcity.core.scope import scoped
from qcity.plans.models import Plan
from qcity.reporting.models import Progress
from qcity.reporting.periods import Frequency

_NUMBER = {"class": "form-control", "inputmode": "numeric"}


class CycleForm(forms.Form):
    """开启报送周期: the plan, the period and its working-day rules."""

    plan = forms.ModelChoiceField(
        label=_("实施方案"),
        queryset=Plan.objects.none(),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    frequency = forms.ChoiceField(
        label=_("报送频次"),
        choices=Frequency.choices,
        initial=Frequency.QUARTERLY,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    year = forms.IntegerField(label=_("年度"), widget=forms.NumberInput(attrs=_NUMBER))
    period = forms.IntegerField(
        label=_("期数"),
        initial=1,
        help_text=_("月报 1–12，季报 1–4，半年报 1–2，年报 1"),
        widget=forms.NumberInput(attrs=_NUMBER),
    )
    due_workdays = forms.IntegerField(
        label=_("报送时限（期末后工作日）"), initial=10, widget=forms.NumberInput(attrs=_NUMBER)
    )
    on_time_workdays = forms.IntegerField(
        label=_("按时报送时限（工作日）"),
        required=False,
        help_text=_("留空则与报送时限相同"),
        widget=forms.NumberInput(attrs=_NUMBER),
    )
    reminder_workdays = forms.IntegerField(
        label=_("截止前提醒（工作日）"), initial=3, widget=forms.NumberInput(attrs=_NUMBER)
    )
    escalation_workdays = forms.IntegerField(
        label=_("逾期督办间隔（工作日）"), initial=2, widget=forms.NumberInput(attrs=_NUMBER)
    )

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Plans the user may read; open_cycle refuses one the user does not coordinate.
        self.fields["plan"].queryset = scoped(user, Plan.objects.all()).order_by("-imported_at")
        self.fields["year"].initial = timezone.localdate().year
        if not self.is_bound and self.fields["plan"].queryset.count() == 1:
            self.fields["plan"].initial = self.fields["plan"].queryset.get().pk


class ReportForm(forms.Form):
    """The unit's report: 推进情况, 进展情况; key figures come as rows (figure_name …)."""

    progress = forms.ChoiceField(
        label=_("推进情况"),
        choices=Progress.choices,
        required=False,
        widget=forms.RadioSelect,
    )
    narrative = forms.CharField(
        label=_("进展情况"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "class": "form-control"}),
    )


def figures_from(data) -> list[dict[str, str]]:
    """The key-figure rows of a POST, in order (the service checks and cleans them)."""
    names = data.getlist("figure_name")
    values = data.getlist("figure_value")
    units = data.getlist("figure_unit")
    rows = []
    for i, name in enumerate(names):
        value = values[i] if i < len(values) else ""
        unit = units[i] if i < len(units) else ""
        rows.append({"name": name, "value": value, "unit": unit})
    return rows
