"""The plan parser: structure, 责任单位 and targets of real-looking 实施方案, and bad input.

Runs without Django (``-p no:django``): the parser is pure Python.
"""

from __future__ import annotations

import html
import json
import random
import re
import tempfile
import zipfile
from pathlib import Path

import docx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qcity.plans.parser import (
    ParsedPlan,
    PlanParseError,
    parse_plan_file,
    parse_plan_text,
    plan_to_dict,
    read_plan_text,
)
from tests.conftest import BUNDLED_SEED
from tests.conftest import truth as expected_structure

# The bundled seed and its expected structure (tests/plans/data/), both in the repository.
SEED = BUNDLED_SEED
VARIANTS = Path(__file__).resolve().parent / "variants"


def outline(plan: ParsedPlan) -> list[tuple[int, str, list[tuple[int, str, list[str]]]]]:
    """(chapter number, heading, [(measure number, title, units)]) in document order."""
    return [
        (c.number, c.heading, [(m.number, m.title, m.responsible_units) for m in c.measures])
        for c in plan.chapters
    ]


def target_rows(plan: ParsedPlan) -> list[tuple]:
    return [
        (t.text, t.indicator, t.value, t.unit, t.comparator, t.year, t.measure_number)
        for t in plan.targets
    ]


def variant(name: str) -> ParsedPlan:
    return parse_plan_file(VARIANTS / name)


# ---------------------------------------------------------------------------
# The seed: 铁岭市 质量强市 实施方案, compared with its expected structure
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed() -> ParsedPlan:
    return parse_plan_file(SEED)


@pytest.fixture(scope="module")
def truth() -> dict:
    return expected_structure()


def test_it_takes_the_plans_own_title_and_issuer_not_the_portal_breadcrumbs(seed, truth):
    assert seed.title == truth["title"]
    assert seed.issuer == truth["issuer_city"] == "铁岭市"


def test_it_finds_every_chapter_measure_title_and_unit_of_the_seed_in_order(seed, truth):
    expected = [
        (
            i,
            c["heading"],
            [(m["number"], m["title"], m["responsible_units"]) for m in c["measures"]],
        )
        for i, c in enumerate(truth["chapters"], start=1)
    ]
    assert outline(seed) == expected
    assert [m.number for c in seed.chapters for m in c.measures] == list(range(1, 28))
    assert seed.problems == []


def test_it_finds_exactly_the_nine_seed_targets_and_no_false_positives(seed, truth):
    keys = ("text", "indicator", "value", "unit", "comparator", "year")
    assert [tuple(t[k] for k in keys) for t in plan_to_dict(seed)["targets"]] == [
        tuple(t[k] for k in keys) for t in truth["targets"]
    ]
    assert [t.measure_number for t in seed.targets] == [None] * 6 + [1, 1, 9]


def test_it_keeps_the_written_typo_in_the_units_of_measure_16(seed):
    measure = seed.chapters[4].measures[1]
    assert measure.number == 16
    assert "市交通运输局市" in measure.responsible_units


def test_it_cuts_the_units_clause_out_of_the_measure_text_and_keeps_it_raw(seed):
    first = seed.chapters[0].measures[0]
    assert first.units_text == "(责任单位:市科技局、市工业和信息化局、市市场监管局)"
    assert first.text.startswith("打造质量创新发展新高地。推动高质量技术创新成果持续供给")
    assert first.text.endswith("科技成果本地转化率达到60%以上。")
    assert first.lead_units == []


def test_it_does_not_take_the_organisation_section_items_for_measures(seed):
    titles = [m.title for c in seed.chapters for m in c.measures]
    assert "加强党的领导" not in titles
    assert len(titles) == 27


def test_it_quotes_each_target_sentence_from_the_measure_text(seed):
    measures = {m.number: m for c in seed.chapters for m in c.measures}
    for target in seed.targets:
        assert target.text in target.sentence
        if target.measure_number is not None:
            assert target.sentence in measures[target.measure_number].text


