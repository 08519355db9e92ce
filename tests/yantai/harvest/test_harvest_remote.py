"""Harvesters ``ckan`` and ``dcat_rdf``: a district CKAN portal (a real HTTP stand-in answering
package_search with paging) and a DCAT catalogue (Turtle, RDF/XML, JSON-LD, paged by hydra:next)
served over loopback become datasets of the portal's schema through the source's mapping; tiers
are capped; re-runs change nothing; remote deletions are withdrawn; another department's dataset
is never taken over; unsafe documents are refused before the parser sees them."""
from __future__ import annotations

import copy
import json
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
import pytest
from ckan.tests import factories as ckan_factories
from ckan.tests.helpers import call_action

from ckanext.yantai.harvest import runner
from tests import factories
from tests.yantai.feeds import ckan_api
from tests.yantai.harvest.test_harvest_release import (
    _everything_stored,
    activity_count,
    datasets,
    errors_of,
)

pytestmark = [pytest.mark.usefixtures("clean_db", "clean_index", "with_request_context"),
              pytest.mark.usefixtures("feeds_allowed"),
              pytest.mark.ckan_config("ckanext.yantai.harvest.allowed_hosts", "127.0.0.1:9")]

MAPPING = {
    "open_type": "conditional", "share_type": "unconditional",
    "defaults": {"resource_category": "2-02-003", "domain": ["transport"],
                 "share_method": "api", "update_cycle": "irregular",
                 "open_condition": "申请并经审核后获取", "contact_office": "莱山区大数据中心",
                 "contact_phone": "0535-6901234",
                 "info_items": [{"name": "数据项", "data_type": "string"}]},
    "values": {"update_cycle": {"每月更新": "monthly"}},
}


def remote_package(pid: str, title: str, **extra: Any) -> dict[str, Any]:
    package = {
        "id": pid, "name": f"remote-{pid}", "title": title, "notes": f"{title}（县区门户）",
        "type": "dataset", "private": False, "license_id": "cc-by",
        "metadata_modified": "2026-11-01T08:00:00",
        "tags": [{"name": "公交"}, {"name": "a/b"}],
        "resources": [{"id": f"r-{pid}", "name": f"{title}表", "format": "CSV",
                       "url": f"https://data.laishan.gov.cn/files/{pid}.csv",
                       "url_type": "upload"}],
        "extras": [],
    }
    package.update(extra)
    return package


@pytest.fixture
def ckan_world(feed_server):
    sysadmin = ckan_factories.Sysadmin()
    org = factories.Organization(title="莱山区人民政府")
    packages: list[dict[str, Any]] = []
    ckan_api(feed_server, packages, prefix="/laishan")
    source = call_action("harvest_source_create", context={"user": sysadmin["name"]},
                         name="laishan-ckan", title="莱山区数据开放平台",
                         url=feed_server.url("/laishan"), source_type="ckan",
                         owner_org=org["id"], config=json.dumps({"yantai": MAPPING}))
    return {"org": org, "source": source, "server": feed_server, "sysadmin": sysadmin,
            "packages": packages}


def harvest(world) -> dict[str, Any]:
    job = runner.run(world["source"]["id"])
    assert job["status"] == "Finished", job
    return job


def snapshot(org_id: str) -> dict[str, Any]:
    return {code: (d["metadata_modified"], [r["id"] for r in d["resources"]],
                   activity_count(d["id"])) for code, d in datasets(org_id).items()}


# -- ckan ---------------------------------------------------------------------------------------

