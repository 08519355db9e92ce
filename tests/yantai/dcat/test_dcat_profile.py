"""The catalogue in DCAT-AP 3 (the ``yantai`` profile): what partners harvest.

The live test portal is loaded with the demo catalogue and a dataset with every field filled in;
its catalogue (paged, as ckanext-dcat pages it) and every dataset page are validated with
pyshacl against the DCAT-AP 3.0.0 shapes (``dcat-ap_3_shacl_shapes.ttl`` beside this module:
SEMIC's https://semiceu.github.io/DCAT-AP/releases/3.0.0/shacl/dcat-ap-SHACL.ttl as carried in
ckanext-dcat's test suite, unchanged); any violation fails. The portal's own ``dcat_rdf``
harvester then reads the catalogue back into an emptied portal and must reproduce every field.
A plain CKAN (``plain_ckan``) harvests the portal first, with ckanext-harvest's stock CKAN
harvester through the federation address (``ckanext.yantai.federation``).
"""
from __future__ import annotations

import json
import pathlib
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pyshacl
import pytest
import rdflib
from ckan.tests import factories
from ckan.tests.helpers import call_action
from ckanapi import RemoteCKAN
from rdflib.namespace import DCTERMS, FOAF, RDF, SKOS

from ckanext.yantai.dcat import terms
from ckanext.yantai.harvest import remote, runner
from demo import Loader, read_catalogue
from tests import factories as yantai_factories
from tests.conftest import reset_database, serve_portal
from tests.yantai.dcat.plain_ckan import plain_ckan
from tests.yantai.feeds import FeedServer, allow

SHAPES = rdflib.Graph().parse(pathlib.Path(__file__).with_name("dcat-ap_3_shacl_shapes.ttl"))
DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
HYDRA = rdflib.Namespace("http://www.w3.org/ns/hydra/core#")
ADMS = rdflib.Namespace("http://www.w3.org/ns/adms#")
VCARD = rdflib.Namespace("http://www.w3.org/2006/vcard/ns#")
SPDX = rdflib.Namespace("http://spdx.org/rdf/terms#")
CSVW = rdflib.Namespace("http://www.w3.org/ns/csvw#")
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
PER_PAGE = 20

# A dataset with every field of the schema filled in (the demo leaves some empty).
FULL = {
    "name": "yantai-public-bicycle-stations", "title": "烟台市公共自行车站点及可借车辆",
    "notes": "全市公共自行车站点的位置、桩位数和实时可借车辆数。", "tag_string": "公共自行车,站点",
    "license_id": "cc-by-sa", "resource_category": "2-02-003", "resource_code": "2-02-003/09001",
    "domain": ["transport", "environment"], "provider_code": "11370600MB28A1C3XP",
    "share_type": "conditional", "share_condition": "用于交通规划和运行监测",
    "share_method": "api", "open_type": "open", "region": "370602",
    "info_items": [{"name": "站点名称", "data_type": "string", "length": "50",
                    "description": "站点的通用名称"},
                   {"name": "可借车辆", "data_type": "number"},
                   {"name": "更新时间", "data_type": "datetime"}],
    "temporal_start": "2025-01-01", "temporal_end": "2025-12-31", "update_cycle": "realtime",
    "release_date": "2026-03-01", "related_resource_codes": ["2-02-003/0101"],
    "contact_office": "公共交通科", "contact_phone": "0535-6228000",
    "contact_email": "gjk@jtj.yantai.gov.cn",
    "resources": [{"name": "公共自行车站点", "url": "https://data.yantai.gov.cn/files/bike.csv",
                   "format": "CSV", "description": "每5分钟更新",
                   "hash": "sha256:" + "0123456789abcdef" * 4}],
}
COMPARED = (*remote.SCHEMA_FIELDS, "title", "notes", "license_id")


def fetch(url: str, accept: str | None = None) -> tuple[int, str, str]:
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode()


def violations(graph: rdflib.Graph) -> list[str]:
    conforms, report, _text = pyshacl.validate(graph, shacl_graph=SHAPES, inference="none")
    assert isinstance(report, rdflib.Graph)
    found = []
    for result in report.subjects(RDF.type, SH.ValidationResult):
        found.append(f"{report.value(result, SH.focusNode)} {report.value(result, SH.resultPath)}"
                     f": {report.value(result, SH.resultMessage)}")
    assert conforms == (not found)
    return found


