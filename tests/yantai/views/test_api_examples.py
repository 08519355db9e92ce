"""The Data API dialog of a table: its examples use a column and a value of the table itself, as
the visitor may read them, not CKAN's "jones" and "watershed"."""
from __future__ import annotations

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
