"""The shipped demo catalogue is complete and consistent (what `make up` loads)."""
from __future__ import annotations

import collections
import json
import pathlib
import re

import openpyxl
import pytest
import rdflib
from ckan.model.license import LicenseRegister
from rdflib.namespace import DCTERMS, RDF
from stdnum.cn import uscc

from ckanext.yantai import vocabularies
from demo import dataset_dict, read_catalogue

DOMAINS = {"credit", "transport", "medical", "health", "employment", "social-security", "culture",
           "science", "environment", "finance", "enterprise"}
NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,99}$")


@pytest.fixture(scope="module")
def catalogue():
    return read_catalogue()


def test_at_least_twelve_departments_with_valid_codes(catalogue):
    orgs = catalogue["organizations"]
    assert len(orgs) >= 12
    assert len({o["name"] for o in orgs}) == len(orgs)
    for org in orgs:
        assert NAME.match(org["name"]), org["name"]
        assert uscc.is_valid(org["dept_code"]), (org["title"], org["dept_code"])


def test_at_least_forty_datasets_over_every_domain(catalogue):
    datasets = catalogue["datasets"]
    orgs = {o["name"] for o in catalogue["organizations"]}
    assert len(datasets) >= 40
    assert len({d["name"] for d in datasets}) == len(datasets)
    per_domain = collections.Counter(g for d in datasets for g in d["domain"])
    assert set(per_domain) == DOMAINS
    assert min(per_domain.values()) >= 3
    for ds in datasets:
        assert NAME.match(ds["name"]), ds["name"]
        assert ds["owner_org"] in orgs


def test_resources_are_tables_in_csv_xlsx_and_json(catalogue):
    formats = collections.Counter()
    for ds in catalogue["datasets"]:
        assert ds["resources"], ds["name"]
        for res in ds["resources"]:
            formats[res["format"]] += 1
            assert res["rows"], (ds["name"], res["name"])
            for row in res["rows"]:
                assert len(row) == len(res["columns"]), (ds["name"], res["name"], row)
    assert set(formats) == {"CSV", "XLSX", "JSON"}


def test_the_bus_dataset_is_there(catalogue):
    titles = {d["title"]: d for d in catalogue["datasets"]}
    assert "transport" in titles["烟台市公交线路站点信息"]["domain"]


# -- what a visitor sees: every demo dataset, the loader's and the harvested feeds' -------------

FEEDS = pathlib.Path(__file__).resolve().parents[3] / "harvesters" / "demo" / "feeds"
DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")

# Words of a title or its tags that put a dataset in a policy domain (a dataset's domains must
# include one its own words justify).
DOMAIN_WORDS = {
    "credit": ("信用", "失信", "守信", "双公示", "异常名录", "行政许可", "行政处罚"),
    "transport": ("公交", "出租", "停车", "交通", "充电", "机动车", "自行车", "港", "泊位"),
    "medical": ("医疗", "医保", "药店", "医院", "卫生资源", "社区卫生"),
    "health": ("卫生", "接种", "传染病", "饮用水", "食品", "疫情"),
    "employment": ("招聘", "就业", "用工", "职业", "人才", "见习"),
    "social-security": ("养老", "社会保险", "低保", "最低生活保障", "长者"),
    "culture": ("文物", "旅游", "景区", "图书馆", "文化"),
    "science": ("科技", "高新技术", "孵化", "研究与试验", "5G", "研发", "人才"),
    "environment": ("空气", "排污", "水环境", "水源", "地表水", "环境"),
    "finance": ("银行", "金融", "存贷款", "债务", "预算"),
    "enterprise": ("企业", "市场主体", "个体工商户", "合作社", "农贸市场", "法人单位", "排污单位",
                   "生产许可"),
}


def _dcat_graph() -> rdflib.Graph:
    graph = rdflib.Graph()
    for page, kind in (("catalog.ttl", "turtle"), ("page2.rdf", "xml")):
        graph.parse(data=(FEEDS / "sd-dcat" / page).read_text("utf-8").replace(
            "{{base}}", "http://127.0.0.1:9"), format=kind)
    return graph


def dcat_datasets() -> dict[str, list[str]]:
    """The province feed's datasets: title → its dcat:theme codes (last URI segment)."""
    graph = _dcat_graph()
    return {str(graph.value(ds, DCTERMS.title)): sorted(
                str(t).rstrip("/").rsplit("/", 1)[-1] for t in graph.objects(ds, DCAT.theme))
            for ds in graph.subjects(RDF.type, DCAT.Dataset)}


