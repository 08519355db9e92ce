"""The developer centre and the OpenAPI document: valid OpenAPI 3.1 (openapi-spec-validator),
every read action and every yantai_* action with its parameters, and the code lists through the
API."""
from __future__ import annotations

import re

import ckan.plugins.toolkit as tk
import lxml.html
import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from ckanext.yantai import openapi, vocabularies
from tests import factories

pytestmark = pytest.mark.usefixtures("clean_db", "clean_index")


@pytest.fixture
def document(app):
    response = app.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    return response.get_json()


def test_the_document_is_valid_openapi_3_1(document):
    assert document["openapi"] == "3.1.0"
    validate(document)  # raises on any error


def test_a_broken_document_is_caught_by_the_validator(document):
    broken = {**document, "paths": {"/x": {"get": {"responses": {"200": {}}}}}}
    with pytest.raises(OpenAPIValidationError):
        validate(broken)


def test_every_yantai_action_and_the_read_actions_are_documented(document):
    paths = document["paths"]
    actions = openapi.documented_actions()
    yantai = [name for name in actions if name.startswith("yantai_")]
    assert len(yantai) >= 15
    for name in yantai:
        assert f"/api/3/action/{name}" in paths, name
    for name in ("package_search", "package_show", "organization_list", "datastore_search",
                 "datastore_search_sql", "dcat_catalog_show", "yantai_vocabulary_list"):
        assert "get" in paths[f"/api/3/action/{name}"], name
    assert "get" not in paths["/api/3/action/yantai_access_request_create"]  # writes: POST
    assert "/api/3/action/package_create" not in paths
    search = {p["name"]: p for p in paths["/api/3/action/package_search"]["get"]["parameters"]}
    assert {"q", "fq", "rows", "start", "sort"} <= set(search)
    assert search["rows"]["schema"] == {"type": "integer"}
    # actions the portal chains are documented by the action they end in
    show = paths["/api/3/action/package_show"]["get"]
    assert "id" in [p["name"] for p in show["parameters"]], show
    assert not show["summary"].startswith("partial")
    vocab = paths["/api/3/action/yantai_vocabulary_list"]["get"]["parameters"]
    assert [p["name"] for p in vocab] == ["name"]
    responses = paths["/api/3/action/package_show"]["get"]["responses"]
    assert {"200", "304", "400", "403", "404", "409", "429"} <= set(responses)


def test_the_code_lists_through_the_api(app):
    body = app.get("/api/3/action/yantai_vocabulary_list").get_json()
    assert body["success"] is True
    result = body["result"]
    assert set(result) == set(vocabularies.VOCABULARIES)
    open_types = {t["value"]: t for t in result["open_type"]["terms"]}
    assert open_types["conditional"]["zh"] == "有条件开放"
    assert open_types["conditional"]["en"] == "Conditionally open"
    assert open_types["conditional"]["eu"].endswith("/access-right/RESTRICTED")
    assert open_types["conditional"]["uri"].endswith("/def/open-type/conditional")
    one = app.get("/api/3/action/yantai_vocabulary_list", query_string={"name": "region"})
    assert list(one.get_json()["result"]) == ["region"]
    for bad in ("nothing", "open_type ", "OPEN_TYPE"):
        error = app.get("/api/3/action/yantai_vocabulary_list", query_string={"name": bad})
        assert error.status_code == 409


def test_the_developer_centre_uses_this_portals_data(app):
    dataset = factories.Dataset(title="烟台市公交线路站点信息", open_type="open")
    page = app.get("/developer")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "开发者中心" in html and "/api/openapi.json" in html
    assert f"package_show?id={dataset['name']}" in html
    assert "jones" not in html
    assert "每分钟 300 次" in html and "/minute" not in html  # the quotas in words
    quotas = lxml.html.fromstring(html).xpath("//table[contains(@class, 'yantai-quotas')]")[0]
    rows = [[cell.text_content().strip() for cell in row.xpath("th|td")]
            for row in quotas.xpath(".//tr")]
    assert rows[0] == ["调用类别", "匿名调用", "登录或使用令牌"]
    assert [row[0] for row in rows[2:]] == ["datastore_search_sql",
                                            f"表格导出（整表下载，或单次 datastore_search 超过 "
                                            f"{tk.config['ckanext.yantai.quota.export_rows']} 行）"]
    for row in rows[1:]:  # every quota in words, for both kinds of caller
        assert all(re.fullmatch(r"每(秒|分钟|小时|天|月|年|\s\d+\s\S+)\s\d+\s次", cell)
                   for cell in row[1:]), row
    english = app.get("/en/developer").get_data(as_text=True)
    assert "300 per minute" in english and "quota period" not in english
    footer = app.get("/").get_data(as_text=True)
    assert 'href="/developer"' in footer
