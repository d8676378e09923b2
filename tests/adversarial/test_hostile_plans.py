"""Plan text that the database cannot hold is refused before any write, on both databases.

SQLite stores a 10 000-character title in a VARCHAR(300) silently, PostgreSQL
fails mid-import; both must refuse the same input in the same words, with
nothing stored or changed, dry run or not.
"""

from __future__ import annotations

import copy
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from qcity.core.models import AuditEvent, OrgUnit
from qcity.plans.models import Chapter, Measure, Plan, Responsibility, Target
from qcity.plans.parser import parse_plan_file
from qcity.plans.services import PlanImportError, import_plan
from tests.conftest import BUNDLED_SEED

pytestmark = pytest.mark.django_db

SEED_TEXT = BUNDLED_SEED.read_text(encoding="utf-8")
FIRST_TITLE = "打造质量创新发展新高地"


def _snapshot() -> dict:
    return {
        model.__name__: sorted(map(str, model.objects.values_list()))
        for model in (Plan, Chapter, Measure, Responsibility, Target, OrgUnit, AuditEvent)
    }


def _import(path, *args) -> str:
    out = StringIO()
    call_command("import_plan", str(path), *args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.mark.parametrize("dry_run", [False, True], ids=["real", "dry-run"])
def test_a_ten_thousand_character_measure_title_is_refused_in_one_line(
    org_units, tmp_path, dry_run
):
    path = tmp_path / "long-title.txt"
    path.write_text(SEED_TEXT.replace(FIRST_TITLE, "质" * 10_000), encoding="utf-8")
    before = _snapshot()
    with pytest.raises(CommandError) as excinfo:
        _import(path, *(["--dry-run"] if dry_run else []))
    assert excinfo.value.returncode == 2
    assert str(excinfo.value) == "第 1 项举措的标题超过 300 字（实际 10000 字）"
    assert _snapshot() == before


def test_a_revised_text_with_an_overlong_title_leaves_the_stored_plan_unchanged(plan, tmp_path):
    path = tmp_path / "revised.txt"
    path.write_text(SEED_TEXT.replace(FIRST_TITLE, "质" * 301), encoding="utf-8")
    before = _snapshot()
    with pytest.raises(CommandError) as excinfo:
        _import(path)
    assert excinfo.value.returncode == 2
    assert _snapshot() == before


def test_a_target_value_beyond_the_column_is_refused(org_units, tmp_path):
    path = tmp_path / "huge-value.txt"
    path.write_text(
        SEED_TEXT.replace("地方标准10项以上", "地方标准100000000000000000000项以上"),
        encoding="utf-8",
    )
    before = _snapshot()
    with pytest.raises(CommandError) as excinfo:
        _import(path)
    assert excinfo.value.returncode == 2
    assert "目标值超出范围" in str(excinfo.value)
    assert _snapshot() == before


def _seed():
    return copy.deepcopy(_PARSED)


_PARSED = parse_plan_file(BUNDLED_SEED)


def _first_measure(parsed):
    return parsed.chapters[0].measures[0]


HOSTILE = {
    "plan title": (lambda p: setattr(p, "title", "方" * 301), "too_long", "方案的标题超过 300 字"),
    "issuer": (lambda p: setattr(p, "issuer", "铁" * 101), "too_long", "方案的发布机关超过 100 字"),
    "chapter heading": (
        lambda p: setattr(p.chapters[0], "heading", "章" * 201),
        "too_long",
        "第 1 章的标题超过 200 字",
    ),
    "units text": (
        lambda p: setattr(_first_measure(p), "units_text", "局" * 1001),
        "too_long",
        "第 1 项举措的责任单位原文超过 1000 字",
    ),
    "unit name": (
        lambda p: _first_measure(p).responsible_units.append("市" + "科" * 100 + "局"),
        "too_long",
        "第 1 项举措的责任单位名称超过 100 字（实际 102 字）",
    ),
    "target text": (
        lambda p: setattr(p.targets[0], "text", "标" * 501),
        "too_long",
        "第 1 个目标的目标原文超过 500 字",
    ),
    "target indicator": (
        lambda p: setattr(p.targets[0], "indicator", "指" * 201),
        "too_long",
        "第 1 个目标的指标超过 200 字",
    ),
    "target unit": (
        lambda p: setattr(p.targets[0], "unit", "%" * 21),
        "too_long",
        "第 1 个目标的单位超过 20 字",
    ),
    "target value": (
        lambda p: setattr(p.targets[0], "value", 10**15),
        "out_of_range",
        "第 1 个目标的目标值超出范围",
    ),
    "target year": (
        lambda p: setattr(p.targets[0], "year", 2**31),
        "out_of_range",
        "第 1 个目标的目标年份超出范围",
    ),
    "measure number": (
        lambda p: setattr(_first_measure(p), "number", 2**31),
        "out_of_range",
        "举措的编号超出范围",
    ),
    "NUL in measure text": (
        lambda p: setattr(_first_measure(p), "text", "质量\x00强市"),
        "invalid_character",
        "第 1 项举措的内容含有无法保存的空字符",
    ),
}


@pytest.mark.parametrize("dry_run", [False, True], ids=["real", "dry-run"])
@pytest.mark.parametrize("case", HOSTILE)
def test_every_value_the_import_writes_is_checked_before_any_write(org_units, case, dry_run):
    spoil, code, words = HOSTILE[case]
    parsed = _seed()
    spoil(parsed)
    owner = OrgUnit.objects.get(name="市市场监管局")
    before = _snapshot()
    with pytest.raises(PlanImportError) as excinfo:
        import_plan(parsed, by=None, owner_unit=owner, dry_run=dry_run)
    assert excinfo.value.code == code
    assert words in excinfo.value.message and "\n" not in excinfo.value.message
    assert _snapshot() == before


def test_values_exactly_at_the_limits_are_stored(org_units):
    parsed = _seed()
    _first_measure(parsed).title = "质" * 300
    parsed.targets[0].unit = "%" * 20
    owner = OrgUnit.objects.get(name="市市场监管局")
    import_plan(parsed, by=None, owner_unit=owner)
    assert Measure.objects.get(seq=1).title == "质" * 300
