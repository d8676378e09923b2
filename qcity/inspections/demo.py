"""双随机、一公开 demo for ``make run``: one completed batch and one with open tasks.

``load_demo_inspections()`` (called by ``qcity load_demo_activity`` after the demo register,
``registry.demo``) runs the whole flow through the real services, as the people of
开原市市场监督管理局 would on the pages:

1. the county officer ``kaiyuan`` makes the yearly plan and its first batch (食品销售环节
   监督检查 of retailers, a count per risk class), draws it, assigns the inspectors;
2. for every task, the first assigned inspector enters the result (谁检查谁录入) with a check
   date inside the window: mostly 未发现问题, some problems put right on the spot, one or
   two left for a follow-up, which the officer closes;
3. the officer publishes each result on the portal (一公开): those whose 20 working days
   have passed are published late, with the reason; then the draw record, and the batch
   is completed;
4. a second batch (餐饮服务环节) is drawn and assigned and left open, so that the demo
   ``inspector`` (开原市城区市场监督管理所) finds tasks waiting on 我的检查任务.

The windows and check dates are counted back from ``today``, so the story is recent
whenever it is loaded; the plan is the year of the first window. Deterministic: the
choices come from a ``random.Random`` seeded with the seed and the draw seeds are derived
from it too (``draw_batch``'s test-only ``_seed``: demo data is never production data).
Refused under production settings (``core.demo.DemoDataRefused``) and idempotent: when
the plan exists, nothing is written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from qcity.core.demo import DemoDataRefused
from qcity.core.models import OrgUnit, User
from qcity.inspections import services
from qcity.inspections.models import (
    Batch,
    CheckItem,
    FollowUp,
    InspectionPlan,
    ResultCode,
    Task,
)
from qcity.registry.models import MarketEntity

SEED = 2026
OWNER = "开原市市场监督管理局"
OFFICER = "kaiyuan"
REGION = "211282"
PLAN_TITLE = "开原市市场监督管理局%(year)d年度双随机抽查工作计划"
# (title, check item code, industry prefixes, count per risk class)
COMPLETED_BATCH = (
    "食品销售经营者监督检查",
    "SJ-005",
    ["F52"],
    {"A": 2, "B": 6, "C": 4, "D": 3},
)
OPEN_BATCH = (
    "餐饮服务提供者监督检查",
    "SJ-006",
    ["H62"],
    {"A": 2, "B": 4, "C": 3, "D": 1},
)
# Result codes by name (regulations §1.4) with their share of the demo results and, for a
# problem, what the inspectors wrote.
OUTCOMES = [
    ("未发现问题", 68, []),
    (
        "发现问题已责令改正",
        16,
        [
            "货架上有 3 种预包装食品超过保质期，已当场责令下架并销毁。",
            "未按规定查验供货者的许可证和食品出厂检验合格证明，已责令补齐进货查验记录。",
            "冷藏柜温度记录不全，已责令按日记录并整改。",
        ],
    ),
    (
        "发现问题待后续处理",
        8,
        ["销售的散装熟食无标签、来源不明，已抽样送检，待检验结果后依法处理。"],
    ),
    ("通过登记的住所（经营场所）无法联系", 4, ["登记的经营场所已改作他用，电话无人接听。"]),
    ("未发现开展本次抽查涉及的经营活动", 4, []),
]
LATE_REASON = "检查结果需经科室负责人复核，复核期间恰逢集中整治行动，公示延后。"
FOLLOW_UP_OUTCOME = "检验结果不合格，已立案调查，责令停止销售并召回同批次产品。"


@dataclass(frozen=True)
class Loaded:
    """What one run wrote; ``already`` when the plan existed and nothing was written."""

    tasks: int = 0
    published: int = 0
    late: int = 0
    follow_ups: int = 0
    open_tasks: int = 0
    already: bool = False


def _seed(seed: int, batch: int) -> bytes:
    return hashlib.sha256(f"qcity-demo:{seed}:batch:{batch}".encode()).digest()


def _batch(
    officer: User,
    plan: InspectionPlan,
    spec: tuple[str, str, list[str], dict[str, int]],
    start: dt.date,
    end: dt.date,
) -> Batch:
    title, item_code, industries, counts = spec
    item = CheckItem.objects.enabled().filter(code=item_code).first()
    if item is None:
        raise DemoDataRefused(f"没有抽查事项 {item_code}：请先运行 qcity load_defaults")
    saved = services.create_batch(
        officer,
        plan.pk,
        services.BatchSpec(
            title=title,
            check_items=[item],
            region_codes=[REGION],
            industry_prefixes=industries,
            kinds=[],
            statuses=[MarketEntity.Status.ACTIVE],
            window_start=start,
            window_end=end,
            quotas={cls: ("count", str(n)) for cls, n in counts.items()},
            exclude_checked_within_days=365,
            min_inspectors=2,
        ),
    )
    return saved.batch


def _draw_and_assign(officer: User, batch: Batch, seed: int) -> list[Task]:
    services.draw_batch(officer, batch.pk, _seed=_seed(seed, batch.number))
    services.assign_batch(officer, batch.pk)
    return list(Task.objects.filter(batch=batch).select_related("entity").order_by("position"))


def _enter_results(
    rng: random.Random, tasks: list[Task], start: dt.date, end: dt.date
) -> dict[int, dt.date]:
    """Each task's result, entered by its first assigned inspector; returns the check dates."""
    codes = {rc.name: rc.code for rc in ResultCode.objects.enabled()}
    outcomes = [o for o in OUTCOMES if o[0] in codes]
    checked = {}
    days = (end - start).days
    for n, task in enumerate(tasks):
        # One follow-up at least, whatever the dice say: the demo shows that flow too.
        if n == 1 and "发现问题待后续处理" in codes:
            name, _, findings = next(o for o in outcomes if o[0] == "发现问题待后续处理")
        else:
            name, _, findings = rng.choices(outcomes, weights=[o[1] for o in outcomes])[0]
        check_date = start + dt.timedelta(days=rng.randint(0, days))
        inspector = (
            task.assignments.filter(inspector__user__isnull=False, inspector__active=True)
            .select_related("inspector__user")
            .order_by("position")
            .first()
        )
        if inspector is None:
            continue
        services.enter_result(
            inspector.inspector.user,
            task.pk,
            codes=[codes[name]],
            findings=rng.choice(findings) if findings else "",
            check_date=check_date,
        )
        checked[task.pk] = check_date
    return checked


