"""Forms of the officers' pages: the list's filters and one small form per workflow step.

The forms only shape the input (types, lengths, choices offered); whether a step may be
taken, and with which ground, is decided by the step itself in ``core.workflow.take``,
whose Chinese refusal is shown beside the form.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from qcity.complaints.models import Case, Suspension
from qcity.complaints.selectors import MAX_DUE_WITHIN, CaseFilter, StepChoices

MAX_REASON = 500


class CaseFilterForm(forms.Form):
    """The list's filters (GET). A value that does not parse is reported and not applied."""

    kind = forms.ChoiceField(label=_("类型"), required=False)
    status = forms.ChoiceField(label=_("状态"), required=False)
    overdue = forms.BooleanField(label=_("仅看已超期"), required=False)
    due_within = forms.IntegerField(
        label=_("几个工作日内到期"), required=False, min_value=0, max_value=MAX_DUE_WITHIN
    )
    unit = forms.TypedChoiceField(label=_("承办单位"), required=False, coerce=int)
    received_from = forms.DateField(label=_("收到日期自"), required=False)
    received_to = forms.DateField(label=_("收到日期至"), required=False)
    category = forms.TypedChoiceField(label=_("商品服务类别"), required=False, coerce=int)
    q = forms.CharField(
        label=_("编号、被投诉人名称或统一社会信用代码"), required=False, max_length=60
    )
    phone = forms.CharField(label=_("投诉人电话（完整号码）"), required=False, max_length=20)

    def __init__(self, data, *, units, categories) -> None:
        super().__init__(data)
        everything = [("", _("全部"))]
        self.fields["kind"].choices = everything + list(Case.Kind.choices)
        self.fields["status"].choices = everything + list(Case.Status.choices)
        self.fields["unit"].choices = everything + [(u.pk, u.name) for u in units]
        self.fields["category"].choices = everything + [(c.pk, c.name) for c in categories]

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        digits = phone.replace(" ", "").replace("-", "")
        if phone and not (digits.lstrip("+").isascii() and digits.lstrip("+").isdigit()):
            raise forms.ValidationError(_("请输入完整的电话号码（仅数字），按号码精确查找。"))
        return phone

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("received_from"), data.get("received_to")
        if start and end and start > end:
            self.add_error("received_to", _("结束日期不能早于开始日期。"))
        return data

    def to_filter(self) -> CaseFilter:
        """The filter the valid fields make (invalid fields are left out, not guessed)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})

        def ok(name: str) -> Any:
            return None if name in self.errors else data.get(name)

        return CaseFilter(
            kind=ok("kind") or "",
            status=ok("status") or "",
            overdue=bool(ok("overdue")),
            due_within=ok("due_within"),
            unit=ok("unit") or None,
            received_from=ok("received_from"),
            received_to=ok("received_to"),
            category=ok("category") or None,
            q=(ok("q") or "").strip(),
            phone=ok("phone") or "",
        )


# --- step forms -----------------------------------------------------------------------------

# The parameters each step's form asks for, beyond the reason every step may carry.
STEP_FIELDS: dict[str, tuple[str, ...]] = {
    "transfer": ("to_unit",),
    "designate": ("to_unit",),
    "refuse": ("ground",),
    "terminate": ("ground",),
    "mediate": ("mode", "mediator"),
    "change_mediator": ("mediator",),
    "suspend": ("suspension", "note"),
    "agree": ("agreement_kind", "amount_recovered"),
    "notify": ("channel",),
    "supplement": ("facts",),
}

CHANNELS = [
    ("sms", _("短信")),
    ("phone", _("电话")),
    ("mail", _("邮寄")),
    ("counter", _("当面送达")),
    ("platform", _("全国12315平台")),
]


class StepForm(forms.Form):
    """One step's small form; the fields depend on the step, the choices on the case."""

    reason = forms.CharField(
        label=_("理由或说明"),
        required=False,
        max_length=MAX_REASON,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, data=None, *, step, choices: StepChoices, prefix: str = "") -> None:
        super().__init__(data, prefix=prefix or step.name)
        self.step = step
        if step.reason_required:
            self.fields["reason"].required = True
            self.fields["reason"].label = _("理由（必填）")
        for name in STEP_FIELDS.get(step.name, ()):
            self.fields[name] = self._field(name, step.name, choices)

    @staticmethod
    def _field(name: str, step_name: str, choices: StepChoices) -> forms.Field:
        if name == "to_unit":
            return forms.TypedChoiceField(
                label=_("转至单位"),
                coerce=int,
                choices=[("", "—")] + [(u.pk, u.name) for u in choices.units],
            )
        if name == "ground":
            grounds = choices.refusal if step_name == "refuse" else choices.termination
            items = list(grounds.items) if grounds else []
            label = (
                _("不予受理情形（%(article)s）")
                if step_name == "refuse"
                else _("终止调解情形（%(article)s）")
            ) % {"article": grounds.article if grounds else ""}
            return forms.ChoiceField(
                label=label,
                choices=[("", "—")] + [(code, f"（{code}）{text}") for code, text in items],
            )
        if name == "mode":
            return forms.ChoiceField(
                label=_("调解方式"),
                choices=[(m.value, m.label) for m in Case.MediationMode if m.value],
            )
        if name == "mediator":
            return forms.TypedChoiceField(
                label=_("调解人员"),
                coerce=int,
                required=step_name == "change_mediator",
                choices=[("", _("本人"))]
                + [(u.pk, u.display_name or u.username) for u in choices.mediators],
            )
        if name == "suspension":
            return forms.ChoiceField(label=_("中止原因"), choices=Suspension.Reason.choices)
        if name == "note":
            return forms.CharField(label=_("中止说明"), required=False, max_length=300)
        if name == "agreement_kind":
            return forms.ChoiceField(
                label=_("调解协议形式"),
                choices=[(k.value, k.label) for k in Case.AgreementKind if k.value],
            )
        if name == "amount_recovered":
            return forms.DecimalField(
                label=_("挽回经济损失（元）"),
                required=False,
                min_value=0,
                max_digits=12,
                decimal_places=2,
            )
        if name == "channel":
            return forms.ChoiceField(label=_("送达方式"), choices=CHANNELS)
        if name == "facts":
            return forms.CharField(
                label=_("补充的事实"),
                max_length=5000,
                widget=forms.Textarea(attrs={"rows": 3}),
            )
        raise LookupError(name)

    def params(self) -> dict[str, Any]:
        """The step's parameters as ``take`` passes them to the step's hooks.

        Ids go as text (as the API sends them); the hooks look the rows up themselves.
        """
        data = dict(self.cleaned_data)
        data.pop("reason", None)
        out: dict[str, Any] = {}
        for name, value in data.items():
            if value in (None, ""):
                continue
            if name == "suspension":
                out["suspension_reason"] = value
            elif name in ("to_unit", "mediator"):
                out[name] = str(value)
            else:
                out[name] = value
        return out
