"""信用信息一站式查询 against the real services: market entities found by a name fragment, a code or
a document number, in every form people type them; only public records of open datasets, the
same for every caller; natural persons never by name; a profile from every department with the
other credit tables of the DataStore."""
from __future__ import annotations

import datetime as dt

import ckan.model as model
import ckan.plugins.toolkit as tk
import pytest
import sqlalchemy as sa
from ckan.tests import factories as ckan_factories
from ckan.tests.helpers import call_action

from ckanext.yantai.datastore import search as zh_search
from ckanext.yantai.disclosure import lookup
from ckanext.yantai.workdays import SHANGHAI
from tests import factories
from tests.api import Api
from tests.yantai.credit_city import OTHER, submit
from tests.yantai.disclosure_records import ADULT_ID, FIRM, SOLE, make_uscc, penalty

pytestmark = pytest.mark.usefixtures("clean_datastore")

def _names(result: dict) -> list[str]:
    return [entity["name"] for entity in result["results"]]


# -- reading what people type ---------------------------------------------------------------------

@pytest.mark.parametrize("text", [FIRM, FIRM.lower(), f" {FIRM[:6]} {FIRM[6:]} ",
                                  FIRM.translate({ord(c): ord(c) + 0xFEE0 for c in FIRM}),
                                  f"{FIRM[:9]}-{FIRM[9:]}", f"{FIRM[:5]}\u200b{FIRM[5:]}"])
def test_a_code_reads_as_a_code_however_typed(text):
    assert lookup.read_query(text) == lookup.Query(FIRM, None, None)


@pytest.mark.parametrize("text", [
    "烟市监罚〔2026〕101号", "烟市监罚[2026]101号", "烟市监罚【2026】101号",
    "烟市监罚（2026）101号", "烟市监罚(2026) 101号", "烟市监罚［２０２６］１０１号",
    "煙市監罰〔2026〕101號"])
def test_a_document_number_reads_the_same_in_every_bracket(text):
    assert lookup.read_query(text).document == "烟市监罚〔2026〕101号"


@pytest.mark.parametrize(("text", "name"), [
    ("恒瑞", "恒瑞"), (" 恒瑞化工 ", "恒瑞化工"), ("恆瑞化工", "恒瑞化工"), ("恒\u200b瑞", "恒瑞"),
    ("ＡＢＣ酒店", "ABC酒店"), ("<b>恒瑞</b>", "<B>恒瑞</B>"),
])
def test_a_name_fragment_reads_simplified_and_half_width(text, name):
    query = lookup.read_query(text)
    assert query.name == name and query.code is None


@pytest.mark.parametrize("text", ["", "   ", "恒", "\u200b恒\u200b", "《》", "-", 123, None])
def test_nothing_to_search_by_is_a_clear_error(text):
    with pytest.raises(tk.ValidationError) as raised:
        lookup.read_query(text)  # type: ignore[arg-type]
    assert list(raised.value.error_dict) == ["q"]


def test_numbers_alone_search_document_numbers_only():
    assert lookup.read_query("2026") == lookup.Query(None, "2026", None)


# -- searching ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["恒瑞", "恒瑞化工", "烟台恒瑞化工有限公司", "恆瑞", "恒瑞 化工",
                                  "化工有限"])
def test_a_firm_is_found_by_any_fragment_of_its_name(city, text):
    result = city["anonymous"].ok("yantai_credit_search", q=text)
    assert _names(result) == ["烟台恒瑞化工有限公司"]
    firm = result["results"][0]
    # one penalty from the market regulator, one licence from the approvals bureau
    assert (firm["code"], firm["license_count"], firm["penalty_count"]) == (FIRM, 1, 1)


def test_a_search_lists_every_firm_it_matches_by_name_paged(city):
    api = city["anonymous"]
    result = api.ok("yantai_credit_search", q="有限公司")
    assert _names(result) == sorted(["烟台恒瑞化工有限公司", "烟台蓬莱海景酒店有限公司"])
    assert result["count"] == 2 and result["count_capped"] is False
    second = api.ok("yantai_credit_search", q="有限公司", rows=1, start=1)
    assert _names(second) == _names(result)[1:] and second["count"] == 2