def test_it_produces_the_documented_json_shape(seed):
    data = json.loads(json.dumps(plan_to_dict(seed), ensure_ascii=False))
    assert set(data) >= {"title", "issuer", "chapters", "targets", "problems"}
    chapter = data["chapters"][0]
    assert (chapter["number"], chapter["heading"]) == (1, "坚持创新绿色发展,提升经济质量效益")
    assert {
        k: chapter["measures"][0][k] for k in ("number", "title", "responsible_units", "lead_units")
    } == {
        "number": 1,
        "title": "打造质量创新发展新高地",
        "responsible_units": ["市科技局", "市工业和信息化局", "市市场监管局"],
        "lead_units": [],
    }
    food = next(t for t in data["targets"] if t["indicator"] == "食品抽检合格率")
    assert {k: food[k] for k in ("value", "unit", "comparator", "year")} == {
        "value": 98,
        "unit": "%",
        "comparator": ">=",
        "year": 2025,
    }
    assert isinstance(food["value"], int)


# ---------------------------------------------------------------------------
# Variants of the genre (tests/plans/variants/)
# ---------------------------------------------------------------------------

FULLWIDTH_OUTLINE = [
    (
        1,
        "夯实产业质量基础",
        [
            (1, "提升农产品质量安全水平", ["市农业农村局", "市市场监管局"]),
            (2, "推进制造业质量提升", ["市工业和信息化局", "市科技局", "市市场监管局"]),
        ],
    ),
    (
        2,
        "提升服务质量水平",
        [
            (3, "提高生活服务品质", ["市商务局", "市民政局", "市卫生健康局"]),
            (4, "优化政务服务质量", ["市营商局", "市大数据中心"]),
            (5, "强化消费者权益保护", ["市市场监管局", "市商务局"]),
        ],
    ),
    (
        3,
        "加强质量基础设施建设",
        [
            (6, "完善计量标准体系", ["市市场监管局"]),
            (7, "推进检验检测认证发展", ["市市场监管局", "开原检验检测中心"]),
        ],
    ),
]
FULLWIDTH_TARGETS = [
    (
        "农产品质量安全例行监测合格率稳定在98％以上",
        "农产品质量安全例行监测合格率",
        98,
        "%",
        ">=",
        2025,
        1,
    ),
    ("政务服务事项网上可办率达到95％以上", "政务服务事项网上可办率", 95, "%", ">=", 2025, 4),
]


def test_it_reads_full_width_brackets_colons_and_numbering():
    plan = variant("fullwidth-punctuation.txt")
    assert (plan.title, plan.issuer) == ("开原市推进质量强市建设实施方案", "开原市")
    assert outline(plan) == FULLWIDTH_OUTLINE
    assert target_rows(plan) == FULLWIDTH_TARGETS
    assert plan.problems == []


def test_it_takes_yi_sections_as_chapters_with_measures_restarting_per_chapter():
    plan = variant("yi-chapters-restarting.txt")
    assert (plan.title, plan.issuer) == ("西丰县质量提升行动实施方案（2024—2026年）", "西丰县")
    assert outline(plan) == [
        (
            3,
            "提升产品质量",
            [
                (1, "加强食品质量安全监管", ["县市场监管局", "县农业农村局"]),
                (2, "开展消费品质量提升行动", ["县市场监管局", "县工业和信息化局"]),
            ],
        ),
        (
            4,
            "提升工程质量",
            [
                (1, "落实工程质量主体责任", ["县住房城乡建设局"]),
                (2, "加强农村公路建设质量管理", ["县交通运输局"]),
                (3, "强化水利工程质量监督", ["县水利局"]),
            ],
        ),
        (
            5,
            "提升服务质量",
            [
                (1, "推进旅游服务质量提升", ["县文旅广电局"]),
                (2, "提升物流服务水平", ["县商务局", "县交通运输局"]),
            ],
        ),
    ]
    # 六、保障措施 "（一）加强组织领导…（责任单位：县市场监管局）" carries units but is no measure.
    assert target_rows(plan) == [
        (
            "规模以上工业企业产品质量合格率不低于95%",
            "规模以上工业企业产品质量合格率",
            95,
            "%",
            ">=",
            2026,
            None,
        ),
        ("食品安全事故零发生", "食品安全事故", 0, "", "=", 2026, None),
        ("农村公路优良中等路率达到85%以上", "农村公路优良中等路率", 85, "%", ">=", 2026, 2),
    ]
    assert plan.problems == []


