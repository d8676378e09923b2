"""Adversarial corpus: hostile names and query strings on every kind of page.

Names come from plan files and from administrators; later from the public. Whatever
they contain, a page must render (200, never 500), escape markup, and show
bidirectional controls as visible markers instead of letting them reorder the text
(issue 6 item 13, ADR 0016). Stored data is never rewritten for display.
"""

from __future__ import annotations

import pytest

from qcity.core import services
from qcity.core.display import BIDI_CONTROLS, neutralise_bidi
from qcity.core.models import AuditEvent, DictionaryItem, OrgUnit, UnitAlias, User

pytestmark = pytest.mark.django_db

RLO = "\u202e"
UNIT_NAME = f"市农业{RLO}局村农"  # reads "市农业农村局" in a browser that obeys the override
PERSON_NAME = f"李\u2067农业\u2069{RLO}"
MEASURE_TITLE = f"举措{RLO}txt.exe"
PLAN_PREFIX = "\u200f"
ALIAS = "农业\u061c局"
LABEL = "\u2066风险\u2069\u202a\u202b\u202c\u202d\u200e"
PENDING = f"市{RLO}交通局"


@pytest.fixture
def hostile(plan, personas):
    """Every kind of name that reaches a page, each carrying bidirectional controls."""
    unit = OrgUnit.objects.get(name="市农业农村局")
    OrgUnit.objects.filter(pk=unit.pk).update(name=UNIT_NAME, full_name=UNIT_NAME)
    User.objects.filter(username="nongye").update(full_name=PERSON_NAME)
    # One of its own measures, so nongye reaches it on 我的任务 and the measure page.
    measure = plan.measures.filter(responsibilities__org_unit=unit).order_by("seq").first()
    type(measure).objects.filter(pk=measure.pk).update(title=MEASURE_TITLE)
    type(plan).objects.filter(pk=plan.pk).update(title=PLAN_PREFIX + plan.title)
    plan.chapters.filter(pk=measure.chapter_id).update(heading=f"第一章{RLO}")
    UnitAlias.objects.create(unit=unit, name=ALIAS)
    item = DictionaryItem.objects.create(dictionary="risk", code="A", label=LABEL)
    pending = services.create_unconfirmed_unit(PENDING, by=None, source="test")
    services.issue_api_token(personas["nongye"], name=f"对接{RLO}", by=personas["secadmin"])
    event = AuditEvent.objects.get(action="org_unit.unconfirmed_created", object_id=pending.pk)
    return {
        "plan": plan,
        "measure": measure,
        "unit": unit,
        "item": item,
        "pending": pending,
        "event": event,
        "nongye": User.objects.get(username="nongye"),
    }


def _pages(h) -> list[tuple[str, str]]:
    plan, measure, unit, nongye = h["plan"], h["measure"], h["unit"], h["nongye"]
    m = f"/plans/{plan.pk}/measures/{measure.pk}/"
    return [
        ("coordinator", "/"),
        ("coordinator", "/plans/"),
        ("coordinator", f"/plans/{plan.pk}/"),
        ("coordinator", m),
        ("coordinator", f"/plans/{plan.pk}/matrix/"),
        ("coordinator", f"/plans/{plan.pk}/search/?q=农业"),
        ("coordinator", f"/plans/{plan.pk}/search/?q={RLO}"),
        ("coordinator", "/units/pending/"),
        ("nongye", "/"),
        ("nongye", "/plans/mine/"),
        ("nongye", m),
        ("nongye", "/accounts/password/"),
        ("sysadmin", "/admin/"),
        ("sysadmin", "/admin/core/orgunit/"),
        ("sysadmin", f"/admin/core/orgunit/{unit.pk}/change/"),
        ("sysadmin", f"/admin/core/orgunit/?q={RLO}"),
        ("sysadmin", "/admin/core/dictionaryitem/"),
        ("sysadmin", f"/admin/core/dictionaryitem/{h['item'].pk}/change/"),
        ("sysadmin", "/admin/core/user/"),
        ("sysadmin", f"/admin/core/user/{nongye.pk}/change/"),
        ("secadmin", "/admin/core/user/"),
        ("secadmin", f"/admin/core/user/{nongye.pk}/change/"),
        ("secadmin", "/admin/core/apitoken/"),
        ("auditadmin", "/admin/core/auditevent/"),
        ("auditadmin", f"/admin/core/auditevent/{h['event'].pk}/change/"),
        ("auditadmin", f"/admin/core/auditevent/?q={RLO}"),
    ]


def _raw_controls(html: str) -> set[str]:
    return {f"U+{ord(c):04X}" for c in html if c in BIDI_CONTROLS}