def test_a_firm_is_found_by_its_code_in_any_form(city):
    api = city["anonymous"]
    for text in (OTHER, OTHER.lower(), f"{OTHER[:8]} {OTHER[8:]}"):
        assert _names(api.ok("yantai_credit_search", q=text)) == ["烟台蓬莱海景酒店有限公司"]
    assert api.ok("yantai_credit_search", q=make_uscc("91370600", "MA3XXXX1"))["results"] == []


def test_a_sole_proprietorship_is_a_market_entity(city):
    result = city["anonymous"].ok("yantai_credit_search", q="老味道")
    assert [(e["name"], e["code"]) for e in result["results"]] == [("莱山区老味道餐饮店", SOLE)]


def test_a_person_is_never_found_by_name_only_by_the_exact_document_number(city):
    api = city["anonymous"]
    for text in ("张某某", "张某"):
        result = api.ok("yantai_credit_search", q=text)
        assert result["results"] == [] and result["documents"] == []
    found = api.ok("yantai_credit_search", q="烟市监罚[2026]103号")
    assert found["results"] == []
    (record,) = found["documents"]
    assert record["fields"]["行政相对人名称"] == "张某某" and record["party_code"] is None
    assert ADULT_ID not in str(record) and record["fields"]["证件号码"].count("*") >= 8
    assert record["dataset"]["title"] == "烟台市市场监督管理局行政处罚和行政许可信息"
    assert record["organization"]["title"] == "烟台市市场监督管理局"
    # the profile of a person does not exist, by any key
    assert api.call("yantai_credit_profile", id=ADULT_ID)["error"]["__type"] == "Not Found Error"


def test_a_document_number_finds_a_firms_record_and_its_name(city):
    found = city["anonymous"].ok("yantai_credit_search", q="烟市监罚（2026）102号")
    names = [d["fields"]["行政相对人名称"] for d in found["documents"]]
    assert names == ["烟台蓬莱海景酒店有限公司"]
    assert found["documents"][0]["party_code"] == OTHER


def test_records_that_left_the_public_leave_the_lookup(city):
    api = city["anonymous"]
    # the penalty of 海景酒店 revoked (撤销): the firm has no public record left
    submit(city["market"], "penalty", [penalty(**{
        "行政相对人名称": "烟台蓬莱海景酒店有限公司", "行政相对人代码_1": OTHER,
        "行政处罚决定书文号": "烟市监罚〔2026〕102号", "当前状态": "撤销"})])
    assert api.ok("yantai_credit_search", q="海景")["results"] == []
    assert api.ok("yantai_credit_search", q="烟市监罚〔2026〕102号")["documents"] == []
    assert api.call("yantai_credit_profile", id=OTHER)["error"]["__type"] == "Not Found Error"
    # 恒瑞's penalty revoked: only its licence is left
    submit(city["market"], "penalty", [penalty(**{"行政相对人名称": "烟台恒瑞化工有限公司",
                                                   "当前状态": "撤销"})])
    (firm,) = api.ok("yantai_credit_search", q="恒瑞")["results"]
    assert (firm["license_count"], firm["penalty_count"]) == (1, 0)


def test_a_publicity_period_that_ended_takes_the_record_away(city):
    market = city["market"]
    submit(market, "penalty", [penalty(**{
        "行政相对人名称": "烟台福山果品批发有限公司",
        "行政相对人代码_1": make_uscc("91370611", "MA3F00K2"),
        "行政处罚决定书文号": "烟市监罚〔2025〕9号", "处罚决定日期": "2025-01-06",
        "公示截止期": "2025-04-06"})], now=dt.datetime(2025, 1, 8, 9, 0, tzinfo=SHANGHAI))
    assert city["anonymous"].ok("yantai_credit_search", q="福山果品")["results"] == []


