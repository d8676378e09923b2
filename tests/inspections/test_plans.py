"""Yearly plans and batches in the browser (issue 8 items 3–4): pages, forms, scope.

Every refusal is checked by its Chinese message and by nothing having been stored.
"""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from django.utils import timezone

from qcity.core.models import AuditEvent, OrgUnit
from qcity.core.workflow import Forbidden, NotFound, StepNotAllowed
from qcity.inspections import defaults, services
from qcity.inspections.models import (
    Batch,
    BatchParticipant,
    CheckItem,
    Draw,
    InspectionPlan,
    Task,
    TaskInspector,
)
from qcity.registry.models import Inspector, MarketEntity

pytestmark = pytest.mark.django_db

USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]


def uscc(region: str, serial: int) -> str:
    """A valid 统一社会信用代码 (GB 32100 check digit; regulations.md §6) for test entities."""
    org = f"{serial:08d}"
    # GB 11714 check of the 9-character organisation code.
    total = sum(int(c) * w for c, w in zip(org, [3, 7, 9, 10, 5, 8, 4, 2], strict=True))
    check = 11 - total % 11
    org += {10: "X", 11: "0"}.get(check, str(check))
    body = f"91{region}{org}"
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(body, USCC_WEIGHTS, strict=True))
    return body + USCC_CHARS[(31 - total % 31) % 31]


def test_the_code_helper_matches_the_published_test_vectors():
    assert uscc("440300", 19220382) == "914403001922038216"


@pytest.fixture
def reference(personas):
    defaults.load()
    return {item.code: item for item in CheckItem.objects.all()}


def unit(name: str) -> OrgUnit:
    return OrgUnit.objects.get(name=name)


def make_plan(user, title="2026年度双随机抽查计划", year=2026) -> InspectionPlan:
    return services.create_plan(user, year=year, title=title)