def harvested() -> list[tuple[str, str, str]]:
    """(resource code or "", title, description) of every dataset the demo's feeds give."""
    release = json.loads((FEEDS / "jtj-release" / "manifest.json").read_text("utf-8"))
    laishan = json.loads((FEEDS / "laishan" / "packages.json").read_text("utf-8"))
    sheet = openpyxl.load_workbook(FEEDS / "wsjkw-catalogue" / "catalogue.xlsx").active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    header = next(r for r in rows if r and "信息资源名称" in r)
    code, title, notes = (header.index(c) for c in ("信息资源代码", "信息资源名称", "信息资源摘要"))
    graph = _dcat_graph()
    return ([(d["resource_code"], d["title"], d["notes"]) for d in release["datasets"]]
            + [(p.get("resource_code", ""), p["title"], p["notes"])
               for p in laishan if not p.get("private")]
            + [("", str(graph.value(ds, DCTERMS.title)), str(graph.value(ds, DCTERMS.description)))
               for ds in graph.subjects(RDF.type, DCAT.Dataset)]
            + [(r[code], r[title], r[notes]) for r in rows[rows.index(header) + 1:]
               if r and r[title]])


def every_dataset(catalogue) -> list[tuple[str, str]]:
    """(title, description) of every dataset a visitor sees. A feed entry with the resource code
    of a catalogue dataset is that dataset (the department's catalogue spreadsheet refreshes its
    entries), so it must say the same."""
    codes = {d["resource_code"]: d for d in catalogue["datasets"]}
    feeds = []
    for code, title, notes in harvested():
        if code in codes:
            assert (title, notes) == (codes[code]["title"], codes[code]["notes"]), code
        else:
            feeds.append((title, notes))
    return [(d["title"], d["notes"]) for d in catalogue["datasets"]] + feeds


def test_titles_are_unique_across_the_catalogue_and_the_harvested_feeds(catalogue):
    titles = [title for title, _ in every_dataset(catalogue)]
    twice = [t for t, n in collections.Counter(titles).items() if n > 1]
    assert twice == []


def justified(domain: str, *texts: str) -> bool:
    return any(word in text for word in DOMAIN_WORDS[domain] for text in texts)


def test_every_dataset_is_in_a_domain_its_own_words_justify(catalogue):
    wrong = [(d["title"], d["domain"]) for d in catalogue["datasets"]
             if not all(justified(g, d["title"], *d.get("tags", [])) for g in d["domain"])]
    assert wrong == []


def test_descriptions_speak_of_their_own_dataset(catalogue):
    """The description shares words with its own title, about as many as with any other's (a
    description written for another dataset shares far more with that one's title)."""
    def words(text: str) -> set[str]:
        han = re.sub(r"[^\u4e00-\u9fff]", "", text.replace("烟台", ""))
        return {han[i:i + 2] for i in range(len(han) - 1)}

    datasets = every_dataset(catalogue)
    for title, notes in datasets:
        own = len(words(title) & words(notes))
        best = max((other for other, _ in datasets), key=lambda o: len(words(o) & words(notes)))
        assert own >= 2 and own >= len(words(best) & words(notes)) - 2, (title, best)


def test_licences_agree_with_the_open_types(catalogue):
    register = LicenseRegister()
    open_licences = frozenset(lid for lid, lic in register.items() if lic.isopen())
    for ds in catalogue["datasets"]:
        licence = dataset_dict(ds)["license_id"]
        assert register.get(licence) is not None, ds["name"]
        assert vocabularies.licence_fits(ds["open_type"], licence, open_licences), \
            (ds["name"], ds["open_type"], licence)


# The province's DCAT datasets and the domain each must land in (asserted after a real harvest
# in tests/yantai/test_harvest_registry.py).
DCAT_DOMAINS = {
    "烟台市国控站点空气质量日均值": ["environment"],
    "烟台市乡村旅游重点村名录": ["culture"],
    "烟台市失信被执行人名单": ["credit"],
    "烟台港货物和集装箱吞吐量月度统计": ["transport"],
    "烟台市新设立市场主体名录": ["enterprise"],
    "烟台市医疗保险定点医疗机构名录": ["medical"],
    "烟台市高校毕业生就业见习基地名录": ["employment"],
}


def test_the_province_feed_themes_every_dataset_and_the_table_covers_it():
    feed = dcat_datasets()
    assert set(feed) == set(DCAT_DOMAINS)
    assert all(feed.values()), "a dataset without dcat:theme"
    for title, domains in DCAT_DOMAINS.items():
        assert all(justified(g, title) for g in domains), title


def test_applications_use_public_datasets_and_come_from_demo_users(catalogue):
    datasets = {d["name"]: d for d in catalogue["datasets"]}
    users = {u["name"] for u in catalogue["demo_users"]}
    states = collections.Counter()
    for app in catalogue["applications"]:
        assert app["submitter"] in users, app["title"]
        assert 1 <= len(app["datasets"]) <= 20 and len(set(app["datasets"])) == len(app["datasets"])
        for name in app["datasets"]:
            assert datasets[name]["open_type"] != "closed", (app["title"], name)
        assert app["url"].startswith("https://"), app["title"]
        states[(app.get("review") or {}).get("decision", "pending")] += 1
    assert states["approve"] >= 2 and states["pending"] >= 1 and states["reject"] >= 1
