"""The parser against plans written in other cities' genres (tests/plans/variants/genre-*.txt).

Each variant is modelled on a kind of 实施方案 that Liaoning cities and counties
really publish; the expectations are what a person reading the document would
answer: which chapters and measures it has, who is responsible and who leads,
and which quantified targets it sets.
"""

from __future__ import annotations

import html
from pathlib import Path

import docx

from qcity.plans.parser import ParsedPlan, parse_plan_file, parse_plan_text

VARIANTS = Path(__file__).resolve().parent / "variants"


def variant(name: str) -> ParsedPlan:
    return parse_plan_file(VARIANTS / name)


def outline(plan: ParsedPlan) -> list[tuple[int, str, list[tuple[int, str, list[str]]]]]:
    """(chapter number, heading, [(measure number, title, units)]) in document order."""
    return [
        (c.number, c.heading, [(m.number, m.title, m.responsible_units) for m in c.measures])
        for c in plan.chapters
    ]


def leads(plan: ParsedPlan) -> list[tuple[int, list[str]]]:
    return [(m.number, m.lead_units) for c in plan.chapters for m in c.measures]


def target_rows(plan: ParsedPlan) -> list[tuple]:
    return [
        (t.text, t.indicator, t.value, t.unit, t.comparator, t.year, t.measure_number)
        for t in plan.targets
    ]


# ---------------------------------------------------------------------------
# 鞍山: 印发通知 + 一、总体要求 二、主要目标 三、重点任务 四、保障措施, measures
# "（一）…" numbered straight through into the 保障措施, "1." sub-items inside them
# ---------------------------------------------------------------------------


def test_anshan_plan_behind_a_notice_with_straight_numbering_and_sub_items():
    plan = variant("genre-anshan-notice-straight-through.txt")
    assert (plan.title, plan.issuer) == ("鞍山市质量强市建设实施方案", "鞍山市")
    # The 1. 2. 3. lines inside （一）and（三）are steps of one measure, which carries a
    # single 责任单位 clause after them; they are not measures of their own.
    assert outline(plan) == [
        (
            3,
            "重点任务",
            [
                (
                    1,
                    "推动产业质量升级",
                    ["市工业和信息化局", "市发展改革委", "市科技局", "各县（市）区政府"],
                ),
                (2, "提升消费品质量", ["市市场监管局", "市商务局", "市工业和信息化局"]),
                (
                    3,
                    "保障农产品和食品药品质量安全",
                    ["市市场监管局", "市农业农村局", "市卫生健康委"],
                ),
                (
                    4,
                    "提升建设工程质量",
                    ["市住房城乡建设局", "市交通运输局", "市水利局", "各县（市）区政府"],
                ),
                (
                    5,
                    "提升服务业质量",
                    ["市文化旅游和广播电视局", "市商务局", "市发展改革委", "市市场监管局"],
                ),
                (6, "加强质量基础设施建设", ["市市场监管局", "鞍山海关", "鞍山高新区管委会"]),
                (7, "加强质量品牌建设", ["市市场监管局", "市工业和信息化局", "市商务局"]),
                (
                    8,
                    "优化质量发展环境",
                    ["市财政局", "国家金融监督管理总局鞍山监管分局", "中国人民银行鞍山市分行"],
                ),
            ],
        )
    ]
    first = plan.chapters[0].measures[0]
    assert "3.培育先进装备制造集群" in first.text
    assert first.units_text.startswith("（责任单位：市工业和信息化局")
    # In（三）each step names its own units: the measure answers for all of them.
    third = plan.chapters[0].measures[2]
    assert third.units_text == (
        "（责任单位：市市场监管局）；（责任单位：市农业农村局、市市场监管局）；"
        "（责任单位：市市场监管局、市卫生健康委）"
    )
    assert "责任单位" not in third.text
    # （十）强化督查考核 carries units but sits in 四、保障措施: not a measure.
    # "均稳定在" sets both 合格率; 鞍政办发〔2023〕27号, 三年行动 and 12315 are not targets.
    both = "农产品质量安全例行监测合格率和食品抽检合格率均稳定在98%以上"
    assert target_rows(plan) == [
        ("制造业产品质量合格率达到94%以上", "制造业产品质量合格率", 94, "%", ">=", 2025, None),
        (both, "农产品质量安全例行监测合格率", 98, "%", ">=", 2025, None),
        (both, "食品抽检合格率", 98, "%", ">=", 2025, None),
        (
            "每万人口高价值发明专利拥有量达到2.5件",
            "每万人口高价值发明专利拥有量",
            2.5,
            "件",
            "=",
            2025,
            None,
        ),
        # "A10项以上、B20项以上" sets two targets.
        ("制修订地方标准10项以上", "制修订地方标准", 10, "项", ">=", 2025, None),
        ("团体标准20项以上", "团体标准", 20, "项", ">=", 2025, None),
        ("公共服务质量满意度达到82分以上", "公共服务质量满意度", 82, "分", ">=", 2025, None),
        ("重大质量安全事故零发生", "重大质量安全事故", 0, "", "=", 2025, None),
        ("菱镁精深加工产品占比达到50%以上", "菱镁精深加工产品占比", 50, "%", ">=", 2025, 1),
        (
            "城镇新建建筑中绿色建筑面积占比达到100%",
            "城镇新建建筑中绿色建筑面积占比",
            100,
            "%",
            "=",
            2025,
            4,
        ),
    ]
    assert plan.problems == []


