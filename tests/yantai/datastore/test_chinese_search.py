"""Chinese full-text search over DataStore rows (``ckanext.yantai.datastore.search``): any word
or fragment of two or more Chinese characters finds its rows, through the index, by every way
CKAN takes a search (``q`` as text or per column, ``full_text``, ``datastore_search_sql``)."""
from __future__ import annotations

import json
import pathlib

import ckan.plugins.toolkit as tk
import pytest
import sqlalchemy as sa
from ckanext.datastore.backend.postgres import get_write_engine

from ckanext.yantai.datastore import search
from tests import factories

FIELDS = [{"id": "当事人名称", "type": "text"}, {"id": "违法事实", "type": "text"},
          {"id": "罚款金额", "type": "numeric"}]
ROWS = [
    {"当事人名称": "烟台恒瑞食品有限公司", "违法事实": "销售过期食品", "罚款金额": 3},
    {"当事人名称": "莱山区老味道餐饮店", "违法事实": "无证经营餐饮服务", "罚款金额": 0.5},
    {"当事人名称": "山东鲁信化工股份有限公司", "违法事实": "超标排放大气污染物", "罚款金额": 28},
    {"当事人名称": "蓬莱海景酒店", "违法事实": "未按规定公示年度报告（ABC-2026）", "罚款金额": 1},
]


@pytest.fixture
def table(clean_datastore, sysadmin_api) -> str:
    dataset = factories.Dataset()
    return sysadmin_api.ok("datastore_create", resource={
        "package_id": dataset["id"], "name": "行政处罚"}, fields=FIELDS, records=ROWS,
        primary_key="当事人名称")["resource_id"]


def names(result: dict) -> set[str]:
    return {r["当事人名称"] for r in result["records"]}


@pytest.mark.parametrize(("q", "expected"), [
    ("食品", {"烟台恒瑞食品有限公司"}),  # in a name and in a fact of the same row
    ("烟台", {"烟台恒瑞食品有限公司"}),
    ("餐饮", {"莱山区老味道餐饮店"}),
    ("恒瑞", {"烟台恒瑞食品有限公司"}),  # a part of a name
    ("超标排放", {"山东鲁信化工股份有限公司"}),
    ("有限公司", {"烟台恒瑞食品有限公司", "山东鲁信化工股份有限公司"}),
    ("股份有限", {"山东鲁信化工股份有限公司"}),
    ("abc", {"蓬莱海景酒店"}),  # other words as words, lower-cased
    ("ＡＢＣ", {"蓬莱海景酒店"}),  # full-width letters
    ("2026", {"蓬莱海景酒店"}),
    ("食品 烟台", {"烟台恒瑞食品有限公司"}),  # every word
    ("食品 餐饮", set()),
    ("店", {"莱山区老味道餐饮店", "蓬莱海景酒店"}),  # one character: at a run's end too
    ("酒", {"蓬莱海景酒店"}),
    ("海鲜", set()),
    ("恒瑞化工", set()),  # the pairs of the whole query
])
def test_q_finds_rows_by_chinese_words_and_fragments(table, sysadmin_api, q, expected):
    found = sysadmin_api.ok("datastore_search", resource_id=table, q=q)
    assert names(found) == expected
    assert found["total"] == len(expected)


def test_rows_come_ranked_and_through_the_index(table, sysadmin_api):
    found = sysadmin_api.ok("datastore_search", resource_id=table, q="有限公司",
                            fields="当事人名称,rank")
    assert len(found["records"]) == 2 and all(r["rank"] > 0 for r in found["records"])
    with get_write_engine().connect() as conn:
        conn.execute(sa.text("SET enable_seqscan = off"))
        plan = "\n".join(r[0] for r in conn.execute(sa.text(
            f'EXPLAIN SELECT * FROM "{table}" WHERE _full_text @@ yantai_zh_tsquery(:q)'),
            {"q": "食品"}))
    assert "Bitmap Index Scan" in plan and "_full_text" in plan


def test_q_per_column_and_full_text(table, sysadmin_api):
    by_column = sysadmin_api.ok("datastore_search", resource_id=table, q={"违法事实": "食品"})
    assert names(by_column) == {"烟台恒瑞食品有限公司"}
    assert sysadmin_api.ok("datastore_search", resource_id=table,
                           q={"当事人名称": "餐饮服务"})["total"] == 0  # in the other column
    both = sysadmin_api.ok("datastore_search", resource_id=table, full_text="有限公司",
                           q={"违法事实": "排放"})
    assert names(both) == {"山东鲁信化工股份有限公司"}


