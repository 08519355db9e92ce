"""Issue 13 item 3: an anonymous search could kill the index (a 1 MB q ran 21 s and Solr died of
OutOfMemoryError). Every search parameter is bounded before it reaches Solr, on every channel that
ends in Solr, with a 400 that names each parameter in Chinese."""
from __future__ import annotations

import json
import re
import time
import urllib.parse
from typing import Any

import ckan.plugins.toolkit as tk
import pytest

from ckanext.yantai import domains, search_limits
from tests import factories
from tests.api import Api
from tests.stack.helpers import get_json, solr_core_url

HAN = re.compile(r"[\u4e00-\u9fff]")
FACETS = ["domain", "organization", "region", "open_type", "share_type", "update_cycle",
          "res_format", "record_type", "tags", "license_id", "quality_issues", "groups"]


# -- the rules ------------------------------------------------------------------------------------

RULES = search_limits.Rules(
    known_params=frozenset({"q", "fq", "fq_list", "rows", "start", "sort", "fl", "facet",
                            "facet.field", "facet.limit", "facet.mincount", "qf", "bf", "boost",
                            "defType", "mm", "tie", "wt", "df", "extras", "include_private"}),
    facet_fields=frozenset(FACETS), sort_fields=frozenset({"score", "metadata_modified", "name"}),
    query_parsers=frozenset({"dismax", "edismax", "lucene"}),
    local_params=lambda v: "{!" in v or "_query_:" in v)


def findings(**params: Any) -> set[tuple[str, str]]:
    return {(key, code) for key, code, _ in search_limits.check(params, search_limits.Limits(),
                                                                 RULES)}


@pytest.mark.pure
def test_what_the_portal_pages_send_passes():
    # The dataset page, a department page, DCAT's catalogue and the CLI's paging.
    assert findings(q="烟台市 公交线路", fq='dataset_type:dataset tags:"公交" res_format:"CSV"',
                    rows=20, start=40, sort="score desc, metadata_modified desc",
                    **{"facet.field": FACETS, "facet.limit": 50}, include_private=True,
                    df="text", extras={}) == set()
    assert findings(q="*:*", fq="", fq_list=["-dataset_type:harvest", "-dataset_type:showcase",
                                              "metadata_modified:[2024-01-01T00:00:00Z TO NOW]"],
                    sort="metadata_modified desc", rows=100, start=0) == set()
    assert findings(fl=["id", "validated_data_dict", "extras_*"], **{"facet.limit": -1}) == set()


@pytest.mark.pure
@pytest.mark.parametrize("q, code", [
    ("公" * 501, "too_long"),
    ("a " * 500_000, "too_long"),  # the attack: 1 MB, 500,000 terms
    (" ".join(["交通"] * 101), "too_many_terms"),
    ("a(b(c(" * 40, "too_many_terms"),  # clauses without spaces count too
    (["公交"], "not_text"),
])
def test_q_is_bounded(q, code):
    assert findings(q=q) == {("q", code)}


@pytest.mark.pure
def test_q_of_the_limit_passes():
    assert findings(q="公" * 500) == set()
    assert findings(q=" ".join(["交通"] * 100)) == set()


@pytest.mark.pure
@pytest.mark.parametrize("params, expected", [
    ({"fq": "tags:x " * 400}, ("fq", "too_long")),
    ({"fq": "a:1 " * 201}, ("fq", "too_many_filters")),
    ({"fq_list": ["tags:x"] * 500}, ("fq_list", "too_long")),
    ({"fq_list": ["a:1 b:2"] * 101}, ("fq_list", "too_many_filters")),
    # A string is extended into one filter per character by CKAN.
    ({"fq_list": "tags:x"}, ("fq_list", "not_list")),
    ({"fq_list": [{"x": 1}]}, ("fq_list", "not_list")),
    ({"fq": ["a"]}, ("fq", "not_text")),
])
def test_filters_are_bounded_together(params, expected):
    assert expected in findings(**params)