def test_it_reads_units_written_on_their_own_line_after_the_measure():
    plan = variant("units-own-line.txt")
    assert outline(plan) == [
        (
            1,
            "完善计量体系",
            [
                (1, "加强社会公用计量标准建设", ["市市场监管局", "市财政局"]),
                (2, "推进计量惠民服务", ["市市场监管局"]),
            ],
        ),
        (
            2,
            "推进标准化建设",
            [
                (3, "实施标准化提升行动", ["市市场监管局", "市工业和信息化局", "市农业农村局"]),
                (4, "推动标准化试点示范", ["市农业农村局", "各镇（街道）"]),
            ],
        ),
    ]
    second = plan.chapters[0].measures[1]
    # The (1)(2) sub-items belong to measure 2, and the units line after them too.
    assert second.text.endswith("(2)对眼镜制配场所开展计量专项检查。")
    assert second.units_text == "责任单位：市市场监管局"
    assert plan.chapters[1].measures[0].units_text == (
        "【责任单位】市市场监管局、市工业和信息化局、市农业农村局"
    )
    assert [(t.indicator, t.value, t.comparator, t.year) for t in plan.targets] == [
        ("建成社会公用计量标准", 15, "=", 2025),
        ("主导或参与制修订地方标准", 5, ">=", 2025),
    ]
    assert plan.problems == []


def test_it_marks_lead_units_in_each_qiantou_form():
    plan = variant("lead-units.txt")
    measures = [m for c in plan.chapters for m in c.measures]
    assert [(m.number, m.responsible_units, m.lead_units) for m in measures] == [
        (1, ["县市场监管局", "县工业和信息化局", "县商务局"], ["县市场监管局"]),
        (2, ["县市场监管局", "县科技局", "县工业和信息化局"], ["县市场监管局"]),
        (3, ["县市场监管局", "县财政局", "县人力资源社会保障局"], ["县市场监管局"]),
        (4, ["县市场监管局", "县发展改革局", "各乡镇人民政府"], ["县市场监管局", "县发展改革局"]),
    ]
    assert measures[0].units_text == "(县市场监管局牵头,县工业和信息化局、县商务局按职责分工负责)"
    assert (
        measures[2].units_text == "牵头单位：县市场监管局；配合单位：县财政局、县人力资源社会保障局"
    )
    assert measures[3].text == "加强质量信用监管。将质量违法行为纳入信用记录，实施分级分类监管。"
    assert [c.heading for c in plan.chapters] == ["提升市场主体质量管理能力", "优化质量发展环境"]
    assert plan.targets == [] and plan.problems == []


def test_it_skips_the_yinfa_notice_and_takes_the_issuer_from_it():
    plan = variant("notice-preamble.txt")
    assert plan.title == "质量强市建设三年行动实施方案"
    assert plan.issuer == "开原市"
    assert outline(plan) == [
        (
            1,
            "实施质量品牌培育工程",
            [
                (1, "培育质量标杆企业", ["市市场监管局", "市工业和信息化局"]),
                (2, "加强地理标志保护", ["市市场监管局", "市农业农村局"]),
            ],
        ),
        (
            2,
            "实施质量安全守护工程",
            [
                (3, "加强特种设备安全监管", ["市市场监管局", "市住房城乡建设局"]),
            ],
        ),
    ]
    assert target_rows(plan) == [
        ("新培育省级质量标杆企业3家以上", "新培育省级质量标杆企业", 3, "家", ">=", 2026, None),
        ("有效注册商标总量达到6000件", "有效注册商标总量", 6000, "件", "=", 2026, None),
    ]
    assert plan.problems == []


def test_it_reads_numbered_goal_items_as_targets_not_measures():
    plan = variant("numbered-goals.txt")
    assert outline(plan) == [
        (
            1,
            "优化检验检测资源布局",
            [
                (1, "推进检验检测公共服务平台建设", ["市市场监管局", "市发展改革委"]),
                (2, "推动检验检测机构集聚发展", ["市市场监管局", "市工业和信息化局"]),
            ],
        ),
        (
            2,
            "提升检验检测服务能力",
            [
                (3, "加强检验检测能力建设", ["市市场监管局", "市科技局"]),
                (4, "规范检验检测市场秩序", ["市市场监管局"]),
            ],
        ),
    ]
    # 保障措施 "2.加大政策支持…（责任单位：市财政局、市税务局）" is not a measure either.
    assert target_rows(plan) == [
        ("全市检验检测机构数量达到60家以上", "全市检验检测机构数量", 60, "家", ">=", 2025, None),
        (
            "获得资质认定的检验检测机构营业收入达到3.5亿元",
            "获得资质认定的检验检测机构营业收入",
            3.5,
            "亿元",
            "=",
            2025,
            None,
        ),
        ("培育省级检验检测品牌机构5家", "培育省级检验检测品牌机构", 5, "家", "=", 2025, None),
    ]
    assert plan.issuer == "铁岭市"


