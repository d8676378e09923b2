"""Search of the entity register: by code, by name and by 2-character words, on both databases.

The index (bigram GIN on PostgreSQL, FTS5 on SQLite) is only a pre-filter: these tests
check both that it finds what it must, and that what it returns really contains the query.
"""

import pytest
from django.db import connection

from qcity.registry import search
from qcity.registry.models import MarketEntity
from qcity.registry.search import SearchRefused, filter_entities
from tests.registry.helpers import check_char, entity, make_code

pytestmark = pytest.mark.django_db


def names(raw: str) -> set[str]:
    return set(filter_entities(MarketEntity.objects.all(), raw).values_list("name", flat=True))


@pytest.fixture
def register(org_units):
    for i, name in enumerate(
        [
            "开原市金鑫奶粉店",
            "开原市粉店奶茶铺",  # 粉店 and 奶 but not 奶粉: the index alone would say yes
            "开原市鑫源食品超市",
            "西丰县康宁药房",
            "铁岭（开原）老街奶粉专营店",
            "开原市100%_纯净水站",
            "ABC Milk 商贸有限公司",
        ],
        start=1,
    ):
        entity(name, serial=i)


def test_the_code_generator_agrees_with_the_test_vectors_of_the_regulations():
    for code in ("914403001922038216", "91110108551385082Q", "91440300708461136T"):
        assert check_char(code[:17]) == code[17]
    assert check_char("91350100M0001TGQX") != "M"  # a pilot code that fails, as documented


def test_it_finds_a_two_character_word_and_no_false_hit(register):
    assert names("奶粉") == {"开原市金鑫奶粉店", "铁岭（开原）老街奶粉专营店"}


def test_it_finds_longer_words_and_several_terms(register):
    assert names("鑫源食品") == {"开原市鑫源食品超市"}
    assert names("开原市") == {
        "开原市金鑫奶粉店",
        "开原市粉店奶茶铺",
        "开原市鑫源食品超市",
        "开原市100%_纯净水站",
    }
    assert names("开原 奶粉") == {"开原市金鑫奶粉店", "铁岭（开原）老街奶粉专营店"}
    assert names("康宁 药") == {"西丰县康宁药房"}


def test_it_finds_a_word_spanning_a_full_width_character(register):
    assert names("（开原）老街") == {"铁岭（开原）老街奶粉专营店"}
    assert names("岭（开") == {"铁岭（开原）老街奶粉专营店"}
    # The half-width parenthesis is another character: no match, and no error.
    assert names("岭(开") == set()


def test_like_wildcards_are_matched_literally(register):
    assert names("100%_纯") == {"开原市100%_纯净水站"}
    assert names("0%") == {"开原市100%_纯净水站"}
    assert names("市%") == set()
    assert names("市_") == set()


def test_latin_letters_match_regardless_of_case(register):
    assert names("milk") == {"ABC Milk 商贸有限公司"}
    assert names("MILK 商贸") == {"ABC Milk 商贸有限公司"}


def test_it_finds_by_exact_code_and_by_code_prefix_in_any_case_and_width(register):
    code = MarketEntity.objects.get(name="西丰县康宁药房").code
    assert names(code) == {"西丰县康宁药房"}
    assert names(code.lower()) == {"西丰县康宁药房"}
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in code[:12])
    assert "西丰县康宁药房" in names(full_width)
    assert len(names("91")) == 7
    assert names("9121128200000000") == {
        e.name for e in MarketEntity.objects.filter(code__startswith="9121128200000000")
    }


def test_an_empty_query_does_not_filter(register):
    assert len(names("")) == 7
    assert len(names("   ")) == 7
    assert len(names(None)) == 7


def test_one_character_of_a_name_is_refused_with_a_reason(register):
    with pytest.raises(SearchRefused) as refused:
        names("奶")
    assert refused.value.code == "query_too_short"
    assert "两个字" in refused.value.message
    # One character beside a real word is fine: it is confirmed, not looked up.
    assert names("奶粉 金") == {"开原市金鑫奶粉店"}


def test_a_query_past_the_limit_is_refused():
    with pytest.raises(SearchRefused) as refused:
        search.parse("奶" * 101)
    assert refused.value.code == "query_too_long"


def test_control_characters_are_ignored_not_sent_to_the_database(register):
    assert names("奶粉\x00") == {"开原市金鑫奶粉店", "铁岭（开原）老街奶粉专营店"}


def test_the_index_follows_inserts_updates_and_deletes(register):
    assert names("乳业") == set()
    e = entity("开原市新乳业有限公司", serial=50)
    assert names("乳业") == {"开原市新乳业有限公司"}
    e.name = "开原市新饮品有限公司"
    e.save()
    assert names("乳业") == set()
    assert names("饮品") == {"开原市新饮品有限公司"}
    MarketEntity.objects.filter(pk=e.pk).delete()
    assert names("饮品") == set()


def test_the_index_follows_a_bulk_import_made_with_raw_sql(register):
    unit_id = MarketEntity.objects.first().owner_unit_id
    rows = [(make_code("211282", 1000 + i), f"开原市批量{i}号粮油店", unit_id) for i in range(50)]
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO registry_marketentity (code, code_kind, code_warning, name, kind, "
            "region_code, owner_unit_id, industry_code, address, status, risk_class, "
            "on_abnormal_list, on_serious_list, created_at, updated_at) VALUES "
            "(%s, 'uscc', '', %s, 'enterprise', '211282', %s, '', '', 'active', '', "
            "false, false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
            rows,
        )
        cursor.execute(
            "UPDATE registry_marketentity SET name = %s WHERE code = %s",
            ["开原市改名蔬菜店", rows[0][0]],
        )
    assert len(names("粮油")) == 49
    assert names("蔬菜") == {"开原市改名蔬菜店"}
    assert names("批量7号") == {"开原市批量7号粮油店"}


def test_the_query_uses_the_index(register):
    # Unordered: on a table this small the planner may otherwise walk the code index for
    # the ORDER BY and filter as it goes, which says nothing about the bigram index.
    qs = filter_entities(MarketEntity.objects.all(), "奶粉").order_by()
    plan = qs.explain()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # GIN is read through bitmap scans: rule out the other ways to reach the rows.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_indexscan = off")
            plan = qs.explain()
        assert "registry_entity_name_bigrams" in plan
    else:
        assert "registry_entity_name_fts" in plan and "VIRTUAL TABLE" in plan


def test_the_sqlite_index_can_be_rebuilt(register):
    search.rebuild_index()
    assert names("奶粉") == {"开原市金鑫奶粉店", "铁岭（开原）老街奶粉专营店"}


def test_the_index_follows_the_real_bulk_import_creating_and_updating(org_units, tmp_path):
    from qcity.registry.imports import import_entities
    from tests.registry.importfiles import row, write_csv

    first = write_csv(tmp_path / "名录.csv", [row(1, 名称="开原市金鑫奶粉店"), row(2)])
    import_entities(str(first))
    assert names("奶粉") == {"开原市金鑫奶粉店"}
    # The same code again with a new name: an update through the importer's upsert.
    second = write_csv(tmp_path / "名录2.csv", [row(1, 名称="开原市金鑫粮油店"), row(2)])
    import_entities(str(second))
    assert names("奶粉") == set()
    assert names("粮油") == {"开原市金鑫粮油店"}