def load_demo_inspections(today: dt.date | None = None, *, seed: int = SEED) -> Loaded:
    """Run the demo's batches through the services once (see the module's docstring).

    :raises DemoDataRefused: under production settings, or before the defaults, the demo
        users and the demo register are loaded.
    """
    if not settings.QCITY_DEMO_DATA:
        raise DemoDataRefused("生产环境不加载演示数据")
    today = today or timezone.localdate()
    # Checks over the last five weeks: those of the first week or so are past their 20
    # working days by today, so about a quarter of the publications are late.
    start = today - dt.timedelta(days=36)
    year = start.year
    owner = OrgUnit.objects.filter(name=OWNER).first()
    if owner is None:
        raise DemoDataRefused("还没有组织机构：请先运行 qcity load_defaults")
    title = PLAN_TITLE % {"year": year}
    if InspectionPlan.objects.filter(owner_unit=owner, year=year, title=title).exists():
        return Loaded(already=True)
    officer = User.objects.filter(username=OFFICER, unit=owner).first()
    if officer is None:
        raise DemoDataRefused("还没有演示用户 kaiyuan：请先运行 qcity load_defaults")
    if not MarketEntity.objects.filter(owner_unit=owner).exists():
        raise DemoDataRefused("开原市还没有市场主体：请先加载演示名录")
    rng = random.Random(f"{seed}:inspections")
    plan = services.create_plan(
        officer,
        year=year,
        title=title,
        note="演示数据：按风险分类确定抽查户数，食品销售、餐饮服务为重点检查事项。",
    )

    # The completed batch: checked in the last weeks, all published.
    done_end = today - dt.timedelta(days=7)
    batch = _batch(officer, plan, COMPLETED_BATCH, start, done_end)
    tasks = _draw_and_assign(officer, batch, seed)
    _enter_results(rng, tasks, start, done_end)
    late = follow_ups = 0
    for task in Task.objects.filter(batch=batch).order_by("position"):
        overdue = task.publish_due is not None and task.publish_due < today
        services.publish_result(officer, task.pk, late_reason=LATE_REASON if overdue else "")
        late += overdue
    for follow_up in FollowUp.objects.filter(task__batch=batch, status=FollowUp.Status.OPEN):
        services.close_follow_up(
            officer, follow_up.pk, resolution="filed", outcome=FOLLOW_UP_OUTCOME
        )
        follow_ups += 1
    draw = batch.draws.get(is_current=True)
    services.publish_draw(officer, draw.pk)
    services.complete_batch(officer, batch.pk)

    # The open batch: drawn and assigned this week, nothing checked yet.
    open_start = min(today - dt.timedelta(days=3), dt.date(year, 12, 31))
    second = _batch(officer, plan, OPEN_BATCH, open_start, today + dt.timedelta(days=60))
    open_tasks = _draw_and_assign(officer, second, seed)
    return Loaded(
        tasks=len(tasks),
        published=len(tasks),
        late=late,
        follow_ups=follow_ups,
        open_tasks=len(open_tasks),
    )