# ---------------------------------------------------------------------------
# 县级: "（一）" chapters, "1." measures, 牵头单位 / 配合单位 / 完成时限 on their own lines
# ---------------------------------------------------------------------------


def test_county_plan_with_lead_and_support_units_on_separate_lines():
    plan = variant("genre-county-lead-support-lines.txt")
    assert (plan.title, plan.issuer) == ("桓仁满族自治县质量提升行动实施方案", "桓仁满族自治县")
    assert outline(plan) == [
        (
            1,
            "提升农产品质量",
            [
                (1, "推进农业标准化生产", ["县农业农村局", "县市场监管局", "各乡镇人民政府"]),
                (2, "加强冰酒产业质量管理", ["县工业和信息化局", "县市场监管局", "县农业农村局"]),
            ],
        ),
        (
            2,
            "提升旅游服务质量",
            [
                (3, "规范旅游市场秩序", ["县文化旅游和广播电视局", "县市场监管局", "县公安局"]),
                (4, "提升景区服务品质", ["县文化旅游和广播电视局"]),
            ],
        ),
        (
            3,
            "夯实质量基础",
            [
                (5, "加强计量检测能力建设", ["县市场监管局", "县财政局", "县检验检测中心"]),
                (6, "推进标准化建设", ["县市场监管局", "县农业农村局", "县直有关部门"]),
            ],
        ),
    ]
    assert leads(plan) == [
        (1, ["县农业农村局"]),
        (2, ["县工业和信息化局"]),
        (3, ["县文化旅游和广播电视局"]),
        (4, ["县文化旅游和广播电视局"]),
        (5, ["县市场监管局"]),
        (6, ["县市场监管局", "县农业农村局"]),
    ]
    second = plan.chapters[0].measures[1]
    # The three label lines are one clause; the deadline line is not a unit and is no target.
    assert second.units_text == (
        "牵头单位：县工业和信息化局\n配合单位：县市场监管局、县农业农村局\n完成时限：2025年12月底前"
    )
    assert second.text.endswith("冰酒产品抽检合格率达到98%以上。")
    assert target_rows(plan) == [
        (
            "农产品质量安全例行监测合格率稳定在98%以上",
            "农产品质量安全例行监测合格率",
            98,
            "%",
            ">=",
            2025,
            None,
        ),
        ("新增地理标志保护产品2个", "新增地理标志保护产品", 2, "个", "=", 2025, None),
        ("冰酒产品抽检合格率达到98%以上", "冰酒产品抽检合格率", 98, "%", ">=", 2025, 2),
        ("新建社会公用计量标准3项", "新建社会公用计量标准", 3, "项", "=", 2025, 5),
    ]
    assert plan.problems == []