def test_it_decodes_a_gb18030_file():
    path = VARIANTS / "gb18030-encoded.txt"
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")  # the fixture really is GB18030
    plan = parse_plan_file(path)
    assert (plan.title, plan.issuer) == ("昌图县农产品质量安全提升实施方案", "昌图县")
    assert outline(plan) == [
        (
            1,
            "强化生产过程管控",
            [
                (1, "推进农业标准化生产", ["县农业农村局"]),
                (2, "加强农业投入品管理", ["县农业农村局", "县市场监管局", "县公安局"]),
            ],
        ),
        (
            2,
            "强化产地准出管理",
            [
                (3, "全面实施承诺达标合格证制度", ["县农业农村局", "各乡镇人民政府"]),
            ],
        ),
    ]
    assert target_rows(plan) == [
        (
            "全县农产品质量安全例行监测合格率稳定在98%以上",
            "全县农产品质量安全例行监测合格率",
            98,
            "%",
            ">=",
            2025,
            None,
        ),
        (
            "绿色食品、有机农产品和地理标志农产品数量达到120个",
            "绿色食品、有机农产品和地理标志农产品数量",
            120,
            "个",
            "=",
            2025,
            None,
        ),
    ]


def test_it_decodes_utf16_with_a_byte_order_mark(tmp_path):
    path = tmp_path / "plan.txt"
    path.write_bytes(
        b"\xff\xfe"
        + (VARIANTS / "fullwidth-punctuation.txt").read_text(encoding="utf-8").encode("utf-16-le")
    )
    assert outline(parse_plan_file(path)) == FULLWIDTH_OUTLINE


def test_it_keeps_a_measure_with_unreadable_units_and_reports_it_by_number():
    plan = variant("unparseable-units.txt")
    measures = [m for c in plan.chapters for m in c.measures]
    assert [(m.number, m.title, m.responsible_units) for m in measures] == [
        (1, "提升工业产品质量", ["区工业和信息化局", "区市场监管局"]),
        (2, "提升农产品质量", []),
        (3, "提升建设工程质量", []),
        (4, "提升商贸服务质量", ["区商务局"]),
    ]
    assert measures[1].units_text == "（责任单位：另行明确）"
    assert plan.problems == [
        "第2条措施未能识别责任单位：（责任单位：另行明确）",
        "第3条措施未能识别责任单位（未找到责任单位）",
        "第4条措施责任单位中“2024年底前”不像单位名称，已忽略",
    ]


def test_it_reads_each_comparator_and_splits_two_indicators_sharing_a_value():
    plan = variant("target-comparators.txt")
    shared = "食品评价性抽检合格率和食用农产品抽检合格率稳定在98.5%以上"
    assert target_rows(plan) == [
        (shared, "食品评价性抽检合格率", 98.5, "%", ">=", 2025, None),
        (shared, "食用农产品抽检合格率", 98.5, "%", ">=", 2025, None),
        ("重大食品安全事故零发生", "重大食品安全事故", 0, "", "=", 2025, None),
        (
            "食品安全投诉举报按时办结率不低于95%",
            "食品安全投诉举报按时办结率",
            95,
            "%",
            ">=",
            2025,
            None,
        ),
        (
            "群众投诉平均处理时限控制在5个工作日以内",
            "群众投诉平均处理时限",
            5,
            "个工作日",
            "<=",
            2025,
            None,
        ),
        ("农药残留超标率控制在2%以下", "农药残留超标率", 2, "%", "<=", 2025, None),
        ("食品安全风险监测超标率低于1.5%", "食品安全风险监测超标率", 1.5, "%", "<", 2025, None),
        ("放心肉菜示范超市数量超过20家", "放心肉菜示范超市数量", 20, "家", ">", 2025, None),
        (
            "食品抽检不合格产品核查处置率达到100%",
            "食品抽检不合格产品核查处置率",
            100,
            "%",
            "=",
            2025,
            None,
        ),
        # Measure 1 holds 第十二条, 三年行动, ISO22000, 12315, A型 and a date: none is a target.
        ("新建农产品快速检测室8个", "新建农产品快速检测室", 8, "个", "=", 2025, 2),
        ("农贸市场快检覆盖率达到90%以上", "农贸市场快检覆盖率", 90, "%", ">=", 2025, 2),
    ]
    third = plan.chapters[1].measures[0]
    assert (third.responsible_units, third.lead_units) == (
        ["区市场监管局", "各街道办事处"],
        ["区市场监管局"],
    )
    assert plan.issuer == "清河区"


