"""The officers' 12315 pages: the case list and its export, a case, its steps, the rulebook.

Thin views: reads through ``complaints.selectors`` (data scope: a county bureau sees its
county, the city bureau all), steps through ``core.workflow.take`` (the step's own rules
refuse with a Chinese message, shown beside its form), personal data in full only through
``services.reveal_person`` (audited). A case out of scope is 404 like an absent one; a user
who is not an officer (an enterprise, a department, an administrator) gets 403 here.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from qcity.complaints import selectors, services
from qcity.complaints.forms import CaseFilterForm, LeadForm, PaymentForm, StepForm
from qcity.complaints.models import Case, Suspension
from qcity.core import files, pii, rulebook, workflow
from qcity.core.exports import Column, xlsx_response
from qcity.core.models import User

PAGE_SIZE = 50


def officer_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Logged in, and a county or city bureau officer (the pages of case handling)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not selectors.is_officer(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return login_required(wrapped)


def _filter_form(request: HttpRequest) -> CaseFilterForm:
    return CaseFilterForm(
        request.GET or None,
        units=selectors.units_for_filter(request.user),
        categories=selectors.categories(),
    )


def _row(case: Case, today) -> dict[str, Any]:
    return {
        "case": case,
        "person": selectors.masked_person(case),
        "overdue": selectors.is_overdue(case, today),
    }


@require_safe
@officer_required
def case_list(request: HttpRequest) -> HttpResponse:
    """投诉举报: the cases of the user's scope, filtered, searched, paged, counted."""
    form = _filter_form(request)
    chosen = form.to_filter()
    rows = selectors.cases_for(request.user, chosen)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    today = selectors._today()
    counts = selectors.status_counts(request.user)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "complaints/case_list.html",
        {
            "form": form,
            "chosen": chosen,
            "page": page,
            "rows": [_row(c, today) for c in page.object_list],
            "total": sum(counts.values()),
            "status_counts": [(v, label, counts.get(v, 0)) for v, label in Case.Status.choices],
            "overdue_total": selectors.overdue_count(request.user),
            "query": query.urlencode(),
        },
    )


EXPORT_COLUMNS = [
    Column("编号", 20),
    Column("类型", 8),
    Column("状态", 14),
    Column("办理结果", 14),
    Column("收到日期", 12),
    Column("承办单位", 24),
    Column("投诉（举报）人", 12),
    Column("电话", 14),
    Column("被投诉（举报）人", 30),
    Column("统一社会信用代码", 22),
    Column("商品服务类别", 14),
    Column("商品或服务名称", 20),
    Column("涉及金额（元）", 12),
    Column("办理期限", 16),
    Column("期限依据", 30),
    Column("已超期", 8),
]


def _export_row(case: Case, today) -> list:
    person = selectors.masked_person(case)
    rule = rulebook.describe(case.due_rule) if case.due_rule else None
    return [
        case.number,
        case.get_kind_display(),
        case.get_status_display(),
        case.get_outcome_display() if case.outcome else "",
        case.received_on,
        case.owner_unit.name,
        _("匿名") if person.anonymous else person.name,
        person.phone,
        case.respondent_name,
        case.respondent_code,
        case.category.name if case.category else "",
        case.goods,
        case.amount,
        case.due_on,
        f"{rule.source}{rule.article}" if rule else case.due_rule,
        _("是") if selectors.is_overdue(case, today) else "",
    ]


@require_safe
@officer_required
def case_export(request: HttpRequest) -> HttpResponse:
    """The filtered list as XLSX: the same rows and scope as the page, personal data masked."""
    chosen = _filter_form(request).to_filter()
    rows = selectors.cases_for(request.user, chosen)
    today = selectors._today()
    return xlsx_response(
        request,
        what="complaints.cases",
        obj=None,
        title=_("投诉举报件"),
        sheet=_("投诉举报件"),
        columns=EXPORT_COLUMNS,
        rows=(_export_row(c, today) for c in rows.iterator(chunk_size=500)),
        filename="投诉举报件.xlsx",
    )


# --- one case -------------------------------------------------------------------------------


def _history(user, case: Case) -> list:
    flow = services.workflow_for(case)
    history = workflow.history(user, Case, case.pk)
    ids = {
        t.details.get(key)
        for t in history
        for key in ("mediator", "from_mediator")
        if isinstance(t.details, dict)
    }
    people = {
        u.pk: u.display_name or u.username
        for u in User.objects.filter(pk__in=[i for i in ids if isinstance(i, int)])
    }
    for t in history:
        try:
            t.step_label = str(flow.step(t.step).label)
        except LookupError:
            t.step_label = t.step
        t.from_label = flow.state_label(t.from_state)
        t.to_label = flow.state_label(t.to_state)
        t.detail_items = _detail_items(case, t.details or {}, people)
        t.deadline_source = rulebook.describe(t.deadline_rule) if t.deadline_rule else None
    return history


