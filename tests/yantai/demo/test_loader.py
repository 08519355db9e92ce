"""The demo loader puts the catalogue into a live portal through the Action API, idempotently."""
from __future__ import annotations

import copy
import urllib.request

import ckan.model as model
import pytest
from ckan.tests import factories
from ckanapi import RemoteCKAN
from ckanext.activity.model import Activity

from demo import Loader, files, read_catalogue
from tests.stack.helpers import get_json

pytestmark = pytest.mark.usefixtures("live_portal")


def quiet(*_: object) -> None:
    pass


@pytest.fixture(scope="module")
def catalogue():
    return read_catalogue()


@pytest.fixture(scope="module")
def client(live_portal):
    # Created in the test database that the live portal serves.
    admin = factories.SysadminWithToken()
    with RemoteCKAN(live_portal, apikey=admin["token"]) as remote:
        yield remote


def entity_count(catalogue) -> int:
    return (len(catalogue["organizations"]) + len(catalogue["datasets"])
            + sum(len(d["resources"]) for d in catalogue["datasets"])
            + len(catalogue["demo_users"]) + len(catalogue["data_requests"])
            + len(catalogue["applications"])
            + 1)  # the half year of usage figures


def snapshot(client, catalogue):
    state = {}
    for ds in catalogue["datasets"]:
        pkg = client.action.package_show(id=ds["name"])
        state[ds["name"]] = (pkg["metadata_modified"],
                             [(r["id"], r["metadata_modified"]) for r in pkg["resources"]])
    return state


def activity_count() -> int:
    model.Session.remove()
    return model.Session.query(Activity).count()


class TestLoader:
    def test_first_run_creates_everything(self, client, catalogue):
        counts = Loader(client, log=quiet).load(catalogue)
        assert counts == {"created": entity_count(catalogue)}

    def test_disclosure_files_become_records_in_the_datastore(self, client, catalogue):
        # The 双公示 demo files are read into records (all valid) instead of being stored.
        for ds in catalogue["datasets"]:
            for wanted in (r for r in ds["resources"] if r.get("record_type")):
                res = next(r for r in client.action.package_show(id=ds["name"])["resources"]
                           if r["name"] == wanted["name"])
                assert res["url_type"] == "datastore"
                found = client.action.datastore_search(resource_id=res["id"])
                assert found["total"] == len(wanted["rows"]), wanted["name"]

    def test_data_requests_are_in_every_state(self, client, catalogue):
        found = client.action.yantai_data_request_list(limit=100)["results"]
        states = {r["title"]: (r["status"], r["outcome"]) for r in found}
        assert states == {
            "公交车辆实时到站预测数据": ("answered", "planned"),
            "全市医疗机构门诊量月度统计": ("pending", None),
            "养老机构床位实时空余情况": ("overdue", None),
            "全市新能源汽车公共充电桩分布": ("answered", "published"),
            "毓璜顶医院站经纬度偏差": ("answered", "fixed")}

    def test_applications_are_in_every_state_and_on_their_datasets_pages(self, client,
                                                                          catalogue):
        found = {status: {a["title"]: a for a in client.action.yantai_application_list(
            status=status, limit=100)["results"]} for status in ("published", "pending",
                                                                  "rejected")}
        assert {status: set(apps) for status, apps in found.items()} == {
            "published": {"烟台公交实时查询小程序", "烟台市企业信用风险分析报告"},
            "pending": {"芝罘区停车场泊位查询网站"}, "rejected": {"烟台医保药店导航"}}
        bus = found["published"]["烟台公交实时查询小程序"]
        assert {d["name"] for d in bus["datasets"]} == {"bus-passenger-flow", "bus-routes-stops"}
        assert found["rejected"]["烟台医保药店导航"]["review_note"]
        using = client.action.yantai_application_list(dataset="bus-routes-stops")["results"]
        assert [a["title"] for a in using] == ["烟台公交实时查询小程序"]

    def test_second_run_changes_nothing(self, client, catalogue):
        before, activities = snapshot(client, catalogue), activity_count()
        counts = Loader(client, log=quiet).load(catalogue)
        assert counts == {"unchanged": entity_count(catalogue)}
        assert snapshot(client, catalogue) == before
        assert activity_count() == activities

    def test_uploaded_files_are_served_from_the_file_store(self, client, catalogue):
        # (双公示 resources are not files: their records go to the DataStore, masked)
        ds = next(d for d in catalogue["datasets"] if d["open_type"] == "open"
                  and any(r["format"] == "XLSX" and not r.get("record_type")
                          for r in d["resources"]))
        wanted = next(r for r in ds["resources"]
                      if r["format"] == "XLSX" and not r.get("record_type"))
        res = next(r for r in client.action.package_show(id=ds["name"])["resources"]
                   if r["name"] == wanted["name"])
        assert res["url_type"] == "upload"
        expected, _ = files.render("XLSX", wanted["columns"], wanted["rows"])
        # The resource URL carries the configured site_url; fetch the same path from the live
        # portal.
        path = res["url"].split("/dataset/", 1)[1]
        with urllib.request.urlopen(f"{client.address}/dataset/{path}") as resp:
            assert resp.read() == expected

    def test_changes_update_in_place(self, client, catalogue):
        changed = copy.deepcopy(catalogue)
        ds = changed["datasets"][0]
        ds["title"] += "（修订）"
        ds["resources"][0]["rows"][0][0] = "已更正"
        old_ids = [r["id"] for r in client.action.package_show(id=ds["name"])["resources"]]

        counts = Loader(client, log=quiet).load(changed)

        assert counts["updated"] == 2
        assert counts["unchanged"] == entity_count(catalogue) - 2
        pkg = client.action.package_show(id=ds["name"])
        assert pkg["title"].endswith("（修订）")
        assert [r["id"] for r in pkg["resources"]] == old_ids
        # and back again
        assert Loader(client, log=quiet).load(catalogue)["updated"] == 2

    def test_the_bus_dataset_is_found_in_chinese(self, live_portal):
        result = get_json(
            f"{live_portal}/api/3/action/package_search?q=%E5%85%AC%E4%BA%A4")["result"]
        assert "烟台市公交线路站点信息" in [d["title"] for d in result["results"]]