def test_a_district_ckan_portal_is_mapped_capped_and_rerun_without_change(ckan_world):
    same_schema = remote_package(
        "a1", "莱山区公交站点", resource_code="2-01-001/0001", resource_category="2-01-001",
        domain=["transport", "environment"], open_type="open", share_type="unconditional",
        update_cycle="每月更新", info_items=[{"name": "站点名称", "data_type": "string"}])
    plain = remote_package("b2", "莱山区停车场", notes="停车场位置与泊位数。")
    private = remote_package("c3", "内部名单", private=True)
    a_source = remote_package("d4", "某采集源", type="harvest")
    ckan_world["packages"].extend([plain, same_schema, private, a_source])
    # 101 datasets in all would page; two pages are enough to show paging is followed
    ckan_world["packages"].extend(remote_package(f"z{i:03d}", f"莱山区数据{i}")
                                  for i in range(99))

    job = harvest(ckan_world)
    assert (job["stats"]["added"], job["stats"]["errored"]) == (101, 0), errors_of(job)
    found = datasets(ckan_world["org"]["id"])
    assert len(found) == 101
    titles = {d["title"] for d in found.values()}
    assert "内部名单" not in titles and "某采集源" not in titles

    passed = found["2-01-001/0001"]
    assert passed["title"] == "莱山区公交站点"
    assert passed["domain"] == ["environment", "transport"]
    assert passed["update_cycle"] == "monthly"  # through the source's "values"
    assert passed["open_type"] == "conditional"  # capped: the remote said open
    assert passed["open_condition"] == "申请并经审核后获取"
    assert passed["info_items"] == [{"name": "站点名称", "data_type": "string"}]

    numbered = [d for d in found.values() if d["title"] == "莱山区停车场"][0]
    assert numbered["resource_code"].startswith("2-02-003/")
    assert numbered["organization"]["id"] == ckan_world["org"]["id"]
    assert numbered["contact_office"] == "莱山区大数据中心" and numbered["domain"] == ["transport"]
    assert {t["name"] for t in numbered["tags"]} == {"公交", "ab"}
    # the remote's CC BY would contradict the source's cap (有条件开放): the open type's licence
    assert numbered["license_id"] == "yantai-conditional-1.0"
    resource = numbered["resources"][0]
    assert resource["url"] == "https://data.laishan.gov.cn/files/b2.csv"
    assert resource["url_type"] in (None, "")  # a link to the remote file
    assert resource["id"] != "r-b2"  # no remote id taken over
    assert numbered["id"] != "b2"
    codes = sorted(d["resource_code"] for d in found.values()
                   if d["resource_code"].startswith("2-02-003/"))
    assert codes == [f"2-02-003/{n:04d}" for n in range(1, 101)]  # numbered once each

    before = snapshot(ckan_world["org"]["id"])
    job = harvest(ckan_world)
    assert (job["stats"]["not modified"], job["stats"]["added"],
            job["stats"]["updated"]) == (101, 0, 0), job["stats"]
    assert snapshot(ckan_world["org"]["id"]) == before


def test_remote_changes_deletions_and_returns(ckan_world):
    a, b = remote_package("a1", "公交线路"), remote_package("b2", "停车场")
    ckan_world["packages"].extend([a, b])
    harvest(ckan_world)
    first = {d["title"]: d for d in datasets(ckan_world["org"]["id"]).values()}

    ckan_world["packages"][:] = [{**a, "notes": "新的说明。", "metadata_modified": "2026-11-20"}]
    job = harvest(ckan_world)
    assert (job["stats"]["updated"], job["stats"]["deleted"]) == (1, 1), errors_of(job)
    now = {d["title"]: d for d in datasets(ckan_world["org"]["id"]).values()}
    assert set(now) == {"公交线路"} and now["公交线路"]["notes"] == "新的说明。"
    assert now["公交线路"]["resource_code"] == first["公交线路"]["resource_code"]
    assert now["公交线路"]["resources"][0]["id"] == first["公交线路"]["resources"][0]["id"]

    ckan_world["packages"].append(b)
    job = harvest(ckan_world)
    back = {d["title"]: d for d in datasets(ckan_world["org"]["id"]).values()}
    assert back["停车场"]["id"] == first["停车场"]["id"]
    assert back["停车场"]["resource_code"] == first["停车场"]["resource_code"]

    ckan_world["packages"].clear()  # an empty answer withdraws nothing unless configured
    job = harvest(ckan_world)
    assert any("没有列出任何数据集" in m for m in errors_of(job)), errors_of(job)
    assert len(datasets(ckan_world["org"]["id"])) == 2