@pytest.mark.parametrize("change", ["conditional", "closed", "private", "deleted"])
def test_records_of_data_the_public_may_not_have_are_not_listed(city, change):
    market = city["market"]
    sysadmin = {"user": ckan_factories.Sysadmin()["name"]}
    dataset = market["dataset"]
    if change == "conditional":
        call_action("package_patch", dict(sysadmin), id=dataset["id"], open_type="conditional",
                    open_condition="申请后使用")
    elif change == "closed":
        call_action("package_patch", dict(sysadmin), id=dataset["id"], open_type="closed",
                    share_type="conditional", share_condition="仅限政务部门使用")
    elif change == "private":
        call_action("package_patch", dict(sysadmin), id=dataset["id"], private=True)
    else:  # (a resource holding records cannot be deleted; its dataset can)
        call_action("package_delete", dict(sysadmin), id=dataset["id"])
    api = city["anonymous"]
    assert api.ok("yantai_credit_search", q="海景")["results"] == []
    assert api.ok("yantai_credit_search", q="烟市监罚〔2026〕103号")["documents"] == []
    (firm,) = api.ok("yantai_credit_search", q="恒瑞")["results"]  # its licence is elsewhere
    assert (firm["license_count"], firm["penalty_count"]) == (1, 0)
    profile = api.ok("yantai_credit_profile", id=FIRM)
    assert [r["record_type"] for r in profile["records"]] == ["license"]


def test_every_caller_gets_the_public_answer(city, app):
    department_editor = Api(app, ckan_factories.APIToken(user=city["market"]["editor"])["token"])
    sysadmin = Api(app, ckan_factories.SysadminWithToken()["token"])
    answers = [api.ok("yantai_credit_search", q="恒瑞") for api in
               (city["anonymous"], department_editor, sysadmin)]
    assert answers[0] == answers[1] == answers[2]
    call_action("package_patch", {"user": ckan_factories.Sysadmin()["name"]},
                id=city["market"]["dataset"]["id"], private=True)
    assert sysadmin.ok("yantai_credit_search", q="海景")["results"] == []


@pytest.mark.parametrize(("data", "key"), [
    ({}, "q"), ({"q": ""}, "q"), ({"q": "恒"}, "q"), ({"q": "恒" * 101}, "q"),
    ({"q": ["恒瑞"]}, "q"), ({"q": {"a": 1}}, "q"), ({"q": "恒瑞", "rows": "x"}, "rows"),
    ({"q": "恒瑞", "rows": 0}, "rows"), ({"q": "恒瑞", "rows": "-3"}, "rows"),
    ({"q": "恒瑞", "start": -1}, "start"), ({"q": "恒瑞", "start": "1.5"}, "start"),
])
def test_a_bad_search_is_a_409_in_chinese_naming_the_field(city, data, key):
    error = city["anonymous"].errors("yantai_credit_search", **data)
    assert error["__type"] == "Validation Error" and set(error) == {"__type", key}
    assert any("\u4e00" <= c <= "\u9fff" for c in error[key][0])


def test_markup_and_sql_in_a_search_are_only_text(city):
    api = city["anonymous"]
    for text in ("恒瑞' OR '1'='1", "恒瑞\"); DROP TABLE yantai_credit_party; --", "<script>恒瑞",
                 "恒瑞 & 化工 | !海景", "恒瑞:*"):
        api.ok("yantai_credit_search", q=text)
    assert model.Session.execute(sa.text("SELECT count(*) FROM yantai_credit_party")).scalar() == 3


# -- profiles -------------------------------------------------------------------------------------

def test_a_profile_gathers_every_departments_public_records(city):
    profile = city["anonymous"].ok("yantai_credit_profile", id=f" {FIRM.lower()} ")
    assert (profile["code"], profile["name"]) == (FIRM, "烟台恒瑞化工有限公司")
    assert (profile["license_count"], profile["penalty_count"]) == (1, 1)
    by_type = {r["record_type"]: r for r in profile["records"]}
    assert by_type["license"]["organization"]["title"] == "烟台市行政审批服务局"
    assert by_type["penalty"]["organization"]["title"] == "烟台市市场监督管理局"
    assert by_type["penalty"]["fields"]["行政处罚决定书文号"] == "烟市监罚〔2026〕101号"
    assert ADULT_ID not in str(profile)  # the legal representative's number, masked
    assert by_type["penalty"]["fields"]["法定代表人证件号码"].startswith("370602")
    assert dt.datetime.fromisoformat(profile["queried_at"]).utcoffset() == dt.timedelta(hours=8)


