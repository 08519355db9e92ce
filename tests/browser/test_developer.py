"""A developer finds the developer centre from the footer, runs its examples against the portal,
and opens a table's Data API dialog: examples from the table itself, in Chinese."""
from __future__ import annotations

import json


def test_a_developer_follows_the_developer_centre(journey):
    page = journey.page()
    journey.go(page, "/")
    page.locator("footer a", has_text="开发者中心").click()
    page.wait_for_load_state("networkidle")
    text = journey.shot(page, "developer-centre")
    assert "开发者中心" in text and "检索数据目录" in text and "查询数据表" in text
    # the examples run as written: the package_show of a real dataset, the table query
    examples = page.locator("pre code").all_inner_texts()
    show = next(e for e in examples if "package_show?id=" in e)
    url = show.split("'")[1]
    answer = page.request.get(url)
    assert answer.ok and answer.json()["success"] is True
    rows = next(e for e in examples if "datastore_search?resource_id=" in e)
    answer = page.request.get(rows.split("'")[1])
    assert answer.ok and answer.json()["result"]["records"]
    spec = page.request.get(journey.portal.url + "/api/openapi.json")
    assert spec.ok and json.loads(spec.text())["openapi"] == "3.1.0"


def test_the_data_api_dialog_shows_the_tables_own_values(journey):
    page = journey.page()
    journey.go(page, "/developer")
    rows = next(e for e in page.locator("pre code").all_inner_texts()
                if "datastore_search?resource_id=" in e)
    resource_id = rows.split("resource_id=")[1].split("&")[0]
    dataset = page.request.get(journey.portal.url + "/api/3/action/resource_show?id="
                               + resource_id).json()["result"]["package_id"]
    journey.go(page, f"/dataset/{dataset}/resource/{resource_id}")
    page.locator("a[data-module='api-info']").first.click()
    page.wait_for_selector(".modal.show", timeout=15000)
    page.wait_for_timeout(500)
    text = journey.shot(page, "data-api-dialog")
    assert "jones" not in text and "watershed" not in text
    assert "查询任意字段包含" in text
