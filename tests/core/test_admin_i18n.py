"""The administrators' side in Chinese (issue 6 item 14).

Every admin page an administrator can open is walked: no column header, filter
title, field label or fieldset title is English; the audit log names actions in
words, tells the three exports apart and filters by time, unit, actor and action.
"""

from __future__ import annotations

import ast
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.contrib import admin
from django.urls import reverse

from qcity.core import audit, services
from qcity.core.audit_labels import ACTION_LABELS, ADMIN_VERBS, EXPORT_LABELS, action_label
from qcity.core.models import AuditEvent, CalendarDay, DictionaryItem, OrgUnit, User

pytestmark = pytest.mark.django_db

QCITY = Path(__file__).resolve().parents[2] / "qcity"
HAN = re.compile(r"[\u4e00-\u9fff]")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
# Acronyms used as the Chinese term itself (API 令牌, IP 地址, 导出 XLSX).
ALLOWED = {"XLSX", "API", "IP", "SHA"}


class Headers(HTMLParser):
    """Texts that label things: table heads, labels, legends and filter titles."""

    # tag -> the tag it must sit in to count (None: anywhere). A <th> in a body row and
    # the <h2> naming the object are data, not headers.
    LABELLING = {
        "th": "thead",
        "label": None,
        "h2": "fieldset",
        "h3": None,
        "summary": None,
        "caption": None,
    }

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.open: list[list[str]] = []
        self.texts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("br", "img", "input", "meta", "link", "hr"):
            return
        self.stack.append(tag)
        parent = self.LABELLING.get(tag, "-")
        if parent != "-" and (parent is None or parent in self.stack):
            self.open.append([])

    def handle_endtag(self, tag):
        if tag not in self.stack:
            return
        while self.stack:
            top = self.stack.pop()
            parent = self.LABELLING.get(top, "-")
            if parent != "-" and (parent is None or parent in self.stack) and self.open:
                self.texts.append(" ".join("".join(self.open.pop()).split()))
            if top == tag:
                break

    def handle_data(self, data):
        for buffer in self.open:
            buffer.append(data)


def english_headers(html: str) -> list[str]:
    parser = Headers()
    parser.feed(html)
    return [
        text
        for text in parser.texts
        if any(word not in ALLOWED for word in LATIN_WORD.findall(text))
    ]


@pytest.fixture
def admin_data(personas, calendar):
    services.issue_api_token(personas["nongye"], name="对接", by=personas["secadmin"])
    DictionaryItem.objects.create(dictionary="risk", code="A", label="信用风险低")
    services.record_login_failure("nongye", ip="10.0.0.1")
    audit.record("user.unlocked", by=personas["secadmin"], obj=personas["nongye"])
    return personas


def _admin_urls(user, client) -> list[str]:
    """Every changelist the user may open, one change page of each, and add pages."""
    urls = []
    client.force_login(user)
    for model in admin.site._registry:
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        changelist = reverse(f"{prefix}_changelist")
        if client.get(changelist).status_code != 200:
            continue
        urls.append(changelist)
        obj = model._default_manager.order_by("pk").first()
        if obj is not None:
            urls.append(reverse(f"{prefix}_change", args=[obj.pk]))
        if client.get(reverse(f"{prefix}_add")).status_code == 200:
            urls.append(reverse(f"{prefix}_add"))
    return urls


@pytest.mark.parametrize("persona", ["sysadmin", "secadmin", "auditadmin"])
def test_no_admin_page_has_an_english_header_or_label(client, admin_data, persona):
    user = admin_data[persona]
    urls = ["/admin/", *_admin_urls(user, client)]
    assert len(urls) >= 3
    found = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        english = english_headers(response.content.decode())
        if english:
            found[url] = english
    assert found == {}, "\n".join(f"{url}: {texts}" for url, texts in found.items())


def test_the_header_parser_would_see_the_old_english_headers():
    html = (
        "<table><thead><tr><th>SEQ</th><th>操作</th></tr></thead>"
        "<tbody><tr><th>nongye</th></tr></tbody></table>"
        "<label>Prev hash:</label><details><summary>以 action</summary></details>"
    )
    assert english_headers(html) == ["SEQ", "Prev hash:", "以 action"]