def test_rows_written_later_are_found_too(table, sysadmin_api):
    sysadmin_api.ok("datastore_upsert", resource_id=table, method="upsert", records=[
        {"当事人名称": "招远黄金冶炼厂", "违法事实": "超标排放废水", "罚款金额": 12}])
    found = sysadmin_api.ok("datastore_search", resource_id=table, q="排放")
    assert names(found) == {"山东鲁信化工股份有限公司", "招远黄金冶炼厂"}


def test_sql_search_uses_the_same_functions(table, sysadmin_api):
    found = sysadmin_api.ok("datastore_search_sql", sql=(
        f'SELECT "当事人名称" FROM "{table}" WHERE _full_text @@ yantai_zh_tsquery(\'餐饮\')'))
    assert names(found) == {"莱山区老味道餐饮店"}


@pytest.mark.parametrize("q", [
    "食品'", "'; DROP TABLE x; --", "plainto_tsquery('english', '食品')",
    "to_tsvector('english', ", "食品 & 餐饮 | !", "(", "%s", "：，。", " ",
])
def test_hostile_queries_are_words_not_sql(table, sysadmin_api, q):
    found = sysadmin_api.ok("datastore_search", resource_id=table, q=q)
    assert found["total"] <= 1
    assert sysadmin_api.ok("datastore_search", resource_id=table)["total"] == len(ROWS)


def test_a_backslash_gets_ckans_structured_refusal(table, sysadmin_api):
    # CKAN's single-statement check reads a lone backslash as escaping the literal's quote.
    error = sysadmin_api.errors("datastore_search", resource_id=table, q="\\")
    assert error["__type"] == "Validation Error"


def test_the_language_parameter_does_not_turn_the_search_off(table, sysadmin_api):
    found = sysadmin_api.ok("datastore_search", resource_id=table, q="食品", language="english")
    assert names(found) == {"烟台恒瑞食品有限公司"}


def test_installed_after_ckans_permissions_script():
    assert search.installed(get_write_engine())


@pytest.mark.parametrize(("text", "lexemes"), [
    ("烟台市", {"烟台", "台市", "市"}),
    ("食品", {"食品", "品"}),
    ("䶮𠀀字", {"䶮𠀀", "𠀀字", "字"}),  # beyond the basic plane
    ("ＡＢＣ公司１２", {"abc", "公司", "司", "12"}),
])
def test_index_terms(text, lexemes):
    with get_write_engine().connect() as conn:
        got = conn.execute(sa.text("SELECT tsvector_to_array(yantai_zh_tsvector(:t))"),
                           {"t": text}).scalar()
    assert set(got or ()) == lexemes


def test_sql_search_may_call_ckans_functions_and_the_search_functions():
    import ckanext.datastore

    ckans = (pathlib.Path(ckanext.datastore.__file__).parent / "allowed_functions.txt")
    ours = pathlib.Path(search.allowed_functions_file())
    assert tk.config["ckan.datastore.sqlsearch.allowed_functions_file"] == str(ours)
    assert ours.read_text().splitlines() == (ckans.read_text().splitlines()
                                             + list(search.SQL_FUNCTIONS[::-1]))


@pytest.mark.parametrize("q", ["食品", {"当事人名称": "食品"}], ids=["q", "q per column"])
@pytest.mark.parametrize("records_format", ["lists", "csv", "objects"])
def test_every_records_format_searches_in_chinese(table, sysadmin_api, records_format, q):
    # Stock CKAN 2.11 answers q with records_format=lists by a syntax error.
    found = sysadmin_api.ok("datastore_search", resource_id=table, q=q,
                            records_format=records_format)
    assert found["total"] == 1 and "烟台恒瑞食品有限公司" in str(found["records"])


def test_the_dump_searches_in_chinese(table, app):
    for fmt in ("csv", "json"):
        body = app.get(f"/datastore/dump/{table}?format={fmt}&q=%E9%A3%9F%E5%93%81").body
        assert "烟台恒瑞食品有限公司" in body and "莱山区老味道餐饮店" not in body


