"""Verification of reports (举报) and leads (违法线索): the hooks of the REPORT workflow.

- The check and the 立案 decision: 15 working days from receipt (``report.verify``:
  行政处罚程序规定 Art.18, which Order 20 Art.31(1) and Order 121 Art.35 send reports to);
  a lead found in mediation: 15 working days from its discovery (``complaint.lead_check``,
  Order 20 Art.23 / Order 121 Art.27). The clock counts from ``routing.clock_start``.
- ``extend``: +15 working days, once. Where the rule needs the bureau head's approval
  (report.verify under both Orders; lead_check under Order 121) the step records who
  approved (``approved_by``) and the approval's reference (``approval_ref``); a second
  extension is refused.
- ``supplement``: new facts from the reporter. Order 121 Art.35: merged, and the period
  restarts from the receipt of the last report. Order 20 has no such rule: the facts are
  recorded and the period runs on (ADR 0037).
- ``repeat``: Order 121 Art.35: the same reporter (phone index), the same target and the
  same facts → "不再另行处理", linked to the earlier report through ``duplicate_of``.
  Refused under Order 20 (no such rule) and when it is not a repeat.
- ``file`` / ``not_file`` → 待告知: under Order 20 Art.31(2) a real-name reporter is told
  within 5 working days of the decision (``report.notify``); anonymous reporters, leads and
  Order 121 (Art.36) have no such period, and ``close`` ends those without a notice.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from qcity.complaints.models import Case
from qcity.complaints.routing import clock_start, rules_on
from qcity.core import rulebook
from qcity.core.models import User
from qcity.core.scope import scoped
from qcity.core.workflow import Deadline, Invalid

FACTS_MAX = 5000
APPROVER_MAX = 50
APPROVAL_REF_MAX = 100


def rule_name(case: Case) -> str:
    return "complaint.lead_check" if case.kind == Case.Kind.LEAD else "report.verify"


def verify_rule(case: Case) -> rulebook.Rule:
    return rulebook.rule(rule_name(case), rules_on(case))


def verify_deadline(case: Case, now: dt.datetime) -> Deadline:
    return rulebook.case_deadline(
        rules_on(case),
        rule_name(case),
        clock_start(case),
        suspended=case.suspended_days,
        extended=case.extended,
    )


def real_name(case: Case) -> bool:
    """A reporter who gave a name and a way to reach them (实名举报)."""
    return (
        not case.anonymous
        and bool(case.person_name.strip())
        and bool(case.person_phone_index or case.person_address.strip())
    )


def notice_due(case: Case) -> bool:
    """Must the reporter be told of the 立案 decision (Order 20 Art.31(2))?"""
    return case.kind == Case.Kind.REPORT and case.rules == rulebook.ORDER20 and real_name(case)


def notify_deadline(case: Case, now: dt.datetime) -> Deadline | None:
    if not notice_due(case):
        return None  # anonymous, a lead, or Order 121 (Art.36 defers to other laws)
    try:
        return rulebook.case_deadline(
            rules_on(case), "report.notify", timezone.localtime(now).date()
        )
    except rulebook.RuleNotInForce:
        return None


def _text(value: Any, *, limit: int, what: str) -> str:
    text = str(value or "").strip()
    if len(text) > limit:
        raise Invalid(f"{what}不能超过{limit}字")
    return text


def validate_extension(case: Case, user: User, **params: Any) -> dict[str, Any]:
    if case.extended:
        raise Invalid("核查期限已经延长过一次，不能再次延长")
    rule = verify_rule(case)
    approved_by = _text(params.get("approved_by"), limit=APPROVER_MAX, what="批准人")
    approval_ref = _text(params.get("approval_ref"), limit=APPROVAL_REF_MAX, what="批准文书编号")
    if rule.extension_needs_approval and not (approved_by and approval_ref):
        raise Invalid(
            f"延长核查期限须经市场监督管理部门负责人批准（{rule.article}）：请填写批准人和批准文书编号"
        )
    return {"approved_by": approved_by, "approval_ref": approval_ref}


def apply_extension(
    case: Case, user: User, *, approved_by: str = "", approval_ref: str = "", **params: Any
) -> dict[str, Any]:
    rule = verify_rule(case)
    case.extended = True
    details: dict[str, Any] = {"rule": rule.key, "extension_workdays": rule.extension}
    if approved_by or approval_ref:
        details.update(approved_by=approved_by, approval_ref=approval_ref)
    return details


def _date(value: Any, default: dt.date) -> dt.date | None:
    if value in (None, ""):
        return default
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        return None


def validate_supplement(case: Case, user: User, **params: Any) -> dict[str, Any]:
    if case.kind != Case.Kind.REPORT:
        raise Invalid("补充举报只适用于举报件")
    facts = _text(params.get("facts"), limit=FACTS_MAX, what="补充的事实")
    if not facts:
        raise Invalid("请填写举报人补充的新事实")
    today = timezone.localdate()
    received = _date(params.get("received_on"), today)
    if received is None:
        raise Invalid("补充举报收到日期格式应为 YYYY-MM-DD")
    if received > today or received < clock_start(case):
        raise Invalid("补充举报收到日期应在本期限起算日之后、不晚于今天")
    return {"facts": facts, "received_on": received}


def apply_supplement(
    case: Case, user: User, *, facts: str, received_on: dt.date, **params: Any
) -> dict[str, Any]:
    case.facts = f"{case.facts}\n\n【补充举报 {received_on.isoformat()}】{facts}"
    restart = case.rules == rulebook.ORDER121
    details: dict[str, Any] = {"received_on": received_on.isoformat(), "restarted": restart}
    if restart:
        # Art.35: "自收到最后一次举报之日起重新计算处理期限": a new period, which may be
        # extended once again; time suspended in the old one is not carried over.
        details["previous_clock_started_on"] = clock_start(case).isoformat()
        if case.extended:
            details["previous_extended"] = True
        case.clock_started_on = received_on
        case.extended, case.suspended_days = False, 0
    return details


def _same_target(a: Case, b: Case) -> bool:
    if a.respondent_entity_id and b.respondent_entity_id:
        return a.respondent_entity_id == b.respondent_entity_id
    if a.respondent_code and b.respondent_code:
        return a.respondent_code.upper() == b.respondent_code.upper()
    return "".join(a.respondent_name.split()) == "".join(b.respondent_name.split())


def validate_repeat(
    case: Case, user: User, *, original: Any = None, same_facts: Any = False, **params: Any
) -> dict[str, Any]:
    if case.kind != Case.Kind.REPORT:
        raise Invalid("重复举报不再处理只适用于举报件")
    if case.rules != rulebook.ORDER121:
        raise Invalid("总局令第20号没有“重复举报不再另行处理”的规定，本件须依法核查处理")
    key = original.pk if isinstance(original, Case) else str(original or "").strip()
    if not str(key).isdigit():
        raise Invalid("请选择原举报件")
    earlier = scoped(user, Case.objects.filter(pk=int(key))).first()
    if earlier is None or earlier.pk == case.pk or earlier.kind != Case.Kind.REPORT:
        raise Invalid("原举报件不存在或不是举报件")
    seen = {case.pk}
    while earlier.duplicate_of_id and earlier.duplicate_of_id not in seen:
        # Link to the first report, not to another repeat of it.
        seen.add(earlier.pk)
        earlier = Case.objects.get(pk=earlier.duplicate_of_id)
    if (earlier.received_at, earlier.pk) >= (case.received_at, case.pk):
        raise Invalid("原举报件应早于本件收到")
    if not case.person_phone_index or case.person_phone_index != earlier.person_phone_index:
        raise Invalid("不是同一举报人（联系电话不同或匿名），不能按重复举报处理")
    if not _same_target(case, earlier):
        raise Invalid("被举报对象不同，不能按重复举报处理")
    if str(same_facts).lower() not in ("true", "1", "on", "yes"):
        raise Invalid("请确认举报事实与原举报相同；有新的事实的，应作为补充举报合并处理")
    return {"original": earlier}


def apply_repeat(case: Case, user: User, *, original: Case, **params: Any) -> dict[str, Any]:
    case.duplicate_of = original
    case.outcome, case.closed_at = Case.Outcome.NOT_HANDLED, timezone.now()
    return {"original": original.number, "original_id": original.pk}


def _decision(params: dict[str, Any]) -> dict[str, Any]:
    details: dict[str, Any] = {}
    decided_by = _text(params.get("decided_by"), limit=APPROVER_MAX, what="决定人")
    ref = _text(params.get("decision_ref"), limit=APPROVAL_REF_MAX, what="审批文书编号")
    if decided_by:
        details["decided_by"] = decided_by
    if ref:
        details["decision_ref"] = ref
    return details


def apply_filing(case: Case, user: User, **params: Any) -> dict[str, Any]:
    case.outcome = Case.Outcome.FILED
    return {**_decision(params), "notice_due": notice_due(case)}


def apply_not_filing(case: Case, user: User, **params: Any) -> dict[str, Any]:
    case.outcome = Case.Outcome.NOT_FILED
    return {**_decision(params), "notice_due": notice_due(case)}


def validate_close_without_notice(case: Case, user: User, **params: Any) -> dict[str, Any]:
    if notice_due(case):
        raise Invalid(
            "实名举报人须自作出是否立案决定之日起五个工作日内告知（总局令第20号第三十一条第二款），"
            "请执行“告知举报人”"
        )
    return {}


def apply_close(case: Case, user: User, **params: Any) -> dict[str, Any]:
    case.closed_at = timezone.now()
    return {}