# The keys of a step's details (the hooks' contract) shown on the timeline, in this order.
DETAIL_LABELS = {
    "ground_text": _l("情形"),
    "routes_text": _l("告知的其他解决途径"),
    "mode": _l("调解方式"),
    "mediator": _l("调解人员"),
    "from_mediator": _l("原调解人员"),
    "entrusted_to": _l("受托调解组织"),
    "recusal_granted": _l("准予回避"),
    "kind": _l("中止原因"),
    "started_on": _l("中止开始日期"),
    "ended_on": _l("中止结束日期"),
    "days": _l("不计入天数"),
    "agreement_kind": _l("协议形式"),
    "amount_recovered": _l("挽回经济损失（元）"),
    "from_unit": _l("原承办单位"),
    "to_unit": _l("转至"),
    "with_unit": _l("争议单位"),
    "approved_by": _l("批准人"),
    "approval_ref": _l("批准文书编号"),
    "decided_by": _l("决定人"),
    "decision_ref": _l("审批文书编号"),
    "received_on": _l("补充举报收到日期"),
    "original": _l("原举报件"),
    "channel": _l("送达方式"),
    "delivered_on": _l("送达日期"),
    "agreed": _l("和解内容"),
    "amount": _l("金额（元）"),
}


def _detail_items(case: Case, details: dict[str, Any], people: dict[int, str]) -> list:
    """A step's recorded details in words (grounds, choices and people by their labels)."""
    from qcity.complaints.casenotices import DELIVERY_CHANNELS

    items = []
    for key, label in DETAIL_LABELS.items():
        value = details.get(key)
        if value in (None, "", []):
            continue
        if key == "ground_text":
            text = f"{details.get('article', '')}（{details.get('ground', '')}）{value}"
        elif key == "routes_text" and isinstance(value, list):
            text = "；".join(str(v) for v in value)
        elif key == "mode":
            text = str(dict(Case.MediationMode.choices).get(value, value))
        elif key == "agreement_kind":
            text = str(dict(Case.AgreementKind.choices).get(value, value))
        elif key == "kind":
            text = str(dict(Suspension.Reason.choices).get(value, value))
        elif key in ("mediator", "from_mediator"):
            text = people.get(value, str(value))
        elif key == "channel":
            text = str(DELIVERY_CHANNELS.get(value, value))
        elif isinstance(value, bool):
            text = _("是") if value else _("否")
        else:
            text = str(value)
        items.append((str(label), text))
    return items


def _outcome_ground(case: Case) -> str:
    if not case.outcome_ground:
        return ""
    name = {
        Case.Outcome.REFUSED: "complaint.refusal",
        Case.Outcome.TERMINATED: "complaint.termination",
    }.get(case.outcome)
    if name is None:
        return case.outcome_ground
    decided = timezone.localtime(case.status_changed_at).date() if case.status_changed_at else None
    try:
        g = rulebook.case_grounds(case.received_on, name, decided or case.received_on)
    except rulebook.RuleError:
        return case.outcome_ground
    return f"{g.article}（{case.outcome_ground}）{g.label(case.outcome_ground)}"


def _detail_context(request: HttpRequest, case: Case) -> dict[str, Any]:
    user = request.user
    flow = services.workflow_for(case)
    steps = flow.available_steps(case, user)
    choices = selectors.step_choices(user, case, {s.name for s in steps})
    history = _history(user, case)
    rule_of_case = rulebook.VERSION_LABELS.get(case.rules, case.rules)
    return {
        "case": case,
        "person": selectors.masked_person(case),
        "may_reveal": selectors.may_reveal_person(user, case),
        "deadline": selectors.deadline_info(case, history),
        "rules_label": rule_of_case,
        "rules_source": rulebook.ORDER121_TITLE
        if case.rules == rulebook.ORDER121
        else rulebook.ORDER20_TITLE,
        "applied_settings": selectors.applied_settings(case),
        "outcome_ground": _outcome_ground(case),
        "history": history,
        "transfers": list(case.transfers.select_related("from_unit", "to_unit", "by")),
        "suspensions": list(case.suspensions.all()),
        "recusals": list(case.recusals.select_related("mediator", "decided_by")),
        "payments": list(case.payments.select_related("recorded_by")),
        "notices": list(case.notices.all()),
        "attachments": list(files.attachments_of(case).select_related("uploaded_by")),
        "linked": selectors.linked_cases(user, case),
        "step_forms": [StepForm(step=s, choices=choices) for s in steps],
        "payment_form": PaymentForm() if selectors.may_record_payment(user, case) else None,
        "lead_form": LeadForm() if selectors.may_record_lead(user, case) else None,
        "overdue": selectors.is_overdue(case),
    }


@require_safe
@officer_required
def case_detail(request: HttpRequest, number: str) -> HttpResponse:
    case = selectors.get_case(request.user, number)
    return render(request, "complaints/case_detail.html", _detail_context(request, case))


