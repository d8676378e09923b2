import os

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from qcity.core.models import AuditEvent, OrgUnit, UnitAlias
from qcity.plans.models import Chapter, Measure, Plan, Responsibility, Target
from tests.conftest import BUNDLED_SEED, truth

pytestmark = pytest.mark.django_db


def _import(path, *args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("import_plan", str(path), *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def _snapshot() -> dict:
    return {
        model.__name__: sorted(map(str, model.objects.values_list()))
        for model in (Plan, Chapter, Measure, Responsibility, Target, OrgUnit, AuditEvent)
    }


def test_it_stores_every_chapter_measure_and_unit_of_the_seed(plan):
    expected = truth()
    chapters = list(plan.chapters.order_by("number"))
    assert [c.heading for c in chapters] == [c["heading"] for c in expected["chapters"]]
    for chapter, expected_chapter in zip(chapters, expected["chapters"], strict=True):
        measures = list(chapter.measures.order_by("seq"))
        assert [(m.number, m.title) for m in measures] == [
            (m["number"], m["title"]) for m in expected_chapter["measures"]
        ]
        for measure, expected_measure in zip(measures, expected_chapter["measures"], strict=True):
            written = list(
                measure.responsibilities.order_by("order").values_list("written_name", flat=True)
            )
            assert written == expected_measure["responsible_units"]
    # The truth file lists the numeric targets; the qualitative goals come after them.
    assert plan.targets.filter(qualitative=False).count() == len(expected["targets"])


def test_it_resolves_aliases_to_the_same_unit(plan):
    # Measure 19 writes 市发改委, measure 2 writes 市发展改革委: one department.
    m2 = plan.measures.get(number=2).responsibilities.get(written_name="市发展改革委")
    m19 = plan.measures.get(number=19).responsibilities.get(written_name="市发改委")
    assert m2.org_unit_id == m19.org_unit_id
    assert m2.org_unit.confirmed


def test_it_stores_an_unknown_unit_as_unconfirmed_not_as_a_department(plan):
    typo = plan.measures.get(number=16).responsibilities.get(written_name="市交通运输局市")
    assert typo.org_unit.confirmed is False
    assert typo.org_unit.kind == OrgUnit.Kind.UNCONFIRMED
    assert list(OrgUnit.objects.filter(confirmed=False).values_list("name", flat=True)) == [
        "市交通运输局市"
    ]


def test_it_ties_targets_to_their_measure_or_to_the_plan(plan):
    contracts = plan.targets.get(indicator_name="全市技术合同登记额")
    assert contracts.measure.number == 1
    assert contracts.value == 4 and contracts.unit == "亿元" and contracts.year == 2025
    food = plan.targets.get(indicator_name="食品抽检合格率")
    assert food.measure is None
    assert food.comparator == ">=" and food.value == 98
    assert "稳定在98%以上" in food.sentence


def test_reimporting_the_same_document_changes_nothing(plan):
    before = _snapshot()
    output = _import(BUNDLED_SEED)
    assert "没有变化" in output
    assert _snapshot() == before


def test_a_dry_run_reports_changes_and_stores_nothing(org_units, tmp_path):
    before = _snapshot()
    output = _import(BUNDLED_SEED, "--dry-run")
    assert "（演练，未保存）新建方案" in output
    assert "待确认单位：市交通运输局市" in output
    assert _snapshot() == before


def test_a_dry_run_of_a_revised_text_lists_each_change(plan, tmp_path):
    revised = tmp_path / "revised.txt"
    text = BUNDLED_SEED.read_text(encoding="utf-8")
    text = text.replace(
        "(责任单位:市商务局、市市场监管局)", "(责任单位:市商务局、市市场监管局、市财政局)"
    )
    text = text.replace("科技成果本地转化率达到60%以上", "科技成果本地转化率达到65%以上")
    revised.write_text(text, encoding="utf-8")
    before = _snapshot()
    output = _import(revised, "--dry-run")
    assert "措施 3 责任单位：市商务局、市市场监管局 → 市商务局、市市场监管局、市财政局" in output
    assert "科技成果本地转化率达到65%以上" in output
    assert _snapshot() == before
    _import(revised)
    assert plan.measures.get(number=3).responsibilities.count() == 3
    assert plan.targets.get(indicator_name="科技成果本地转化率").value == 65
    event = AuditEvent.objects.filter(action="plan.reimported").get()
    assert any("措施 3" in change for change in event.details["changes"])


def test_mapping_an_unconfirmed_unit_makes_the_next_import_resolve_it(plan, personas):
    from qcity.core.services import map_unit

    typo = OrgUnit.objects.get(name="市交通运输局市")
    transport = OrgUnit.objects.get(name="市交通运输局")
    map_unit(typo, onto=transport, by=personas["coordinator"])
    responsibility = plan.measures.get(number=16).responsibilities.get(
        written_name="市交通运输局市"
    )
    assert responsibility.org_unit == transport
    assert UnitAlias.objects.get(name="市交通运输局市").unit == transport
    typo.refresh_from_db()
    assert typo.disabled_on is not None
    assert "没有变化" in _import(BUNDLED_SEED)
    assert not OrgUnit.objects.filter(confirmed=False, disabled_on__isnull=True).exists()


@pytest.mark.parametrize(
    ("content", "code_text"),
    [
        (b"", "为空"),
        (b"   \n\t  \n", "为空"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, ""),
        (b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", ""),
        ("本市今日召开质量工作会议，会议强调要抓好落实。".encode(), ""),
    ],
    ids=["empty", "whitespace", "png", "pdf-without-text", "not-a-plan"],
)
def test_bad_input_exits_2_with_one_line_and_stores_nothing(
    org_units, tmp_path, content, code_text
):
    path = tmp_path / "input.txt"
    path.write_bytes(content)
    before = _snapshot()
    with pytest.raises(CommandError) as excinfo:
        _import(path)
    assert excinfo.value.returncode == 2
    message = str(excinfo.value)
    assert "\n" not in message and message
    assert code_text in message
    assert _snapshot() == before


def test_parse_plan_prints_json_without_a_database(tmp_path):
    import json
    import subprocess
    import sys

    env = {**os.environ, "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none"}
    result = subprocess.run(
        [sys.executable, "-m", "qcity.cli", "parse_plan", str(BUNDLED_SEED)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["issuer"] == "铁岭市"
    assert sum(len(c["measures"]) for c in data["chapters"]) == 27


def test_parse_plan_exits_2_on_an_empty_file(tmp_path):
    import subprocess
    import sys

    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    result = subprocess.run(
        [sys.executable, "-m", "qcity.cli", "parse_plan", str(empty)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""


def test_load_defaults_is_idempotent(org_units, capsys):
    call_command("load_defaults")
    counts = {m.__name__: m.objects.count() for m in (Plan, Measure, OrgUnit, AuditEvent)}
    call_command("load_defaults")
    assert {m.__name__: m.objects.count() for m in (Plan, Measure, OrgUnit, AuditEvent)} == counts
    assert counts["Measure"] == 27


def test_the_pending_page_suggests_the_closest_unit_and_mapping_moves_the_measure(
    client, plan, personas
):
    client.force_login(personas["coordinator"])
    html = client.get("/units/pending/").content.decode()
    transport = OrgUnit.objects.get(name="市交通运输局")
    assert f'<option value="{transport.pk}" selected>' in html
    typo = OrgUnit.objects.get(name="市交通运输局市")
    response = client.post(f"/units/pending/{typo.pk}/map/", {"onto": transport.pk})
    assert response.status_code == 302
    assert plan.measures.get(number=16).responsibilities.filter(org_unit=transport).count() == 1
    assert AuditEvent.objects.filter(
        action="org_unit.mapped", actor=personas["coordinator"]
    ).exists()
    assert "没有待确认的单位" in client.get("/units/pending/").content.decode()


def test_confirming_an_unknown_name_makes_it_a_unit_of_the_tree(client, plan, personas):
    client.force_login(personas["coordinator"])
    typo = OrgUnit.objects.get(name="市交通运输局市")
    city = OrgUnit.objects.get(name="铁岭市人民政府")
    client.post(f"/units/pending/{typo.pk}/confirm/", {"kind": "department", "parent": city.pk})
    typo.refresh_from_db()
    assert typo.confirmed and typo.kind == "department" and typo.is_within(city)
    assert AuditEvent.objects.filter(action="org_unit.confirmed").exists()


def test_a_disabled_unit_named_in_a_plan_is_flagged_not_duplicated(plan, tmp_path):
    finance = OrgUnit.objects.get(name="市财政局")
    OrgUnit.objects.filter(pk=finance.pk).update(disabled_on="2026-01-01T00:00:00Z")
    revised = tmp_path / "revised.txt"
    revised.write_text(
        BUNDLED_SEED.read_text(encoding="utf-8").replace(
            "(责任单位:市商务局、市市场监管局)", "(责任单位:市商务局、市市场监管局、市财政局)"
        ),
        encoding="utf-8",
    )
    output = _import(revised)
    assert "引用了已停用的单位“市财政局”" in output
    assert OrgUnit.objects.filter(name="市财政局").count() == 1
    assert plan.measures.get(number=3).responsibilities.filter(org_unit=finance).exists()


def test_a_measure_dropped_from_the_text_is_withdrawn_not_deleted(plan, tmp_path, client, personas):
    text = BUNDLED_SEED.read_text(encoding="utf-8")
    start = text.index("27.推动质量社会共治")
    end = text.index("四、组织保障")
    shorter = tmp_path / "shorter.txt"
    shorter.write_text(text[:start] + text[end:], encoding="utf-8")
    output = _import(shorter)
    assert "措施 27. 推动质量社会共治 已不在文本中，标记为撤销" in output
    last = plan.measures.get(number=27)
    assert last.withdrawn and last.responsibilities.count() == 5
    client.force_login(personas["coordinator"])
    assert client.get(f"/plans/{plan.pk}/measures/{last.pk}/").status_code == 404
    assert "没有变化" in _import(shorter)
    _import(BUNDLED_SEED)
    last.refresh_from_db()
    assert not last.withdrawn


def test_a_directory_is_refused_with_its_own_message(org_units, tmp_path):
    with pytest.raises(CommandError, match="这是一个目录") as excinfo:
        _import(tmp_path)
    assert excinfo.value.returncode == 2