# ---------------------------------------------------------------------------
# 抚顺: "（市市场监管局牵头，…按职责分工负责）" and its many spellings
# ---------------------------------------------------------------------------


def test_fushun_plan_with_qiantou_clauses_in_brackets():
    plan = variant("genre-fushun-qiantou-brackets.txt")
    assert (plan.title, plan.issuer) == ("抚顺市推进质量强市建设行动方案（2024—2026年）", "抚顺市")
    assert outline(plan) == [
        (
            1,
            "产业质量提升行动",
            [
                (1, "推动石化产业质量升级", ["市工业和信息化局", "市发展改革委", "市科技局"]),
                (2, "开展制造业质量攻关", ["市工业和信息化局", "市科技局", "各县区政府"]),
                (3, "提升建设工程品质", ["市住房城乡建设局", "市交通运输局", "市水利局"]),
            ],
        ),
        (
            2,
            "服务质量提升行动",
            [
                (
                    4,
                    "提升商贸流通服务质量",
                    ["市商务局", "市文化旅游和广播电视局", "市市场监管局"],
                ),
                (5, "提升农业社会化服务水平", ["市农业农村局"]),
                (6, "提升医疗卫生服务质量", ["市卫生健康委", "市医保局"]),
            ],
        ),
        (
            3,
            "质量环境优化行动",
            [
                (7, "优化质量政务服务", ["市营商局", "市直有关部门", "各县区政府", "开发区管委会"]),
                (8, "推进绿色低碳发展", ["市生态环境局", "市发展改革委"]),
            ],
        ),
    ]
    assert leads(plan) == [
        (1, ["市工业和信息化局"]),
        (2, ["市工业和信息化局", "市科技局"]),  # "A、B牵头": both lead
        (3, ["市住房城乡建设局"]),
        (4, ["市商务局"]),  # "由市商务局牵头": 由 is not part of the name
        (5, ["市农业农村局"]),
        (6, []),
        (7, ["市营商局"]),
        (8, ["市生态环境局"]),
    ]
    assert target_rows(plan) == [
        (
            "规模以上工业企业产品质量合格率稳定在95%以上",
            "规模以上工业企业产品质量合格率",
            95,
            "%",
            ">=",
            2026,
            None,
        ),
        ("培育省级质量标杆企业5家以上", "培育省级质量标杆企业", 5, "家", ">=", 2026, None),
        # A growth rate, not a level: the indicator keeps "年均增长".
        (
            "高技术制造业增加值年均增长8%以上",
            "高技术制造业增加值年均增长",
            8,
            "%",
            ">=",
            2026,
            None,
        ),
        (
            "新建质量基础设施“一站式”服务站点20个",
            "新建质量基础设施“一站式”服务站点",
            20,
            "个",
            "=",
            2026,
            None,
        ),
        ("企业开办时间压减至1个工作日以内", "企业开办时间", 1, "个工作日", "<=", 2024, 7),
        # "至少" is the comparator; a yearly target runs to the plan's end (2026), not
        # to the 2024年6月底 of the clause before it.
        (
            "每年至少开展涉企政策宣讲活动2次",
            "每年开展涉企政策宣讲活动",
            2,
            "次",
            ">=",
            2026,
            7,
        ),
    ]
    sixth = plan.chapters[1].measures[2]
    assert sixth.units_text == "（市卫生健康委、市医保局等有关部门按职责分工负责）"
    assert plan.problems == []


# ---------------------------------------------------------------------------
# 丹东: 主要目标 as a list "1.…2.…" to 2027 with every way of stating a value
# ---------------------------------------------------------------------------