@require_POST
@officer_required
def case_step(request: HttpRequest, number: str, step: str) -> HttpResponse:
    """Take one step from its form; a refusal re-renders the case with the message."""
    user = request.user
    case = selectors.get_case(user, number)
    flow = services.workflow_for(case)
    try:
        chosen = flow.step(step)
    except LookupError:
        raise Http404 from None
    choices = selectors.step_choices(user, case, {chosen.name})
    form = StepForm(request.POST, request.FILES, step=chosen, choices=choices)
    error, status = "", 400
    if form.is_valid():
        try:
            workflow.take(
                flow,
                chosen.name,
                case.pk,
                by=user,
                reason=form.cleaned_data.get("reason", ""),
                expected_state=request.POST.get("state") or None,
                **form.params(),
            )
        except workflow.NotFound:
            raise Http404 from None
        except workflow.WorkflowError as exc:
            error, status = exc.message, exc.status
        else:
            messages.success(request, _("已完成“%(step)s”。") % {"step": chosen.label})
            return redirect("complaints:case", number=case.number)
    context = _detail_context(request, case)
    # The posted form replaces its empty twin, so the officer's input and errors stay.
    context["step_forms"] = [
        form if f.step.name == chosen.name else f for f in context["step_forms"]
    ]
    if chosen.name not in {f.step.name for f in context["step_forms"]}:
        context["step_forms"].append(form)
    context.update({"step_error": error, "failed_step": chosen.name})
    return render(request, "complaints/case_detail.html", context, status=status)


def _write_on_case(
    request: HttpRequest, number: str, form_name: str, form, write, done: str
) -> HttpResponse:
    """A write that is not a step (a payment, a lead): same shape as ``case_step``."""
    case = selectors.get_case(request.user, number)
    error, status = "", 400
    if form.is_valid():
        try:
            write(case, form.cleaned_data)
        except workflow.NotFound:
            raise Http404 from None
        except workflow.WorkflowError as exc:
            error, status = exc.message, exc.status
        else:
            messages.success(request, done)
            return redirect("complaints:case", number=case.number)
    context = _detail_context(request, case)
    context[form_name] = form
    context[f"{form_name}_error"] = error
    return render(request, "complaints/case_detail.html", context, status=status)


@require_POST
@officer_required
def case_payment(request: HttpRequest, number: str) -> HttpResponse:
    """登记赔付 (先行赔付 or under an agreement), through ``services.record_payment``."""

    def write(case: Case, data: dict[str, Any]) -> None:
        services.record_payment(
            case.pk,
            by=request.user,
            kind=data["kind"],
            amount=data["amount"],
            paid_on=data.get("paid_on"),
            note=data.get("note", ""),
        )

    return _write_on_case(
        request, number, "payment_form", PaymentForm(request.POST), write, _("赔付已登记。")
    )


@require_POST
@officer_required
def case_lead(request: HttpRequest, number: str) -> HttpResponse:
    """登记调解中发现的违法线索, through ``services.record_lead``; opens the new lead."""
    created: list[Case] = []

    def write(case: Case, data: dict[str, Any]) -> None:
        created.append(services.record_lead(case.pk, by=request.user, facts=data["facts"]))

    response = _write_on_case(
        request, number, "lead_form", LeadForm(request.POST), write, _("违法线索已登记。")
    )
    if created and response.status_code == 302:
        return redirect("complaints:case", number=created[0].number)
    return response


@never_cache
@require_POST
@officer_required
def case_reveal(request: HttpRequest, number: str) -> HttpResponse:
    """查看完整信息: the handling officer sees the decrypted data once; each time audited."""
    case = selectors.get_case(request.user, number)
    context = _detail_context(request, case)
    try:
        context["revealed"] = services.reveal_person(
            request.user, case.pk, ip=request.META.get("REMOTE_ADDR")
        )
    except workflow.NotFound:
        raise Http404 from None
    except workflow.Forbidden as exc:
        context["reveal_error"] = exc.message
        return render(request, "complaints/case_detail.html", context, status=403)
    except pii.PiiKeyProblem as exc:
        context["reveal_error"] = _("个人信息无法解密，请联系系统管理员：%(problem)s") % {
            "problem": exc
        }
        return render(request, "complaints/case_detail.html", context, status=500)
    response = render(request, "complaints/case_detail.html", context)
    response["Cache-Control"] = "no-store, private"
    return response


# --- the rulebook ---------------------------------------------------------------------------


@require_safe
@login_required
def rules_page(request: HttpRequest) -> HttpResponse:
    """The dated rulebook: every rule's versions, articles and validity; the settings."""
    rules = sorted(rulebook.all_rules(), key=lambda r: (r.name, r.valid_from, r.version))
    return render(
        request,
        "complaints/rules.html",
        {
            "rules": rules,
            "grounds": rulebook.GROUNDS,
            "version_labels": rulebook.VERSION_LABELS,
            "choices": rulebook.choices(),
            "order121_from": rulebook.ORDER121_FROM,
        },
    )