@pytest.fixture(scope="module")
def portal() -> Iterator[dict[str, Any]]:
    with serve_portal(workers=2, own_site_url=True,
                      settings={"ckanext.dcat.datasets_per_page": str(PER_PAGE)}) as url:
        admin = factories.SysadminWithToken()
        catalogue = read_catalogue()
        with RemoteCKAN(url, apikey=admin["token"]) as client:
            Loader(client, log=lambda *_: None).load(catalogue)
            org = next(o["name"] for o in catalogue["organizations"] if o["name"] == "ytjtysj")
            full = client.action.package_create(owner_org=org, **FULL)
        yield {"url": url, "full": full, "catalogue": catalogue}


def catalogue_pages(url: str) -> list[rdflib.Graph]:
    """Every page of the catalogue as a partner reads it (anonymous, following hydra:next)."""
    pages, next_page = [], f"{url}/catalog.ttl"
    while next_page:
        status, content_type, body = fetch(next_page)
        assert (status, content_type) == (200, "text/turtle; charset=utf-8"), next_page
        graph = rdflib.Graph().parse(data=body, format="turtle")
        pages.append(graph)
        found = next(graph.objects(None, HYDRA.next), None)
        next_page = str(found) if found is not None else None
        assert len(pages) < 50
    return pages


def public_names(url: str) -> list[str]:
    status, _, body = fetch(f"{url}/api/3/action/package_search?rows=1000&fl=name")
    assert status == 200
    return sorted(d["name"] for d in json.loads(body)["result"]["results"])