def test_another_departments_dataset_is_never_taken_over(ckan_world):
    other = factories.Organization(title="烟台市交通运输局")
    theirs = factories.Dataset(owner_org=other["id"], title="交通局的数据集",
                               resource_code="2-02-003/0001")
    # The stock harvester updates the local dataset whose id is the remote id.
    same_id = remote_package(theirs["id"], "同 ID 的远程数据集")
    same_code = remote_package("e5", "占用代码", resource_code="2-02-003/0001",
                               resource_category="2-02-003")
    ckan_world["packages"].extend([same_id, same_code])
    job = harvest(ckan_world)
    assert any("属于其他部门" in m for m in errors_of(job)), errors_of(job)
    untouched = call_action("package_show", id=theirs["id"])
    assert untouched["title"] == "交通局的数据集" and untouched["owner_org"] == other["id"]
    mine = datasets(ckan_world["org"]["id"])
    assert [d["title"] for d in mine.values()] == ["同 ID 的远程数据集"]
    assert list(mine) == ["2-02-003/0002"]  # numbered after the code in use


def test_bad_remote_datasets_are_reported_and_withdraw_nothing(ckan_world):
    good, other = remote_package("a1", "公交线路"), remote_package("b2", "停车场")
    ckan_world["packages"].extend([good, other])
    harvest(ckan_world)
    ckan_world["packages"][:] = [
        good,
        remote_package("f6", "更新周期不明", update_cycle="每两年"),
        remote_package("g7", "本地文件", resources=[{"name": "口令", "url": "file:///etc/passwd"}]),
        remote_package("h8", "手机联系", contact_phone="13912345678"),
    ]
    job = harvest(ckan_world)
    messages = errors_of(job)
    assert any("更新周期不明" in m and "每两年" in m and "values" in m for m in messages), messages
    assert any("本地文件" in m and "不是 http(s) 地址" in m for m in messages), messages
    assert any("contact_phone" in m and "手机" in m for m in messages), messages
    assert job["stats"]["deleted"] == 0  # 停车场 is kept: the listing had unreadable datasets
    assert {d["title"] for d in datasets(ckan_world["org"]["id"]).values()} == {"公交线路",
                                                                                "停车场"}


def test_a_remote_marking_leaves_no_trace(ckan_world):
    marking = "绝密★长期"
    ckan_world["packages"].extend([
        remote_package("a1", "公交线路"),
        remote_package("b2", "内部", extras=[{"key": "密级", "value": marking}])])
    job = harvest(ckan_world)
    assert any("含密级标识" in m for m in errors_of(job)), errors_of(job)
    assert [d["title"] for d in datasets(ckan_world["org"]["id"]).values()] == ["公交线路"]
    model.Session.commit()
    assert marking not in _everything_stored()


def test_the_tier_of_a_harvested_dataset_never_widens(ckan_world):
    closed = remote_package("a1", "公交线路", open_type="closed", share_type="none",
                            share_condition="不共享")
    ckan_world["packages"].append(closed)
    harvest(ckan_world)
    ckan_world["packages"][:] = [{**closed, "open_type": "open", "share_type": "unconditional",
                                  "notes": "新的说明。"}]
    harvest(ckan_world)
    dataset = list(datasets(ckan_world["org"]["id"]).values())[0]
    assert (dataset["open_type"], dataset["share_type"]) == ("closed", "none")
    assert dataset["notes"] == "新的说明。"


@pytest.mark.parametrize("route, expected", [
    ("not json", "不是 CKAN Action API 的 JSON"),
    ("wrong json", "不是 CKAN Action API 的 JSON"),
    ("404", "HTTP 404"),
])
def test_a_broken_remote_portal_gives_one_clear_error(ckan_world, route, expected):
    def broken(handler):
        if route == "404":
            handler.send_error(404)
            return
        handler.send_response(200)
        handler.end_headers()
        handler.wfile.write(b"<html>maintenance</html>" if route == "not json"
                            else b'{"result": []}')  # (the stock search: AttributeError)

    ckan_world["server"].routes["/laishan/api/3/action/package_search"] = broken
    job = harvest(ckan_world)
    assert any(expected in m for m in errors_of(job)), errors_of(job)


