"""Catalogue facets in the API and the UI: by value, with labels in the user's language."""
from __future__ import annotations

import pytest
from ckan.tests import factories as ckan_factories
from ckan.tests.helpers import call_action

from tests import factories

pytestmark = pytest.mark.usefixtures("clean_db", "clean_index")

FACETS = ["domain", "organization", "region", "open_type", "share_type", "update_cycle",
          "res_format", "record_type"]


@pytest.fixture
def datasets():
    org = factories.Organization(name="ytjtysj", title="烟台市交通运输局")
    a = factories.Dataset(owner_org=org["id"], domain=["transport", "credit"],
                          update_cycle="daily", region="370602")
    b = factories.Dataset(owner_org=org["id"], domain=["transport"], open_type="conditional",
                          open_condition="申请后使用", share_type="none", share_condition="不共享")
    call_action("resource_create", context={"user": ckan_factories.Sysadmin()["name"]},
                package_id=a["id"], name="处罚记录",
                url="http://example.com/penalties.csv", format="CSV", record_type="penalty")
    return a, b


def test_multi_valued_fields_facet_by_value(datasets):
    facets = call_action("package_search", **{"facet.field": FACETS})["facets"]
    assert facets["domain"] == {"transport": 2, "credit": 1}
    assert facets["open_type"] == {"open": 1, "conditional": 1}
    assert facets["share_type"] == {"unconditional": 1, "none": 1}
    assert facets["update_cycle"] == {"daily": 1, "monthly": 1}
    assert facets["region"] == {"370602": 1, "370600": 1}
    assert facets["record_type"] == {"penalty": 1}
    assert facets["res_format"] == {"CSV": 1}


def test_filter_by_catalogue_fields(datasets):
    a, b = datasets
    assert [d["id"] for d in call_action("package_search", fq="domain:credit")["results"]] \
        == [a["id"]]
    assert [d["id"] for d in call_action("package_search", fq="open_type:conditional")["results"]] \
        == [b["id"]]


def test_api_facet_items_carry_chinese_labels(datasets, app):
    resp = app.get("/api/3/action/package_search", query_string={
        "facet.field": '["domain", "open_type", "update_cycle", "region"]'})
    facets = resp.json["result"]["search_facets"]
    labels = {f: {i["name"]: i["display_name"] for i in facets[f]["items"]} for f in facets}
    assert labels["domain"] == {"transport": "交通", "credit": "信用"}
    assert labels["open_type"] == {"open": "无条件开放", "conditional": "有条件开放"}
    assert labels["update_cycle"]["daily"] == "每日"
    assert labels["region"]["370602"] == "芝罘区"


def test_dataset_page_lists_facets_in_chinese(datasets, app):
    html = app.get("/dataset/").body
    for title in ("所属领域", "提供部门", "开放类型", "共享类型", "更新周期", "空间范围",
                  "双公示记录"):
        assert title in html
    for label in ("无条件开放", "有条件开放", "芝罘区", "每日", "行政处罚"):
        assert label in html


def test_english_ui_uses_english_labels(datasets, app):
    html = app.get("/en/dataset/").body
    assert "Policy domain" in html and "Conditionally open" in html
    assert "有条件开放" not in html
