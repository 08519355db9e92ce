"""The portal's home and About pages, header, footer and dataset page, rendered by the Flask test
app: figures equal what package_search gives the same visitor, nothing private is counted for
those who may not see it, and no CKAN placeholder is left."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import ckan.plugins.toolkit as tk
import pytest
from bs4 import BeautifulSoup
from ckan.tests import factories as ckan_factories
from ckan.tests.helpers import call_action

from ckanext.yantai import home, vocabularies
from tests import factories

pytestmark = [pytest.mark.usefixtures("clean_db", "clean_index"),
              pytest.mark.ckan_config("ckanext.yantai.home.cache_seconds", "0")]

PLACEHOLDERS = ("欢迎來到CKAN", "欢迎来到CKAN", "Welcome to CKAN", "这是一个关于CKAN", "420 x 220",
                "Powered by", "CKAN Association", "ckan.org", "docs.ckan.org")


@pytest.fixture(autouse=True)
def _fresh_figures():
    home.clear_cache()
    yield
    home.clear_cache()


def page(app, url: str, user: dict | None = None) -> BeautifulSoup:
    headers = {}
    if user is not None:
        headers["Authorization"] = ckan_factories.APIToken(user=user["name"])["token"]
    resp = app.get(url, headers=headers)
    assert resp.status_code == 200, resp.body[:500]
    return BeautifulSoup(resp.body, "html.parser")


def tiles(soup: BeautifulSoup) -> dict[str, int]:
    """Domain code -> the count its home-page tile shows."""
    found = {}
    for link in soup.select("a.yantai-domain-tile"):
        domain = parse_qs(urlparse(link["href"]).query)["domain"][0]
        found[domain] = int(re.sub(r"\D", "", link.select_one(".yantai-domain-count").text))
    return found


def figures(soup: BeautifulSoup) -> dict[str, int]:
    return {dt.text.strip(): int(dd.text) for dt, dd in
            zip(soup.select(".yantai-figures dt"), soup.select(".yantai-figures dd"), strict=True)}


def facet_counts(user: dict | None = None) -> dict[str, int]:
    context = {"user": user["name"] if user else "", "ignore_auth": False}
    result = call_action("package_search", context=context, q="*:*", rows=0,
                         include_private=True, **{"facet.field": ["domain"], "facet.limit": -1})
    return {i["name"]: i["count"] for i in result["search_facets"]["domain"]["items"]}


@pytest.fixture
def catalogue():
    """Two departments of different types, public datasets in a few domains, and one private
    dataset of its own domain (finance) that anonymous visitors may not see."""
    city = factories.Organization(title="测试市交通运输局", dept_type="city_department")
    district = factories.Organization(title="测试区人民政府", dept_type="district",
                                      region="370602")
    member = ckan_factories.User()
    call_action("organization_member_create", id=city["id"], username=member["name"],
                role="editor")
    public = [
        factories.Dataset(owner_org=city["id"], title="公交线路", domain=["transport"],
                          resources=[{"name": "线路表", "url": "http://example.com/a.csv",
                                      "format": "CSV"},
                                     {"name": "站点表", "url": "http://example.com/b.csv",
                                      "format": "CSV"}]),
        factories.Dataset(owner_org=city["id"], title="信用交通", domain=["transport", "credit"],
                          resources=[{"name": "名单", "url": "http://example.com/c.csv",
                                      "format": "CSV"}]),
        factories.Dataset(owner_org=district["id"], title="医院名录", domain=["medical"]),
    ]
    private = factories.Dataset(owner_org=city["id"], title="内部金融台账", private=True,
                                domain=["finance"],
                                resources=[{"name": "台账", "url": "http://example.com/p.csv",
                                            "format": "CSV"}])
    return {"city": city, "district": district, "member": member, "public": public,
            "private": private}


def test_every_domain_has_a_tile_with_the_search_facet_count(app, catalogue):
    shown = tiles(page(app, "/"))
    facets = facet_counts()
    assert list(shown) == [t.value for t in vocabularies.DOMAINS]
    assert shown == {t.value: facets.get(t.value, 0) for t in vocabularies.DOMAINS}
    assert shown["transport"] == 2 and shown["credit"] == 1 and shown["medical"] == 1


def test_a_private_dataset_is_not_counted_or_listed_for_anonymous_visitors(app, catalogue):
    soup = page(app, "/")
    assert tiles(soup)["finance"] == 0
    # Views and downloads are counted over the portal (none yet): counts, not data.
    assert figures(soup) == {"数据集": 3, "数据资源": 3, "开放部门": 2, "浏览量": 0, "下载量": 0}
    assert "内部金融台账" not in soup.text


def test_a_member_of_the_department_sees_its_private_dataset_counted(app, catalogue):
    member = catalogue["member"]
    soup = page(app, "/", user=member)
    assert tiles(soup) == {t.value: facet_counts(member).get(t.value, 0)
                           for t in vocabularies.DOMAINS}
    assert tiles(soup)["finance"] == 1
    assert figures(soup)["数据集"] == 4 and figures(soup)["数据资源"] == 4
    assert "内部金融台账" in soup.text


def test_cached_figures_follow_every_change_of_the_catalogue_at_once(app, catalogue,
                                                                    monkeypatch):
    """The figures are cached, but a dataset published, created or deleted shows on the next
    view (in every worker: the cache is checked against the database, not told in-process)."""
    monkeypatch.setitem(tk.config, "ckanext.yantai.home.cache_seconds", 600)
    assert figures(page(app, "/"))["数据集"] == 3
    assert figures(page(app, "/"))["数据集"] == 3  # from the cache
    admin = {"user": ckan_factories.Sysadmin()["name"]}
    call_action("package_patch", context=dict(admin), id=catalogue["private"]["id"],
                private=False)
    soup = page(app, "/")
    assert figures(soup)["数据集"] == 4 and tiles(soup)["finance"] == 1
    factories.Dataset(owner_org=catalogue["district"]["id"], title="养老机构名录",
                      domain=["medical"])
    assert tiles(page(app, "/"))["medical"] == 2
    call_action("package_delete", context=dict(admin), id=catalogue["public"][0]["id"])
    soup = page(app, "/")
    assert figures(soup)["数据集"] == 4 and tiles(soup)["transport"] == 1


def test_the_directory_lists_departments_and_districts_with_their_counts(app, catalogue):
    soup = page(app, "/")
    sections = {s.h3.text.strip(): {a.text.strip(): int(a.find_next("span").text)
                                    for a in s.select("li a")}
                for s in soup.select(".yantai-directory-section")}
    assert sections == {"市直部门": {"测试市交通运输局": 2}, "县市区": {"测试区人民政府": 1}}


def test_the_newest_datasets_are_listed_newest_first(app, catalogue):
    soup = page(app, "/")
    newest = [a.text.strip() for a in soup.select(".yantai-dataset-list")[0]
              .select(".yantai-dataset-title")]
    assert newest == ["医院名录", "信用交通", "公交线路"]
    # Recently updated, less the newest: nothing left to list, so no second list.
    assert len(soup.select(".yantai-dataset-list")) == 1


def test_no_ckan_placeholder_is_left_on_the_home_page(app, catalogue):
    body = page(app, "/").decode()
    for placeholder in PLACEHOLDERS:
        assert placeholder not in body
    assert "技术支持" in body  # CKAN is credited on a Chinese line instead
    assert 'name="q"' in body  # the search box


def test_the_search_page_points_developers_to_the_portals_own_api_page(app, catalogue):
    soup = page(app, "/dataset/")
    for placeholder in PLACEHOLDERS:
        assert placeholder not in soup.decode()
    note = soup.select_one(".module-content small")
    assert note is not None and "开发者也可以通过CKAN 接口查询本目录" in note.text
    assert [a["href"] for a in note.select("a")] == ["/api/3", "/about#api"]


def test_the_home_page_says_so_when_the_catalogue_is_empty(app):
    soup = page(app, "/")
    assert set(tiles(soup).values()) <= {0}
    assert figures(soup)["数据集"] == 0
    assert "暂无数据" in soup.text


def test_the_about_page_is_in_chinese_and_names_the_operator(app, catalogue):
    soup = page(app, "/about")
    text = soup.text
    for expected in ("关于烟台市公共数据开放网", "非涉密", "烟台市大数据局", "无条件开放",
                     "有条件开放", "不予开放", "如何申请有条件开放数据", "5个工作日",
                     "接口与机器可读目录"):
        assert expected in text, expected
    hrefs = [a["href"] for a in soup.select("a[href]")]
    assert "/dashboard/access-requests" in hrefs
    assert "/dataset/?open_type=conditional" in hrefs
    assert any(h.startswith("/catalog.") for h in hrefs)
    assert not re.search(r"\bAbout\b|CKAN is the world", text)


def test_a_departments_about_page_shows_its_facts_by_their_labels(app, catalogue):
    district = factories.Organization(title="测试开发区管委会", dept_type="zone", region="370602",
                                      description="负责**园区**数据发布", phone="0535-1234567")
    soup = page(app, f"/organization/about/{district['name']}")
    facts = dict(zip([dt.text.strip() for dt in soup.select(".yantai-org-facts dt")],
                     [dd.text.strip() for dd in soup.select(".yantai-org-facts dd")],
                     strict=True))
    assert facts["单位类型"] == "功能区"
    assert facts["所在区域"] == "芝罘区"
    assert facts["统一社会信用代码"] == district["dept_code"]
    assert facts["办公电话"] == "0535-1234567"
    notes, org_facts = soup.select_one(".notes strong"), soup.select_one(".yantai-org-facts")
    assert notes is not None and org_facts is not None
    assert notes.text == "园区"
    assert not re.search(r"zone|370602|city_department", org_facts.text)


@pytest.mark.ckan_config("ckanext.yantai.portal.operator", "测试运营中心")
@pytest.mark.ckan_config("ckanext.yantai.portal.contact", "0535-0000000")
@pytest.mark.ckan_config("ckanext.yantai.access.review_workdays", "7")
def test_the_about_page_takes_the_operator_and_deadline_from_the_configuration(app):
    soup = page(app, "/about")
    about_facts, footer = soup.select_one(".yantai-about-facts"), soup.select_one(".site-footer")
    assert about_facts is not None and footer is not None
    assert "测试运营中心" in about_facts.text
    assert "0535-0000000" in soup.text
    assert "7个工作日" in soup.text
    assert "测试运营中心" in footer.text


def test_the_dataset_page_puts_content_first_with_download_buttons(app, catalogue):
    dataset = catalogue["public"][0]
    soup = page(app, f"/dataset/{dataset['name']}")
    wrapper = soup.select_one(".wrapper")
    assert wrapper is not None and "yantai-main-first" in wrapper["class"]
    buttons = soup.select(".resource-item .yantai-resource-actions a.btn-success")
    assert [b["href"] for b in buttons] == ["http://example.com/a.csv", "http://example.com/b.csv"]
    assert soup.select_one(".yantai-table-scroll table.yantai-info-items") is not None
