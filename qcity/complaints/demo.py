"""12315 demo for ``make run``: a year of complaints and reports in every state.

``load_demo_complaints(today)`` (called by ``qcity load_demo_activity`` after the demo
register) files a few hundred submissions through ``intake.submit`` (web form, hotline,
counter, the national platform) against entities of the demo register, and has the county
bureaus' officers take them through the real steps (``core.workflow.take``): accepted and
mediated to an agreement, refused on a ground of the case's Order, terminated and notified,
withdrawn, settled by an ODR enterprise or handed back by the clock, reports verified and
filed or not. Recent cases are left open in each state, some past their deadline, so the
lists, the escalation timer and the statistics all have something to show. The past three
months' figures are then published on the portal (投诉信息公示).

Only the clock is borrowed, as in ``reporting.demo``: steps are taken now, then
``_backdate`` moves each case's step times and dates to the days the story chose and
recomputes the deadlines from them with ``core.rulebook``. The audit log is left alone: it
says, truthfully, that the demo was loaded today.

Deterministic (a seeded ``random.Random``), refused under production settings, idempotent
(when any case exists nothing is written).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from qcity.complaints import disclosure, intake, odr
from qcity.complaints.models import Case, CaseNotice, Category, IssueType, Submission
from qcity.complaints.services import workflow_for
from qcity.core import rulebook, workdays
from qcity.core.demo import DEMO_PASSWORD, DemoDataRefused
from qcity.core.models import OrgUnit, Role, Transition, User
from qcity.core.orgdata import COUNTIES
from qcity.core.workflow import WorkflowError, take
from qcity.registry.models import EntityAccount, MarketEntity

SEED = 12315
SUBMISSIONS = 320
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟 芳 娜 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 霞 平 刚 桂英 建华 志强 海燕".split()
SLUGS = {
    "211202": "yinzhou",
    "211204": "qinghe",
    "211221": "tielingxian",
    "211223": "xifeng",
    "211224": "changtu",
    "211281": "diaobingshan",
    "211282": "kaiyuan",
}
# (goods, request, facts) of the kind 12315 hears every day.
STORIES = [
    ("电热水壶", "退货退款", "购买的电热水壶使用三天后底座漏电，商家以“人为损坏”为由拒绝退货。"),
    ("羽绒服", "退货并赔偿", "商品标注含绒量90%，送检结果仅为52%，要求退货并按价款三倍赔偿。"),
    ("预付卡", "退还余额", "健身房突然停业，预付卡余额2800元无法使用，店主联系不上。"),
    ("手机", "更换新机", "新买手机屏幕出现亮线，七日内要求换货，商家只同意维修。"),
    ("餐饮服务", "赔偿医药费", "在该饭店就餐后腹泻就医，怀疑食品不洁，要求赔偿医药费。"),
    ("牛奶", "退款并赔偿", "超市出售的牛奶已过保质期两天，购买后才发现。"),
    ("汽车维修", "返还多收费用", "维修结算单中多收了未更换的零件费用860元。"),
    ("家具", "按约定交货", "定制衣柜逾期四十天未交货，商家一再推迟。"),
    ("美容服务", "退还剩余疗程费用", "办理美容卡时承诺随时可退，现要求退费被拒。"),
    ("网购服装", "退货退款", "网店商品与描述严重不符，申请七天无理由退货被拒。"),
    ("燃气灶", "维修或更换", "燃气灶安装后点火困难，售后三次上门未修好。"),
    ("教育培训", "退还培训费", "培训机构承诺不满意全额退款，现拒绝履行。"),
]
REPORT_FACTS = [
    "该超市销售过期食品，货架上多批次酸奶已超过保质期。",
    "该加油站加油机计量不准，加 50 升实际不足 47 升。",
    "该店销售假冒品牌运动鞋，价格明显低于正品。",
    "该药店无证经营医疗器械，销售未注册的血糖仪。",
    "该餐馆后厨卫生条件差，使用来源不明的食用油。",
]


@dataclass
class Loaded:
    submissions: int = 0
    cases: int = 0
    states: dict[str, int] = field(default_factory=dict)
    published: int = 0
    refused: list[str] = field(default_factory=list)
    already: bool = False


@dataclass
class _Story:
    """The times a case's steps happened, in order, for ``_backdate``."""

    case: Case
    times: list[dt.datetime] = field(default_factory=list)


