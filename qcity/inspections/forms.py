"""Forms of the yearly-plan and batch pages; the rules (and their Chinese messages) live in
``services.check_batch_spec``, which the API calls too, so each form only parses input."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qcity.core.models import OrgUnit
from qcity.inspections import selectors
from qcity.inspections.models import Batch, CheckItem, InspectionPlan
from qcity.inspections.services import QUOTA_CLASSES, BatchInvalid, BatchSpec, check_batch_spec
from qcity.registry.models import MarketEntity

_TEXT = {"class": "form-control"}
_NUMBER = {"class": "form-control", "inputmode": "numeric"}
_CHECK = {"class": "form-check-input"}
_DATE = {"class": "form-control", "type": "date"}
PARTICIPANT_ROWS = 3
# Form-field suffix of each risk class ("-", unclassified, is not a valid name part).
CLASS_FIELD = {"A": "A", "B": "B", "C": "C", "D": "D", "-": "U"}
QUOTA_MODES = [
    ("", _("不抽取")),
    ("default", _("按事项默认比例")),
    ("ratio", _("按比例（%）")),
    ("count", _("按数量（户）")),
]
_SEPARATORS = re.compile(r"[\s,，、;；]+")


class PlanForm(forms.Form):
    """新建年度抽查工作计划 (owned by the user's unit)."""

    year = forms.IntegerField(label=_("年度"), widget=forms.NumberInput(attrs=_NUMBER))
    title = forms.CharField(
        label=_("计划名称"), max_length=200, widget=forms.TextInput(attrs=_TEXT)
    )
    note = forms.CharField(
        label=_("说明"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["year"].initial = timezone.localdate().year


def quota_field(cls: str) -> str:
    return f"quota_{CLASS_FIELD[cls]}"


def quota_label(cls: str) -> str:
    return str(_("未分类")) if cls == "-" else str(MarketEntity.RiskClass(cls).label)


class BatchForm(forms.Form):
    """A batch's parameters, while it is 草稿."""

    title = forms.CharField(
        label=_("批次名称"), max_length=200, widget=forms.TextInput(attrs=_TEXT)
    )
    check_items = forms.ModelMultipleChoiceField(
        label=_("抽查事项"),
        queryset=CheckItem.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs=_CHECK),
    )
    region_codes = forms.MultipleChoiceField(
        label=_("区县"), required=False, widget=forms.CheckboxSelectMultiple(attrs=_CHECK)
    )
    industry_prefixes = forms.CharField(
        label=_("行业代码（前缀）"),
        required=False,
        max_length=500,
        help_text=_("GB/T 4754 门类或代码前缀，多个用逗号分隔，如 F52, C14；留空为不限"),
        widget=forms.TextInput(attrs=_TEXT),
    )
    kinds = forms.MultipleChoiceField(
        label=_("主体类型"),
        required=False,
        choices=MarketEntity.Kind.choices,
        help_text=_("不选为不限"),
        widget=forms.CheckboxSelectMultiple(attrs=_CHECK),
    )
    statuses = forms.MultipleChoiceField(
        label=_("登记状态"),
        required=False,
        choices=MarketEntity.Status.choices,
        initial=[MarketEntity.Status.ACTIVE],
        help_text=_("不选为不限"),
        widget=forms.CheckboxSelectMultiple(attrs=_CHECK),
    )
    window_start = forms.DateField(
        label=_("检查开始日期"), widget=forms.DateInput(attrs=_DATE, format="%Y-%m-%d")
    )
    window_end = forms.DateField(
        label=_("检查结束日期"), widget=forms.DateInput(attrs=_DATE, format="%Y-%m-%d")
    )
    exclude_checked_within_days = forms.IntegerField(
        label=_("排除近期已检查（天）"),
        initial=365,
        help_text=_("在此天数内已就同一事项检查过的主体不参加抽取；0 为不排除"),
        widget=forms.NumberInput(attrs=_NUMBER),
    )
    min_inspectors = forms.IntegerField(
        label=_("每户检查人员数"),
        initial=2,
        help_text=_("不少于 2 人；联合参与部门按下表派出，其余由制定单位派出"),
        widget=forms.NumberInput(attrs=_NUMBER),
    )

    def __init__(
        self, *args: Any, plan: InspectionPlan, batch: Batch | None = None, **kwargs: Any
    ) -> None:
        if batch is not None and "initial" not in kwargs:
            kwargs["initial"] = initial_of(batch)
        super().__init__(*args, **kwargs)
        self.plan, self.batch = plan, batch
        self.spec: BatchSpec | None = None
        self.warnings: list[str] = []
        items = Q(disabled_on__isnull=True)
        if batch is not None:
            # A disabled item already on the batch stays selectable, so saving keeps it.
            items |= Q(pk__in=batch.check_items.values("pk"))
        self.fields["check_items"].queryset = CheckItem.objects.filter(items).order_by(
            "sort_order", "code"
        )
        self.fields["check_items"].label_from_instance = item_label
        counties = selectors.jurisdiction_counties(plan.owner_unit)
        self.fields["region_codes"].choices = [(c.code, c.name) for c in counties]
        if batch is None and not self.is_bound:
            self.initial.setdefault("region_codes", [c.code for c in counties])
            self.initial.setdefault("window_start", timezone.localdate())
        for cls in QUOTA_CLASSES:
            name = quota_field(cls)
            self.fields[name] = forms.ChoiceField(
                label=quota_label(cls),
                choices=QUOTA_MODES,
                required=False,
                initial="default" if batch is None else "",
                widget=forms.Select(attrs={"class": "form-select"}),
            )
            self.fields[f"{name}_value"] = forms.CharField(
                label=_("%(cls)s：比例（%%）或数量") % {"cls": quota_label(cls)},
                required=False,
                max_length=20,
                widget=forms.TextInput(attrs={"class": "form-control", "inputmode": "decimal"}),
            )
        departments = OrgUnit.objects.filter(
            kind=OrgUnit.Kind.DEPARTMENT, confirmed=True, disabled_on__isnull=True
        ).order_by("sort_order", "name")
        # One spare row beyond the batch's own participants (at least PARTICIPANT_ROWS).
        existing = batch.participants.count() if batch is not None else 0
        self.participant_count = max(PARTICIPANT_ROWS, existing + 1)
        for i in range(1, self.participant_count + 1):
            self.fields[f"participant_{i}"] = forms.ModelChoiceField(
                label=_("联合参与部门 %(n)d") % {"n": i},
                queryset=departments,
                required=False,
                empty_label=_("（无）"),
                widget=forms.Select(attrs={"class": "form-select"}),
            )
            self.fields[f"participant_{i}_count"] = forms.IntegerField(
                label=_("部门 %(n)d 每户派出人数") % {"n": i},
                required=False,
                initial=1,
                widget=forms.NumberInput(attrs=_NUMBER),
            )

    # --- groups for the template ---

    def quota_rows(self) -> list[tuple[str, forms.BoundField, forms.BoundField]]:
        return [
            (quota_label(c), self[quota_field(c)], self[f"{quota_field(c)}_value"])
            for c in QUOTA_CLASSES
        ]

    def participant_rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [
            (self[f"participant_{i}"], self[f"participant_{i}_count"])
            for i in range(1, self.participant_count + 1)
        ]

    def participant_errors(self) -> list[str]:
        return list(self.errors.get("participants", []))

    # --- parsing ---

    def clean_industry_prefixes(self) -> list[str]:
        text = unicodedata.normalize("NFKC", self.cleaned_data.get("industry_prefixes") or "")
        return [p.upper() for p in _SEPARATORS.split(text) if p]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        needed = ("title", "window_start", "window_end", "exclude_checked_within_days")
        if self.errors or any(data.get(k) in (None, "") for k in needed):
            return data
        if data.get("min_inspectors") is None:
            return data
        participants = []
        for i in range(1, self.participant_count + 1):
            unit = data.get(f"participant_{i}")
            if unit is not None:
                count = data.get(f"participant_{i}_count")
                participants.append((unit, 1 if count is None else count))
        self.spec = BatchSpec(
            title=data["title"],
            check_items=list(data.get("check_items") or []),
            region_codes=list(data.get("region_codes") or []),
            industry_prefixes=data.get("industry_prefixes") or [],
            kinds=list(data.get("kinds") or []),
            statuses=list(data.get("statuses") or []),
            window_start=data["window_start"],
            window_end=data["window_end"],
            quotas={
                cls: (
                    data.get(quota_field(cls)) or "",
                    (data.get(f"{quota_field(cls)}_value") or "").strip(),
                )
                for cls in QUOTA_CLASSES
            },
            exclude_checked_within_days=data["exclude_checked_within_days"],
            min_inspectors=data["min_inspectors"],
            participants=participants,
        )
        try:
            self.warnings = check_batch_spec(self.plan, self.spec, self.batch).warnings
        except BatchInvalid as exc:
            self.spec = None
            self.add_error(form_field_of(exc), exc.message)
        return data


def item_label(item: CheckItem) -> str:
    """``SJ-001 企业公示信息情况检查（一般检查事项，默认 3%）``: what the choice needs to show."""
    if item.default_ratio is not None:
        ratio = _("默认 %(r)s%%") % {"r": format(item.default_ratio.normalize(), "f")}
    else:
        ratio = _("不设上限")
    disabled = _("，已停用") if item.disabled_on is not None else ""
    return f"{item.code} {item.name}（{item.get_kind_display()}，{ratio}{disabled}）"


def form_field_of(exc: BatchInvalid) -> str | None:
    """The form field a service refusal belongs to (None: above the form)."""
    name = exc.field or ""
    if name.startswith("quota_"):
        return quota_field(name.removeprefix("quota_"))
    if name == "participants":
        return "participant_1"
    return name if name in BatchForm.base_fields else None


def initial_of(batch: Batch) -> dict[str, Any]:
    """The form's initial values from a stored batch."""
    population = batch.population_filter or {}
    initial: dict[str, Any] = {
        "title": batch.title,
        "check_items": list(batch.check_items.values_list("pk", flat=True)),
        "region_codes": population.get("region_codes", []),
        "industry_prefixes": ", ".join(population.get("industry_prefixes", [])),
        "kinds": population.get("kinds", []),
        "statuses": population.get("statuses", []),
        "window_start": batch.window_start,
        "window_end": batch.window_end,
        "exclude_checked_within_days": batch.exclude_checked_within_days,
        "min_inspectors": batch.min_inspectors,
    }
    for cls in QUOTA_CLASSES:
        quota = (batch.quotas or {}).get(cls) or {}
        mode = "ratio" if "ratio" in quota else "count" if "count" in quota else ""
        initial[quota_field(cls)] = mode
        initial[f"{quota_field(cls)}_value"] = str(quota.get(mode, "")) if mode else ""
    for i, participant in enumerate(batch.participants.order_by("pk"), start=1):
        initial[f"participant_{i}"] = participant.unit_id
        initial[f"participant_{i}_count"] = participant.inspectors_per_task
    return initial
