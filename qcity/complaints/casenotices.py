"""The notices kept with a case, sent through the plan work's message channels.

Each step that calls for a notice (``after_step``, run by ``core.workflow`` after commit)
writes ``CaseNotice`` rows, one per recipient, and sends them:

- to the complainant or real-name reporter (``person``), who has no account: through
  ``core.notices.send_to_address`` at the phone number kept encrypted on the case
  (decrypted only by the delivery task, never logged in clear); the portal's follow page
  shows them (``notices_for_person``);
- to the respondent's enterprise accounts (``respondent``, complaints only): an in-app
  notice plus ``NOTICE_CHANNELS`` (``core.notices.notify``). The respondent hears only what
  concerns it: never a reporter's identity, a report's existence, nor the complainant's
  name or phone;
- to the officers of the bureau that handles the case (``unit``): in-app plus channels.

The texts are legal documents (告知书) in the wording of the case's own rules: the ground's
text from ``core.rulebook.grounds``, the article of the Order that applies. Since the
消保法实施条例 (2024-07-01, Art.46(2)) a refusal gives its reasons and the other routes of
消保法 Art.39 whatever the case's Order (Order 121 Art.15 says the same). They are stored
in Chinese as sent, not translated on display: the record is what the person received.

``validate_delivery`` / ``apply_delivery`` are the ``notify`` steps: the officer records
how and when a decision that must be served (终止调解, 立案告知) was delivered.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_tasks import task

from qcity.complaints import odr
from qcity.complaints.models import Case, CaseNotice
from qcity.core import notices, pii, rulebook
from qcity.core.models import Role, Transition, User
from qcity.core.workflow import Invalid
from qcity.registry.models import EntityAccount

logger = logging.getLogger(__name__)

R = CaseNotice.Recipient
OFFICER_ROLES = (Role.COUNTY_OFFICER, Role.COORDINATOR)

# How a decision was served (the ``notify`` steps), for forms and the history.
DELIVERY_CHANNELS: dict[str, Any] = {
    "sms": gettext_lazy("短信"),
    "phone": gettext_lazy("电话告知"),
    "post": gettext_lazy("邮寄送达"),
    "in_person": gettext_lazy("直接送达"),
    "email": gettext_lazy("电子邮件"),
    "platform": gettext_lazy("全国12315平台"),
}

# 消保法 Art.39: the other routes a refused complainant is told of.
OTHER_ROUTES = (
    "你可以通过下列途径解决消费者权益争议（《中华人民共和国消费者权益保护法》第三十九条）："
    "（一）与经营者协商和解；（二）请求消费者协会或者依法成立的其他调解组织调解；"
    "（三）向有关行政部门投诉；（四）根据与经营者达成的仲裁协议提请仲裁机构仲裁；"
    "（五）向人民法院提起诉讼。"
)
RULE_TITLES = {rulebook.ORDER20: rulebook.ORDER20_TITLE, rulebook.ORDER121: rulebook.ORDER121_TITLE}
# Where the duty to give a refusal's reasons and the other routes comes from.
REASONS_ARTICLE = {
    rulebook.ORDER20: f"{rulebook.REGULATION_TITLE}第四十六条第二款",
    rulebook.ORDER121: f"{rulebook.ORDER121_TITLE}第十五条",
}


@dataclass(frozen=True)
class Draft:
    kind: str
    recipient: str
    title: str
    body: str


# --- wording --------------------------------------------------------------------------------


def _date(day: dt.date | None) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else ""


def _what(case: Case) -> str:
    return "投诉" if case.kind == Case.Kind.COMPLAINT else "举报"


def _to_person(case: Case) -> str:
    """How a notice to the complainant or reporter names the case (no personal data)."""
    return (
        f"您于{_date(case.received_on)}提交的{_what(case)}（编号：{case.number}，"
        f"被{_what(case)}人：{case.respondent_name}）"
    )


def _to_respondent(case: Case) -> str:
    # Only complaints reach the respondent, and never with the complainant's identity.
    return f"你单位被投诉一案（编号：{case.number}，收到日期：{_date(case.received_on)}）"


def _source(case: Case) -> str:
    return RULE_TITLES.get(case.rules, rulebook.ORDER121_TITLE)


def _ground_clause(case: Case, name: str, code: str) -> str:
    """'《…》第十五条第（五）项规定的情形：“…”' in the case's own rules."""
    grounds = rulebook.grounds(name, case.received_on)
    numerals = "一二三四五六七八九十"
    index = int(code) if code.isdigit() else 0
    item = f"第（{numerals[index - 1]}）项" if 1 <= index <= len(numerals) else ""
    return f"{_source(case)}{grounds.article}{item}规定的情形：“{grounds.label(code)}”"