def test_it_reads_chinese_numbered_measures_straight_through_the_chapters():
    plan = variant("cn-numbered-measures.txt")
    assert plan.title == "铁岭市关于加快推进标准化工作的实施意见"
    assert [(c.number, c.heading, [m.number for m in c.measures]) for c in plan.chapters] == [
        (2, "推动产业标准化", [4, 5, 6]),
        (3, "推动社会治理标准化", [7, 8]),
        (4, "夯实标准化基础", [9, 10, 11]),
    ]
    city = plan.chapters[1].measures[1]
    assert city.responsible_units == ["市城市管理综合行政执法局", "各县（市）区人民政府"]
    assert [(t.indicator, t.value, t.comparator, t.year) for t in plan.targets] == [
        ("主导或参与制修订国家标准、行业标准", 10, ">=", 2027),
        ("新增团体标准", 30, "=", 2027),
    ]


def test_it_reads_measure_numbers_such_as_twenty_two_in_brackets():
    measures = "\n".join(
        f"（{_cn(n)}）推进第{n}项工作。开展专项行动。（责任单位：市市场监管局）"
        for n in range(1, 23)
    )
    plan = parse_plan_text(f"某市质量提升实施方案\n一、重点任务\n{measures}\n二、保障措施\n")
    assert [m.number for m in plan.chapters[0].measures] == list(range(1, 23))
    assert (plan.chapters[0].number, plan.chapters[0].heading) == (1, "重点任务")


def _cn(n: int) -> str:
    digits = "零一二三四五六七八九"
    tens, ones = divmod(n, 10)
    if not tens:
        return digits[ones]
    return (digits[tens] if tens > 1 else "") + "十" + (digits[ones] if ones else "")


def test_it_falls_back_to_the_tasks_section_when_no_measure_names_units():
    text = re.sub(
        r"（责任单位：[^）]*）",
        "",
        (VARIANTS / "fullwidth-punctuation.txt").read_text(encoding="utf-8"),
    )
    plan = parse_plan_text(text)
    assert [[m.number for m in c.measures] for c in plan.chapters] == [[1, 2], [3, 4, 5], [6, 7]]
    assert plan.problems[0] == "第1条措施未能识别责任单位（未找到责任单位）"
    assert len(plan.problems) == 7


def test_it_falls_back_to_the_outline_of_a_gangyao_style_plan_without_units():
    plan = parse_plan_text(
        "质量强市建设纲要\n一、总体要求\n（一）指导思想。坚持质量第一。\n"
        "（二）主要目标。到2025年，制造业产品质量合格率达到94%。\n"
        "二、推动经济质量效益型发展\n（三）增强质量发展创新动能。建立质量创新体系。\n"
        "（四）树立质量发展绿色导向。开展对标提升行动。\n"
        "三、增强产业质量竞争力\n（五）强化产业基础质量支撑。聚焦质量短板。\n"
        "四、组织保障\n（六）加强党的领导。坚持党对质量工作的全面领导。\n"
    )
    assert [(c.number, c.heading, [m.number for m in c.measures]) for c in plan.chapters] == [
        (2, "推动经济质量效益型发展", [3, 4]),
        (3, "增强产业质量竞争力", [5]),
    ]
    assert [(t.indicator, t.value, t.year) for t in plan.targets] == [
        ("制造业产品质量合格率", 94, 2025)
    ]