def _at(rng: random.Random, day: dt.date) -> dt.datetime:
    minutes = rng.randint(8 * 60 + 40, 17 * 60 + 20)
    moment = dt.datetime.combine(day, dt.time(minutes // 60, minutes % 60, rng.randint(0, 59)))
    return timezone.make_aware(moment)


def _workday_after(day: dt.date, n: int) -> dt.date:
    return workdays.add_workdays(day, n, allow_provisional=True)


def _officers() -> dict[int, User]:
    """One 12315 officer per county bureau: the demo's kaiyuan/xifeng, and one for the rest."""
    officers: dict[int, User] = {}
    for code, county in COUNTIES:
        bureau = OrgUnit.objects.get(code=f"{code}-SCJG")
        user = (
            User.objects.filter(unit=bureau, role=Role.COUNTY_OFFICER, is_active=True)
            .order_by("pk")
            .first()
        )
        if user is None:
            user = User(
                username=f"{SLUGS[code]}12315",
                full_name=f"{county}12315",
                role=Role.COUNTY_OFFICER,
                unit=bureau,
            )
            user.set_password(DEMO_PASSWORD)
            user.save()
        officers[bureau.pk] = user
    return officers


def _person(rng: random.Random) -> dict[str, str]:
    name = rng.choice(SURNAMES) + rng.choice(GIVEN)
    phone = "1" + rng.choice("3578") + "".join(rng.choice("0123456789") for _ in range(9))
    return {"person_name": name, "person_phone": phone, "person_address": "辽宁省铁岭市"}


def _odr_entities(rng: random.Random, coordinator: User) -> list[MarketEntity]:
    """The demo enterprise account's entity and two more join ODR a year ago."""
    entities = list(
        MarketEntity.objects.filter(
            kind=MarketEntity.Kind.ENTERPRISE, owner_unit__code="211282-SCJG"
        ).order_by("code")[:3]
    )
    enterprise = User.objects.filter(username="enterprise", role=Role.ENTERPRISE).first()
    for i, entity in enumerate(entities):
        if i == 0 and enterprise is not None:
            user = enterprise
        else:
            user = User(
                username=f"odr{i}", full_name=f"{entity.name[:8]}客服", role=Role.ENTERPRISE
            )
            user.set_password(DEMO_PASSWORD)
            user.save()
        EntityAccount.objects.get_or_create(user=user, defaults={"entity": entity})
        odr.enrol(
            entity.pk, by=coordinator, joined_on=timezone.localdate() - dt.timedelta(days=370)
        )
    return entities


def _grounds(rng: random.Random, name: str, case: Case, exclude: set[str]) -> str:
    items = [c for c, _t in rulebook.grounds(name, case.received_on).items if c not in exclude]
    return rng.choice(items)


def _step(story: _Story, officer: User, step: str, at: dt.datetime, **params) -> bool:
    at = min(at, timezone.now())  # a step "today" happened by now at the latest
    try:
        transition = take(workflow_for(story.case), step, story.case.pk, by=officer, **params)
    except WorkflowError:
        return False
    # The next step's checks compare with these dates ("delivered after the decision",
    # "suspended after acceptance"): move them to the story's day at once.
    case = transition.subject
    case.status_changed_at = at
    if step == "accept":
        case.accepted_on = timezone.localdate(at)
    if case.status == Case.Status.CLOSED:
        case.closed_at = at
    Case.objects.filter(pk=case.pk).update(
        status_changed_at=at, accepted_on=case.accepted_on, closed_at=case.closed_at
    )
    story.case = case
    story.times.append(at)
    return True


def _complaint(
    rng: random.Random, story: _Story, officer: User, today: dt.date, *, forced: str = ""
) -> None:
    case = story.case
    day = case.received_on
    age = (today - day).days
    if case.status == Case.Status.ODR:
        if age < 12:
            return  # the enterprise still has time
        if rng.random() < 0.6:
            settled = min(_workday_after(day, rng.randint(2, 8)), today)
            user = EntityAccount.objects.get(entity=case.respondent_entity).user
            _step(
                story,
                user,
                "odr_settle",
                _at(rng, settled),
                agreed="经协商，企业同意退货退款",
                amount=rng.choice([None, "99", "199", "468", "1280"]),
                paid_on=settled.isoformat(),
            )
            return
        returned = _workday_after(day, 11)
        if returned > today or not _step(story, officer, "odr_return", _at(rng, returned)):
            return
        day = returned
    if age < 4 and rng.random() < 0.7 and not forced:
        return  # 待受理
    if age < 40 and rng.random() < 0.04:
        return  # left lying: past its 7 working days, for the escalation timer to find
    roll = rng.random()
    decided = _workday_after(day, rng.randint(1, 5))
    if decided > today:
        return
    if forced == "dispute" or (roll < 0.05 and age < 30):
        other = OrgUnit.objects.filter(code__endswith="-SCJG").exclude(pk=case.owner_unit_id)
        _step(
            story,
            officer,
            "dispute",
            _at(rng, decided),
            reason="被投诉人实际经营地在相邻县区，管辖存疑",
            with_unit=str(rng.choice(list(other)).pk),
        )
        return
    if roll < 0.15:
        _step(
            story,
            officer,
            "refuse",
            _at(rng, decided),
            reason="经审查，不符合受理条件",
            ground=_grounds(rng, "complaint.refusal", case, set()),
            routes="negotiate,association,arbitration,litigation",
        )
        return
    if roll < 0.19:
        _step(story, officer, "withdraw", _at(rng, decided), reason="投诉人与商家自行和解后撤回")
        return
    if not _step(story, officer, "accept", _at(rng, decided)):
        return
    if age < 8 and rng.random() < 0.5:
        return  # 已受理待调解
    started = _workday_after(decided, rng.randint(1, 3))
    if started > today:
        return
    mode = rng.choice(["onsite", "onsite", "remote"])
    if not _step(story, officer, "mediate", _at(rng, started), mode=mode):
        return
    if rng.random() < 0.12:
        suspended_on = started + dt.timedelta(days=rng.randint(2, 10))
        if suspended_on <= today and _step(
            story,
            officer,
            "suspend",
            _at(rng, suspended_on),
            kind="testing",
            started_on=suspended_on.isoformat(),
            note="送铁岭检验检测中心检测",
        ):
            if (today - suspended_on).days < 30:
                return  # 调解中止
            ended = suspended_on + dt.timedelta(days=rng.randint(7, 15))
            _step(story, officer, "resume", _at(rng, ended), ended_on=ended.isoformat())
    finished = started + dt.timedelta(days=rng.randint(5, 40))
    if finished > today:
        return  # 调解中
    outcome = rng.random()
    if outcome < 0.68:
        _step(
            story,
            officer,
            "agree",
            _at(rng, finished),
            agreement_kind=rng.choice(["record", "record", "document"]),
            amount_recovered=str(rng.choice([120, 260, 399, 880, 1500, 2800])),
            note="双方当场达成协议并履行",
        )
        return
    ground = _grounds(rng, "complaint.termination", case, {"1", "5", "6", "7", "8"})
    if not _step(
        story,
        officer,
        "terminate",
        _at(rng, finished),
        reason="调解未能达成一致",
        ground=ground,
    ):
        return
    delivered = _workday_after(finished, rng.randint(1, 6))
    if delivered <= today and rng.random() < 0.85:
        _step(
            story,
            officer,
            "notify",
            _at(rng, delivered),
            channel="sms",
            delivered_on=delivered.isoformat(),
        )


def _report(rng: random.Random, story: _Story, officer: User, today: dt.date) -> None:
    case = story.case
    age = (today - case.received_on).days
    if age < 10:
        return  # 核查中
    extended = _workday_after(case.received_on, 12)
    if rng.random() < 0.1 and extended <= today:
        _step(
            story,
            officer,
            "extend",
            _at(rng, extended),
            reason="需调取监控录像",
            approved_by="局长 张明",
            approval_ref=f"开市监批〔{extended.year}〕{rng.randint(10, 99)}号",
        )
        if age < 30:
            return
    decided = _workday_after(case.received_on, rng.randint(5, 14))
    if decided > today:
        return
    filed = rng.random() < 0.35
    if filed:
        ok = _step(story, officer, "file", _at(rng, decided), reason="")
    else:
        ok = _step(story, officer, "not_file", _at(rng, decided), reason="经核查未发现违法行为")
    if not ok or story.case.status != Case.Status.NOTIFYING:
        return
    told = _workday_after(decided, rng.randint(1, 4))
    if told > today:
        return
    if story.case.due_on is not None:
        _step(
            story, officer, "notify", _at(rng, told), channel="sms", delivered_on=told.isoformat()
        )
    else:
        _step(story, officer, "close", _at(rng, told), reason="匿名举报或规章未规定告知，依法办结")


def _backdate(stories: list[_Story]) -> None:
    """Move each story's step times to the story's days, and recompute its deadlines."""
    case_type = ContentType.objects.get_for_model(Case)
    cal = workdays.snapshot()
    moved: list[Transition] = []
    cases: list[Case] = []
    for story in stories:
        case = Case.objects.get(pk=story.case.pk)
        rows = list(
            Transition.objects.filter(content_type=case_type, object_id=str(case.pk)).order_by(
                "time", "pk"
            )
        )
        for t, at in zip(rows, story.times, strict=False):
            t.time = at
            if t.to_state == Case.Status.ACCEPTED:
                case.accepted_on = timezone.localdate(at)
            if t.to_state == Case.Status.CLOSED:
                case.closed_at = at
            if t.deadline_rule:
                name = t.deadline_rule.partition("@")[0]
                day = timezone.localdate(at)
                start = {
                    "complaint.mediation": case.accepted_on or day,
                    "report.verify": case.received_on,
                    "complaint.lead_check": case.received_on,
                    "odr.settle": case.received_on,
                }.get(name, day)
                due = rulebook.deadline(
                    name,
                    start,
                    on=case.received_on,
                    suspended=case.suspended_days if name == "complaint.mediation" else 0,
                    extended=case.extended,
                )
                t.deadline_due, t.deadline_calendar_version = due.due, str(cal.version)
            moved.append(t)
        if rows and story.times:
            case.status_changed_at = story.times[min(len(rows), len(story.times)) - 1]
            last = rows[min(len(rows), len(story.times)) - 1]
            if case.due_on is not None and last.deadline_due:
                case.due_on = last.deadline_due
        cases.append(case)
        for notice in CaseNotice.objects.filter(case=case):
            notice.created_at = case.status_changed_at or case.received_at
            if notice.sent_at:
                notice.sent_at = notice.created_at
            notice.save(update_fields=["created_at", "sent_at"])
    Transition.objects.bulk_update(
        moved, ["time", "deadline_due", "deadline_calendar_version"], batch_size=500
    )
    Case.objects.bulk_update(
        cases, ["accepted_on", "closed_at", "status_changed_at", "due_on"], batch_size=500
    )


def load_demo_complaints(today: dt.date) -> Loaded:
    if not settings.QCITY_DEMO_DATA:
        raise DemoDataRefused("生产环境不加载演示投诉举报")
    if Case.objects.exists():
        return Loaded(already=True)
    rng = random.Random(SEED)
    categories = list(Category.objects.enabled().values_list("code", flat=True))
    issues = list(IssueType.objects.enabled().values_list("code", flat=True))
    entities = list(
        MarketEntity.objects.filter(status=MarketEntity.Status.ACTIVE)
        .select_related("owner_unit")
        .order_by("code")[:2000]
    )
    if not entities:
        return Loaded()
    coordinator = User.objects.filter(role=Role.COORDINATOR).order_by("pk").first()
    loaded = Loaded()
    stories: list[_Story] = []
    with transaction.atomic():
        officers = _officers()
        odr_entities = _odr_entities(rng, coordinator) if coordinator else []
        for i in range(SUBMISSIONS):
            # Recent months carry more (a year's intake grows towards today).
            age = int(365 * rng.random() ** 1.6)
            # The first two tell the rarer stories for sure: an ODR case with days left, and a
            # jurisdiction dispute waiting for the city bureau.
            forced = {0: "odr", 1: "dispute"}.get(i, "")
            age = {"odr": 2, "dispute": 6}.get(forced, age)
            received = today - dt.timedelta(days=age)
            entity = rng.choice(odr_entities) if odr_entities and rng.random() < 0.15 else None
            if forced == "odr" and odr_entities:
                entity = odr_entities[0]
            entity = entity or rng.choice(entities)
            both = not forced and rng.random() < 0.05
            report_only = not forced and not both and rng.random() < 0.22
            goods, request, facts = rng.choice(STORIES)
            fields = {
                "kinds": "both" if both else ("report" if report_only else "complaint"),
                **_person(rng),
                "respondent_code": entity.code,
                "goods": goods,
                "request": request,
                "facts": rng.choice(REPORT_FACTS) if report_only else facts,
                "amount": str(rng.choice([58, 99, 199, 468, 860, 1280, 2800, 4999])),
                "incident_on": (received - dt.timedelta(days=rng.randint(0, 20))).isoformat(),
                "category": rng.choice(categories) if categories else "",
                "issue_type": rng.choice(issues) if issues else "",
                "consents_to_publication": rng.random() < 0.5,
            }
            if report_only and rng.random() < 0.3:
                fields.update(anonymous=True, person_name="", person_phone="", person_address="")
            channel = rng.choice(
                [Submission.Channel.WEB] * 4
                + [Submission.Channel.PHONE] * 3
                + [Submission.Channel.PLATFORM, Submission.Channel.COUNTER]
            )
            officer = officers.get(entity.owner_unit_id) or coordinator
            try:
                submitted = intake.submit(
                    fields,
                    channel=channel,
                    by=None if channel == Submission.Channel.WEB else officer,
                    # Never later than now: today's cases came in this morning at the latest.
                    received_at=min(_at(rng, received), timezone.now() - dt.timedelta(minutes=5)),
                )
            except intake.IntakeRefused as refused:
                loaded.refused.append(str(refused))
                continue
            loaded.submissions += 1
            for case in submitted.cases:
                story = _Story(case)
                owner = officers.get(case.owner_unit_id) or coordinator
                if case.kind == Case.Kind.COMPLAINT:
                    _complaint(rng, story, owner, today, forced=forced)
                else:
                    _report(rng, story, owner, today)
                stories.append(story)
        _backdate(stories)
    loaded.cases = len(stories)
    for status in Case.objects.values_list("status", flat=True):
        loaded.states[status] = loaded.states.get(status, 0) + 1
    # The last three whole months on the portal (投诉信息公示).
    month = today.replace(day=1)
    for _n in range(3):
        month = (month - dt.timedelta(days=1)).replace(day=1)
        try:
            publication = disclosure.publish(f"{month:%Y-%m}", by=coordinator, today=today)
        except WorkflowError:
            continue
        loaded.published += getattr(publication, "rows", 0) or 0
    return loaded