def test_a_profile_shows_the_firms_rows_in_other_open_credit_tables(city):
    sysadmin = {"user": ckan_factories.Sysadmin()["name"]}

    def table(title: str, open_type: str, rows: list[dict]) -> None:
        extra = {"open_condition": "申请后使用"} if open_type == "conditional" else {}
        dataset = factories.Dataset(owner_org=city["market"]["org"]["id"], title=title,
                                    open_type=open_type, **extra)
        call_action("datastore_create", dict(sysadmin), force=True,
                    resource={"package_id": dataset["id"], "name": title},
                    fields=[{"id": "企业名称", "type": "text"},
                            {"id": "统一社会信用代码", "type": "text"},
                            {"id": "列入原因", "type": "text"}], records=rows)

    table("经营异常名录", "open", [
        {"企业名称": "烟台恒瑞化工有限公司", "统一社会信用代码": FIRM,
         "列入原因": "未按规定公示年度报告"},
        {"企业名称": "烟台蓬莱海景酒店有限公司", "统一社会信用代码": OTHER,
         "列入原因": "通过登记的住所无法联系"}])
    table("重点关注企业名单", "conditional", [
        {"企业名称": "烟台恒瑞化工有限公司", "统一社会信用代码": FIRM, "列入原因": "内部核查"}])
    profile = city["anonymous"].ok("yantai_credit_profile", id=FIRM)
    (abnormal,) = profile["tables"]
    assert abnormal["dataset"]["title"] == "经营异常名录" and abnormal["total"] == 1
    assert abnormal["records"] == [{"企业名称": "烟台恒瑞化工有限公司", "统一社会信用代码": FIRM,
                                    "列入原因": "未按规定公示年度报告"}]
    assert "内部核查" not in str(profile)


@pytest.mark.parametrize("code", [make_uscc("91370600", "MA3XXXX1"), "x", "", ["a"], None,
                                  "烟台恒瑞化工有限公司"])
def test_a_profile_of_no_market_entity_is_a_404_or_409(city, code):
    error = city["anonymous"].errors("yantai_credit_profile", id=code)
    assert error["__type"] in ("Not Found Error", "Validation Error")
    if error["__type"] == "Not Found Error":
        assert error["message"].endswith("没有该统一社会信用代码的公开信用信息")


# -- the database keeps the entities --------------------------------------------------------------

def test_the_search_functions_in_ckans_database_are_the_files():
    """A change to zh_text.sql needs a migration that installs it and rebuilds the vectors."""
    with model.ensure_engine().connect() as conn:
        installed = {str(name): str(source) for name, source in conn.execute(sa.text(
            "SELECT proname, prosrc FROM pg_proc WHERE proname IN "
            "('yantai_zh_tsvector', 'yantai_zh_tsquery')"))}
    text = zh_search.text_sql()
    assert len(installed) == 2
    for source in installed.values():
        assert source.strip() in text


def test_a_rebuild_gives_the_rows_the_triggers_kept(city):
    with model.ensure_engine().begin() as conn:
        kept = conn.execute(sa.text(
            "SELECT code, name, search FROM yantai_credit_party ORDER BY code")).fetchall()
        conn.execute(sa.text("DELETE FROM yantai_credit_party"))
        conn.execute(sa.text("SELECT yantai_credit_party_rebuild()"))
        rebuilt = conn.execute(sa.text(
            "SELECT code, name, search FROM yantai_credit_party ORDER BY code")).fetchall()
    assert rebuilt == kept and len(kept) == 3
    assert {row[0] for row in kept} == {FIRM, OTHER, SOLE}
