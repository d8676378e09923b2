"""Forms of the officers' pages: the list's filters and one small form per workflow step.

The forms only shape the input (types, lengths, choices offered); whether a step may be
taken, and with which ground, is decided by the step itself in ``core.workflow.take``,
whose Chinese refusal is shown beside the form.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from qcity.complaints.models import Case, Payment, Suspension
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

# The parameters each step's form asks for, named as the step's hooks read them
# (``mediation``, ``routing``, ``reports``, ``casenotices``), beyond the reason every step
# may carry (``take``'s own, required where the step says so).
STEP_FIELDS: dict[str, tuple[str, ...]] = {
    "transfer": ("to_unit",),
    "designate": ("to_unit",),
    "dispute": ("with_unit",),
    "refuse": ("ground", "routes"),
    "terminate": ("ground",),
    "mediate": (
        "mode",
        "mediator",
        "entrusted_to",
        "complainant_consents",
        "respondent_consents",
        "consented_on",
    ),
    "change_mediator": ("mediator", "recusal_reason", "applied_by_party"),
    "suspend": ("kind", "started_on", "note", "recusal_reason"),
    "resume": ("ended_on", "granted", "mediator"),
    "agree": ("agreement_kind", "amount_recovered", "note", "document"),
    "notify": ("channel", "delivered_on"),
    "extend": ("approved_by", "approval_ref"),
    "supplement": ("facts", "received_on"),
    "repeat": ("original", "same_facts"),
    "file": ("decided_by", "decision_ref"),
    "not_file": ("decided_by", "decision_ref"),
}


def _date_field(label) -> forms.DateField:
    return forms.DateField(
        label=label, required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


def _unit_choices(units) -> list[tuple[Any, str]]:
    return [("", "—")] + [(u.pk, u.name) for u in units]


class StepForm(forms.Form):
    """One step's small form; the fields depend on the step, the choices on the case."""

    reason = forms.CharField(
        label=_("理由或说明"),
        required=False,
        max_length=MAX_REASON,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, data=None, files=None, *, step, choices: StepChoices) -> None:
        super().__init__(data, files, prefix=step.name)
        self.step = step
        if step.reason_required:
            self.fields["reason"].required = True
            self.fields["reason"].label = _("理由（必填）")
        for name in STEP_FIELDS.get(step.name, ()):
            field = self._field(name, step.name, choices)
            if field is not None:
                self.fields[name] = field
        # The reason last: the step's own fields are what the officer decides first.
        self.order_fields([*STEP_FIELDS.get(step.name, ()), "reason"])

    @property
    def has_files(self) -> bool:
        return any(isinstance(f, forms.FileField) for f in self.fields.values())

    @staticmethod
    def _field(name: str, step_name: str, choices: StepChoices) -> forms.Field | None:
        if name == "to_unit":
            label = _("指定承办单位") if step_name == "designate" else _("转至单位")
            return forms.TypedChoiceField(
                label=label, coerce=int, choices=_unit_choices(choices.units)
            )
        if name == "with_unit":
            return forms.TypedChoiceField(
                label=_("与之发生争议的单位"),
                coerce=int,
                choices=_unit_choices(choices.dispute_units),
            )
        if name == "ground":
            refusal = step_name == "refuse"
            grounds = choices.refusal if refusal else choices.termination
            items = list(grounds.items) if grounds else []
            label = (
                _("不予受理情形（%(article)s）") if refusal else _("终止调解情形（%(article)s）")
            )
            return forms.ChoiceField(
                label=label % {"article": grounds.article if grounds else ""},
                choices=[("", "—")] + [(code, f"（{code}）{text}") for code, text in items],
            )
        if name == "routes":
            return forms.MultipleChoiceField(
                label=_("告知投诉人的其他解决途径（消保法第三十九条）"),
                required=False,
                choices=choices.routes,
                initial=[code for code, _label in choices.routes],
                widget=forms.CheckboxSelectMultiple,
            )
        if name == "mode":
            return forms.ChoiceField(
                label=_("调解方式"),
                choices=[(m.value, m.label) for m in Case.MediationMode if m.value],
            )
        if name == "mediator":
            if step_name == "resume":
                label = _("准予回避时更换的调解人员")
            elif step_name == "change_mediator":
                label = _("新的调解人员")
            else:
                label = _("调解人员")
            first = _("本人") if step_name == "mediate" else "—"
            return forms.TypedChoiceField(
                label=label,
                coerce=int,
                required=False,
                choices=[("", first)]
                + [(u.pk, u.display_name or u.username) for u in choices.mediators],
            )
        if name == "entrusted_to":
            return forms.CharField(
                label=_("受托调解组织（委托消协调解时填写）"), required=False, max_length=200
            )
        if name == "complainant_consents":
            return forms.BooleanField(label=_("投诉人同意委托调解"), required=False)
        if name == "respondent_consents":
            return forms.BooleanField(label=_("被投诉人同意委托调解"), required=False)
        if name == "consented_on":
            return _date_field(_("双方同意日期"))
        if name == "recusal_reason":
            return forms.CharField(
                label=_("回避事由（回避时填写）") if step_name == "suspend" else _("回避事由"),
                required=step_name == "change_mediator",
                max_length=300,
            )
        if name == "applied_by_party":
            return forms.BooleanField(label=_("当事人申请回避"), required=False)
        if name == "kind":
            return forms.ChoiceField(label=_("中止原因"), choices=Suspension.Reason.choices)
        if name == "started_on":
            return _date_field(_("中止开始日期（默认今天）"))
        if name == "ended_on":
            return _date_field(_("中止结束日期（默认今天）"))
        if name == "granted":
            return forms.ChoiceField(
                label=_("回避申请的决定（有回避申请时）"),
                required=False,
                choices=[("", "—"), ("true", _("准予回避")), ("false", _("不予回避"))],
            )
        if name == "note":
            if step_name == "agree":
                return forms.CharField(
                    label=_("办理情况"),
                    required=False,
                    max_length=2000,
                    widget=forms.Textarea(attrs={"rows": 2}),
                )
            return forms.CharField(label=_("中止说明"), required=False, max_length=300)
        if name == "agreement_kind":
            return forms.ChoiceField(
                label=_("调解协议形式"),
                choices=[(k.value, k.label) for k in Case.AgreementKind if k.value],
            )
        if name == "amount_recovered":
            # Checked by the step (one rule for the page and the API): text here.
            return forms.CharField(label=_("挽回经济损失（元）"), required=False, max_length=20)
        if name == "document":
            return forms.FileField(label=_("调解书扫描件（PDF或图片）"), required=False)
        if name == "channel":
            return forms.ChoiceField(label=_("送达方式"), choices=[("", "—"), *choices.channels])
        if name == "delivered_on":
            return _date_field(_("送达日期（默认今天）"))
        if name == "approved_by":
            return forms.CharField(label=_("批准人（负责人）"), required=False, max_length=50)
        if name == "approval_ref":
            return forms.CharField(label=_("批准文书编号"), required=False, max_length=100)
        if name == "decided_by":
            return forms.CharField(label=_("决定人（负责人）"), required=False, max_length=50)
        if name == "decision_ref":
            return forms.CharField(label=_("审批文书编号"), required=False, max_length=100)
        if name == "facts":
            return forms.CharField(
                label=_("补充的事实"),
                max_length=5000,
                widget=forms.Textarea(attrs={"rows": 3}),
            )
        if name == "received_on":
            return _date_field(_("补充举报收到日期（默认今天）"))
        if name == "original":
            return forms.TypedChoiceField(
                label=_("原举报件"),
                coerce=int,
                choices=[("", "—")] + [(c.pk, c.number) for c in choices.originals],
            )
        if name == "same_facts":
            return forms.BooleanField(label=_("举报事实与原举报相同"), required=False)
        raise LookupError(name)

    def params(self) -> dict[str, Any]:
        """The step's parameters as ``take`` passes them to the step's hooks.

        Ids go as text (as the API sends them); the hooks look the rows up themselves.
        """
        out: dict[str, Any] = {}
        for name, value in self.cleaned_data.items():
            if name == "reason" or value in (None, "", []):
                continue
            out[name] = (
                str(value) if name in ("to_unit", "with_unit", "mediator", "original") else value
            )
        return out


# --- writes on a case that are not steps ----------------------------------------------------


class PaymentForm(forms.Form):
    """登记赔付: 先行赔付 or an agreement's payment (``services.record_payment`` decides)."""

    kind = forms.ChoiceField(
        label=_("赔付类型"),
        choices=[(k.value, k.label) for k in Payment.Kind if k != Payment.Kind.ODR],
    )
    amount = forms.CharField(label=_("金额（元）"), max_length=20)
    paid_on = forms.DateField(
        label=_("支付日期（默认今天）"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    note = forms.CharField(label=_("说明"), required=False, max_length=300)

    def __init__(self, data=None) -> None:
        super().__init__(data, prefix="payment")


class LeadForm(forms.Form):
    """登记违法线索: a violation found while mediating becomes a lead case of its own."""

    facts = forms.CharField(
        label=_("违法线索的事实"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, data=None) -> None:
        super().__init__(data, prefix="lead")
