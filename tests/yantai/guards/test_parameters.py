"""The types of CKAN's own read actions' parameters (guards.parameters): a wrong type is a 409
naming the parameter, on the Action API and the federation address alike, never a 500; CKAN's
words for yes and no are read in any width, case and spacing."""
from __future__ import annotations

import json

import pytest
from ckan.tests.helpers import call_action

from tests import factories

pytestmark = pytest.mark.usefixtures("clean_db", "clean_index")

BASES = ("/api/3/action", "/federation/ckan/api/3/action")

# Each once answered 500 (CKAN's asbool or int() inside the action, or a number where CKAN
# looks a name up).
WRONG = [
    ("package_show", {"id": 5}, "id"),
    ("package_show", {"id": ["x"]}, "id"),
    ("package_show", {"id": {"a": 1}}, "id"),
    ("package_show", {"id": "x", "use_default_schema": "2"}, "use_default_schema"),
    ("package_search", {"rows": [1]}, "rows"),
    ("package_search", {"start": "-1"}, "start"),
    ("package_search", {"rows": True}, "rows"),
    ("package_search", {"include_private": "maybe"}, "include_private"),
    ("organization_show", {"id": "org", "include_datasets": "2"}, "include_datasets"),
    ("organization_show", {"id": 5}, "id"),
    ("organization_show", {"id": ["org"]}, "id"),
    ("organization_list", {"all_fields": "2"}, "all_fields"),
    ("organization_list", {"sort": 5}, "sort"),
    ("organization_list", {"limit": "1e3"}, "limit"),
    ("group_list", {"all_fields": "maybe"}, "all_fields"),
    ("package_list", {"offset": "９９９９９９９９９９９９９９９９９９９９"}, "offset"),
]


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("action,data,key", WRONG,
                         ids=[f"{a}-{json.dumps(d, ensure_ascii=False)}" for a, d, _ in WRONG])
def test_a_parameter_of_the_wrong_type_is_a_409_naming_it(app, base, action, data, key):
    factories.Organization(name="org")
    response = app.post(f"{base}/{action}", json=data, status=None)
    assert response.status_code == 409, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["__type"] == "Validation Error" and error[key][0].startswith("请填写"), error


@pytest.mark.parametrize("action,data", [
    ("package_search", {"start": "", "rows": ""}),
    ("organization_list", {"limit": "", "all_fields": ""}),
    ("group_list", {"limit": " "}),
    ("package_list", {"limit": "", "offset": "０"}),
    ("organization_show", {"id": "org", "include_datasets": "ＴＲＵＥ"}),
    ("organization_show", {"id": "org", "include_datasets": 0}),
])
def test_an_empty_or_full_width_value_is_read_as_ckan_would_the_plain_one(app, action, data):
    factories.Organization(name="org")
    for base in BASES:
        response = app.post(f"{base}/{action}", json=data, status=None)
        assert response.status_code == 200, response.get_data(as_text=True)


@pytest.mark.parametrize("value", [True, 1, "true", "ＴＲＵＥ", " Yes ", "on", "t"])
def test_the_default_schema_is_asked_for_by_any_of_ckans_yes_words(app, value):
    ds = factories.Dataset(domain=["credit"])
    shown = app.post("/api/3/action/package_show", json={
        "id": ds["name"], "use_default_schema": value}).get_json()["result"]
    assert "domain" not in shown
    assert json.loads({e["key"]: e["value"] for e in shown["extras"]}["domain"]) == ["credit"]


@pytest.mark.parametrize("value", [False, 0, "false", "ＦＡＬＳＥ", " no ", ""])
def test_any_of_ckans_no_words_keeps_the_portals_form(app, value):
    ds = factories.Dataset(domain=["credit"])
    shown = app.post("/api/3/action/package_show", json={
        "id": ds["name"], "use_default_schema": value}).get_json()["result"]
    assert shown["domain"] == ["credit"]


def test_the_dcat_dataset_is_the_same_whatever_form_the_caller_asks_for(app):
    """ckanext-dcat hands its parameters to package_show: the profile reads the portal's form."""
    ds = factories.Dataset(domain=["credit"])
    plain = app.get("/api/3/action/dcat_dataset_show",
                    query_string={"id": ds["name"], "format": "ttl"}).get_json()["result"]
    asked = app.get("/api/3/action/dcat_dataset_show", query_string={
        "id": ds["name"], "format": "ttl", "use_default_schema": "true"}).get_json()["result"]
    assert asked == plain and ds["resource_code"] in plain


def test_the_access_rules_win_over_an_extra_stored_under_their_name(app):
    """An extra ``yantai_restricted: false`` stored on a conditional dataset does not say, in the
    default form, that its files are open: the portal's own value replaces it."""
    ds = factories.Dataset(open_type="conditional", open_condition="签署数据使用协议",
                           share_type="none", share_condition="不共享",
                           extras=[{"key": "yantai_restricted", "value": "false"}],
                           resources=[{"name": "名单", "format": "CSV",
                                       "url": "https://data.yantai.gov.cn/a.csv"}])
    assert {"key": "yantai_restricted", "value": "false"} in call_action(
        "package_show", id=ds["id"])["extras"]  # stored
    shown = app.get("/api/3/action/package_show", query_string={
        "id": ds["name"], "use_default_schema": "true"}).get_json()["result"]
    extras = [e for e in shown["extras"] if e["key"] == "yantai_restricted"]
    assert extras == [{"key": "yantai_restricted", "value": "true"}], shown["extras"]
    assert shown["resources"][0]["url"] == ""


@pytest.mark.parametrize(("action", "data", "key"), [
    ("organization_list", {"q": [1]}, "q"), ("group_list", {"q": {"a": 1}}, "q"),
    ("organization_list", {"order_by": 5}, "order_by"), ("group_list", {"type": [1]}, "type"),
    ("tag_list", {"query": [1]}, "query"), ("tag_list", {"vocabulary_id": [1]}, "vocabulary_id"),
    ("group_autocomplete", {"q": [1]}, "q"), ("organization_autocomplete", {"q": 5}, "q"),
    ("package_search", {"fq": [1]}, "fq"), ("package_search", {"fq": {"a": 1}}, "fq"),
])
def test_a_search_text_that_is_not_text_is_a_409_naming_it(app, action, data, key):
    answer = app.post(f"/api/3/action/{action}", json=data, status=None)
    assert answer.status_code == 409, answer.get_data(as_text=True)
    assert list(answer.json["error"]) == ["__type", key] or set(answer.json["error"]) == {
        "__type", key}
    assert "SOLR" not in answer.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/api/action/organization_list?q=a&q=b",
                                  "/federation/ckan/api/3/action/organization_list?q=a&q=b",
                                  "/api/action/tag_list?query=a&query=b",
                                  "/api/action/package_search?fq=a&fq=b"])
def test_a_search_text_given_twice_is_a_409(app, path):
    answer = app.get(path, status=None)
    assert answer.status_code == 409, answer.get_data(as_text=True)
