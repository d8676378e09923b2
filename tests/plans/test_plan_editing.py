"""The plan, worked on in the browser: upload → dry run → confirm; 牵头/配合 units per measure."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from qcity.core.models import AuditEvent, OrgUnit
from qcity.plans import selectors
from qcity.plans.models import Measure, PlanUpload, Responsibility
from qcity.plans.parser import limits
from tests.conftest import BUNDLED_SEED

pytestmark = pytest.mark.django_db

SEED = BUNDLED_SEED.read_bytes()
OLD_CLAUSE = "(责任单位:市科技局、市工业和信息化局、市市场监管局)".encode()
NEW_CLAUSE = "(责任单位:市科技局、市工业和信息化局、市农业农村局、市市场监管局)".encode()
# The amended plan: 市农业农村局 becomes responsible for measure 1 as well.
AMENDED = SEED.replace(OLD_CLAUSE, NEW_CLAUSE, 1)


@pytest.fixture
def world(plan, personas):
    return plan, personas


def _upload(client, data: bytes, name: str = "方案修订稿.txt"):
    return client.post("/plans/upload/", {"file": SimpleUploadedFile(name, data)})


def _numbers(user) -> set[int]:
    return set(selectors.my_measures(user).values_list("number", flat=True))


def test_the_amendment_is_a_real_one():
    assert OLD_CLAUSE in SEED and AMENDED != SEED


def test_it_uploads_an_amended_plan_shows_the_differences_and_imports_them_on_confirm(
    client, world
):
    plan, users = world
    nongye = users["nongye"]
    before = _numbers(nongye)
    assert 1 not in before
    client.force_login(users["coordinator"])

    response = _upload(client, AMENDED)
    assert response.status_code == 302
    staged = PlanUpload.objects.get()
    assert response.url == f"/plans/upload/{staged.token}/"
    review = client.get(response.url).content.decode()
    assert "措施 1 变更：责任单位原文" in review
    assert "措施 1 责任单位：市科技局、市工业和信息化局、市市场监管局 → " in review
    assert "市农业农村局" in review
    assert "确认导入" in review
    # The dry run wrote nothing.
    assert _numbers(nongye) == before
    assert (
        not plan.measures.get(number=1)
        .responsibilities.filter(org_unit__name="市农业农村局")
        .exists()
    )

    confirmed = client.post(f"/plans/upload/{staged.token}/confirm/")
    assert confirmed.status_code == 302 and confirmed.url == f"/plans/{plan.pk}/"
    assert _numbers(nongye) == before | {1}
    staged.refresh_from_db()
    assert staged.confirmed_at is not None and staged.plan_id == plan.pk
    actions = list(AuditEvent.objects.order_by("pk").values_list("action", flat=True))
    assert actions[-3:] == ["plan.uploaded", "plan.reimported", "plan.upload_confirmed"]
    # A confirmed upload cannot be confirmed again.
    assert client.post(f"/plans/upload/{staged.token}/confirm/").status_code == 404


def test_re_uploading_the_same_text_says_there_is_nothing_to_change(client, world):
    _, users = world
    client.force_login(users["coordinator"])
    response = _upload(client, SEED)
    review = client.get(response.url).content.decode()
    assert "没有变化" in review
    assert 'data-testid="change"' not in review


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "图片.png", "文件是图片或其他二进制文件"),
        (b"PK\x03\x04" + b"not really a zip" * 8, "损坏.docx", "已损坏"),
        (b"%PDF-1.4\nbroken", "损坏.pdf", "PDF"),
        ("只是一段普通的文字，没有任何措施。".encode(), "随笔.txt", "未识别到任何措施条目"),
        (b"   ", "空.txt", "文件为空"),
    ],
)
def test_a_bad_file_gets_a_specific_chinese_message_and_nothing_is_stored(
    client, world, data, name, message
):
    _, users = world
    client.force_login(users["coordinator"])
    audit_count = AuditEvent.objects.count()
    response = _upload(client, data, name)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not PlanUpload.objects.exists()
    assert AuditEvent.objects.count() == audit_count


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(client, world, monkeypatch):
    _, users = world
    client.force_login(users["coordinator"])
    monkeypatch.setattr(limits, "MAX_FILE_BYTES", 1000)
    response = _upload(client, SEED)
    assert response.status_code == 400
    assert "文件过大" in response.content.decode()
    assert not PlanUpload.objects.exists()


def test_an_upload_without_a_file_says_what_to_do(client, world):
    _, users = world
    client.force_login(users["coordinator"])
    response = client.post("/plans/upload/", {})
    assert response.status_code == 400
    assert "请选择要上传的方案文件" in response.content.decode()


@pytest.mark.parametrize("persona", ["nongye", "kaiyuan", "lab", "enterprise", "sysadmin"])
def test_only_the_coordinator_may_upload(client, world, persona):
    _, users = world
    client.force_login(users[persona])
    assert client.get("/plans/upload/").status_code == 403
    assert _upload(client, AMENDED).status_code == 403
    assert not PlanUpload.objects.exists()


def test_an_upload_is_its_uploaders_alone_and_expires(client, world, django_user_model):
    _, users = world
    client.force_login(users["coordinator"])
    _upload(client, AMENDED)
    token = PlanUpload.objects.get().token
    other = django_user_model.objects.create(
        username="coordinator2", role="coordinator", unit=users["coordinator"].unit
    )
    client.force_login(other)
    assert client.get(f"/plans/upload/{token}/").status_code == 404
    assert client.post(f"/plans/upload/{token}/confirm/").status_code == 404

    client.force_login(users["coordinator"])
    PlanUpload.objects.update(uploaded_at=timezone.now() - timedelta(hours=25))
    response = client.post(f"/plans/upload/{token}/confirm/", follow=True)
    assert "已失效，请重新上传" in response.content.decode()
    assert PlanUpload.objects.get().confirmed_at is None


def test_the_hourly_job_purges_the_bytes_of_expired_uploads_and_keeps_the_record(client, world):
    from qcity.plans.services import purge_expired_uploads

    _, users = world
    client.force_login(users["coordinator"])
    _upload(client, AMENDED, name="旧稿.txt")
    PlanUpload.objects.update(uploaded_at=timezone.now() - timedelta(hours=25))
    _upload(client, AMENDED, name="新稿.txt")

    assert purge_expired_uploads() == 1
    old, new = PlanUpload.objects.get(name="旧稿.txt"), PlanUpload.objects.get(name="新稿.txt")
    assert bytes(old.content) == b"" and old.sha256  # the record of what was uploaded stays
    assert bytes(new.content) == AMENDED
    event = AuditEvent.objects.get(action="plan.uploads_purged")
    assert event.details == {"uploads": [old.pk]}
    assert purge_expired_uploads() == 0  # nothing left to purge, nothing recorded
    assert AuditEvent.objects.filter(action="plan.uploads_purged").count() == 1


# --- 牵头 and 配合 units per measure ---------------------------------------------------------------


def _units_post(client, plan, measure, rows, add=None, htmx=True):
    data = {"unit": [str(u.pk) for u, _ in rows], "role": [role for _, role in rows]}
    if add:
        data["add_unit"], data["add_role"] = str(add[0].pk), add[1]
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(f"/plans/{plan.pk}/measures/{measure.pk}/units/", data, headers=headers)


def test_the_coordinator_sets_lead_and_support_units_and_a_reimport_keeps_them(client, world):
    plan, users = world
    measure = plan.measures.get(number=1)
    units = [r.org_unit for r in measure.responsibilities.order_by("order")]
    assert [u.name for u in units] == ["市科技局", "市工业和信息化局", "市市场监管局"]
    client.force_login(users["coordinator"])
    page = client.get(f"/plans/{plan.pk}/measures/{measure.pk}/").content.decode()
    assert "调整牵头和配合单位" in page and "未指定" in page

    nongye_unit = OrgUnit.objects.get(name="市农业农村局")
    response = _units_post(
        client,
        plan,
        measure,
        [(units[0], "lead"), (units[1], "support"), (units[2], "remove")],
        add=(nongye_unit, "support"),
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "责任单位已保存" in html
    assert 'data-testid="lead-units">市科技局<' in html
    rows = list(measure.responsibilities.order_by("order").values_list("org_unit__name", "is_lead"))
    assert rows == [("市科技局", True), ("市工业和信息化局", False), ("市农业农村局", False)]
    measure.refresh_from_db()
    assert measure.units_edited
    event = AuditEvent.objects.filter(action="plan.responsibilities_set").get()
    assert event.details["lead"] == ["市科技局"]
    assert 1 in _numbers(users["nongye"])

    # The amended text changes measure 1's clause: the manual edit wins and the change list says so.
    client.force_login(users["coordinator"])
    staged = _upload(client, AMENDED)
    review = client.get(staged.url).content.decode()
    assert "措施 1 责任单位已手工调整，保留手工设置" in review
    client.post(staged.url + "confirm/")
    assert (
        list(measure.responsibilities.order_by("order").values_list("org_unit__name", "is_lead"))
        == rows
    )


@pytest.mark.parametrize(
    ("persona", "status"),
    [("nongye", 400), ("gongxin", 400), ("xifeng", 400), ("inspector", 400), ("outsider", 404)],
)
def test_no_one_but_the_plan_owner_changes_the_division_of_labour(client, world, persona, status):
    plan, users = world
    measure = plan.measures.get(number=5)  # 市农业农村局 and 市工业和信息化局 are responsible
    before = list(Responsibility.objects.filter(measure=measure).values_list())
    client.force_login(users[persona])
    if status == 400:
        page = client.get(f"/plans/{plan.pk}/measures/{measure.pk}/").content.decode()
        assert "调整牵头和配合单位" not in page
    first = measure.responsibilities.order_by("order").first().org_unit
    response = _units_post(client, plan, measure, [(first, "lead")])
    assert response.status_code == status
    if status == 400:
        assert "只有方案的管理单位可以调整责任单位" in response.content.decode()
    assert list(Responsibility.objects.filter(measure=measure).values_list()) == before
    assert not AuditEvent.objects.filter(action="plan.responsibilities_set").exists()


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([(0, "support"), (1, "support")], "请至少指定一个牵头单位"),
        ([(0, "lead"), (0, "support")], "同一单位不能重复列出"),
        ([(0, "boss")], "提交的单位或角色无效"),
    ],
)
def test_a_wrong_division_of_labour_is_refused_with_a_reason(client, world, rows, message):
    plan, users = world
    measure = plan.measures.get(number=1)
    units = [r.org_unit for r in measure.responsibilities.order_by("order")]
    before = list(Responsibility.objects.filter(measure=measure).values_list())
    client.force_login(users["coordinator"])
    response = _units_post(client, plan, measure, [(units[i], role) for i, role in rows])
    assert response.status_code == 400
    assert message in response.content.decode()
    assert list(Responsibility.objects.filter(measure=measure).values_list()) == before
    assert not Measure.objects.get(pk=measure.pk).units_edited


@pytest.mark.parametrize("unit_id", ["²", "¹²", "9" * 40])
def test_a_unit_id_that_is_not_a_plain_number_is_refused_not_a_server_error(client, world, unit_id):
    plan, users = world
    measure = plan.measures.get(number=1)
    before = list(Responsibility.objects.filter(measure=measure).values_list())
    client.force_login(users["coordinator"])
    response = client.post(
        f"/plans/{plan.pk}/measures/{measure.pk}/units/",
        {"unit": [unit_id], "role": ["lead"]},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 400
    assert "提交的单位或角色无效" in response.content.decode()
    assert list(Responsibility.objects.filter(measure=measure).values_list()) == before


def test_an_unconfirmed_unit_cannot_be_chosen(client, world):
    plan, users = world
    measure = plan.measures.get(number=1)
    typo = OrgUnit.objects.get(name="市交通运输局市")
    first = measure.responsibilities.order_by("order").first().org_unit
    client.force_login(users["coordinator"])
    response = _units_post(client, plan, measure, [(first, "lead")], add=(typo, "support"))
    assert response.status_code == 400
    assert "只能选择已确认且在用的单位" in response.content.decode()


# --- Badges and navigation -----------------------------------------------------------------------


def test_unit_badges_show_the_canonical_name_with_the_written_form_as_source(client, world):
    plan, users = world
    client.force_login(users["coordinator"])
    measure = plan.measures.get(number=19)
    html = client.get(f"/plans/{plan.pk}/measures/{measure.pk}/").content.decode()
    badges = html.split('data-testid="units">', 1)[1].split("</dd>", 1)[0]
    assert "市发展改革委" in badges
    assert "原文：市发改委" in badges


def test_the_navigation_marks_where_one_is_and_leads_to_the_password_change(client, world):
    _, users = world
    client.force_login(users["nongye"])
    html = client.get("/plans/mine/").content.decode()
    assert 'active" aria-current="page" href="/plans/mine/"' in html
    assert 'aria-current="page" href="/plans/"' not in html
    assert 'href="/accounts/password/"' in html and "修改密码" in html
    assert (
        'aria-current="page" href="/accounts/password/"'
        in client.get("/accounts/password/").content.decode()
    )


def test_targets_read_as_the_plan_writes_them(client, world):
    plan, users = world
    phrases = {t.indicator_name: t.phrase for t in plan.targets.all()}
    assert phrases["产品质量安全监管领域系统性、区域性重大安全责任事故"] == "零发生"
    assert phrases["农产品质量安全例行监测合格率"] == "稳定在98%以上"
    assert phrases["食品抽检合格率"] == "稳定在98%以上"
    assert phrases["制修订铁岭市地方标准"] == "10项以上"
    assert phrases["全市技术合同登记额"] == "达到4亿元"
    client.force_login(users["xifeng"])
    html = client.get(f"/plans/{plan.pk}/").content.decode()
    assert '<td data-testid="target-phrase" title="达到 0">零发生</td>' in html


def test_chapters_keep_their_written_numbering(client, world):
    plan, users = world
    assert [c.numbering for c in plan.chapters.order_by("number")][:3] == ["(一)", "(二)", "(三)"]
    client.force_login(users["lab"])
    html = client.get(f"/plans/{plan.pk}/").content.decode()
    assert '<h3 class="h6 chapter-heading">(一)' in html
    assert "（1）" not in html


def test_the_breakdown_xlsx_has_lead_units_a_goals_sheet_a_filter_and_a_print_layout(client, world):
    import io

    from openpyxl import load_workbook

    plan, users = world
    measure = plan.measures.get(number=19)
    client.force_login(users["coordinator"])
    lead = measure.responsibilities.get(written_name="市发改委").org_unit
    _units_post(client, plan, measure, [(lead, "lead")])
    client.force_login(users["kaiyuan"])  # any internal reader may download the public plan
    workbook = load_workbook(io.BytesIO(client.get(f"/plans/{plan.pk}/export.xlsx").content))
    assert workbook.sheetnames == ["任务分解表", "主要目标"]
    sheet = workbook["任务分解表"]
    header = [c.value for c in sheet[2]]
    rows = {r[1]: dict(zip(header, r, strict=True)) for r in sheet.iter_rows(3, values_only=True)}
    assert len(rows) == 27
    assert rows[19]["牵头单位"] == "市发展改革委"  # canonical, not the written 市发改委
    assert "市发改委" in rows[19]["责任单位原文"]
    assert rows[1]["章节"].startswith("(一)")
    assert sheet.auto_filter.ref == f"A2:{sheet.cell(2, len(header)).column_letter}29"
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.print_title_rows == "$2:$2"
    assert sheet["C3"].font.name == "宋体" and sheet["A2"].font.name == "宋体"
    goals = workbook["主要目标"]
    texts = [r[1] for r in goals.iter_rows(3, values_only=True)]
    assert "产品质量安全监管领域系统性、区域性重大安全责任事故零发生" in texts
    assert len(texts) == plan.targets.count()
    assert goals.auto_filter.ref.startswith("A2:") and goals.print_title_rows == "$2:$2"


# --- Sub-tasks (分解任务) ------------------------------------------------------------------------

SUBTASK = {
    "title": "制定农资打假专项行动方案",
    "deadline": "2026-06-30",
    "contact_name": "李联络",
    "contact_phone": "13812345678",
    "outputs": "专项行动方案一份",
}


def test_the_coordinator_splits_a_measure_into_sub_tasks_and_phones_are_masked_for_readers(
    client, world
):
    import io

    from openpyxl import load_workbook

    from qcity.plans.models import SubTask

    plan, users = world
    measure = plan.measures.get(number=8)  # 市农业农村局 is responsible
    nongye_unit = OrgUnit.objects.get(name="市农业农村局")
    client.force_login(users["coordinator"])
    url = f"/plans/{plan.pk}/measures/{measure.pk}/"
    assert "尚未分解" in client.get(url).content.decode()
    response = client.post(url + "subtasks/", {**SUBTASK, "unit": nongye_unit.pk})
    assert response.status_code == 302
    subtask = SubTask.objects.get()
    assert (subtask.measure, subtask.unit, str(subtask.deadline)) == (
        measure,
        nongye_unit,
        "2026-06-30",
    )
    event = AuditEvent.objects.get(action="plan.subtask_added")
    assert event.details["title"] == SUBTASK["title"] and event.details["unit"] == "市农业农村局"
    assert "13812345678" in client.get(url).content.decode()

    # The responsible liaison coordinates it: full phone; another reader sees it masked.
    client.force_login(users["nongye"])
    html = client.get(url).content.decode()
    assert "制定农资打假专项行动方案" in html and "13812345678" in html
    assert "添加分解任务" not in html
    client.force_login(users["xifeng"])
    html = client.get(url).content.decode()
    assert "制定农资打假专项行动方案" in html
    assert "13812345678" not in html and "138****5678" in html
    sheet = load_workbook(io.BytesIO(client.get(f"/plans/{plan.pk}/export.xlsx").content)).active
    header = [c.value for c in sheet[2]]
    row8 = next(r for r in sheet.iter_rows(3, values_only=True) if r[1] == 8)
    cell = row8[header.index("分解任务（责任单位、完成时限、联系人、预期成果）")]
    assert cell.startswith(
        "制定农资打假专项行动方案（市农业农村局，2026-06-30，李联络 138****5678）"
    )

    # Readers cannot add or remove; the coordinator removes it, audited.
    assert client.post(url + "subtasks/", {**SUBTASK, "unit": nongye_unit.pk}).status_code == 400
    client.post(url + f"subtasks/{subtask.pk}/delete/")
    assert SubTask.objects.count() == 1
    client.force_login(users["coordinator"])
    client.post(url + f"subtasks/{subtask.pk}/delete/")
    assert not SubTask.objects.exists()
    assert AuditEvent.objects.filter(action="plan.subtask_removed").count() == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"deadline": "2026-02-30"}, "日期"),
        ({"title": ""}, "这个字段是必填项"),
        ({"contact_phone": "call me"}, "请填写有效的电话号码"),
        ({"unit": "999999"}, "选择一个有效的选项"),
    ],
)
def test_a_wrong_sub_task_is_refused_with_a_reason_and_nothing_is_stored(
    client, world, change, message
):
    from qcity.plans.models import SubTask

    plan, users = world
    measure = plan.measures.get(number=8)
    client.force_login(users["coordinator"])
    data = {**SUBTASK, "unit": OrgUnit.objects.get(name="市农业农村局").pk, **change}
    response = client.post(f"/plans/{plan.pk}/measures/{measure.pk}/subtasks/", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not SubTask.objects.exists()


# --- Qualitative goals ---------------------------------------------------------------------------

# Our own expectation beside the shared truth file (which lists the numeric targets only).
QUALITATIVE = [
    ("公共服务质量满意度", "公共服务质量满意度达到全省平均水平", "达到全省平均水平"),
    ("政府质量奖获奖企业数量", "政府质量奖获奖企业数量实现突破", "实现突破"),
]


def test_the_plans_qualitative_goals_become_targets_assessed_by_a_person(client, world):
    from qcity.plans.parser import parse_plan_file

    plan, users = world
    parsed = parse_plan_file(BUNDLED_SEED)
    assert [(t.indicator, t.text) for t in parsed.qualitative_targets] == [
        (i, t) for i, t, _ in QUALITATIVE
    ]
    stored = list(plan.targets.filter(qualitative=True).order_by("seq"))
    assert [(t.indicator_name, t.text, t.phrase, t.value, t.year) for t in stored] == [
        (i, t, p, None, 2025) for i, t, p in QUALITATIVE
    ]
    # After the numeric ones, whose positions (their identity on re-import) do not move.
    assert min(t.seq for t in stored) == plan.targets.filter(qualitative=False).count() + 1
    client.force_login(users["gongxin"])
    html = client.get(f"/plans/{plan.pk}/").content.decode()
    assert "达到全省平均水平" in html and "定性" in html
    api = client.get(f"/api/v1/plans/{plan.pk}/targets").json()
    goal = next(t for t in api if t["indicator"] == "公共服务质量满意度")
    assert goal["qualitative"] is True and goal["value"] is None


def test_the_coordinator_edits_a_sub_task_in_place_and_readers_cannot(client, world):
    from qcity.plans.models import SubTask

    plan, users = world
    measure = plan.measures.get(number=8)
    nongye_unit = OrgUnit.objects.get(name="市农业农村局")
    client.force_login(users["coordinator"])
    base = f"/plans/{plan.pk}/measures/{measure.pk}/subtasks/"
    client.post(base, {**SUBTASK, "unit": nongye_unit.pk})
    subtask = SubTask.objects.get()
    edit = f"{base}{subtask.pk}/"
    assert SUBTASK["title"] in client.get(edit).content.decode()
    changed = {**SUBTASK, "unit": nongye_unit.pk, "deadline": "2026-12-31", "outputs": "总结报告"}
    assert client.post(edit, changed).status_code == 302
    subtask.refresh_from_db()
    assert (str(subtask.deadline), subtask.outputs) == ("2026-12-31", "总结报告")
    event = AuditEvent.objects.get(action="plan.subtask_changed")
    assert sorted(event.details["fields"]) == ["deadline", "outputs"]
    assert client.post(edit, {**changed, "deadline": "明天"}).status_code == 400
    subtask.refresh_from_db()
    assert str(subtask.deadline) == "2026-12-31"

    client.force_login(users["nongye"])  # responsible, but not the plan owner
    assert client.get(edit).status_code == 404
    assert client.post(edit, {**changed, "title": "越权"}).status_code == 404
    assert SubTask.objects.get().title == SUBTASK["title"]