def _reason_line(reason: str) -> str:
    return f"具体情况：{reason}" if reason else ""


def _join(*parts: str) -> str:
    return "\n".join(p for p in parts if p)


def refusal_drafts(case: Case, reason: str, decided_on: dt.date) -> list[Draft]:
    """不予受理告知书, to the complainant only (the respondent was never asked to answer)."""
    body = [
        f"{_to_person(case)}，经审查，属于{_ground_clause(case, 'complaint.refusal', case.outcome_ground)}，"
        f"本局于{_date(decided_on)}决定不予受理。"
    ]
    # The regulation (2024-07-01) and Order 121 Art.15: the reasons and the other routes.
    if decided_on >= rulebook.REGULATION_FROM or case.rules == rulebook.ORDER121:
        body.append(f"不予受理的理由：{reason or '见上述情形。'}")
        body.append(OTHER_ROUTES)
        body.append(
            f"（依据：{REASONS_ARTICLE.get(case.rules, REASONS_ARTICLE[rulebook.ORDER121])}）"
        )
    return [Draft("refusal", R.PERSON, "不予受理告知书", _join(*body))]


def termination_drafts(case: Case, reason: str, decided_on: dt.date) -> list[Draft]:
    """终止调解告知书, to both parties (Order 20 Art.21(2) / Order 121 Art.23(2))."""
    clause = _ground_clause(case, "complaint.termination", case.outcome_ground)
    tail = f"本局于{_date(decided_on)}决定终止调解。"
    return [
        Draft(
            "termination",
            R.PERSON,
            "终止调解告知书",
            _join(
                f"{_to_person(case)}，因存在{clause}，{tail}",
                _reason_line(reason),
                "你可以依法通过其他途径解决消费者权益争议。",
            ),
        ),
        Draft(
            "termination",
            R.RESPONDENT,
            "终止调解告知书",
            _join(f"{_to_respondent(case)}，因存在{clause}，{tail}", _reason_line(reason)),
        ),
    ]


def _drafts(case: Case, transition: Transition) -> list[Draft]:
    step, reason = transition.step, transition.reason
    details = transition.details or {}
    decided_on = timezone.localtime(transition.time).date()
    complaint = case.kind == Case.Kind.COMPLAINT
    # A report's reporter is told only when they gave their name.
    person = complaint or (case.kind == Case.Kind.REPORT and not case.anonymous)
    bureau = case.owner_unit.name
    due = _date(case.due_on)
    if step == "accept":
        return [
            Draft(
                "accept",
                R.PERSON,
                "受理告知",
                f"{_to_person(case)}，本局已于{_date(case.accepted_on)}决定受理，将依法组织调解。",
            ),
            Draft(
                "accept",
                R.RESPONDENT,
                "投诉受理通知",
                _join(
                    f"{_to_respondent(case)}，本局已决定受理，将依法组织双方调解，请予配合。",
                    f"投诉请求：{case.request}" if case.request else "",
                ),
            ),
        ]
    if step == "refuse":
        return refusal_drafts(case, reason, decided_on)
    if step == "terminate":
        return termination_drafts(case, reason, decided_on)
    if step == "agree":
        kind = case.get_agreement_kind_display() if case.agreement_kind else "调解协议"
        money = (
            f"挽回经济损失{case.amount_recovered}元。" if case.amount_recovered is not None else ""
        )
        text = f"经本局组织调解，双方已达成调解协议（{kind}）。{money}"
        return [
            Draft("agreement", R.PERSON, "调解结果告知", f"{_to_person(case)}，{text}"),
            Draft("agreement", R.RESPONDENT, "调解结果告知", f"{_to_respondent(case)}，{text}"),
        ]
    if step == "withdraw":
        drafts = [
            Draft(
                "withdrawal", R.PERSON, "撤回投诉确认", f"{_to_person(case)}已撤回，本局不再处理。"
            )
        ]
        if transition.from_state != Case.Status.RECEIVED or case.odr:
            drafts.append(
                Draft(
                    "withdrawal",
                    R.RESPONDENT,
                    "投诉撤回通知",
                    f"{_to_respondent(case)}，投诉人已撤回投诉。",
                )
            )
        return drafts
    if step == "odr_settle":
        return [
            Draft(
                "odr_settled",
                R.PERSON,
                "企业和解结果告知",
                _join(
                    f"{_to_person(case)}，被投诉人已通过在线消费纠纷解决（ODR）记录和解结果：",
                    str(details.get("agreed") or case.outcome_note),
                    f"赔付金额：{details['amount']}元。" if details.get("amount") else "",
                    "如和解内容未履行，你可以再次向市场监督管理部门投诉。",
                ),
            )
        ]
    if step in ("odr_decline", "odr_return"):
        why = (
            "被投诉人表示未能与你和解"
            if step == "odr_decline"
            else "被投诉人未在在线消费纠纷解决（ODR）期限内处理"
        )
        drafts = [
            Draft(
                "odr_returned",
                R.PERSON,
                "投诉转市场监督管理部门处理告知",
                f"{_to_person(case)}，{why}，已转{bureau}处理，该局将于{due}前作出是否受理的决定。",
            ),
            Draft(
                "odr_returned",
                R.UNIT,
                f"ODR投诉转入待受理：{case.number}",
                _join(
                    f"{why}，投诉（编号：{case.number}，被投诉人：{case.respondent_name}）"
                    f"转本局处理，请于{due}前作出是否受理的决定。",
                    f"企业说明：{reason}" if reason else "",
                ),
            ),
        ]
        if step == "odr_return":
            drafts.append(
                Draft(
                    "odr_returned",
                    R.RESPONDENT,
                    "ODR处理期限届满通知",
                    f"{_to_respondent(case)}，在线消费纠纷解决（ODR）期限已届满，已转{bureau}处理。",
                )
            )
        return drafts
    if step in ("transfer", "designate"):
        drafts = [
            Draft(
                "transfer",
                R.UNIT,
                f"{_what(case)}转入：{case.number}",
                _join(
                    f"{_what(case)}（编号：{case.number}，被{_what(case)}人：{case.respondent_name}）"
                    f"已转本局处理。",
                    f"转办理由：{reason}" if reason else "",
                    f"办理期限：{due}" if due else "",
                ),
            )
        ]
        if person:
            drafts.append(
                Draft(
                    "transfer",
                    R.PERSON,
                    "转办告知",
                    f"{_to_person(case)}，依管辖规定已转{bureau}处理。",
                )
            )
        return drafts
    if step == "dispute":
        return [
            Draft(
                "dispute",
                R.UNIT,
                f"管辖争议待指定：{case.number}",
                _join(
                    f"{bureau}对{_what(case)}（编号：{case.number}）提出管辖争议，"
                    f"请于{due}前协商或指定管辖。",
                    f"争议理由：{reason}" if reason else "",
                ),
            )
        ]
    if step in ("file", "not_file") and case.kind == Case.Kind.REPORT and not case.anonymous:
        # Order 20 Art.31(2): a real-name reporter within 5 working days. Order 121 has no
        # such duty (Art.36 defers to other laws): the officer closes or serves by hand.
        if case.rules != rulebook.ORDER20:
            return []
        decision = "立案" if step == "file" else "不予立案"
        return [
            Draft(
                "filing" if step == "file" else "not_filing",
                R.PERSON,
                f"{decision}告知",
                _join(
                    f"{_to_person(case)}，本局经核查，于{_date(decided_on)}决定{decision}。",
                    _reason_line(reason) if step == "not_file" else "",
                ),
            )
        ]
    return []


