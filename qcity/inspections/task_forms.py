"""Forms of the task pages. They only shape the input: results.validate_result decides."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qcity.inspections.models import FollowUp, ResultCode
from qcity.inspections.results import CLOSING_RESOLUTIONS


class ResultForm(forms.Form):
    """录入（更正）检查结果: codes, findings, check date; files come as ``files`` uploads."""

    codes = forms.MultipleChoiceField(
        label=_("检查结果"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("可多选；“未发现问题”只能单独选择。"),
    )
    findings = forms.CharField(
        label=_("检查情况"),
        required=False,
        help_text=_("选择发现问题的结果时必填：写明发现的问题和处理情况。"),
        widget=forms.Textarea(attrs={"rows": 4, "class": "form-control"}),
    )
    check_date = forms.CharField(
        label=_("检查日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}),
    )
    reason = forms.CharField(
        label=_("更正理由"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
    )

    def __init__(self, *args, kept_codes: list[str] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Enabled codes, and a disabled one the result already carries (it may stay).
        rows = ResultCode.objects.filter(disabled_on__isnull=True) | ResultCode.objects.filter(
            code__in=list(kept_codes)
        )
        self.fields["codes"].choices = [
            (rc.code, rc.name) for rc in rows.order_by("sort_order", "code").distinct()
        ]
        self.fields["check_date"].widget.attrs["max"] = timezone.localdate().isoformat()


class CloseFollowUpForm(forms.Form):
    resolution = forms.ChoiceField(
        label=_("办结方式"),
        choices=[(r.value, r.label) for r in CLOSING_RESOLUTIONS],
        required=False,
        widget=forms.RadioSelect,
    )
    outcome = forms.CharField(
        label=_("处理结果"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "class": "form-control"}),
    )


FOLLOW_UP_STATUSES = FollowUp.Status.choices