@pytest.mark.pure
@pytest.mark.parametrize("params, expected", [
    ({"start": 100_001}, ("start", "start_too_large")),
    ({"facet.limit": 1001}, ("facet.limit", "facet_limit")),
    ({"facet.limit": -2}, ("facet.limit", "facet_limit")),
    ({"facet.field": ["text"]}, ("facet.field", "unknown_facet")),
    ({"facet.field": ["validated_data_dict"]}, ("facet.field", "unknown_facet")),
    ({"facet.field": ["tags"] * 21}, ("facet.field", "too_many_facets")),
    ({"facet.field": "tags"}, ("facet.field", "not_list")),
    ({"facet": "x" * 100}, ("facet", "bad_value")),
    ({"sort": "div(1,2) desc"}, ("sort", "sort_format")),
    ({"sort": "metadata_modified sideways"}, ("sort", "sort_format")),
    ({"sort": "name asc, name desc, score desc, metadata_modified asc"}, ("sort", "sort_format")),
    ({"sort": "validated_data_dict asc"}, ("sort", "unknown_sort")),
    ({"sort": "ｖａｌｉｄａｔｅｄ_data_dict ａｓｃ"}, ("sort", "unknown_sort")),
    ({"fl": "id,[subquery]"}, ("fl", "field_list")),
    ({"fl": ["sum(1,2)"]}, ("fl", "field_list")),
    ({"fl": ["id"] * 51}, ("fl", "not_list")),
    ({"qf": "title^2 sum(1,1)"}, ("qf", "bad_value")),
    ({"bf": "sum(1,1)"}, ("bf", "not_allowed")),
    ({"boost": "recip(1,2,3,4)"}, ("boost", "not_allowed")),
    ({"mm": "2<-1 x"}, ("mm", "bad_value")),
    ({"tie": "1e9"}, ("tie", "bad_value")),
    ({"defType": "func"}, ("defType", "query_parser")),
    ({"defType": "xmlparser"}, ("defType", "query_parser")),
    ({"wt": "csv"}, ("wt", "bad_value")),
    ({"hl.fl": "notes"}, ("hl.fl", "not_allowed")),
    ({"json.facet": "{}"}, ("json.facet", "not_allowed")),
])
def test_other_parameters_are_bounded(params, expected):
    assert expected in findings(**params)


@pytest.mark.pure
@pytest.mark.parametrize("key, value", [
    ("q", "{!lucene}title:x"),
    ("q", "｛！lucene｝title:x"),  # full-width: counted as what it resembles
    ("fq", "{!frange l=0}sum(1,1)"),
    ("fq_list", ["tags:a", "{!join from=id to=id}x"]),
    ("facet.field", ["{!ex=t}tags"]),
    ("sort", "{!func}x asc"),
    ("mm", "{!x}"),
])
def test_local_params_are_refused_in_every_parameter(key, value):
    assert (key, "local_params") in findings(**{key: value})


# -- every channel, as an anonymous caller --------------------------------------------------------