def test_it_reads_a_lead_unit_marked_in_brackets_and_a_title_named_only_by_the_notice():
    plan = parse_plan_text(
        "铁岭市人民政府办公室关于印发铁岭市质量强市建设实施方案的通知\n"
        "各县（市）区人民政府：\n现将方案印发给你们，请认真贯彻执行。\n"
        "一、重点任务\n（一）提升产品质量\n"
        "1.加强监管。开展检查。（责任单位：市市场监管局（牵头）、市商务局等）\n"
        "2.加强服务。开展服务。（各县（市）区政府、市直有关部门按职责分工负责）\n"
    )
    assert (plan.title, plan.issuer) == ("铁岭市质量强市建设实施方案", "铁岭市")
    assert [(m.responsible_units, m.lead_units) for m in plan.chapters[0].measures] == [
        (["市市场监管局", "市商务局"], ["市市场监管局"]),
        (["各县（市）区政府", "市直有关部门"], []),
    ]


def test_it_reads_a_plan_that_a_portal_collapsed_onto_one_line(seed):
    collapsed = SEED.read_text(encoding="utf-8").replace("\n", " ")
    assert plan_to_dict(parse_plan_text(collapsed)) == plan_to_dict(seed)


def test_it_ignores_a_yinfa_notice_before_and_a_portal_footer_after_the_seed(seed):
    notice = (
        "铁岭市人民政府办公室关于印发《铁岭市关于贯彻落实〈辽宁省质量强省建设纲要〉"
        "加快建设质量强市的实施方案》的通知\n铁政办发〔2023〕41号\n"
        "各县（市）区人民政府，市政府各部门：\n"
        "现将《铁岭市关于贯彻落实〈辽宁省质量强省建设纲要〉加快建设质量强市的实施方案》"
        "印发给你们，请认真贯彻执行。\n铁岭市人民政府办公室\n2023年10月11日\n（此件公开发布）\n"
    )
    footer = "\n【打印本页】【关闭窗口】\n上一篇：铁岭市2023年质量工作要点\n下一篇：关于开展质量月活动的通知\n"
    wrapped = parse_plan_text(notice + SEED.read_text(encoding="utf-8") + footer)
    assert plan_to_dict(wrapped) == plan_to_dict(seed)


def test_it_reads_a_plan_saved_from_the_portal_as_html(tmp_path, seed):
    paragraphs = "".join(
        f"<p>{html.escape(line)}</p>" for line in SEED.read_text(encoding="utf-8").splitlines()
    )
    path = tmp_path / "plan.html"
    path.write_text(
        f"<!DOCTYPE html><html><head><script>var a = 1;</script></head>"
        f"<body>{paragraphs}</body></html>",
        encoding="utf-8",
    )
    assert plan_to_dict(parse_plan_file(path)) == plan_to_dict(seed)


# ---------------------------------------------------------------------------
# Other containers: .docx (written here, never committed) and PDF text layers
# ---------------------------------------------------------------------------


def test_it_reads_a_docx_as_it_reads_the_same_text(tmp_path):
    document = docx.Document()
    for line in (VARIANTS / "fullwidth-punctuation.txt").read_text(encoding="utf-8").splitlines():
        if line.strip():
            document.add_paragraph(line)
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "附表说明", "见正文"
    path = tmp_path / "plan.docx"
    document.save(path)
    plan = parse_plan_file(path)
    assert outline(plan) == FULLWIDTH_OUTLINE
    assert target_rows(plan) == FULLWIDTH_TARGETS
    assert "附表说明\t见正文" in read_plan_text(path)


def test_it_recovers_words_automatic_list_numbers_in_a_docx(tmp_path):
    document = docx.Document()
    document.add_paragraph("铁岭市食品安全提升行动方案", style="Title")
    document.add_paragraph("一、重点任务")
    document.add_paragraph("（一）强化食品安全监管")
    document.add_paragraph("落实“四个最严”要求。（责任单位：市市场监管局）", style="List Number")
    document.add_paragraph(
        "开展校园食品安全守护行动。（责任单位：市教育局、市市场监管局）", style="List Number"
    )
    document.add_paragraph("二、保障措施")
    path = tmp_path / "numbered.docx"
    document.save(path)
    plan = parse_plan_file(path)
    assert outline(plan) == [
        (
            1,
            "强化食品安全监管",
            [
                (1, "落实“四个最严”要求", ["市市场监管局"]),
                (2, "开展校园食品安全守护行动", ["市教育局", "市市场监管局"]),
            ],
        )
    ]