def test_the_admin_wears_the_products_name_and_colours(client, admin_data):
    client.force_login(admin_data["auditadmin"])
    html = client.get("/admin/").content.decode()
    assert "质量强市数字化平台 · 系统管理" in html
    assert "<title>系统管理 | 质量强市数字化平台</title>" in html
    assert "/static/qcity/admin.css" in html
    assert client.get("/static/qcity/admin.css").status_code == 200


# --- the audit log in words ----------------------------------------------------------------


def _audit_page(client, user, **params):
    client.force_login(user)
    response = client.get("/admin/core/auditevent/", params)
    assert response.status_code == 200
    return response.content.decode()


def _rows(html: str) -> str:
    """The result table only (the filter sidebar names every action too)."""
    return html.split('id="result_list"')[1].split("</table>")[0]


def _exports(client, plan, personas):
    client.force_login(personas["coordinator"])
    client.get(f"/plans/{plan.pk}/export.xlsx")
    client.get(f"/plans/{plan.pk}/matrix/export.xlsx")
    client.force_login(personas["nongye"])
    client.get("/plans/mine/export.xlsx")
    assert AuditEvent.objects.filter(action="export.xlsx").count() == 3


def test_the_audit_log_names_actions_in_words_and_tells_exports_apart(client, plan, admin_data):
    _exports(client, plan, admin_data)
    html = _audit_page(client, admin_data["auditadmin"])
    for words in [
        "登录失败",
        "解除锁定",
        "导出 XLSX：任务分解表",
        "导出 XLSX：责任矩阵",
        "导出 XLSX：我的任务",
        "签发 API 令牌",
    ]:
        assert words in html, words
    assert "auth.login_failed" not in _rows(html)


def test_the_audit_log_filters_by_export_kind(client, plan, admin_data):
    _exports(client, plan, admin_data)
    html = _audit_page(client, admin_data["auditadmin"], action="export.xlsx:plan.matrix")
    rows = _rows(html)
    assert "责任矩阵" in rows and "任务分解表" not in rows and "我的任务" not in rows


def test_the_audit_log_filters_by_action_actor_unit_and_time(client, plan, admin_data):
    _exports(client, plan, admin_data)
    auditor = admin_data["auditadmin"]
    nongye = admin_data["nongye"]
    by_action = _audit_page(client, auditor, action="user.unlocked")
    assert "解除锁定" in _rows(by_action)
    assert "登录失败" not in _rows(by_action)
    by_actor = _audit_page(client, auditor, actor__id__exact=nongye.pk)
    assert "我的任务" in _rows(by_actor)
    assert "任务分解表" not in _rows(by_actor)
    unit = OrgUnit.objects.get(name="市农业农村局")
    by_unit = _audit_page(client, auditor, actor_unit=unit.pk)
    assert "我的任务" in _rows(by_unit)
    assert "责任矩阵" not in _rows(by_unit)
    city = OrgUnit.objects.get(name="铁岭市人民政府")  # the root: everyone's unit is below it
    assert "责任矩阵" in _audit_page(client, auditor, actor_unit=city.pk)
    event = AuditEvent.objects.order_by("seq").last()
    day = event.time.astimezone().date()
    by_day = _audit_page(
        client, auditor, time__year=day.year, time__month=day.month, time__day=day.day
    )
    assert "我的任务" in _rows(by_day)
    none_then = _audit_page(client, auditor, time__year=2001)
    assert 'id="result_list"' not in none_then  # no event that year
    for title in ["以 时间", "以 操作者单位", "以 操作者账户", "以 操作", "以 成功"]:
        assert title in by_day, title


