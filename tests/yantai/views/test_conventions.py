"""API conventions: every error in CKAN's wrapper in Chinese, conditional GETs (ETag, 304),
compression and CORS, on the Action API and the DCAT endpoints."""
from __future__ import annotations

import datetime as dt
import gzip
import json

import pytest
from ckan.tests import factories as ckan_factories
from ckan.tests.helpers import call_action

from tests import factories

pytestmark = pytest.mark.usefixtures("clean_db", "clean_index")

API = "/api/3/action"


def wrapped(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert isinstance(body, dict) and body["success"] is False, body
    return body["error"]


@pytest.mark.parametrize("name", ["no_such_action", "package_show%01", "包搜索", "a" * 300])
def test_an_unknown_action_is_a_wrapped_400(app, name):
    error = wrapped(app.get(f"{API}/{name}"), 400)
    assert error["__type"] == "Bad Request Error"
    assert error["message"].startswith("未知的 API 操作")


@pytest.mark.parametrize("action", ["package_create", "package_delete", "user_create",
                                    "datastore_create", "yantai_access_request_create"])
def test_a_get_on_an_action_that_changes_data_is_a_405(app, action):
    response = app.get(f"{API}/{action}", query_string={"name": "x"})
    error = wrapped(response, 405)
    assert response.headers["Allow"] == "POST"
    assert error["message"].startswith(f"操作 {action} 会修改数据")


def test_every_read_action_stays_a_read_through_the_portals_chains():
    """CKAN's read actions (its get module) and the portal's own keep GET, however many of the
    portal's chains wrap them (two chains of one action once lost side_effect_free: a 405)."""
    import ckan.logic.action.get as ckan_get
    from ckan import authz
    from ckan.plugins import toolkit as tk

    from ckanext.yantai.logic import action as yantai_actions

    reads = [name for name, _ in authz.get_local_functions(ckan_get)]
    reads += [name for name in yantai_actions.__all__
              if getattr(getattr(yantai_actions, name), "side_effect_free", False)]
    assert {"package_show", "package_search", "organization_show"} <= set(reads)
    lost = [name for name in reads if not getattr(tk.get_action(name), "side_effect_free", False)]
    assert lost == []


def test_every_action_that_changes_data_stays_post_only_through_the_portals_chains():
    """The other way round: a chain must not make a write GET-able (follow_dataset once was:
    a link on any site could make a logged-in visitor follow a dataset)."""
    import importlib

    from ckan import authz
    from ckan.plugins import toolkit as tk

    writes = [name for module in ("create", "update", "delete", "patch")
              for name, _ in authz.get_local_functions(
                  importlib.import_module(f"ckan.logic.action.{module}"))]
    assert {"follow_dataset", "package_patch", "package_delete"} <= set(writes)
    opened = [name for name in writes if getattr(tk.get_action(name), "side_effect_free", False)]
    assert opened == []


UNSTORABLE = "请求中含有无法保存的字符"


@pytest.mark.parametrize("path", [
    f"{API}/package_show?id=a%00", f"{API}/package_search?q=%00", f"{API}/package_search?%00=1",
    f"{API}/yantai_tier_change_list?organization=%00",
    "/federation/ckan/api/3/action/package_show?id=%00"])
def test_nul_in_an_api_query_is_a_wrapped_400(app, path):
    error = wrapped(app.get(path), 400)  # CKAN's own actions answered 500 (PostgreSQL refused)
    assert error["message"].startswith(UNSTORABLE)


@pytest.mark.parametrize("body", ['{"id": "a\\u0000"}', '{"id": "\\ud800"}',
                                  '{"\\u0000": "x"}', '{"q": ["x", {"y": "\\udfff"}]}'])
def test_nul_or_a_lone_surrogate_in_a_json_body_is_a_wrapped_400(app, body):
    for action in ("package_show", "yantai_access_request_show", "package_create"):
        response = app.post(f"{API}/{action}", data=body,
                            headers={"Content-Type": "application/json"})
        assert wrapped(response, 400)["message"].startswith(UNSTORABLE), action


@pytest.mark.parametrize("path", ["/dataset/a%00", "/organization/a%00", "/dataset/?q=a%00"])
def test_nul_in_a_page_address_is_a_400_page_in_chinese(app, path):
    response = app.get(path)
    assert response.status_code == 400
    assert UNSTORABLE in response.get_data(as_text=True)


def test_a_form_encoded_api_body_nested_thousands_deep_is_a_400(app):
    deep = '{"a":' + "[" * 50000 + "]" * 50000 + "}"
    response = app.post(f"{API}/yantai_vocabulary_list", data={deep: "1"})
    assert wrapped(response, 400)["__type"] == "Bad Request Error"


@pytest.mark.parametrize("body, content_type", [
    ("{bad", "application/json"), ("[1, 2]", "application/json"), ('"text"', "application/json"),
    ("id=x", "text/plain")])
def test_a_body_that_is_not_a_json_object_is_a_wrapped_400(app, body, content_type):
    error = wrapped(app.post(f"{API}/package_search", data=body,
                             headers={"Content-Type": content_type}), 400)
    assert error["message"].startswith("请求")
    assert not any(word in error["message"] for word in ("Error decoding", "Bad request"))


def test_reads_answer_304_until_the_dataset_changes(app):
    ds = factories.Dataset()
    first = app.get(f"{API}/package_show", query_string={"id": ds["name"]})
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert app.get(f"{API}/package_show", query_string={"id": ds["name"]},
                   headers={"If-None-Match": etag}).status_code == 304
    assert app.get(f"{API}/package_show", query_string={"id": ds["name"]},
                   headers={"If-Modified-Since": modified}).status_code == 304
    search = app.get(f"{API}/package_search")
    assert "Last-Modified" not in search.headers  # a withdrawal changes no remaining date
    assert app.get(f"{API}/package_search", headers={
        "If-None-Match": search.headers["ETag"]}).status_code == 304

    call_action("package_patch", context={"user": ckan_factories.Sysadmin()["name"]},
                id=ds["id"], notes="烟台市公交线路的新说明。")
    assert app.get(f"{API}/package_show", query_string={"id": ds["name"]},
                   headers={"If-None-Match": etag}).status_code == 200
    assert app.get(f"{API}/package_search", headers={
        "If-None-Match": search.headers["ETag"]}).status_code == 200


def test_last_modified_follows_the_callers_answer_not_only_the_dataset(app):
    """An answer that changes without the dataset (here the caller's access request approved:
    the files' addresses appear) is newer than the copy the caller holds: If-Modified-Since with
    the old date gets the new body, not a 304 (metadata_modified was the date before)."""
    admin = ckan_factories.User()
    applicant = ckan_factories.UserWithToken()
    org = factories.Organization(users=[{"name": admin["name"], "capacity": "admin"}])
    ds = factories.Dataset(owner_org=org["id"], open_type="conditional",
                           open_condition="签署数据使用协议", share_type="none",
                           share_condition="不共享",
                           resources=[{"name": "线路表", "url": "https://data.yantai.gov.cn/x.csv",
                                       "format": "CSV"}])
    query, headers = {"id": ds["name"]}, {"Authorization": applicant["token"]}
    first = app.get(f"{API}/package_show", query_string=query, headers=headers)
    assert first.get_json()["result"]["resources"][0]["url"] == ""
    modified = first.headers["Last-Modified"]
    assert app.get(f"{API}/package_show", query_string=query,
                   headers={**headers, "If-Modified-Since": modified}).status_code == 304
    today = dt.date.today()
    request = call_action("yantai_access_request_create", {"user": applicant["name"]},
                          package_id=ds["id"], purpose="线路研究", intended_use="统计分析",
                          applicant_organization="烟台大学", period_start=today.isoformat(),
                          period_end=(today + dt.timedelta(days=90)).isoformat(),
                          commitment_accepted=True)
    call_action("yantai_access_request_decide", {"user": admin["name"]}, id=request["id"],
                decision="approve", expires=(today + dt.timedelta(days=90)).isoformat())
    again = app.get(f"{API}/package_show", query_string=query,
                    headers={**headers, "If-Modified-Since": modified})
    assert again.status_code == 200
    assert again.get_json()["result"]["resources"][0]["url"].endswith("x.csv")
    assert again.headers["Last-Modified"] != modified
    assert app.get(f"{API}/package_show", query_string=query, headers={
        **headers, "If-Modified-Since": again.headers["Last-Modified"]}).status_code == 304


def test_a_withdrawn_dataset_changes_the_search_etag(app):
    keep, leave = factories.Dataset(), factories.Dataset()
    search = app.get(f"{API}/package_search")
    call_action("package_delete", context={"user": ckan_factories.Sysadmin()["name"]},
                id=leave["id"])
    again = app.get(f"{API}/package_search", headers={"If-None-Match": search.headers["ETag"]})
    assert again.status_code == 200
    assert [d["id"] for d in again.get_json()["result"]["results"]] == [keep["id"]]


def test_the_catalogue_answers_304_and_is_compressed(app):
    # information items shared by a dataset and its distributions: a labelled blank node,
    # which rdflib names anew on every request
    factories.Dataset(info_items=[{"name": "站点", "data_type": "string"}],
                      resources=[{"name": name, "format": "CSV",
                                  "url": f"https://data.yantai.gov.cn/{name}.csv"}
                                 for name in ("甲", "乙")])
    first = app.get("/catalog.ttl", headers={"Accept-Encoding": "gzip"})
    assert first.status_code == 200 and first.headers["Content-Encoding"] == "gzip"
    assert b"dcat:Catalog" in gzip.decompress(first.get_data())
    assert app.get("/catalog.ttl", headers={"Accept-Encoding": "gzip", "If-None-Match":
                                            first.headers["ETag"]}).status_code == 304


def test_json_is_compressed_only_for_clients_that_ask(app):
    for _ in range(5):
        factories.Dataset()
    plain = app.get(f"{API}/package_search")
    assert "Content-Encoding" not in plain.headers
    packed = app.get(f"{API}/package_search", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(packed.get_data())) == plain.get_json()


def test_scripts_on_other_sites_may_read_the_api_and_its_headers(app):
    response = app.get(f"{API}/package_search", headers={"Origin": "https://apps.example.cn"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Credentials" not in response.headers
    preflight = app.options(f"{API}/package_search", headers={
        "Origin": "https://apps.example.cn", "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 200
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    dcat = app.get("/catalog.jsonld", headers={"Origin": "https://apps.example.cn"})
    assert dcat.headers["Access-Control-Allow-Origin"] == "*"
    assert "If-None-Match" in preflight.headers["Access-Control-Allow-Headers"]
    assert "If-Modified-Since" in preflight.headers["Access-Control-Allow-Headers"]


@pytest.mark.parametrize("path", ["/api/3/no_such", "/api/action", "/zh_Hans_CN/api/3/x/y",
                                  "/federation/ckan/api/3/nothing/here"])
def test_an_api_address_that_does_not_exist_is_a_wrapped_404(app, path):
    error = wrapped(app.get(path), 404)
    assert error["__type"] == "Not Found Error" and "/api/3/action/" in error["message"]


def test_a_page_that_does_not_exist_stays_an_html_page(app):
    response = app.get("/no-such-page", status=404)
    assert response.content_type.startswith("text/html")


def test_a_method_an_api_address_does_not_take_is_a_wrapped_405(app):
    error = wrapped(app.test_client().put(f"{API}/package_show"), 405)
    assert error["__type"] == "Method Not Allowed Error" and "PUT" in error["message"]


def test_a_form_field_over_the_limit_is_a_wrapped_413(app):
    """werkzeug refuses a form field over 500 KB before any view: the API says so in JSON."""
    response = app.post(f"{API}/package_search", data={"q": "x" * (600 * 1024)})
    error = wrapped(response, 413)
    assert "JSON" in error["message"] and "100 MB" in error["message"]


def test_a_negotiated_code_list_varies_on_accept(app):
    response = app.get("/def/domain", headers={"Accept": "text/turtle"})
    assert response.status_code == 200 and "Accept" in response.headers["Vary"]
    fixed = app.get("/def/domain.ttl").headers.get("Vary", "")
    assert "Accept" not in [part.strip() for part in fixed.split(",")], fixed