def batch_data(reference, **changes) -> dict:
    data = {
        "title": "企业公示信息抽查",
        "check_items": [reference["SJ-001"].pk],
        "region_codes": ["211282"],
        "statuses": ["active"],
        "window_start": "2026-12-01",
        "window_end": "2026-12-20",
        "exclude_checked_within_days": "365",
        "min_inspectors": "2",
        "quota_A": "default",
        "quota_B": "ratio",
        "quota_B_value": "3",
        "quota_C": "count",
        "quota_C_value": "5",
        "quota_D": "ratio",
        "quota_D_value": "3",
        "quota_U": "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def make_batch(client, plan, reference, **changes) -> Batch:
    response = client.post(
        f"/inspections/plans/{plan.pk}/batches/new/", batch_data(reference, **changes)
    )
    assert response.status_code == 302, response.content.decode()
    return Batch.objects.get(pk=response["Location"].rstrip("/").split("/")[-1])


# --- the check-item list ----------------------------------------------------------------------


def test_the_check_item_list_shows_enabled_items_and_filters_by_kind(client, reference):
    client.force_login(User_("kaiyuan"))
    CheckItem.objects.filter(code="SJ-017").update(disabled_on=timezone.now())
    html = client.get("/inspections/checkitems/").content.decode()
    assert "企业公示信息情况检查" in html and "《企业信息公示暂行条例》第十四条" in html
    assert "广告发布检查" not in html  # disabled
    key_only = client.get("/inspections/checkitems/?kind=key").content.decode()
    assert "食品生产环节监督检查" in key_only and "企业公示信息情况检查" not in key_only
    everything = client.get("/inspections/checkitems/?disabled=1").content.decode()
    assert "广告发布检查" in everything and "已停用" in everything
    # Read-only for business users: no form posts to it.
    assert client.post("/inspections/checkitems/").status_code == 405


def test_an_enterprise_sees_no_check_items(client, reference):
    client.force_login(User_("enterprise"))
    html = client.get("/inspections/checkitems/").content.decode()
    assert "企业公示信息情况检查" not in html and "企业账户不查看抽查事项清单" in html


# --- plans ------------------------------------------------------------------------------------


def test_a_county_officer_creates_a_plan_owned_by_its_own_unit(client, reference):
    client.force_login(User_("kaiyuan"))
    response = client.post("/inspections/plans/", {"year": "2026", "title": "开原市2026年计划"})
    plan = InspectionPlan.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/inspections/plans/{plan.pk}/"
    assert plan.owner_unit == unit("开原市市场监督管理局") and plan.year == 2026
    event = AuditEvent.objects.get(action="inspections.plan.created")
    assert event.object_id == str(plan.pk)
    page = client.get(response["Location"]).content.decode()
    assert "计划中还没有批次。点击“新建批次”" in page


def test_a_plan_with_the_same_title_in_the_same_year_is_refused(client, reference):
    client.force_login(User_("kaiyuan"))
    make_plan(User_("kaiyuan"), title="开原市2026年计划")
    response = client.post("/inspections/plans/", {"year": "2026", "title": "开原市2026年计划"})
    assert response.status_code == 400
    assert "本单位 2026 年已有名为“开原市2026年计划”的计划" in response.content.decode()
    assert InspectionPlan.objects.count() == 1


@pytest.mark.parametrize("persona", ["inspector", "enterprise", "lab"])
def test_who_does_not_make_plans_cannot_create_one(client, reference, persona):
    client.force_login(User_(persona))
    assert "新建年度计划" not in client.get("/inspections/plans/").content.decode()
    response = client.post("/inspections/plans/", {"year": "2026", "title": "x"})
    assert response.status_code == 403
    assert not InspectionPlan.objects.exists()


# --- batches: a good one ------------------------------------------------------------------------


def test_a_batch_is_created_as_a_draft_with_every_parameter_stored(client, reference):
    kaiyuan = User_("kaiyuan")
    plan = make_plan(kaiyuan)
    client.force_login(kaiyuan)
    form = client.get(f"/inspections/plans/{plan.pk}/batches/new/").content.decode()
    # Only the owner's own county is offered, pre-checked.
    assert 'value="211282"' in form and 'value="211223"' not in form
    batch = make_batch(
        client,
        plan,
        reference,
        industry_prefixes="ｆ52， c14",
        kinds=["enterprise", "individual"],
        participant_1=str(unit("市农业农村局").pk),
        participant_1_count="1",
    )
    assert batch.status == Batch.Status.DRAFT and batch.number == 1
    assert list(batch.check_items.values_list("code", flat=True)) == ["SJ-001"]
    assert batch.population_filter == {
        "region_codes": ["211282"],
        "industry_prefixes": ["C14", "F52"],
        "kinds": ["enterprise", "individual"],
        "statuses": ["active"],
    }
    # "按事项默认比例" is resolved to the item's own limit when saved.
    assert batch.quotas == {
        "A": {"ratio": "3"},
        "B": {"ratio": "3"},
        "C": {"count": 5},
        "D": {"ratio": "3"},
    }
    assert [(p.unit.name, p.inspectors_per_task) for p in batch.participants.all()] == [
        ("市农业农村局", 1)
    ]
    assert AuditEvent.objects.filter(action="inspections.batch.created").count() == 1
    page = client.get(f"/inspections/batches/{batch.pk}/").content.decode()
    assert "A 信用风险低：按比例 3%" in page and "C 信用风险较高：按数量 5 户" in page
    assert "市农业农村局（每户 1 人）" in page
    assert "尚未抽取。核对上面的参数后" in page  # says what to do next
    second = make_batch(client, plan, reference, title="第二批")
    assert second.number == 2


def test_a_draft_batch_is_edited_and_the_change_audited(client, reference):
    kaiyuan = User_("kaiyuan")
    plan = make_plan(kaiyuan)
    client.force_login(kaiyuan)
    batch = make_batch(client, plan, reference)
    form = client.get(f"/inspections/batches/{batch.pk}/edit/").content.decode()
    assert 'value="企业公示信息抽查"' in form
    response = client.post(
        f"/inspections/batches/{batch.pk}/edit/",
        batch_data(reference, title="改名后的批次", quota_C="", quota_C_value=""),
    )
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.title == "改名后的批次" and "C" not in batch.quotas
    assert AuditEvent.objects.filter(action="inspections.batch.updated").count() == 1


def test_a_batch_no_longer_a_draft_cannot_be_edited(client, reference):
    kaiyuan = User_("kaiyuan")
    plan = make_plan(kaiyuan)
    client.force_login(kaiyuan)
    batch = make_batch(client, plan, reference)
    # The state a draw leaves (the draw itself is the draw work's; its step sets this).
    Batch.objects.filter(pk=batch.pk).update(status=Batch.Status.DRAWN)
    response = client.get(f"/inspections/batches/{batch.pk}/edit/", follow=True)
    assert "批次已抽取，参数不能再修改" in response.content.decode()
    with pytest.raises(StepNotAllowed) as refused:
        services.update_batch(kaiyuan, batch.pk, _spec(batch.plan, reference))
    assert "当前状态为“已抽取”，不能执行“修改批次参数”" in str(refused.value)


def _spec(plan, reference, **changes) -> services.BatchSpec:
    values = {
        "title": "批次",
        "check_items": [reference["SJ-001"]],
        "region_codes": ["211282"],
        "industry_prefixes": [],
        "kinds": [],
        "statuses": ["active"],
        "window_start": dt.date(plan.year, 12, 1),
        "window_end": dt.date(plan.year, 12, 20),
        "quotas": {"A": ("ratio", "3")},
        "exclude_checked_within_days": 365,
        "min_inspectors": 2,
        "participants": [],
    }
    values.update(changes)
    return services.BatchSpec(**values)


# --- batches: each bad input refused with its message ------------------------------------------

BAD_INPUTS = {
    "window order": (
        {"window_start": "2026-12-20", "window_end": "2026-12-01"},
        "检查结束日期不能早于开始日期",
    ),
    "window outside the plan year": (
        {"window_start": "2027-01-05", "window_end": "2027-01-20"},
        "检查开始日期须在计划年度（2026年）内",
    ),
    "ratio zero": ({"quota_B_value": "0"}, "“B 信用风险一般”的抽查比例须大于 0 且不超过 100（%）"),
    "ratio above 100": (
        {"check_items": "KEY", "quota_A": "", "quota_B_value": "150"},
        "“B 信用风险一般”的抽查比例须大于 0 且不超过 100（%）",
    ),
    "ratio not a number": ({"quota_B_value": "三"}, "“B 信用风险一般”的抽查比例须为数字"),
    "count zero": (
        {"quota_C_value": "0"},
        "“C 信用风险较高”的抽查数量须为 1 到 1000000 之间的整数",
    ),
    "count not whole": (
        {"quota_C_value": "2.5"},
        "“C 信用风险较高”的抽查数量须为 1 到 1000000 之间的整数",
    ),
    "no quota at all": (
        {"quota_A": "", "quota_B": "", "quota_C": "", "quota_D": ""},
        "请至少为一个风险类别设定抽查比例或数量",
    ),
    "no check item": ({"check_items": []}, "请至少选择一个抽查事项"),
    "general item above its limit": (
        {"quota_B_value": "10"},
        "一般检查事项的抽查比例应严格控制：“B 信用风险一般”的 10% 超过了所选事项的默认比例 3%",
    ),
    "default ratio of key items only": (
        {"check_items": "KEY"},
        "所选事项没有默认抽查比例（重点检查事项不设上限）：请为“A 信用风险低”填写比例或数量",
    ),
    "participant is the owner": (
        {"participant_1": "OWNER"},
        "开原市市场监督管理局是计划的制定单位，总是参加检查，不必列为联合参与部门",
    ),
    "participant twice": (
        {"participant_1": "NONGYE", "participant_2": "NONGYE"},
        "联合参与部门“市农业农村局”重复",
    ),
    "participant sends nobody": (
        {"participant_1": "NONGYE", "participant_1_count": "0"},
        "“市农业农村局”每户派出人数须在 1 到 5 之间",
    ),
    "one inspector": ({"min_inspectors": "1"}, "执法人员不得少于两人"),
    "industry code": ({"industry_prefixes": "C14, X9"}, "行业代码“X9”无效"),
    "no county": ({"region_codes": []}, "请至少选择一个区县"),
    "exclusion period": ({"exclude_checked_within_days": "5000"}, "排除期须在 0 到 3650 天之间"),
    "no title": ({"title": "  "}, "这个字段是必填项。"),
}


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_the_batch_form_refuses_each_bad_input_with_its_message(client, reference, case):
    kaiyuan = User_("kaiyuan")
    plan = make_plan(kaiyuan)
    client.force_login(kaiyuan)
    changes, message = BAD_INPUTS[case]
    replace = {
        "KEY": [reference["SJ-004"].pk],
        "OWNER": str(unit("开原市市场监督管理局").pk),
        "NONGYE": str(unit("市农业农村局").pk),
    }
    changes = {k: replace.get(v, v) if isinstance(v, str) else v for k, v in changes.items()}
    response = client.post(
        f"/inspections/plans/{plan.pk}/batches/new/", batch_data(reference, **changes)
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Batch.objects.exists() and not BatchParticipant.objects.exists()
    assert not AuditEvent.objects.filter(action="inspections.batch.created").exists()


def test_a_raised_ratio_for_high_risk_classes_is_kept_with_a_warning(client, reference):
    kaiyuan = User_("kaiyuan")
    plan = make_plan(kaiyuan)
    client.force_login(kaiyuan)
    response = client.post(
        f"/inspections/plans/{plan.pk}/batches/new/",
        batch_data(reference, quota_D_value="20"),
        follow=True,
    )
    assert "“D 信用风险高”的 20% 高于一般检查事项的默认比例 3%" in response.content.decode()
    assert Batch.objects.get().quotas["D"] == {"ratio": "20"}


def test_a_county_outside_the_owners_jurisdiction_is_refused_by_the_service(reference):
    kaiyuan = User_("kaiyuan")
    plan = make_plan(kaiyuan)
    with pytest.raises(services.BatchInvalid) as refused:
        services.create_batch(kaiyuan, plan.pk, _spec(plan, reference, region_codes=["211223"]))
    assert "区划代码“211223”不在开原市市场监督管理局的管辖范围内" in refused.value.message
    assert not Batch.objects.exists()


def test_the_city_bureau_may_scope_a_batch_to_every_county(client, reference):
    coordinator = User_("coordinator")
    plan = make_plan(coordinator)
    client.force_login(coordinator)
    form = client.get(f"/inspections/plans/{plan.pk}/batches/new/").content.decode()
    assert form.count('name="region_codes"') == 7
    batch = make_batch(client, plan, reference, region_codes=["211223", "211282"])
    assert batch.population_filter["region_codes"] == ["211223", "211282"]


def test_a_disabled_item_cannot_be_newly_chosen_but_stays_on_an_old_batch(client, reference):
    kaiyuan = User_("kaiyuan")
    plan = make_plan(kaiyuan)
    client.force_login(kaiyuan)
    batch = make_batch(client, plan, reference)
    CheckItem.objects.filter(code="SJ-001").update(disabled_on=timezone.now())
    # Still on the batch, and saving the batch keeps it.
    response = client.post(f"/inspections/batches/{batch.pk}/edit/", batch_data(reference))
    assert response.status_code == 302
    assert batch.check_items.get().code == "SJ-001"
    with pytest.raises(services.BatchInvalid) as refused:
        services.create_batch(kaiyuan, plan.pk, _spec(plan, reference))
    assert "抽查事项“企业公示信息情况检查”已停用，不能再选" in refused.value.message


# --- scope --------------------------------------------------------------------------------------


@pytest.fixture
def kaiyuan_batch(client, reference):
    """A joint batch of 开原 with 市农业农村局, drawn and assigned (rows as the steps leave them)."""
    kaiyuan = User_("kaiyuan")
    plan = make_plan(kaiyuan, title="开原市2026年度计划")
    client.force_login(kaiyuan)
    batch = make_batch(
        client,
        plan,
        reference,
        participant_1=str(unit("市农业农村局").pk),
        participant_1_count="1",
    )
    owner = unit("开原市市场监督管理局")
    entity = MarketEntity.objects.create(
        code=uscc("211282", 12345678),
        name="开原市示例乳业有限公司",
        kind=MarketEntity.Kind.ENTERPRISE,
        region_code="211282",
        owner_unit=owner,
        risk_class="B",
    )
    draws = [
        Draw.objects.create(
            batch=batch,
            attempt=attempt,
            is_current=False,
            reason=reason,
            seed=f"{attempt:064x}",
            algorithm="test",
            algorithm_version="1",
            population_digest="ab" * 32,
            population_size=10,
            strata={"B": {"population": 10, "selected": 1}},
            selected_codes=[entity.code],
            drawn_by=kaiyuan,
            drawn_at=timezone.now(),
        )
        for attempt, reason in [(1, ""), (2, "名录快照导入有误，更正后重新抽取")]
    ]
    Draw.objects.filter(pk=draws[1].pk).update(is_current=True)
    Batch.objects.filter(pk=batch.pk).update(status=Batch.Status.ASSIGNED)
    task = Task.objects.create(
        batch=batch, draw=draws[1], entity=entity, position=1, owner_unit=owner
    )
    officer = Inspector.objects.create(name="王检查", certificate_no="LN-0001", org_unit=owner)
    farmer = Inspector.objects.create(
        name="赵农业", certificate_no="LN-0002", org_unit=unit("市农业农村局")
    )
    TaskInspector.objects.create(task=task, inspector=officer, unit=owner, position=1)
    TaskInspector.objects.create(task=task, inspector=farmer, unit=unit("市农业农村局"), position=2)
    client.logout()
    return batch


def test_the_owner_sees_every_draw_attempt_and_the_task_table(client, kaiyuan_batch):
    client.force_login(User_("kaiyuan"))
    html = client.get(f"/inspections/batches/{kaiyuan_batch.pk}/").content.decode()
    assert html.count('data-testid="draw-row"') == 2
    assert "名录快照导入有误，更正后重新抽取" in html and "0" * 63 + "2" in html
    assert "开原市示例乳业有限公司" in html
    assert "王检查（开原市市场监督管理局）、赵农业（市农业农村局）" in html
    assert "B 信用风险一般：10 / 1" in html
    # These rows were written without a snapshot file: said, not a server error.
    missing = client.get(f"/inspections/batches/{kaiyuan_batch.pk}/draws/1/population.csv")
    assert missing.status_code == 410 and "名录快照无法读取" in missing.content.decode()


def test_the_task_export_holds_the_tasks_with_their_teams(client, kaiyuan_batch):
    client.force_login(User_("kaiyuan"))
    response = client.get(f"/inspections/batches/{kaiyuan_batch.pk}/tasks.xlsx")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    values = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
    row = next(r for r in values if "开原市示例乳业有限公司" in r)
    assert "王检查（开原市市场监督管理局）、赵农业（市农业农村局）" in row
    assert AuditEvent.objects.filter(
        action="export.xlsx", details__what="inspections.batch_tasks"
    ).exists()


def test_county_b_sees_nothing_of_county_a(client, kaiyuan_batch):
    xifeng = User_("xifeng")
    make_plan(xifeng, title="西丰县2026年度计划")
    client.force_login(xifeng)
    plans = client.get("/inspections/plans/").content.decode()
    assert "西丰县2026年度计划" in plans and "开原市2026年度计划" not in plans
    pk, plan_pk = kaiyuan_batch.pk, kaiyuan_batch.plan_id
    for url in [
        f"/inspections/plans/{plan_pk}/",
        f"/inspections/plans/{plan_pk}/batches/new/",
        f"/inspections/batches/{pk}/",
        f"/inspections/batches/{pk}/edit/",
        f"/inspections/batches/{pk}/tasks.xlsx",
        f"/inspections/batches/{pk}/draws/1/record.json",
        f"/inspections/batches/{pk}/draws/1/population.csv",
    ]:
        assert client.get(url).status_code == 404, url
    assert client.post(f"/inspections/batches/{pk}/step/", {"step": "assign"}).status_code == 404
    assert client.post(f"/inspections/plans/{plan_pk}/batches/new/", {}).status_code == 404
    with pytest.raises(NotFound):
        services.create_batch(
            xifeng,
            plan_pk,
            _spec(kaiyuan_batch.plan, {"SJ-001": CheckItem.objects.get(code="SJ-001")}),
        )


def test_a_department_in_a_joint_batch_sees_it_but_cannot_edit_or_run_it(client, kaiyuan_batch):
    nongye = User_("nongye")
    client.force_login(nongye)
    plans = client.get("/inspections/plans/").content.decode()
    assert "开原市2026年度计划" in plans
    assert client.get(f"/inspections/plans/{kaiyuan_batch.plan_id}/").status_code == 200
    html = client.get(f"/inspections/batches/{kaiyuan_batch.pk}/").content.decode()
    assert "开原市示例乳业有限公司" in html
    assert 'data-testid="edit-batch"' not in html and 'data-testid="steps"' not in html
    # Even while still a draft, editing is the owner's.
    Batch.objects.filter(pk=kaiyuan_batch.pk).update(status=Batch.Status.DRAFT)
    assert client.get(f"/inspections/batches/{kaiyuan_batch.pk}/edit/").status_code == 403
    response = client.post(f"/inspections/batches/{kaiyuan_batch.pk}/edit/", {"title": "改"})
    assert response.status_code == 403
    with pytest.raises(Forbidden):
        services.update_batch(
            nongye,
            kaiyuan_batch.pk,
            _spec(kaiyuan_batch.plan, {"SJ-001": CheckItem.objects.get(code="SJ-001")}),
        )
    response = client.post(
        f"/inspections/batches/{kaiyuan_batch.pk}/step/", {"step": "draw"}, follow=True
    )
    assert "您无权执行此操作" in response.content.decode()
    assert Batch.objects.get(pk=kaiyuan_batch.pk).status == Batch.Status.DRAFT
    assert kaiyuan_batch.title == Batch.objects.get(pk=kaiyuan_batch.pk).title
    # The export is the page's rows: readable by the participant.
    assert client.get(f"/inspections/batches/{kaiyuan_batch.pk}/tasks.xlsx").status_code == 200


def test_a_department_not_taking_part_sees_nothing(client, kaiyuan_batch):
    client.force_login(User_("gongxin"))
    assert "开原市2026年度计划" not in client.get("/inspections/plans/").content.decode()
    assert client.get(f"/inspections/batches/{kaiyuan_batch.pk}/").status_code == 404
    assert client.get(f"/inspections/batches/{kaiyuan_batch.pk}/tasks.xlsx").status_code == 404


def test_a_refused_step_shows_the_workflow_message_and_changes_nothing(client, reference):
    kaiyuan = User_("kaiyuan")
    plan = make_plan(kaiyuan)
    client.force_login(kaiyuan)
    batch = make_batch(client, plan, reference)
    response = client.post(
        f"/inspections/batches/{batch.pk}/step/", {"step": "assign"}, follow=True
    )
    assert "当前状态为“草稿”，不能执行“随机分派检查人员”" in response.content.decode()
    assert Batch.objects.get(pk=batch.pk).status == Batch.Status.DRAFT
    assert not Task.objects.exists() and not Draw.objects.exists()
    assert (
        client.post(f"/inspections/batches/{batch.pk}/step/", {"step": "nope"}).status_code == 404
    )


def User_(username: str):
    from qcity.core.models import User

    return User.objects.select_related("unit").get(username=username)
