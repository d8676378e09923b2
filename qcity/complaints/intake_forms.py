"""Forms of intake: the public form, the staff entry form and the follow form.

They only collect and render: every check is ``intake.submit``'s (one set of rules for the
portal, the staff page and the API); its refusals are put back on the fields they name.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from qcity.complaints import intake
from qcity.complaints.models import Case, Category, IssueType, Submission

KIND_CHOICES = [
    ("complaint", _("投诉（请求调解消费纠纷）")),
    ("report", _("举报（反映违法行为线索）")),
    ("both", _("投诉并举报")),
]
STAFF_CHANNELS = [
    (Submission.Channel.PHONE, Submission.Channel.PHONE.label),
    (Submission.Channel.COUNTER, Submission.Channel.COUNTER.label),
    (Submission.Channel.LETTER, Submission.Channel.LETTER.label),
]


def _text(label, max_length: int | None = None, *, area: bool = False, help_text: str = ""):
    # No max_length on the field: the service answers "too_long" with the real limit, and
    # the browser's maxlength attribute is only a convenience.
    attrs = {"class": "form-control"}
    if max_length:
        attrs["maxlength"] = str(max_length)
    widget = forms.Textarea(attrs={**attrs, "rows": 4}) if area else forms.TextInput(attrs)
    return forms.CharField(
        label=label, required=False, strip=False, widget=widget, help_text=help_text
    )


class IntakeForm(forms.Form):
    kinds = forms.ChoiceField(
        label=_("您要"),
        choices=KIND_CHOICES,
        initial="complaint",
        required=False,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    anonymous = forms.BooleanField(
        label=_("匿名举报（不留姓名和联系方式；投诉不能匿名）"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    person_name = _text(_("姓名"), 50)
    person_phone = _text(_("联系电话"), 30, help_text=_("11位手机号码，或带区号的固定电话"))
    person_id_number = _text(_("身份证号码（选填）"), 18)
    person_address = _text(_("通讯地址"), 300)
    respondent_code = _text(
        _("被投诉（举报）人统一社会信用代码"),
        18,
        help_text=_("填写代码可直接从市场主体名录中找到经营者；不知道代码请填写名称和地址"),
    )
    respondent_name = _text(_("被投诉（举报）人名称"), 200)
    respondent_address = _text(_("被投诉（举报）人经营地址"), 300)
    platform_name = _text(_("电子商务平台名称（网购时填写）"), 200)
    platform_code = _text(_("电子商务平台统一社会信用代码（选填）"), 18)
    category = forms.ChoiceField(
        label=_("商品服务类别"),
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    issue_type = forms.ChoiceField(
        label=_("问题类别"),
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    goods = _text(_("商品或服务名称"), 100)
    amount = _text(_("涉及金额（元）"), 20)
    incident_on = forms.CharField(
        label=_("消费（发现）日期"),
        required=False,
        widget=forms.DateInput(attrs={"class": "form-control", "type": "date"}),
    )
    request = _text(_("投诉请求"), intake.TEXT_LIMITS["request"], area=True)
    facts = _text(_("事实与理由"), intake.TEXT_LIMITS["facts"], area=True)
    consents_to_publication = forms.BooleanField(
        label=_("同意在去除个人信息后公示本投诉的处理情况"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        blank = [("", _("（请选择）"))]
        self.fields["category"].choices = blank + [
            (c.code, f"{c.get_kind_display()} · {c.name}") for c in Category.objects.enabled()
        ]
        self.fields["issue_type"].choices = blank + [
            (t.code, t.name) for t in IssueType.objects.enabled()
        ]

    def submit_fields(self) -> dict:
        """The values as ``intake.submit`` takes them (raw: the service checks them)."""
        data = self.data
        values = {name: data.get(name, "") for name in self.fields if name in intake.LABELS}
        values["kinds"] = data.get("kinds", "")
        values["anonymous"] = data.get("anonymous", "")
        values["consents_to_publication"] = data.get("consents_to_publication", "")
        return values

    def add_refusal(self, refused: intake.IntakeRefused) -> None:
        for error in refused.errors:
            # Files and the whole submission have no field of their own: shown on top.
            self.add_error(error.field if error.field in self.fields else None, error.message)


class StaffIntakeForm(IntakeForm):
    channel = forms.ChoiceField(
        label=_("来源渠道"),
        choices=STAFF_CHANNELS,
        initial=Submission.Channel.PHONE,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    received_at = forms.DateTimeField(
        label=_("接收时间（默认现在）"),
        required=False,
        widget=forms.DateTimeInput(
            attrs={"class": "form-control", "type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
        ),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
    )
    confirm_duplicate = forms.BooleanField(
        label=_("已核对上面的相似件，仍然登记为新件"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )


class FollowForm(forms.Form):
    number = forms.CharField(
        label=_("投诉举报编号"),
        max_length=30,
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off"}),
    )
    code = forms.CharField(
        label=_("查询码"),
        max_length=30,
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off"}),
    )


STATUS_FOR_PERSON = {
    # What the complainant reads: the state of the case, nothing of the other side's reply.
    Case.Status.ODR: _("已转经营者先行和解（在线消费纠纷解决）"),
    Case.Status.RECEIVED: _("已收到，等待受理"),
    Case.Status.DISPUTED: _("正在确定承办单位"),
    Case.Status.ACCEPTED: _("已受理，等待调解"),
    Case.Status.MEDIATING: _("调解中"),
    Case.Status.SUSPENDED: _("调解中（鉴定检测期间暂停计时）"),
    Case.Status.VERIFYING: _("核查中"),
    Case.Status.NOTIFYING: _("已作出处理决定，正在告知"),
    Case.Status.CLOSED: _("已办结"),
}