def dispatch_drafts(case: Case) -> list[Draft]:
    """ODR 分送: the enterprise is told to settle, and the complainant where the case went."""
    due = _date(case.due_on)
    return [
        Draft(
            "odr_dispatch",
            R.RESPONDENT,
            "ODR投诉分送通知",
            _join(
                f"{_to_respondent(case)}，你单位已入驻在线消费纠纷解决（ODR），"
                f"请于{due}前在“ODR投诉处理”页面与消费者协商和解并记录结果；"
                "逾期未处理的，转市场监督管理部门处理。",
                f"投诉请求：{case.request}" if case.request else "",
            ),
        ),
        Draft(
            "odr_dispatch",
            R.PERSON,
            "投诉分送经营者先行和解告知",
            f"{_to_person(case)}，被投诉人已入驻在线消费纠纷解决（ODR），投诉已分送其先行和解；"
            f"{due}前未和解的，转市场监督管理部门处理。",
        ),
    ]


# --- writing and sending --------------------------------------------------------------------


def respondent_accounts(case: Case) -> list[User]:
    if case.kind != Case.Kind.COMPLAINT or case.respondent_entity_id is None:
        return []
    return list(
        User.objects.filter(
            is_active=True,
            role=Role.ENTERPRISE,
            pk__in=EntityAccount.objects.filter(entity_id=case.respondent_entity_id).values("user"),
        )
    )


def unit_officers(case: Case) -> list[User]:
    return list(
        User.objects.filter(unit_id=case.owner_unit_id, role__in=OFFICER_ROLES, is_active=True)
    )


def coordinators() -> list[User]:
    return list(User.objects.filter(role=Role.COORDINATOR, is_active=True))