def test_the_whole_catalogue_validates_against_dcat_ap_3(portal):
    pages = catalogue_pages(portal["url"])
    names = public_names(portal["url"])
    assert len(pages) == -(-len(names) // PER_PAGE) >= 3  # paged as configured
    datasets = {d for page in pages for d in page.subjects(RDF.type, DCAT.Dataset)}
    assert len(datasets) == len(names)
    for number, page in enumerate(pages, 1):
        assert violations(page) == [], f"page {number}"


def test_every_dataset_page_validates_in_every_format(portal):
    names = public_names(portal["url"])
    assert len(names) > 50
    for name in names:
        status, content_type, body = fetch(f"{portal['url']}/dataset/{name}.ttl")
        assert (status, content_type) == (200, "text/turtle; charset=utf-8"), name
        assert violations(rdflib.Graph().parse(data=body, format="turtle")) == [], name
    for fmt, parser, content_type in (("jsonld", "json-ld", "application/ld+json"),
                                      ("rdf", "xml", "application/rdf+xml")):
        status, got, body = fetch(f"{portal['url']}/dataset/{names[0]}.{fmt}")
        assert (status, got) == (200, f"{content_type}; charset=utf-8")
        assert violations(rdflib.Graph().parse(data=body, format=parser)) == []


def dataset_graph(portal: dict[str, Any], name: str) -> tuple[rdflib.Graph, Any]:
    status, _, body = fetch(f"{portal['url']}/dataset/{name}.ttl")
    assert status == 200
    graph = rdflib.Graph().parse(data=body, format="turtle")
    return graph, next(graph.subjects(RDF.type, DCAT.Dataset))


def test_the_catalogue_metadata_are_in_dcat_terms(portal):
    g, ds = dataset_graph(portal, FULL["name"])
    yt = rdflib.Namespace(terms.DEFAULT_BASE + "catalogue#")
    assert g.value(ds, DCTERMS.identifier) == rdflib.Literal("2-02-003/09001")
    assert g.value(g.value(ds, ADMS.identifier), SKOS.notation) == rdflib.Literal("2-02-003/09001")
    assert g.value(ds, DCTERMS.title) == rdflib.Literal(FULL["title"], lang="zh")
    assert g.value(ds, DCTERMS.language) == terms.EU_LANGUAGE["ZHO"]
    assert g.value(ds, DCTERMS.accessRights) == terms.EU_ACCESS_RIGHT["PUBLIC"]
    assert g.value(ds, DCTERMS.accrualPeriodicity) == terms.EU_FREQUENCY["UPDATE_CONT"]
    assert set(g.objects(ds, DCAT.theme)) == {
        rdflib.URIRef(terms.DEFAULT_BASE + "domain/transport"),
        rdflib.URIRef(terms.DEFAULT_BASE + "domain/environment"),
        terms.EU_THEME["TRAN"], terms.EU_THEME["ENVI"]}
    assert g.value(ds, DCTERMS.spatial) == rdflib.URIRef(terms.DEFAULT_BASE + "region/370602")
    assert g.value(ds, DCTERMS.issued) == rdflib.Literal("2026-03-01",
                                                         datatype=rdflib.XSD.date)
    period = g.value(ds, DCTERMS.temporal)
    assert str(g.value(period, DCAT.startDate)) == "2025-01-01"
    contact = g.value(ds, DCAT.contactPoint)
    assert g.value(contact, VCARD.fn) == rdflib.Literal("公共交通科", lang="zh")
    assert g.value(g.value(contact, VCARD.hasTelephone), VCARD.hasValue) == rdflib.URIRef(
        "tel:0535-6228000")
    assert g.value(contact, VCARD.hasEmail) == rdflib.URIRef("mailto:gjk@jtj.yantai.gov.cn")
    publisher = g.value(ds, DCTERMS.publisher)
    assert g.value(publisher, FOAF.name) == rdflib.Literal("烟台市交通运输局",
                                                                          lang="zh")
    assert str(g.value(g.value(publisher, ADMS.identifier), SKOS.notation)) == \
        "113706000043420323"
    assert g.value(ds, yt.providerCode) == rdflib.Literal("11370600MB28A1C3XP")
    assert g.value(ds, yt.shareType) == rdflib.URIRef(terms.DEFAULT_BASE + "share-type/conditional")
    distribution = g.value(ds, DCAT.distribution)
    assert g.value(distribution, DCTERMS["format"]) == terms.EU_FILE_TYPE["CSV"]
    assert g.value(distribution, DCAT.mediaType) == rdflib.URIRef(
        "https://www.iana.org/assignments/media-types/text/csv")
    assert g.value(distribution, DCAT.downloadURL) == rdflib.URIRef(FULL["resources"][0]["url"])
    assert g.value(distribution, DCTERMS.license) == rdflib.URIRef(
        "https://creativecommons.org/licenses/by-sa/4.0/legalcode.zh-hans")
    checksum = g.value(distribution, SPDX.checksum)
    assert g.value(checksum, SPDX.algorithm) == SPDX.checksumAlgorithm_sha256
    assert str(g.value(checksum, SPDX.checksumValue)) == "0123456789abcdef" * 4
    columns = sorted(g.objects(g.value(distribution, CSVW.tableSchema), CSVW.column),
                     key=lambda c: int(str(g.value(c, rdflib.URIRef("http://schema.org/position")))))
    assert [str(g.value(c, CSVW.name)) for c in columns] == ["站点名称", "可借车辆", "更新时间"]
    assert str(g.value(columns[0], CSVW.maxLength)) == "50"


def test_conditional_data_are_restricted_and_name_their_agreement(portal):
    conditional = next(d for d in portal["catalogue"]["datasets"]
                       if d["open_type"] == "conditional")
    g, ds = dataset_graph(portal, conditional["name"])
    assert g.value(ds, DCTERMS.accessRights) == terms.EU_ACCESS_RIGHT["RESTRICTED"]
    for distribution in g.objects(ds, DCAT.distribution):
        assert g.value(distribution, DCAT.downloadURL) is None  # the file only after approval
        assert str(g.value(distribution, DCAT.accessURL)).startswith(
            f"{portal['url']}/dataset/{conditional['name']}/resource/")
        assert str(g.value(g.value(distribution, DCTERMS.rights), rdflib.RDFS.label)) == \
            conditional["open_condition"]
        assert g.value(distribution, DCTERMS.license) == rdflib.URIRef(
            "https://data.yantai.gov.cn/licence/conditional-1.0")


def test_content_negotiation_and_errors(portal):
    url, name = portal["url"], FULL["name"]
    status, content_type, body = fetch(f"{url}/dataset/{name}", "text/turtle")
    assert (status, content_type) == (200, "text/turtle; charset=utf-8")
    assert (None, DCTERMS.identifier, rdflib.Literal("2-02-003/09001")) in rdflib.Graph().parse(
        data=body, format="turtle")
    status, content_type, _ = fetch(f"{url}/dataset/{name}",
                                    "text/html,application/xhtml+xml,*/*;q=0.8")
    assert (status, content_type) == (200, "text/html; charset=utf-8")
    status, content_type, body = fetch(f"{url}/", "application/ld+json")
    assert (status, content_type) == (200, "application/ld+json; charset=utf-8")
    assert any(DCAT.Catalog in g.objects(s, RDF.type) for g in [rdflib.Graph().parse(
        data=body, format="json-ld")] for s in g.subjects())
    assert fetch(f"{url}/catalog.foo")[0] == 404
    assert fetch(f"{url}/dataset/{name}.foo")[0] == 404
    assert fetch(f"{url}/catalog.ttl?page=abc")[0] == 400
    assert fetch(f"{url}/catalog.ttl?page=0")[0] == 400
    assert fetch(f"{url}/dataset/no-such-dataset.ttl")[0] == 404
    closed = next(d for d in portal["catalogue"]["datasets"] if d["open_type"] == "closed")
    assert fetch(f"{url}/dataset/{closed['name']}.ttl")[0] == 404
    assert fetch(f"{url}/dataset/{closed['name']}", "text/turtle")[0] == 404


def test_the_concept_schemes_are_served_at_their_paths(portal):
    status, content_type, body = fetch(f"{portal['url']}/def/domain", "text/turtle")
    assert (status, content_type) == (200, "text/turtle; charset=utf-8")
    g = rdflib.Graph().parse(data=body, format="turtle")
    transport = rdflib.URIRef(terms.DEFAULT_BASE + "domain/transport")
    assert (transport, SKOS.prefLabel, rdflib.Literal("交通", lang="zh")) in g
    assert (transport, SKOS.broadMatch, terms.EU_THEME["TRAN"]) in g
    assert len(set(g.subjects(RDF.type, SKOS.Concept))) == 11
    assert fetch(f"{portal['url']}/def/region/370602.jsonld")[0] == 200
    assert fetch(f"{portal['url']}/def/region/110000")[0] == 404
    assert fetch(f"{portal['url']}/def/nothing")[0] == 404
    status, _, page = fetch(f"{portal['url']}/licence/conditional-1.0")
    assert status == 200 and "烟台市公共数据有条件开放协议" in page


def test_what_callers_store_cannot_break_or_widen_the_catalogue(portal):
    """Found by an attack review: a URL or media type that is no IRI made Turtle a 500 for
    everyone; keys outside the schema became DCAT statements; a query with a space broke the
    paging links; the catalogue's date told when a closed dataset changed."""
    url = portal["url"]
    admin = factories.SysadminWithToken()
    closed = next(d for d in portal["catalogue"]["datasets"] if d["open_type"] == "closed")
    conditional = next(d for d in portal["catalogue"]["datasets"]
                       if d["open_type"] == "conditional")
    with RemoteCKAN(url, apikey=admin["token"]) as client:
        client.action.package_create(
            owner_org="ytjtysj", name="odd-links", title="烟台市停车场收费标准",
            notes="停车场收费标准。", resource_category="2-02-003",
            resource_code="2-02-003/09002", domain=["transport"], share_type="unconditional",
            share_method="file", open_type="open", update_cycle="yearly",
            contact_office="公共交通科", contact_phone="0535-6228000",
            info_items=[{"name": "停车场", "data_type": "string"}],
            resources=[{"name": "收费标准", "url": 'https://example.org/a b"<x>.csv',
                        "format": "CSV", "mimetype": 'text/"csv'},
                       {"name": "主机有空格", "url": "https://exa mple.org/x.csv"}])
        client.action.package_patch(
            id=conditional["name"],
            access_rights="http://publications.europa.eu/resource/authority/access-right/PUBLIC",
            documentation=["https://leak.example/doc"])
    status, _, body = fetch(f"{url}/dataset/odd-links.ttl")
    assert status == 200
    g = rdflib.Graph().parse(data=body, format="turtle")
    assert set(map(str, g.objects(None, DCAT.downloadURL))) == {
        "https://example.org/a%20b%22%3Cx%3E.csv"}
    assert not list(g.objects(None, DCAT.mediaType)) or all(
        str(m).endswith("/text/csv") for m in g.objects(None, DCAT.mediaType))
    status, _, body = fetch(f"{url}/dataset/{conditional['name']}.ttl")
    assert "access-right/PUBLIC" not in body and "leak.example" not in body
    for query in ("q=%E5%85%AC%E4%BA%A4%20%E7%BA%BF%E8%B7%AF", 'q=%22a%22%7Cb%5C',
                  "fq=open_type:open%20AND%20domain:transport"):
        status, _, body = fetch(f"{url}/catalog.ttl?{query}")
        assert status == 200, query
        assert violations(rdflib.Graph().parse(data=body, format="turtle")) == [], query
    def catalogue_modified() -> str:
        _, _, body = fetch(f"{url}/catalog.ttl")
        graph = rdflib.Graph().parse(data=body, format="turtle")
        return str(graph.value(rdflib.URIRef(url), DCTERMS.modified))

    newest = json.loads(fetch(f"{url}/api/3/action/package_search?rows=1&sort="
                              "metadata_modified%20desc")[2])["result"]["results"][0]
    assert catalogue_modified()[:19] == newest["metadata_modified"][:19]
    with RemoteCKAN(url, apikey=admin["token"]) as client:
        client.action.package_patch(id=closed["name"], notes="不予开放数据的新说明。")
    assert catalogue_modified()[:19] == newest["metadata_modified"][:19]
    # profiles: the configured ones and schema.org; a string is a list of names
    assert fetch(f"{url}/catalog.ttl?profiles=euro_dcat_ap_2")[0] == 409
    assert fetch(f"{url}/api/3/action/dcat_dataset_show?id=odd-links&profiles=schemaorg")[0] \
        == 200
    assert fetch(f"{url}/api/3/action/dcat_dataset_show?id=odd-links&profiles=abc")[0] == 409
    with RemoteCKAN(url, apikey=admin["token"]) as client:  # (not part of the round trip)
        client.action.dataset_purge(id="odd-links")


def _path(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return parts.path if parts.hostname in ("127.0.0.1", "test.ckan.net") else url


def _normal(value: Any) -> Any:
    if value in (None, "", []):
        return None
    if isinstance(value, list):
        return sorted((_normal(v) for v in value), key=json.dumps)
    if isinstance(value, dict):
        return {k: str(v) for k, v in value.items() if v not in (None, "")}
    return value


def _comparable(dataset: dict[str, Any]) -> dict[str, Any]:
    out = {key: _normal(dataset.get(key)) for key in COMPARED}
    out["tags"] = sorted(t["name"] for t in dataset.get("tags") or [])
    out["resources"] = sorted((r["name"], r.get("format"), r.get("description") or None)
                              for r in dataset["resources"])
    return out


def test_a_plain_ckan_harvests_the_public_catalogue_with_the_stock_harvester(portal):
    """Part 8 of issue 17: a partner's stock CKAN (ckanext-harvest's ``ckan`` source type) given
    the federation address copies every dataset an anonymous caller may see, with the portal's
    own fields as extras, and no dataset that is not open."""
    url = portal["url"]
    public = public_names(url)
    closed = [d["name"] for d in portal["catalogue"]["datasets"] if d["open_type"] == "closed"]
    assert closed and not set(closed) & set(public)
    with plain_ckan() as plain:
        org = plain.action("organization_create", name="yantai-copy",
                           title="烟台市公共数据（副本）")
        plain.action("harvest_source_create", name="yantai", title="烟台市公共数据开放网",
                     url=f"{url}/federation/ckan", source_type="ckan", owner_org=org["id"])
        plain.ckan("harvester", "run-test", "yantai")
        job = plain.action("harvest_source_show", id="yantai")["status"]["last_job"]
        report = plain.action("harvest_job_report", id=job["id"])
        assert (job["status"], job["stats"]["added"], job["stats"]["errored"]) == (
            "Finished", len(public), 0), report
        copies = {p["name"]: p for p in plain.action("package_search", rows=1000)["results"]}
        assert sorted(copies) == public

        def extras(name: str) -> dict[str, str]:
            return {e["key"]: e["value"] for e in copies[name]["extras"]}

        # The portal's fields, as extras: text as it is, lists and objects as JSON.
        full, copy = portal["full"], extras(FULL["name"])
        for key in ("resource_code", "provider_code", "open_type", "share_type",
                    "share_condition", "share_method", "update_cycle", "region", "release_date",
                    "temporal_start", "contact_office", "contact_email"):
            assert copy[key] == full[key], key
        for key in ("domain", "info_items", "related_resource_codes"):
            assert json.loads(copy[key]) == full[key], key
        assert copies[FULL["name"]]["license_id"] == "cc-by-sa"
        assert [r["url"] for r in copies[FULL["name"]]["resources"]] == [
            r["url"] for r in full["resources"]]
        # Conditionally open data: described, their files not handed out.
        conditional = [n for n in copies if extras(n)["open_type"] == "conditional"]
        assert conditional
        for name in conditional:
            assert extras(name)["yantai_restricted"] == "true"
            assert all(not r["url"] for r in copies[name]["resources"]), name

        # Harvested again: nothing added twice, nothing lost.
        plain.ckan("harvester", "run-test", "yantai")
        again = plain.action("package_search", rows=1000)
        assert sorted(p["name"] for p in again["results"]) == public


def test_the_default_schema_is_asked_for_as_in_stock_ckan(portal):
    """``use_default_schema`` on package_show and package_search (CKAN's own parameter) gives the
    same form as the federation address; without it the portal's form is unchanged."""
    url, name = portal["url"], FULL["name"]
    shown = {}
    for path in (f"/api/3/action/package_show?id={name}&use_default_schema=true",
                 f"/federation/ckan/api/3/action/package_show?id={name}",
                 f"/api/action/package_search?q=name:{name}&use_default_schema=1"):
        status, _, body = fetch(url + path)
        assert status == 200, path
        result = json.loads(body)["result"]
        shown[path] = result["results"][0] if "results" in result else result
    first, *others = shown.values()
    assert all(other == first for other in others)
    assert "info_items" not in first and "domain" not in first
    extras = {e["key"]: e["value"] for e in first["extras"]}
    assert json.loads(extras["info_items"])[0]["name"] == "站点名称"
    assert not {"data_dict", "validated_data_dict"} & first.keys()
    status, _, body = fetch(f"{url}/api/3/action/package_show?id={name}")
    assert json.loads(body)["result"]["info_items"][0]["name"] == "站点名称"
    # The federation address serves reads only, and names those it serves.
    for path, code in (("/federation/ckan/api/3/action/package_create", 404),
                       ("/federation/ckan/api/3/action/user_list", 404),
                       ("/federation/ckan/api/3/action/organization_list", 200)):
        status, content_type, body = fetch(url + path)
        assert (status, content_type.split(";")[0]) == (code, "application/json"), path
        if code == 404:
            assert "package_search" in json.loads(body)["error"]["message"]
    # A closed dataset is as absent there as anywhere.
    closed = next(d["name"] for d in portal["catalogue"]["datasets"]
                  if d["open_type"] == "closed")
    for path in (f"/federation/ckan/api/3/action/package_show?id={closed}",
                 f"/api/3/action/package_show?id={closed}&use_default_schema=true"):
        assert fetch(url + path)[0] == 404, path


@pytest.mark.usefixtures("with_request_context")
def test_our_harvester_reads_our_catalogue_back_with_every_field(portal, monkeypatch):
    # The catalogue as a partner reads it, and the datasets as the portal holds them.
    pages = catalogue_pages(portal["url"])
    names = public_names(portal["url"])
    originals = {name: call_action("package_show", context={"ignore_auth": True}, id=name)
                 for name in names}
    # (read here, the portal's own files have the test profile's host; served, the portal's)
    open_urls = {name: sorted(_path(r["url"]) for r in d["resources"])
                 for name, d in originals.items() if d["open_type"] == "open"}

    # An empty portal harvests those pages (served as the catalogue served them, page by page).
    reset_database()
    with FeedServer() as server:
        for number, page in enumerate(pages, 1):
            for link in (HYDRA.next, HYDRA.nextPage):
                for subject in list(page.subjects(link, None)):
                    page.set((subject, link,
                              rdflib.URIRef(server.url(f"/catalog-{number + 1}.ttl"))))
            server.files[f"/catalog-{number}.ttl"] = page.serialize(format="turtle").encode()
        allow(monkeypatch, f"127.0.0.1:{server.port}")
        sysadmin = factories.Sysadmin()
        org = yantai_factories.Organization(title="烟台市大数据局（目录副本）")
        source = call_action(
            "harvest_source_create", context={"user": sysadmin["name"]}, name="yantai-self",
            title="烟台市公共数据开放网（DCAT）", url=server.url("/catalog-1.ttl"),
            source_type="dcat_rdf", owner_org=org["id"],
            config=json.dumps({"rdf_format": "turtle",
                               "yantai": {"open_type": "open", "share_type": "unconditional"}}))
        job = runner.run(source["id"])
    assert job["status"] == "Finished", job
    assert (job["stats"]["added"], job["stats"]["errored"]) == (len(names), 0), job

    harvested = {}
    for pkg_id in call_action("package_list"):
        shown = call_action("package_show", context={"ignore_auth": True}, id=pkg_id)
        if shown["type"] == "dataset":
            harvested[shown["resource_code"]] = shown
    assert len(harvested) == len(names)
    for name, original in originals.items():
        copy = harvested[original["resource_code"]]
        assert _comparable(copy) == _comparable(original), name
        if name in open_urls:
            assert sorted(_path(r["url"]) for r in copy["resources"]) == open_urls[name], name