@pytest.mark.parametrize(("q", "expected"), [
    ("abc-20:*", {"蓬莱海景酒店"}),  # to_tsquery's prefix, on the last word as typed
    ("ab:*", {"蓬莱海景酒店"}),
    ("abd:*", set()),
    ("恒瑞 ab:*", set()),
])
def test_a_word_with_a_prefix_mark_matches_as_a_prefix(table, sysadmin_api, q, expected):
    found = sysadmin_api.ok("datastore_search", resource_id=table, q=q, plain=False)
    assert names(found) == expected


def _table_view(table: str) -> str:
    from ckan.tests.helpers import call_action

    views = call_action("resource_view_list", id=table)
    return next(v["id"] for v in views if v["view_type"] == "datatables_view")


def _ajax(app, view_id: str, text: str = "", column: str = "") -> dict:
    form = {"draw": "1", "start": "0", "length": "10", "search[value]": text,
            "search[regex]": "false"}
    for index, name in enumerate(["_id", *(f["id"] for f in FIELDS)]):
        form[f"columns[{index}][name]"] = name
        form[f"columns[{index}][search][value]"] = column if name == "当事人名称" else ""
    answer = app.post(f"/datatables/ajax/{view_id}", data=form)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return json.loads(answer.get_data(as_text=True))  # CKAN sends it as text/html


@pytest.mark.parametrize(("text", "column", "expected"), [
    ("食品", "", {"烟台恒瑞食品有限公司"}),
    ("有限公司 烟台", "", {"烟台恒瑞食品有限公司"}),
    ("ＡＢＣ", "", {"蓬莱海景酒店"}),
    ("ab", "", {"蓬莱海景酒店"}),  # as the box searches while one types
    ("", "餐饮", {"莱山区老味道餐饮店"}),  # a column's own box
    ("食品'); DROP TABLE x; --", "", set()),
    ("", "", {r["当事人名称"] for r in ROWS}),
])
def test_the_data_table_previews_search_box_finds_chinese(app, table, text, column, expected):
    # CKAN's view turns every character but ASCII letters and digits into _ before it searches
    found = _ajax(app, _table_view(table), text, column)
    assert {r["当事人名称"] for r in found["data"]} == expected
    assert found["recordsFiltered"] == len(expected) and found["recordsTotal"] == len(ROWS)


def test_the_data_tables_filtered_download_searches_in_chinese(app, table):
    params = {"search": {"value": "餐饮"}, "order": [], "visible": [True] * 4,
              "columns": [{"name": n, "search": {"value": ""}}
                          for n in ["_id", *(f["id"] for f in FIELDS)]]}
    answer = app.post(f"/datatables/filtered-download/{_table_view(table)}",
                      data={"params": json.dumps(params), "format": "csv"},
                      follow_redirects=True)
    body = answer.get_data(as_text=True)
    assert "莱山区老味道餐饮店" in body and "烟台恒瑞食品有限公司" not in body


def test_a_crafted_language_and_column_names_do_not_turn_search_text_into_sql(
        table, sysadmin_api):
    # A column name with a quote lined up with a crafted language once made the rewrite
    # match inside the searched text, and the next value ran as SQL.
    dataset = factories.Dataset()
    secret = sysadmin_api.ok("datastore_create", resource={
        "package_id": dataset["id"], "name": "名单"}, fields=[{"id": "v", "type": "text"}],
        records=[{"v": "内部名单7f3a"}])["resource_id"]
    crafted = sysadmin_api.ok("datastore_create", resource={
        "package_id": dataset["id"], "name": "表"},
        fields=[{"id": "x', y", "type": "text"}, {"id": "g", "type": "text"}],
        records=[{"x', y": "甲", "g": "乙"}])["resource_id"]
    stolen = f'(SELECT string_agg(v, \',\') FROM "{secret}")::int::text'
    answer = sysadmin_api.call("datastore_search", resource_id=crafted,
                               language="') \"query x'", q={
                                   "x', y": "plainto_tsquery(",
                                   "g": f') U&"query x\\0027, y", yantai_zh_tsquery(({stolen}))'
                                        ' "query g" --'})
    assert "内部名单7f3a" not in json.dumps(answer, ensure_ascii=False)
    for language in ("english", "simple", "') \"query x'"):
        found = sysadmin_api.ok("datastore_search", resource_id=crafted, language=language,
                                q={"x', y": "甲"})
        assert found["total"] == 1