@pytest.mark.parametrize("config, expected", [
    (None, "yantai"),
    ({"yantai": {"open_type": "open"}}, "share_type"),
    ({"yantai": {"open_type": "conditional", "share_type": "unconditional"}}, "open_condition"),
    ({"yantai": {**MAPPING, "defaults": {"update_cycle": "sometimes"}}}, "sometimes"),
    ({"yantai": {**MAPPING, "defaults": {"open_type": "open"}}}, "open_type"),
    ({"yantai": MAPPING, "remote_orgs": "create"}, "remote_orgs"),
    ({"yantai": MAPPING, "organizations_filter_include": ["a"],
      "organizations_filter_exclude": ["b"]}, "只能给出其一"),
])
def test_source_configs_are_checked_when_saved(config, expected):
    sysadmin = ckan_factories.Sysadmin()
    org = factories.Organization()
    with pytest.raises(tk.ValidationError) as error:
        call_action("harvest_source_create", context={"user": sysadmin["name"]},
                    name="bad-config", url="http://127.0.0.1:9/", source_type="ckan",
                    owner_org=org["id"], config=json.dumps(config) if config else None)
    assert expected in str(error.value.error_dict["config"])


# -- dcat_rdf -----------------------------------------------------------------------------------

TURTLE_PAGE_1 = """
@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix hydra: <http://www.w3.org/ns/hydra/core#> .
<{base}/catalog> a dcat:Catalog ; dcat:dataset <https://data.sd.gov.cn/dataset/ytgj> .
<https://data.sd.gov.cn/dataset/ytgj> a dcat:Dataset ;
  dct:title "烟台市公交线路"@zh ; dct:description "省平台汇聚的烟台公交线路。"@zh ;
  dct:identifier "2-02-003/0101" ;
  dcat:keyword "公交"@zh ;
  dct:accrualPeriodicity <http://publications.europa.eu/resource/authority/frequency/MONTHLY> ;
  dct:accessRights <http://publications.europa.eu/resource/authority/access-right/PUBLIC> ;
  dcat:theme <http://publications.europa.eu/resource/authority/data-theme/TRAN> ;
  dcat:distribution <https://data.sd.gov.cn/dataset/ytgj/csv> .
<https://data.sd.gov.cn/dataset/ytgj/csv> a dcat:Distribution ;
  dct:title "公交线路表"@zh ; dct:format "CSV" ;
  dcat:accessURL <https://data.sd.gov.cn/files/ytgj.csv> .
<{base}/catalog.ttl> a hydra:PartialCollectionView ; hydra:next <{next}> .
"""

RDFXML_PAGE_2 = """<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns:dcat="http://www.w3.org/ns/dcat#" xmlns:dct="http://purl.org/dc/terms/">
  <dcat:Dataset rdf:about="https://data.sd.gov.cn/dataset/ythj">
    <dct:title xml:lang="zh">烟台市空气质量</dct:title>
    <dct:description xml:lang="zh">各监测站点的空气质量。</dct:description>
    <dct:accessRights rdf:resource="http://publications.europa.eu/resource/authority/access-right/NON_PUBLIC"/>
    <dcat:theme rdf:resource="http://publications.europa.eu/resource/authority/data-theme/ENVI"/>
  </dcat:Dataset>
</rdf:RDF>
"""


@pytest.fixture
def dcat_world(feed_server):
    sysadmin = ckan_factories.Sysadmin()
    org = factories.Organization(title="烟台市大数据局")
    mapping = {**MAPPING, "open_type": "open", "defaults": {
        k: v for k, v in MAPPING["defaults"].items() if k != "open_condition"}}
    source = call_action("harvest_source_create", context={"user": sysadmin["name"]},
                         name="sd-dcat", title="山东公共数据开放网（DCAT）",
                         url=feed_server.url("/sd/catalog.ttl"), source_type="dcat_rdf",
                         owner_org=org["id"], config=json.dumps({"yantai": mapping}))
    return {"org": org, "source": source, "server": feed_server, "sysadmin": sysadmin}