def test_it_detects_a_docx_by_its_bytes_even_when_named_txt(tmp_path):
    document = docx.Document()
    for line in (VARIANTS / "lead-units.txt").read_text(encoding="utf-8").splitlines():
        document.add_paragraph(line)
    path = tmp_path / "plan.txt"
    document.save(path)
    assert parse_plan_file(path).chapters[0].measures[0].lead_units == ["县市场监管局"]


def make_pdf(lines: list[str]) -> bytes:
    """A minimal PDF whose text layer holds ``lines`` (no text layer if empty).

    Each character is written as its own Unicode code point in an Identity-H
    font with a ToUnicode map, which is all a text extractor needs.
    """
    stream = b""
    if lines:
        ops = ["BT", "/F1 10 Tf", "12 TL", "20 820 Td"]
        ops += ["<" + "".join(f"{ord(c):04X}" for c in line) + "> Tj T*" for line in lines]
        stream = "\n".join([*ops, "ET"]).encode()
    chars = sorted({c for line in lines for c in line})
    blocks = []
    for i in range(0, len(chars), 100):
        block = chars[i : i + 100]
        blocks.append(
            f"{len(block)} beginbfchar\n"
            + "\n".join(f"<{ord(c):04X}> <{ord(c):04X}>" for c in block)
            + "\nendbfchar"
        )
    cmap = (
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def /CMapType 2 def\n"
        "1 begincodespacerange <0000> <FFFF> endcodespacerange\n"
        + "\n".join(blocks)
        + "\nendcmap CMapName currentdict /CMap defineresource pop end end"
    ).encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /Identity-H"
        b" /DescendantFonts [6 0 R] /ToUnicode 7 0 R >>",
        b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light"
        b" /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(cmap), cmap),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def test_it_reads_a_pdf_text_layer_and_rejoins_lines_wrapped_at_the_page_width(tmp_path):
    wrapped = []
    for line in (VARIANTS / "fullwidth-punctuation.txt").read_text(encoding="utf-8").splitlines():
        wrapped += [line[i : i + 32] for i in range(0, len(line), 32)]
    path = tmp_path / "plan.pdf"
    path.write_bytes(make_pdf(wrapped))
    plan = parse_plan_file(path)
    assert plan.title == "开原市推进质量强市建设实施方案"
    assert outline(plan) == FULLWIDTH_OUTLINE
    assert [t[:6] for t in target_rows(plan)] == [t[:6] for t in FULLWIDTH_TARGETS]
    assert plan.problems == []


# ---------------------------------------------------------------------------
# Bad input: one-line Chinese messages with stable codes
# ---------------------------------------------------------------------------

NEWS = """铁岭市召开质量强市建设推进会
来源：铁岭日报
10月11日，铁岭市质量强市建设推进会召开。会议指出，要深入贯彻落实《辽宁省质量强省建设纲要》。
会议要求：
1.提高政治站位，把质量工作摆在突出位置；
2.压实工作责任，确保各项任务落地见效。
据悉，今年以来全市共抽检食品2000批次，合格率达到98%以上。
"""