def test_an_event_shows_its_details_in_words(client, admin_data):
    nongye = admin_data["nongye"]
    audit.record(
        "admin.user.changed",
        by=admin_data["secadmin"],
        obj=nongye,
        details={"fields": ["unit"], "changes": {"unit": ["市农业农村局", "铁岭市人民政府"]}},
    )
    event = AuditEvent.objects.order_by("seq").last()
    client.force_login(admin_data["auditadmin"])
    html = client.get(f"/admin/core/auditevent/{event.pk}/change/").content.decode()
    assert "后台修改用户" in html
    assert "修改的字段：所属单位" in html
    assert "变更：所属单位：市农业农村局 → 铁岭市人民政府" in html
    for label in ["序号", "前一条的哈希", "本条哈希", "操作者单位", "详情（原始数据）"]:
        assert label in html, label


@pytest.mark.parametrize(
    "params",
    [
        {"actor_unit": "abc"},
        {"actor_unit": "999999"},
        {"action": "<script>alert(1)</script>"},
        {"action": "export.xlsx:%00"},
        {"time__gte": "not-a-date"},
        {"time__year": "99999999999999999999"},
        {"time__year": "9999"},
        {"time__year": "9999", "time__month": "12", "time__day": "31"},
        {"time__year": "0"},
        {"actor__id__exact": "x"},
        {"success__exact": "2"},
        {"o": "99"},
    ],
)
def test_hostile_filter_values_never_break_the_audit_log(client, admin_data, params):
    client.force_login(admin_data["auditadmin"])
    response = client.get("/admin/core/auditevent/", params)
    assert response.status_code in (200, 302)
    assert "<script>alert" not in response.content.decode()


# --- every recorded action has a readable name ----------------------------------------------


def _recorded_actions() -> tuple[set[str], set[str], bool]:
    """Action codes passed to audit.record anywhere in qcity, export kinds, and f-strings seen."""
    actions: set[str] = set()
    exports: set[str] = set()
    formatted = False
    for path in QCITY.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        assigned: dict[str, list[ast.AST]] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        assigned.setdefault(target.id, []).append(node.value)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            for keyword in node.keywords:
                if keyword.arg == "what" and isinstance(keyword.value, ast.Constant):
                    exports.add(keyword.value.value)
            if name != "record" or not node.args:
                continue
            first = node.args[0]
            sources = assigned.get(first.id, []) if isinstance(first, ast.Name) else [first]
            for source in sources:
                if isinstance(source, ast.JoinedStr):
                    formatted = True
                for sub in ast.walk(source):
                    if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                        if re.fullmatch(r"[a-z_]+\.[a-z_.]+", sub.value):
                            actions.add(sub.value)
    return actions, exports, formatted


def test_every_action_recorded_in_the_code_has_a_readable_name():
    actions, exports, formatted = _recorded_actions()
    assert {"auth.login", "auth.idle_timeout", "auth.session_expired", "export.xlsx"} <= actions
    assert sorted(actions - set(ACTION_LABELS)) == []
    assert exports and sorted(exports - set(EXPORT_LABELS)) == []
    assert formatted  # admin.<model>.<verb>: every admin model and verb reads as words
    for model in admin.site._registry:
        for verb in ADMIN_VERBS:
            code = f"admin.{model._meta.model_name}.{verb}"
            assert action_label(code) != code and HAN.search(action_label(code)), code


def test_an_unknown_action_falls_back_to_its_code():
    assert action_label("future.thing") == "future.thing"
    assert action_label("export.xlsx", {"what": "new.list"}) == "导出 XLSX：new.list"


def test_user_admin_headers_are_chinese(client, admin_data):
    User.objects.filter(username="nongye").update(failed_login_count=2)
    client.force_login(admin_data["secadmin"])
    html = client.get("/admin/core/user/").content.decode()
    for header in ["用户名", "姓名", "所属单位", "角色", "锁定至"]:
        assert header in html, header
    assert "LOCKED UNTIL" not in html.upper().replace("锁定至", "")
    client.force_login(admin_data["sysadmin"])
    html = client.get("/admin/core/calendarday/").content.decode()
    assert "日期" in html and CalendarDay.objects.exists()


def test_events_without_a_logged_in_person_are_by_the_system(client, admin_data):
    html = _rows(_audit_page(client, admin_data["auditadmin"]))
    assert "系统" in html  # org_unit.loaded by load_org_units, recorded as "system"
    assert ">system<" not in html
    assert "nongye" in html  # the name typed at the failed login