@pytest.fixture
def catalogue(clean_db, clean_index):
    org = factories.Organization(name="ytjtysj", title="烟台市交通运输局")
    domains.ensure_groups(tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"])
    # In the policy-domain group `transport` (its page is a group page).
    factories.Dataset(name="yt-bus", title="烟台市公交线路站点信息", owner_org=org["id"],
                      domain=["transport"])
    return org


def refused(body: dict[str, Any], key: str) -> None:
    assert body["success"] is False, body
    error = body["error"]
    assert error["__type"] == "Validation Error", error
    assert key in error, error
    assert all(HAN.search(m) for m in error[key]), error  # said in Chinese


def api_post(app, action: str, **data: Any):
    return app.post(f"/api/3/action/{action}", json=data, status=None)


def solr_healthy() -> bool:
    ping = get_json(f"{solr_core_url()}/admin/ping?wt=json")
    return ping.get("status") == "OK"


@pytest.mark.usefixtures("catalogue")
def test_a_1mb_query_is_refused_at_once_and_solr_stays_healthy(app):
    """The reproduction of the attack: 1 MB of q, 500,000 terms, anonymous."""
    started = time.monotonic()
    resp = api_post(app, "package_search", q="公交 " * 250_000 + "x" * 250_000)
    elapsed = time.monotonic() - started
    assert resp.status_code == 400
    refused(resp.json, "q")
    assert elapsed < 5, elapsed
    assert solr_healthy()
    assert Api(app, None).ok("status_show")["ckan_version"]
    found = Api(app, None).ok("package_search", q="公交")["results"]
    assert [d["name"] for d in found] == ["yt-bus"]


HOSTILE = [
    ({"q": "{!lucene}name:yt-bus"}, "q"),
    ({"q": "｛！lucene｝name:yt-bus"}, "q"),
    ({"q": "x _query_:\"{!dismax}y\""}, "q"),
    ({"q": "{!dismax v=$qq}", "qq": "x"}, "q"),
    ({"q": "{!lucene v='name:yt-bus'}"}, "q"),
    ({"q": "name:yt-bus", "defType": "func"}, "defType"),
    ({"q": "name:yt-bus", "defType": "xmlparser"}, "defType"),
    ({"fq": "{!frange l=0}sum(1,1)"}, "fq"),
    ({"fq_list": ["tags:a", "{!join from=id to=id}x"]}, "fq_list"),
    ({"fq_list": "x" * 5000}, "fq_list"),
    ({"fq_list": ["name:x"] * 1000}, "fq_list"),
    ({"fq": "name:x " * 1000}, "fq"),
    ({"sort": "div(1,2) desc"}, "sort"),
    ({"sort": "{!func}x asc"}, "sort"),
    ({"sort": "validated_data_dict asc"}, "sort"),
    ({"fl": "id,[subquery]"}, "fl"),
    ({"facet.field": ["text"]}, "facet.field"),
    ({"facet.field": json.dumps(["{!ex=t}tags"])}, "facet.field"),
    ({"facet.field": ["tags"] * 30}, "facet.field"),
    ({"facet.limit": 100_000}, "facet.limit"),
    ({"start": 10**9}, "start"),
    ({"qf": "title^1 {!x}"}, "qf"),
    ({"bf": "sum(1,1)"}, "bf"),
    ({"boost": "recip(1,2,3,4)"}, "boost"),
    ({"mm": "{!x}"}, "mm"),
    ({"wt": "xml"}, "wt"),
    ({"bq": "name:x^100"}, "bq"),
    ({"hl": "true", "hl.fl": "notes"}, "hl.fl"),
    ({"facet.query": "{!frange l=0}sum(1,1)"}, "facet.query"),
    ({"group": "true", "group.field": "name"}, "group.field"),
    ({"stats": "true", "stats.field": "metadata_modified"}, "stats.field"),
    ({"json.facet": "{x:{type:terms,field:name,limit:-1}}"}, "json.facet"),
    ({"debug": "all"}, "debug"),
    ({"q.op": "OR"}, "q.op"),
]


@pytest.mark.parametrize("params, key", HOSTILE)
def test_hostile_package_search_is_refused_with_400(app, params, key):
    # Refused before Solr: no catalogue needed.
    resp = api_post(app, "package_search", **params)
    assert resp.status_code == 400, resp.body
    refused(resp.json, key)


def test_url_encoded_local_params_are_refused(app):
    # Decoded once by the web server, as Solr would get them.
    resp = app.get("/api/3/action/package_search?q=%7B%21lucene%7Dname%3Ayt-bus&"
                   "fq=%7B%21frange%20l%3D0%7Dsum(1%2C1)", status=None)
    assert resp.status_code == 400
    refused(resp.json, "q")
    refused(resp.json, "fq")


@pytest.mark.usefixtures("catalogue")
def test_rows_are_capped_by_ckan_rows_max(app):
    assert tk.config["ckan.search.rows_max"] == 1000
    body = Api(app, None).call("package_search", rows=10**9)
    assert body["success"] is True and body["result"]["count"] == 1


@pytest.mark.usefixtures("catalogue")
def test_ordinary_searches_still_work(app):
    api = Api(app, None)
    result = api.ok("package_search", q="公交线路", sort="metadata_modified desc",
                    fq='organization:"ytjtysj"', rows=20, start=0,
                    **{"facet.field": FACETS, "facet.limit": 50})
    assert [d["name"] for d in result["results"]] == ["yt-bus"]
    assert api.ok("package_search", q="name:yt-bus", defType="edismax")["count"] == 1
    assert api.ok("package_autocomplete", q="yt-b")[0]["name"] == "yt-bus"
    for url in ("/dataset/?q=公交&sort=metadata_modified+desc", "/organization/ytjtysj?q=公交",
                "/group/transport?q=公交", "/catalog.ttl?q=公交"):
        assert app.get(url, status=None).status_code == 200, url


LONG_Q = urllib.parse.quote("公交 " * 2000)


@pytest.mark.usefixtures("catalogue")
@pytest.mark.parametrize("url", [
    f"/dataset/?q={LONG_Q}",
    "/dataset/?q=%7B%21lucene%7Dname%3Ayt-bus",
    "/dataset/?page=100000",
    "/dataset/?sort=div(1,2)+desc",
    f"/organization/ytjtysj?q={LONG_Q}",
    "/organization/ytjtysj?q=%7B%21lucene%7Dx",
    f"/group/transport?q={LONG_Q}",
    f"/catalog.ttl?q={LONG_Q}",
    "/catalog.ttl?fq=%7B%21frange%20l%3D0%7Dsum(1%2C1)",
    "/catalog.ttl?page=100000000",
    f"/feeds/custom.atom?q={LONG_Q}",
])
def test_pages_refuse_with_400(app, url):
    resp = app.get(url, status=None)
    assert resp.status_code == 400, (url, resp.status_code)
    assert solr_healthy()


@pytest.mark.usefixtures("catalogue")
def test_dataset_page_says_why_in_chinese(app):
    body = app.get(f"/dataset/?q={LONG_Q}", status=None).body
    assert "最多 500 个字符" in body


@pytest.mark.parametrize("params, key", [
    ({"q": "公交" * 100_000}, "q"),
    ({"q": "yt", "limit": 10**9}, "limit"),
])
def test_package_autocomplete_is_bounded(app, params, key):
    # It queries Solr itself, not through package_search.
    resp = api_post(app, "package_autocomplete", **params)
    assert resp.status_code == 400
    refused(resp.json, key)


def test_dcat_catalog_search_is_bounded(app):
    resp = api_post(app, "dcat_catalog_search", q="公交 " * 300_000)
    assert resp.status_code == 400
    refused(resp.json, "q")
    resp = api_post(app, "dcat_catalog_search", fq="{!frange l=0}sum(1,1)", page=10**8)
    assert resp.status_code == 400
    refused(resp.json, "fq")
    refused(resp.json, "start")


@pytest.mark.usefixtures("catalogue")
@pytest.mark.parametrize("url", [
    "/", "/dataset/", "/dataset/?q=公交&sort=score+desc%2C+metadata_modified+desc",
    "/dataset/?sort=title_string+asc", "/dataset/?sort=metadata_modified+desc",
    "/dataset/?sort=views_recent+desc", "/organization/", "/organization/ytjtysj",
    "/group/", "/group/transport", "/catalog.ttl", "/feeds/dataset.atom",
])
def test_the_portals_own_pages_search_within_the_bounds(app, url):
    assert app.get(url, status=None).status_code == 200, url