BAD_FILES = {
    "empty.txt": (b"", "empty_file"),
    "blank.txt": (" \n\t\r\n\u3000".encode(), "empty_file"),
    "noise.txt": (random.Random(20231011).randbytes(4096), "binary_file"),
    "scan.png": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64), "binary_file"),
    "archive.zip": (None, "binary_file"),
    "old.doc": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), "unsupported_format"),
    "scan.pdf": (make_pdf([]), "pdf_no_text"),
    "broken.pdf": (b"%PDF-1.4\nnot really a pdf", "corrupt_file"),
    "news.txt": (NEWS.encode(), "no_measures"),
    "mojibake.txt": (b"\xd6\xca\xc1\xbf\x80\x80 plan \xff\xfe\xfd", "undecodable_text"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_it_rejects_bad_input_with_a_code_and_a_one_line_chinese_message(tmp_path, name):
    content, code = BAD_FILES[name]
    if content is None:
        buffer = tmp_path / "zip"
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("readme.txt", "not a word document")
        content = buffer.read_bytes()
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(PlanParseError) as caught:
        parse_plan_file(path)
    error = caught.value
    assert error.code == code
    assert str(error) == error.message
    assert "\n" not in error.message and re.search(r"[\u4e00-\u9fff]", error.message)
    assert name in error.message


def test_it_names_the_empty_file_in_its_message(tmp_path):
    path = tmp_path / "plan.txt"
    path.write_bytes(b"")
    with pytest.raises(PlanParseError, match=r"^文件为空：plan\.txt$"):
        parse_plan_file(path)


def test_it_reports_a_missing_file(tmp_path):
    with pytest.raises(PlanParseError) as caught:
        read_plan_text(tmp_path / "nowhere.txt")
    assert caught.value.code == "file_not_found"
    assert caught.value.message.startswith("文件不存在")


@pytest.mark.parametrize(
    ("text", "code"), [("", "empty_file"), ("  \n\u3000\n", "empty_file"), (NEWS, "no_measures")]
)
def test_it_rejects_text_that_is_not_a_plan(text, code):
    with pytest.raises(PlanParseError) as caught:
        parse_plan_text(text)
    assert caught.value.code == code


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------

FRAGMENTS = [
    "一、重点任务",
    "（一）提升质量",
    "1.加强监管。",
    "(2)",
    "（责任单位：市市场监管局）",
    "二、主要目标",
    "到2025年，合格率达到98%以上。",
    "三、保障措施",
    "牵头单位：",
    "(",
    "）",
    "【责任单位】",
    "某市质量强市实施方案",
    "零发生",
    "〔2024〕41号",
    "\n",
    "。",
]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=30)), max_size=40))
def test_it_never_fails_with_anything_but_a_plan_parse_error(pieces):
    try:
        plan = parse_plan_text("".join(pieces))
    except PlanParseError as error:
        assert error.code in {"empty_file", "no_measures"}
        return
    json.dumps(plan_to_dict(plan), ensure_ascii=False)
    assert all(c.measures or c.heading for c in plan.chapters)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048))
def test_it_reads_arbitrary_bytes_or_refuses_them_cleanly(data):
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "upload.txt"
        path.write_bytes(data)
        try:
            assert isinstance(read_plan_text(path), str)
        except PlanParseError as error:
            assert error.code in {
                "empty_file",
                "binary_file",
                "undecodable_text",
                "unsupported_format",
                "corrupt_file",
                "pdf_no_text",
            }


SWAPS = {"(": "（", ")": "）", ":": "：", ",": "，"}


@settings(max_examples=25, deadline=None)
@given(
    swapped=st.sets(st.sampled_from(sorted(SWAPS))), number_dot=st.sampled_from([".", "．", "、"])
)
def test_it_reads_the_same_seed_whatever_mix_of_ascii_and_full_width_punctuation(
    swapped, number_dot
):
    text = SEED.read_text(encoding="utf-8")
    for ascii_char in swapped:
        text = text.replace(ascii_char, SWAPS[ascii_char])
    text = re.sub(r"(?m)^(\s*\d{1,2})\.", rf"\g<1>{number_dot}", text)
    plan = parse_plan_text(text)
    original = parse_plan_file(SEED)

    def unswap(value: str) -> str:
        for ascii_char in swapped:
            value = value.replace(SWAPS[ascii_char], ascii_char)
        return value

    assert [
        (
            c.number,
            unswap(c.heading),
            [(m.number, m.title, m.responsible_units) for m in c.measures],
        )
        for c in plan.chapters
    ] == outline(original)
    assert [(t.indicator, t.value, t.unit, t.comparator, t.year) for t in plan.targets] == [
        (t.indicator, t.value, t.unit, t.comparator, t.year) for t in original.targets
    ]


@settings(max_examples=25, deadline=None)
@given(st.sets(st.sampled_from(sorted(SWAPS))))
def test_it_reads_the_full_width_variant_with_ascii_punctuation_too(restored):
    text = (VARIANTS / "fullwidth-punctuation.txt").read_text(encoding="utf-8")
    for ascii_char in restored:
        text = text.replace(SWAPS[ascii_char], ascii_char)
    plan = parse_plan_text(text)
    assert [[(m.number, m.responsible_units) for m in c.measures] for c in plan.chapters] == [
        [(m[0], m[2]) for m in chapter[2]] for chapter in FULLWIDTH_OUTLINE
    ]