def serve(server, path: str, body: str, content_type: str) -> None:
    data = body.encode()

    def answer(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    server.routes[path] = answer


def test_a_dcat_catalogue_over_two_pages_is_mapped_and_rerun_without_change(dcat_world):
    server = dcat_world["server"]
    serve(server, "/sd/catalog.ttl", TURTLE_PAGE_1.format(
        base=server.url("/sd"), next=server.url("/sd/page2.rdf")), "text/turtle")
    serve(server, "/sd/page2.rdf", RDFXML_PAGE_2, "application/rdf+xml; charset=utf-8")

    job = harvest(dcat_world)
    assert (job["stats"]["added"], job["stats"]["errored"]) == (2, 0), errors_of(job)
    found = {d["title"]: d for d in datasets(dcat_world["org"]["id"]).values()}
    bus = found["烟台市公交线路"]
    assert bus["resource_code"] == "2-02-003/0101"  # its dct:identifier is a resource code
    assert (bus["update_cycle"], bus["open_type"], bus["domain"]) == ("monthly", "open",
                                                                      ["transport"])
    assert [t["name"] for t in bus["tags"]] == ["公交"]
    assert bus["resources"][0]["url"] == "https://data.sd.gov.cn/files/ytgj.csv"
    assert bus["license_id"] == "cc-by"  # none given: the open type's
    air = found["烟台市空气质量"]
    assert (air["open_type"], air["domain"]) == ("closed", ["environment"])
    assert air["license_id"] == "yantai-government-1.0"
    assert air["resource_code"] == "2-02-003/0102"  # numbered after the codes in use

    before = snapshot(dcat_world["org"]["id"])
    job = harvest(dcat_world)
    assert job["stats"]["not modified"] == 2, job["stats"]
    assert snapshot(dcat_world["org"]["id"]) == before


def test_xml_entities_and_remote_jsonld_contexts_are_refused_before_parsing(dcat_world):
    server = dcat_world["server"]
    serve(server, "/sd/catalog.ttl", '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM '
          '"file:///etc/passwd">]><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax'
          '-ns#">&x;</rdf:RDF>', "application/rdf+xml")
    job = harvest(dcat_world)
    assert any("DOCTYPE" in m for m in errors_of(job)), errors_of(job)

    context_url = server.url("/internal/context.jsonld")
    server.files["/internal/context.jsonld"] = b'{"@context": {"t": "http://purl.org/dc/terms/title"}}'
    serve(server, "/sd/catalog.ttl", json.dumps({
        "@context": [context_url], "@id": "https://data.sd.gov.cn/dataset/x",
        "@type": "http://www.w3.org/ns/dcat#Dataset", "t": "标题"}), "application/ld+json")
    job = harvest(dcat_world)
    assert any("远程 @context" in m for m in errors_of(job)), errors_of(job)
    assert "/internal/context.jsonld" not in server.hits  # never fetched
    assert datasets(dcat_world["org"]["id"]) == {}


def test_a_next_page_that_is_no_http_url_is_refused(dcat_world):
    server = dcat_world["server"]
    serve(server, "/sd/catalog.ttl", TURTLE_PAGE_1.format(
        base=server.url("/sd"), next="file:///etc/passwd"), "text/turtle")
    job = harvest(dcat_world)
    assert any("http(s)" in m for m in errors_of(job)), errors_of(job)
    assert job["stats"]["added"] == 0  # the catalogue was not read whole: nothing imported


def test_a_catalogue_that_is_not_rdf_gives_one_clear_error(dcat_world):
    serve(dcat_world["server"], "/sd/catalog.ttl", "这不是 RDF", "text/turtle")
    job = harvest(dcat_world)
    assert any("无法按 RDF 解析目录" in m for m in errors_of(job)), errors_of(job)


def test_dcat_deletions_are_withdrawn(dcat_world):
    server = dcat_world["server"]
    serve(server, "/sd/catalog.ttl", TURTLE_PAGE_1.format(
        base=server.url("/sd"), next=server.url("/sd/page2.rdf")), "text/turtle")
    serve(server, "/sd/page2.rdf", RDFXML_PAGE_2, "application/rdf+xml")
    harvest(dcat_world)
    last_page = copy.copy(TURTLE_PAGE_1).split("<{base}/catalog.ttl> a hydra")[0]
    serve(server, "/sd/catalog.ttl", last_page.format(base=server.url("/sd")), "text/turtle")
    job = harvest(dcat_world)
    assert job["stats"]["deleted"] == 1, errors_of(job)
    assert {d["title"] for d in datasets(dcat_world["org"]["id"]).values()} == {"烟台市公交线路"}


# -- review: listings that change, two sources, objects handed over twice ----------------------

def test_a_dataset_missing_from_a_listing_is_asked_for_before_it_is_withdrawn(ckan_world):
    a, b = remote_package("a1", "公交线路"), remote_package("b2", "停车场")
    ckan_world["packages"].extend([a, b])
    harvest(ckan_world)
    ckan_world["packages"][:] = [a]  # b skipped by offset paging: package_show still has it

    def show(handler):
        body = json.dumps({"success": True, "result": b}, ensure_ascii=False).encode()
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    ckan_world["server"].routes["/laishan/api/3/action/package_show"] = show
    job = harvest(ckan_world)
    assert job["stats"]["deleted"] == 0, job["stats"]
    del ckan_world["server"].routes["/laishan/api/3/action/package_show"]  # now 404: gone
    job = harvest(ckan_world)
    assert job["stats"]["deleted"] == 1, job["stats"]
    assert "/laishan/api/3/action/package_show" in ckan_world["server"].hits


def test_two_sources_never_keep_the_same_dataset(ckan_world):
    shared = remote_package("a1", "公交线路", resource_code="2-02-003/0007",
                            resource_category="2-02-003")
    twice = remote_package("c3", "重复代码", resource_code="2-02-003/0007",
                           resource_category="2-02-003")
    ckan_world["packages"].extend([shared, twice])
    job = harvest(ckan_world)
    assert any("重复代码" in m and "另一个数据集使用" in m for m in errors_of(job)), errors_of(job)
    other_packages = [remote_package("x9", "另一门户的同一数据集", resource_code="2-02-003/0007",
                                     resource_category="2-02-003")]
    ckan_api(ckan_world["server"], other_packages, prefix="/other")
    other = call_action("harvest_source_create", context={"user": ckan_world["sysadmin"]["name"]},
                        name="other-ckan", url=ckan_world["server"].url("/other"),
                        source_type="ckan", owner_org=ckan_world["org"]["id"],
                        config=json.dumps({"yantai": MAPPING}))
    job = runner.run(other["id"])
    assert any("由另一个采集源维护" in m for m in errors_of(job)), errors_of(job)
    [dataset] = datasets(ckan_world["org"]["id"]).values()
    assert dataset["title"] == "公交线路"


def test_an_object_imported_already_is_not_imported_again(ckan_world):
    from ckanext.harvest import queue
    from ckanext.harvest.model import HarvestObject

    ckan_world["packages"].append(remote_package("a1", "公交线路"))
    harvest(ckan_world)
    [dataset] = datasets(ckan_world["org"]["id"]).values()
    before = activity_count(dataset["id"])
    obj = model.Session.query(HarvestObject).filter_by(package_id=dataset["id"]).one()
    obj.report_status = None  # handed over again before the first consumer had finished
    obj.save()
    harvester = queue.get_harvester("ckan")
    assert harvester is not None
    assert harvester.import_stage(obj) is True
    assert activity_count(dataset["id"]) == before


def test_a_next_page_on_another_host_gets_no_allow_listed_address(dcat_world):
    server = dcat_world["server"]
    serve(server, "/sd/catalog.ttl", TURTLE_PAGE_1.format(
        base=server.url("/sd"), next=f"http://localhost:{server.port}/sd/page2.rdf"),
        "text/turtle")
    serve(server, "/sd/page2.rdf", RDFXML_PAGE_2, "application/rdf+xml")
    job = harvest(dcat_world)
    assert any("内网" in m for m in errors_of(job)), errors_of(job)
    assert "/sd/page2.rdf" not in server.hits
    assert job["stats"]["added"] == 0