def test_bidirectional_controls_are_shown_as_markers_on_every_page(client, hostile):
    pages = _pages(hostile)
    assert len(pages) >= 20
    marked = set()
    for persona, path in pages:
        client.force_login(User.objects.get(username=persona))
        response = client.get(path)
        assert response.status_code == 200, (persona, path, response.status_code)
        html = response.content.decode()
        assert _raw_controls(html) == set(), (persona, path)
        if "[U+" in html:
            marked.add(path)
    # The hostile names are on these pages, visibly marked, not silently dropped
    # (the admin index shows no names).
    assert {p for _, p in pages} - marked == {"/admin/"}


def test_the_login_page_marks_a_hostile_username_it_echoes(client, org_units):
    response = client.post("/accounts/login/", {"username": PENDING, "password": "x"})
    html = response.content.decode()
    assert _raw_controls(html) == set()
    assert neutralise_bidi(PENDING) in html


def test_display_never_rewrites_what_is_stored(client, hostile):
    client.force_login(User.objects.get(username="coordinator"))
    client.get(f"/plans/{hostile['plan'].pk}/")
    assert OrgUnit.objects.filter(name=UNIT_NAME).exists()
    assert User.objects.get(username="nongye").full_name == PERSON_NAME
    # The API hands data over as stored; its clients do their own display.
    client.force_login(User.objects.get(username="nongye"))
    data = client.get(f"/api/v1/measures/{hostile['measure'].pk}").json()
    assert data["title"] == MEASURE_TITLE


def test_a_page_without_hostile_text_is_passed_through_byte_for_byte(client, personas):
    from qcity.core.display import BidiNeutralisingMiddleware

    client.force_login(personas["coordinator"])
    response = client.get("/plans/")
    again = BidiNeutralisingMiddleware(lambda request: response)(None)
    assert again.content == response.content


# Names an attacker or a careless import could give a unit, a person or a measure.
HOSTILE_NAMES = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{ request.user.password }}{% debug %}",
    '=HYPERLINK("http://x")',
    "' OR '1'='1",
    "\u200b\u200c\u200d\ufeff零宽",
    "e\u0301\u0301\u0301\u0301组合",
    "🏛️政府\U0001f600",
    "\\x00%00%s%n",
    "名" * 100,
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_names_are_escaped_and_never_break_a_page(client, plan, personas, name):
    unit = OrgUnit.objects.get(name="市农业农村局")
    OrgUnit.objects.filter(pk=unit.pk).update(name=name[:100])
    measure = plan.measures.order_by("seq").first()
    type(measure).objects.filter(pk=measure.pk).update(title=name)
    User.objects.filter(username="nongye").update(full_name=name[:50])
    for persona, path in [
        ("coordinator", f"/plans/{plan.pk}/"),
        ("coordinator", f"/plans/{plan.pk}/matrix/"),
        ("coordinator", f"/plans/{plan.pk}/measures/{measure.pk}/"),
        ("nongye", "/plans/mine/"),
        ("sysadmin", "/admin/core/orgunit/"),
        ("secadmin", "/admin/core/user/"),
    ]:
        client.force_login(personas[persona])
        response = client.get(path)
        assert response.status_code == 200, (name, path)
        html = response.content.decode()
        assert "<script>alert" not in html and "<img src=x" not in html, (name, path)


HOSTILE_QUERIES = [
    RLO,
    "%",
    "_",
    "\\",
    "'\"",
    "<script>",
    "a" * 5000,
    "%E2%80%AE",
    "{{7*7}}",
    "名 " * 50,
]


@pytest.mark.parametrize("query", HOSTILE_QUERIES)
def test_hostile_search_strings_never_break_a_page(client, plan, personas, query):
    for persona, path in [
        ("coordinator", f"/plans/{plan.pk}/search/"),
        ("sysadmin", "/admin/core/orgunit/"),
        ("secadmin", "/admin/core/user/"),
        ("auditadmin", "/admin/core/auditevent/"),
    ]:
        client.force_login(personas[persona])
        response = client.get(path, {"q": query})
        assert response.status_code == 200, (query, path)
        assert "<script>" not in response.content.decode().replace("<script src=", "")


def test_every_bidirectional_control_gets_its_own_marker_in_text_and_bytes():
    from qcity.core.display import neutralise_bidi_bytes

    text = "甲".join(BIDI_CONTROLS) + "“引号”—…"  # other U+20xx punctuation is left alone
    shown = neutralise_bidi(text)
    assert _raw_controls(shown) == set()
    for char in BIDI_CONTROLS:
        assert f"[U+{ord(char):04X}]" in shown
    assert shown.endswith("“引号”—…")
    assert neutralise_bidi_bytes(text.encode()) == shown.encode()
