"""The Data API dialog of a table: its examples use a column and a value of the table itself, as
the visitor may read them, not CKAN's "jones" and "watershed"."""
from __future__ import annotations

import json
import urllib.parse

import lxml.html
import pytest
from ckan.tests import factories as ckan_factories
from ckan.tests.helpers import call_action

from tests import factories

pytestmark = pytest.mark.usefixtures("clean_db", "clean_index", "with_plugins")


def test_the_examples_come_from_the_table(app):
    sysadmin = ckan_factories.Sysadmin()
    dataset = factories.Dataset(open_type="open")
    table = call_action("datastore_create", context={"user": sysadmin["name"]},
                        resource={"package_id": dataset["id"], "name": "公交站点"},
                        fields=[{"id": "站点名称", "type": "text"},
                                {"id": "线路数", "type": "int"}],
                        records=[{"站点名称": "芝罘区政府站", "线路数": 6}], force=True)
    html = app.get("/api/1/util/snippet/api_info.html",
                   query_string={"resource_id": table["resource_id"]}).get_data(as_text=True)
    assert "jones" not in html and "watershed" not in html
    assert "docs.ckan.org" not in html  # the portal's own documentation, in Chinese
    assert '见<a href="/developer">开发者中心</a>' in html
    assert '"站点名称": "芝罘区政府站"' in html  # the filter example
    assert '"q": "芝罘区政府站"' in html  # the search example
    assert "包含“芝罘区政府站”" in html
    assert "LIKE &#39;%芝罘区政府站%&#39;" in html or "LIKE '%芝罘区政府站%'" in html


def test_a_table_the_visitor_may_not_read_gives_nothing_of_itself(app):
    sysadmin = ckan_factories.Sysadmin()
    dataset = factories.Dataset(open_type="conditional", open_condition="申请后使用")
    table = call_action("datastore_create", context={"user": sysadmin["name"]},
                        resource={"package_id": dataset["id"], "name": "企业名录"},
                        fields=[{"id": "企业名称", "type": "text"}],
                        records=[{"企业名称": "烟台恒瑞化工有限公司"}], force=True)
    html = app.get("/api/1/util/snippet/api_info.html",
                   query_string={"resource_id": table["resource_id"]}).get_data(as_text=True)
    assert "恒瑞" not in html and "企业名称" not in html
    assert '"q": "烟台"' in html


def _run_examples(app, resource_id: str) -> dict[str, int]:
    """Each example of the dialog run as written: the browser links (search and SQL) and the
    filter of the Python example; the number of rows each finds."""
    html = app.get("/api/1/util/snippet/api_info.html",
                   query_string={"resource_id": resource_id}).get_data(as_text=True)
    page = lxml.html.fromstring(html)
    found: dict[str, int] = {}
    for href in page.xpath("//a/@href"):
        parts = urllib.parse.urlsplit(href)
        if "/action/" not in parts.path:
            continue
        asked = urllib.parse.parse_qs(parts.query)
        name = "sql" if "sql" in asked else "search" if "q" in asked else "first"
        answer = app.get(parts.path, query_string=parts.query)
        assert answer.status_code == 200, (name, answer.get_data(as_text=True))
        found[name] = len(answer.json["result"]["records"])
    code = page.xpath("//pre[contains(@class, 'example-python')]//code/text()")
    filters = next(text for text in code if "filters=" in text)
    body = filters.split("filters=")[1].split("},")[0] + "}"
    answer = app.post("/api/3/action/datastore_search",
                      json={"resource_id": resource_id, "filters": json.loads(body)})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    found["filter"] = len(answer.json["result"]["records"])
    return found


@pytest.mark.parametrize(("fields", "records"), [
    # the search word comes from another column than the filter's: the SQL looks in its column
    ([{"id": "站点地址", "type": "text"}, {"id": "所在区", "type": "text"},
      {"id": "线路数", "type": "int"}],
     [{"站点地址": "烟台市芝罘区南大街与西南河路交叉口东北角", "所在区": "芝罘区", "线路数": 6},
      {"站点地址": "烟台市莱山区观海路与迎春大街交叉口", "所在区": "莱山区", "线路数": 4}]),
    # a table of numbers only
    ([{"id": "年份", "type": "int"}, {"id": "降水量毫米", "type": "numeric"}],
     [{"年份": 2023, "降水量毫米": 651.2}, {"年份": 2024, "降水量毫米": 702.5}]),
])
def test_every_example_finds_the_row_it_shows(app, fields, records):
    """Each example run as written (the SQL link a working address, its query encoded) finds
    the one row it was taken from."""
    sysadmin = ckan_factories.Sysadmin()
    dataset = factories.Dataset(open_type="open")
    table = call_action("datastore_create", context={"user": sysadmin["name"]},
                        resource={"package_id": dataset["id"], "name": "示例表"},
                        fields=fields, records=records, force=True)
    found = _run_examples(app, table["resource_id"])
    assert found == {"first": 2, "search": 1, "sql": 1, "filter": 1}, found


def test_an_empty_table_gets_examples_on_its_own_column(app):
    sysadmin = ckan_factories.Sysadmin()
    dataset = factories.Dataset(open_type="open")
    table = call_action("datastore_create", context={"user": sysadmin["name"]},
                        resource={"package_id": dataset["id"], "name": "待发布名录"},
                        fields=[{"id": "单位名称", "type": "text"}], force=True)
    found = _run_examples(app, table["resource_id"])
    assert found == {"first": 0, "search": 0, "sql": 0, "filter": 0}, found
