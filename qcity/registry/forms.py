"""The forms of the register pages; the services give the specific Chinese refusals."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from qcity.core.models import User
from qcity.registry import selectors
from qcity.registry.models import MarketEntity
from qcity.registry.search import MAX_QUERY_CHARS

_SELECT = {"class": "form-select"}
_TEXT = {"class": "form-control"}


ANY = _("全部")


def _any(choices) -> list[tuple[str, str]]:
    return [("", ANY), *choices]


class EntitySearchForm(forms.Form):
    """检查对象名录: the search box and the filters (GET; every field optional)."""

    q = forms.CharField(
        label=_("名称或统一社会信用代码"),
        required=False,
        max_length=MAX_QUERY_CHARS,
        widget=forms.TextInput(
            attrs={**_TEXT, "type": "search", "placeholder": _("如：奶粉、开原市、91211282")}
        ),
    )
    region_code = forms.ChoiceField(
        label=_("区县"),
        required=False,
        choices=_any(selectors.COUNTY_CHOICES),
        widget=forms.Select(attrs=_SELECT),
    )
    risk_class = forms.ChoiceField(
        label=_("信用风险分类"),
        required=False,
        choices=_any([*MarketEntity.RiskClass.choices, (selectors.UNCLASSIFIED, _("未分类"))]),
        widget=forms.Select(attrs=_SELECT),
    )
    status = forms.ChoiceField(
        label=_("登记状态"),
        required=False,
        choices=_any(MarketEntity.Status.choices),
        widget=forms.Select(attrs=_SELECT),
    )
    kind = forms.ChoiceField(
        label=_("主体类型"),
        required=False,
        choices=_any(MarketEntity.Kind.choices),
        widget=forms.Select(attrs=_SELECT),
    )
    industry = forms.ChoiceField(
        label=_("行业"),
        required=False,
        choices=_any([(c, f"{c} {n}") for c, n in selectors.INDUSTRY_SECTIONS]),
        widget=forms.Select(attrs=_SELECT),
    )
    flags = forms.MultipleChoiceField(
        label=_("名单"),
        required=False,
        choices=[("abnormal", _("经营异常名录")), ("serious", _("严重违法失信名单"))],
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )

    def __init__(self, *args, user: User | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if user is not None:
            self.fields["region_code"].choices = _any(selectors.county_choices(user))

    def to_filter(self) -> selectors.EntityFilter:
        data = self.cleaned_data
        return selectors.EntityFilter(
            q=data.get("q") or "",
            region_code=data.get("region_code") or "",
            risk_class=data.get("risk_class") or "",
            status=data.get("status") or "",
            kind=data.get("kind") or "",
            industry=data.get("industry") or "",
            flags=list(data.get("flags") or []),
        )


class InspectorFilterForm(forms.Form):
    """执法人员名录: filter by name, unit, speciality and whether in the pool."""

    q = forms.CharField(
        label=_("姓名或执法证号"),
        required=False,
        max_length=MAX_QUERY_CHARS,
        widget=forms.TextInput(attrs={**_TEXT, "type": "search"}),
    )
    unit = forms.ModelChoiceField(
        label=_("所属单位"),
        required=False,
        queryset=selectors.OrgUnit.objects.none(),
        empty_label=_("全部"),
        widget=forms.Select(attrs=_SELECT),
    )
    speciality = forms.ModelChoiceField(
        label=_("专业领域"),
        required=False,
        queryset=selectors.specialities(),
        empty_label=_("全部"),
        widget=forms.Select(attrs=_SELECT),
    )
    active = forms.ChoiceField(
        label=_("状态"),
        required=False,
        choices=[("1", _("在库")), ("0", _("已停用")), ("all", _("全部"))],
        initial="1",
        widget=forms.Select(attrs=_SELECT),
    )

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = selectors.units_for_inspectors(user)

    def to_filter(self) -> selectors.InspectorFilter:
        data = self.cleaned_data
        active = {"1": True, "0": False, "all": None}.get(data.get("active") or "1", True)
        unit, speciality = data.get("unit"), data.get("speciality")
        return selectors.InspectorFilter(
            q=data.get("q") or "",
            unit=unit.pk if unit else None,
            speciality=speciality.pk if speciality else None,
            active=active,
        )


class InspectorForm(forms.Form):
    """Add or edit an inspector (the certificate number is fixed once added)."""

    name = forms.CharField(label=_("姓名"), max_length=50, widget=forms.TextInput(attrs=_TEXT))
    certificate_no = forms.CharField(
        label=_("执法证号"), max_length=30, widget=forms.TextInput(attrs=_TEXT)
    )
    org_unit = forms.ModelChoiceField(
        label=_("所属单位"),
        queryset=selectors.OrgUnit.objects.none(),
        widget=forms.Select(attrs=_SELECT),
    )
    specialities = forms.ModelMultipleChoiceField(
        label=_("专业领域"),
        required=False,
        queryset=selectors.specialities(),
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )

    def __init__(self, *args, user: User, editing: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["org_unit"].queryset = selectors.units_for_inspectors(user)
        if editing:
            del self.fields["certificate_no"]


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("原因"),
        max_length=200,
        widget=forms.TextInput(attrs=_TEXT),
    )


class ConflictForm(forms.Form):
    """申报回避: the entity by its code and the reason (行政处罚法第四十三条)."""

    entity_code = forms.CharField(
        label=_("市场主体统一社会信用代码"),
        max_length=40,
        widget=forms.TextInput(attrs={**_TEXT, "autocomplete": "off"}),
    )
    reason = forms.CharField(
        label=_("回避事由"),
        max_length=200,
        help_text=_("如：近亲属在该企业任职、曾在该企业工作、存在经济往来等"),
        widget=forms.TextInput(attrs=_TEXT),
    )