def test_dandong_plan_with_a_numbered_goals_list_to_2027():
    plan = variant("genre-dandong-goals-list.txt")
    # A joint notice of the 市委 and 市政府 offices names the city; the title does not.
    assert (plan.title, plan.issuer) == ("关于全面加强质量品牌建设的实施方案", "丹东市")
    assert outline(plan) == [
        (
            1,
            "实施品牌培育工程",
            [
                (1, "打造区域公用品牌", ["市农业农村局", "市市场监管局"]),
                (2, "培育企业自主品牌", ["市工业和信息化局", "市商务局", "市市场监管局"]),
            ],
        ),
        (
            2,
            "实施质量基础提升工程",
            [
                (3, "完善计量服务体系", ["市市场监管局"]),
                (4, "加强标准引领", ["市市场监管局", "市发展改革委"]),
            ],
        ),
    ]
    assert target_rows(plan) == [
        ("制造业产品质量合格率提高到95%", "制造业产品质量合格率", 95, "%", "=", 2027, None),
        (
            "农产品质量安全例行监测合格率稳定在98%以上",
            "农产品质量安全例行监测合格率",
            98,
            "%",
            ">=",
            2027,
            None,
        ),
        # "分别": one value per indicator, in order; the 以上 applies to both.
        (
            "食品抽检合格率和药品抽检合格率分别达到98.5%、95%以上",
            "食品抽检合格率",
            98.5,
            "%",
            ">=",
            2027,
            None,
        ),
        (
            "食品抽检合格率和药品抽检合格率分别达到98.5%、95%以上",
            "药品抽检合格率",
            95,
            "%",
            ">=",
            2027,
            None,
        ),
        # "5年内" is a time frame, not a value and not part of the indicator; the
        # plan's own deadline (到2027年) is the year.
        (
            "力争5年内新培育省级以上知名品牌20个",
            "新培育省级以上知名品牌",
            20,
            "个",
            "=",
            2027,
            None,
        ),
        ("获得省长质量奖企业达到3家以上", "获得省长质量奖企业", 3, "家", ">=", 2027, None),
        ("新建社会公用计量标准不少于50项", "新建社会公用计量标准", 50, "项", ">=", 2027, None),
        (
            "主导或参与制修订各类标准不少于50个",
            "主导或参与制修订各类标准",
            50,
            "个",
            ">=",
            2027,
            None,
        ),
        (
            "产品质量监督抽查不合格发现率控制在1%以内",
            "产品质量监督抽查不合格发现率",
            1,
            "%",
            "<=",
            2027,
            None,
        ),
        # Ambiguous: an increase over a base year. A coordinator tracks it as the
        # indicator with the change as its value ("=": the plan asks for that rise);
        # 2022 is the base year, not a deadline.
        (
            "规模以上工业企业研发经费投入强度较2022年提高0.5个百分点",
            "规模以上工业企业研发经费投入强度",
            0.5,
            "个百分点",
            "=",
            2027,
            None,
        ),
        (
            "全市累计培育“辽宁优品”企业达到40家",
            "全市累计培育“辽宁优品”企业",
            40,
            "家",
            "=",
            2027,
            2,
        ),
        ("建成国家级标准化试点3个", "建成国家级标准化试点", 3, "个", "=", 2025, 4),
    ]
    assert plan.problems == []


# ---------------------------------------------------------------------------
# 营口: text saved from a .docx — blank lines between paragraphs, \u3000 indents,
# tabs after numbers, no-break spaces, a page number, the title on two lines
# ---------------------------------------------------------------------------