def write(case: Case, drafts: Iterable[Draft], *, by: User | None = None) -> list[CaseNotice]:
    """Keep the drafts with the case and send them (in the caller's transaction; sent after)."""
    now = timezone.now()
    channels = notices.configured_channels()
    rows: list[CaseNotice] = []
    with transaction.atomic():
        for draft in drafts:
            users: list[User] = []
            if draft.recipient == R.RESPONDENT:
                if case.kind != Case.Kind.COMPLAINT:
                    continue  # defence in depth: a reported party is never told of a report
                # Without an account the row is still kept: the bureau serves it by hand
                # (the notify step records how).
                users = respondent_accounts(case)
            elif draft.recipient == R.UNIT:
                # A jurisdiction dispute is for the common superior (the city bureau) to settle.
                users = coordinators() if draft.kind == "dispute" else unit_officers(case)
            in_app = bool(users)
            row = CaseNotice.objects.create(
                case=case,
                kind=draft.kind,
                recipient=draft.recipient,
                title=draft.title[:200],
                body=draft.body,
                channel=",".join(["in_app", *channels])[:20] if in_app else "",
                created_at=now,
                # In-app notices are delivered as they are written.
                sent_at=now if in_app else None,
                visible_to_respondent=draft.recipient == R.RESPONDENT,
            )
            rows.append(row)
            if users:
                notices.notify(users, case, draft.title, draft.body, by=by)
        person_ids = [r.pk for r in rows if r.recipient == R.PERSON]
        if person_ids:
            transaction.on_commit(lambda: deliver_person_notices.enqueue(person_ids), robust=True)
    return rows


def after_step(case: Case, transition: Transition) -> None:
    """Write and send the notices a step calls for (run after commit by core.workflow)."""
    case = Case.objects.select_related("owner_unit").get(pk=case.pk)
    drafts = _drafts(case, transition)
    if drafts:
        write(case, drafts, by=transition.actor)


def after_dispatch(case: Case) -> list[CaseNotice]:
    """The ODR 分送 notices of a case intake has just sent to its enterprise (status ODR)."""
    if case.status != Case.Status.ODR:
        return []
    return write(case, dispatch_drafts(case))


def deliver_to_person(notice_ids: Iterable[int]) -> int:
    """Send pending person notices at the case's phone; each is claimed once under a lock."""
    sent = 0
    for pk in list(notice_ids):
        with transaction.atomic():
            row = (
                CaseNotice.objects.select_for_update(of=("self",))
                .select_related("case")
                .filter(pk=pk, recipient=R.PERSON, sent_at__isnull=True, channel="")
                .first()
            )
            if row is None:
                continue
            try:
                phone = pii.decrypt(row.case.person_phone) if row.case.person_phone else ""
            except pii.PiiKeyProblem:
                logger.warning("case notice %s: the phone cannot be decrypted", pk)
                phone = ""
            result = notices.send_to_address("phone", phone, row.title, row.body) if phone else {}
            used = [name for name, status in result.items() if status == "sent"]
            if used:
                row.channel = ",".join(used)[:20]
                row.sent_at = timezone.now()
                row.save(update_fields=["channel", "sent_at"])
                sent += 1
    return sent


@task()
def deliver_person_notices(notice_ids: list[int]) -> int:
    return deliver_to_person(notice_ids)


# --- reading --------------------------------------------------------------------------------


def notices_for_person(case: Case) -> QuerySet[CaseNotice]:
    """The notices addressed to the complainant or reporter, for the portal's follow page."""
    return CaseNotice.objects.filter(case=case, recipient=R.PERSON).order_by("created_at", "pk")


# --- the notify steps (送达) -----------------------------------------------------------------


def validate_delivery(
    case: Case, user: User, *, channel: str = "", delivered_on: Any = None, **params: Any
) -> dict[str, Any]:
    channel = str(channel or "").strip()
    if channel not in DELIVERY_CHANNELS:
        raise Invalid(_("请选择送达方式。"))
    today = timezone.localdate()
    day = odr.parse_day(delivered_on, default=today, label=_("送达日期"))
    decided = timezone.localtime(case.status_changed_at).date() if case.status_changed_at else None
    if day > today or (decided is not None and day < decided):
        raise Invalid(_("送达日期须在作出决定之日和今天之间。"))
    return {"channel": channel, "delivered_on": day}


def apply_delivery(
    case: Case, user: User, *, channel: str = "", delivered_on: dt.date | None = None, **params
) -> dict[str, Any]:
    case.closed_at = timezone.now()
    day = delivered_on or timezone.localdate()
    served = timezone.make_aware(dt.datetime.combine(day, dt.time(12, 0)))
    # The decision's notices not yet delivered electronically are served this way.
    CaseNotice.objects.filter(
        case=case,
        kind__in=("termination", "filing", "not_filing"),
        recipient__in=(R.PERSON, R.RESPONDENT),
        sent_at__isnull=True,
    ).update(channel=channel, sent_at=served)
    return {"channel": channel, "delivered_on": day.isoformat()}