def test_yingkou_docx_export_with_blank_lines_and_full_width_indents():
    path = VARIANTS / "genre-docx-blank-lines.txt"
    assert "\u3000\u3000" in path.read_text(encoding="utf-8")
    plan = parse_plan_file(path)
    assert (plan.title, plan.issuer) == (
        "营口市全面推进质量强市建设实施方案（2023—2025年）",
        "营口市",
    )
    assert outline(plan) == [
        (
            1,
            "推动制造业质量提升",
            [
                (1, "加强重点工业产品质量监管", ["市市场监管局", "市工业和信息化局"]),
                (2, "推进企业技术改造", ["市工业和信息化局", "市发展改革委"]),
            ],
        ),
        (
            2,
            "提升港口与物流服务质量",
            [
                (3, "提升港口服务效能", ["营口海关", "市交通运输局", "辽港集团营口港务公司"]),
                (4, "推动物流业提质增效", ["市发展改革委", "市商务局"]),
            ],
        ),
        (
            3,
            "夯实质量技术基础",
            [(5, "完善标准化体系", ["市市场监管局", "鲅鱼圈区政府"])],
        ),
    ]
    first = plan.chapters[0].measures[0]
    # (1)(2) are steps of measure 1, whose clause follows them on its own paragraph.
    assert "（2）对抽查不合格企业开展质量帮扶" in first.text
    assert first.units_text == "（责任单位：市市场监管局、市工业和信息化局）"
    assert target_rows(plan) == [
        ("制造业产品质量合格率达到94.5%以上", "制造业产品质量合格率", 94.5, "%", ">=", 2025, None),
        (
            "食品评价性抽检合格率稳定在98.5%以上",
            "食品评价性抽检合格率",
            98.5,
            "%",
            ">=",
            2025,
            None,
        ),
        ("万人有效发明专利拥有量达到5.6件", "万人有效发明专利拥有量", 5.6, "件", "=", 2025, None),
        ("重点领域质量安全事故零发生", "重点领域质量安全事故", 0, "", "=", 2025, None),
        (
            "重点工业产品质量监督抽查合格率达到95%以上",
            "重点工业产品质量监督抽查合格率",
            95,
            "%",
            ">=",
            2025,
            1,
        ),
    ]
    assert plan.problems == []


# ---------------------------------------------------------------------------
# 阜新: a 年度工作要点 whose units are only in the 附件 任务分解表
# ---------------------------------------------------------------------------


def test_fuxin_work_points_with_units_in_the_annexed_task_table():
    plan = variant("genre-annex-task-table.txt")
    assert (plan.title, plan.issuer) == ("阜新市质量强市建设2024年工作要点", "阜新市")
    # The body names no 责任单位 ("详见附件"); a reader takes them from the table,
    # matching rows to measures by task name (row 3 abbreviates it, so by 序号, which
    # the plan's straight-through numbering allows).
    assert outline(plan) == [
        (
            1,
            "提升产业质量竞争力",
            [
                (
                    1,
                    "推动农产品加工业提质增效",
                    ["市农业农村局", "市市场监管局", "市工业和信息化局"],
                ),
                (
                    2,
                    "推进新能源产业质量提升",
                    ["市工业和信息化局", "市发展改革委", "市市场监管局", "市科技局"],
                ),
                (
                    3,
                    "提升氟化工产业质量水平",
                    ["阜新高新区管委会", "市工业和信息化局", "市市场监管局"],
                ),
            ],
        ),
        (
            2,
            "提升服务质量水平",
            [
                (4, "提升政务服务质量", ["市营商局", "市直有关部门"]),
                (5, "提升现代物流服务水平", ["市商务局"]),
            ],
        ),
    ]
    assert leads(plan) == [
        (1, ["市农业农村局"]),
        (2, ["市工业和信息化局", "市发展改革委"]),
        (3, ["阜新高新区管委会"]),
        (4, ["市营商局"]),
        (5, ["市商务局"]),
    ]
    assert plan.chapters[0].measures[0].units_text == (
        "牵头单位：市农业农村局；配合单位：市市场监管局、市工业和信息化局"
    )
    # A 年度工作要点 is due in its own year ("2024年，…"); the table's 完成时限 is no target.
    assert target_rows(plan) == [
        ("食品抽检合格率稳定在98%以上", "食品抽检合格率", 98, "%", ">=", 2024, None),
        ("新增省级质量标杆企业2家", "新增省级质量标杆企业", 2, "家", "=", 2024, None),
        ("新建社会公用计量标准5项", "新建社会公用计量标准", 5, "项", "=", 2024, None),
        ("政务服务事项网上可办率达到98%以上", "政务服务事项网上可办率", 98, "%", ">=", 2024, 4),
    ]
    assert plan.problems == []


FUXIN_UNITS = [
    (1, ["市农业农村局", "市市场监管局", "市工业和信息化局"], ["市农业农村局"]),
    (
        2,
        ["市工业和信息化局", "市发展改革委", "市市场监管局", "市科技局"],
        ["市工业和信息化局", "市发展改革委"],
    ),
    (3, ["阜新高新区管委会", "市工业和信息化局", "市市场监管局"], ["阜新高新区管委会"]),
    (4, ["市营商局", "市直有关部门"], ["市营商局"]),
    (5, ["市商务局"], ["市商务局"]),
]


def _fuxin_parts() -> tuple[list[str], list[list[str]]]:
    """The Fuxin variant's paragraphs, and its task table as rows of cells."""
    lines = (VARIANTS / "genre-annex-task-table.txt").read_text(encoding="utf-8").splitlines()
    paragraphs = [line for line in lines if line and "\t" not in line]
    rows = [line.split("\t") for line in lines if "\t" in line]
    return paragraphs, rows


def test_fuxin_task_table_inside_a_docx_with_empty_and_multi_paragraph_cells(tmp_path):
    paragraphs, rows = _fuxin_parts()
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    for r, cells in enumerate(rows):
        if len(cells) == 2:  # a category row spans the table
            merged = table.cell(r, 1).merge(table.cell(r, len(rows[0]) - 1))
            table.cell(r, 0).text, merged.text = cells
            continue
        for c, text in enumerate(cells):
            cell = table.cell(r, c)
            # Word users put each unit on its own line inside the cell.
            parts = text.split("、") if c == 4 else [text]
            cell.text = parts[0]
            for extra in parts[1:]:
                cell.add_paragraph(extra)
    path = tmp_path / "fuxin.docx"
    document.save(path)
    plan = parse_plan_file(path)
    assert [(m.number, m.responsible_units, m.lead_units) for m in _measures(plan)] == FUXIN_UNITS
    assert plan.problems == []


def test_fuxin_task_table_in_an_html_page(tmp_path):
    paragraphs, rows = _fuxin_parts()
    body = "".join(f"<p>{html.escape(text)}</p>" for text in paragraphs)
    body += "<table>" + "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in cells) + "</tr>"
        for cells in rows
    )
    body += "</table>"
    path = tmp_path / "fuxin.html"
    path.write_text(f"<html><body>{body}</body></html>", encoding="utf-8")
    plan = parse_plan_file(path)
    assert [(m.number, m.responsible_units, m.lead_units) for m in _measures(plan)] == FUXIN_UNITS
    assert plan.problems == []


def test_a_table_row_does_not_stand_for_a_measure_of_another_chapter_by_number():
    # With numbering restarting per chapter "1" is ambiguous: only the task name counts.
    plan = parse_plan_text(
        "某县质量提升工作方案\n一、提升产品质量\n（一）加强监管。开展检查。\n"
        "二、提升服务质量\n（一）优化服务。开展服务。\n（二）规范市场。开展整治。\n"
        "三、保障措施\n（一）加强领导。\n附件：任务分解表\n"
        "序号\t任务\t牵头单位\t配合单位\n1\t优化服务\t县营商局\t县直有关部门\n"
    )
    assert [(m.number, m.title, m.responsible_units) for m in _measures(plan)] == [
        (1, "加强监管", []),
        (1, "优化服务", ["县营商局", "县直有关部门"]),
        (2, "规范市场", []),
    ]


def _measures(plan: ParsedPlan) -> list:
    return [m for c in plan.chapters for m in c.measures]
