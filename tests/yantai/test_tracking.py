"""Views and downloads (ckanext.yantai.tracking): what the recorder stores and refuses, and the
counts CKAN's `ckan tracking update` makes of it, on the dataset, in search and on the home page."""
from __future__ import annotations

import ckan.model as model
import pytest
from bs4 import BeautifulSoup
from ckan.cli.cli import ckan
from ckan.tests import factories as ckan_factories
from ckan.tests.helpers import call_action
from ckanext.tracking.model import TrackingRaw

from ckanext.yantai import home
from tests import factories
from tests.yantai.test_home import figures

pytestmark = [pytest.mark.usefixtures("clean_db", "clean_index"),
              pytest.mark.ckan_config("ckanext.yantai.home.cache_seconds", "0")]

BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0",
           "Accept-Language": "zh-CN,zh;q=0.9"}


@pytest.fixture
def dataset():
    org = factories.Organization()
    return factories.Dataset(owner_org=org["id"], title="公交线路", resources=[
        {"name": "线路表", "url": "http://example.com/routes.csv", "format": "CSV"}])


def track(app, kind: str, url: str, headers: dict | None = None, status: int = 204):
    resp = app.post("/_tracking", data={"type": kind, "url": url},
                    headers=BROWSER if headers is None else headers)
    assert resp.status_code == status, resp.body[:300]
    return resp


def stored() -> list[tuple[str, str]]:
    model.Session.expire_all()
    return sorted((r.tracking_type, r.url) for r in model.Session.query(TrackingRaw))


def test_a_dataset_page_is_stored_by_its_name_whatever_path_led_there(app, dataset):
    name = dataset["name"]
    for url in (f"/dataset/{name}", f"/en/dataset/{name}", f"/dataset/{dataset['id']}",
                f"/zh_Hans_CN/dataset/{name}/resource/{dataset['resources'][0]['id']}"):
        track(app, "page", url)
    assert {url for _, url in stored()} == {f"/dataset/{name}"}


def test_a_download_is_stored_by_the_url_the_resource_shows(app, dataset):
    linked = dataset["resources"][0]
    track(app, "resource", linked["url"])
    assert stored() == [("resource", linked["url"])]


@pytest.mark.parametrize("kind, url", [
    ("page", "/organization/ytjtysj"),           # not a dataset page
    ("page", "/dataset/no-such-dataset"),
    ("page", "http://evil.example/dataset/x"),
    ("resource", "http://evil.example/file.csv"),  # no resource has this URL
    ("resource", "/dataset/x/resource/00000000-0000-0000-0000-000000000000/download/a.csv"),
    ("resource", "javascript:alert(1)"),
])
def test_nothing_but_datasets_and_their_resources_is_stored(app, dataset, kind, url):
    track(app, kind, url)
    assert stored() == []


@pytest.mark.parametrize("data", [
    {"type": "view", "url": "/dataset/x"},
    {"type": "page"},
    {"type": "page", "url": "/dataset/" + "x" * 1000},
    {},
])
def test_a_malformed_count_is_a_400_and_stores_nothing(app, dataset, data):
    resp = app.post("/_tracking", data=data, headers=BROWSER)
    assert resp.status_code == 400
    assert stored() == []


def test_what_broke_the_stock_recorder_is_no_500(app, dataset):
    """A value with '=' and a request without User-Agent (the stock hook split the body by hand
    and read the header unguarded): the first is stored, the second (no browser sends no
    User-Agent) answered and not counted."""
    track(app, "page", f"/dataset/{dataset['name']}?a=b=c")
    track(app, "page", f"/dataset/{dataset['name']}", headers={})
    assert stored() == [("page", f"/dataset/{dataset['name']}")]


def test_daily_sums_give_views_to_the_dataset_search_and_home_page(app, cli, dataset):
    other = factories.Dataset(owner_org=dataset["owner_org"], title="出租车")
    def agent(n: str) -> dict[str, str]:
        return {"User-Agent": f"Mozilla/5.0 (X11; Linux x86_64) Chrome/14{n}.0"}

    for n in ("1", "2", "3"):  # three visitors, one of them twice
        track(app, "page", f"/dataset/{dataset['name']}", headers=agent(n))
    track(app, "page", f"/dataset/{dataset['name']}", headers=agent("1"))
    track(app, "page", f"/dataset/{other['name']}", headers=agent("1"))
    track(app, "resource", dataset["resources"][0]["url"], headers=agent("2"))

    result = cli.invoke(ckan, ["tracking", "update"])
    assert result.exit_code == 0, result.output

    shown = call_action("package_show", id=dataset["id"])
    assert shown["tracking_summary"] == {"total": 3, "recent": 3}
    assert shown["resources"][0]["tracking_summary"] == {"total": 1, "recent": 1}
    ranked = call_action("package_search", sort="views_recent desc")["results"]
    assert [(d["name"], d["tracking_summary"]["recent"]) for d in ranked] == [
        (dataset["name"], 3), (other["name"], 1)]

    soup = BeautifulSoup(app.get("/").body, "html.parser")
    popular = soup.select(".yantai-dataset-list")[1]
    assert popular.find_previous("h2").text.split()[0] == "热门数据"
    assert [(a.text.strip(), a.find_next(class_="yantai-views").text) for a in
            popular.select(".yantai-dataset-title")] \
        == [("公交线路", "3 次浏览"), ("出租车", "1 次浏览")]
    assert figures(soup) == {"数据集": 2, "数据资源": 1, "开放部门": 1, "浏览量": 4, "下载量": 1}


def test_without_views_the_second_list_is_the_recently_updated(app, dataset):
    other = factories.Dataset(owner_org=dataset["owner_org"], title="出租车")
    call_action("package_patch", context={"user": ckan_factories.Sysadmin()["name"]},
                id=dataset["id"], notes="改")  # updated after the newest
    with app.flask_app.test_request_context():
        shown = home.compute("zh_Hans_CN")
    assert shown["popular_by_views"] is False
    assert shown["usage"] == {"views": 0, "downloads": 0}
    assert [d["name"] for d in shown["newest"]] == [other["name"], dataset["name"]]


def test_a_logged_in_visitor_is_counted_too(app, dataset):
    user = ckan_factories.User()
    token = ckan_factories.APIToken(user=user["name"])["token"]
    track(app, "page", f"/dataset/{dataset['name']}", headers={**BROWSER, "Authorization": token})
    assert len(stored()) == 1


@pytest.mark.parametrize("hidden", [
    {"private": True},
    {"open_type": "closed", "share_type": "unconditional"},
    {"state": "draft"},
])
def test_a_dataset_hidden_from_the_public_is_answered_as_one_that_does_not_exist(app, hidden):
    """The counts are public (home page figures, most viewed), and a hidden dataset must not be
    told apart from a missing one: neither its page nor its downloads are stored."""
    org = factories.Organization()
    member = ckan_factories.User()
    call_action("organization_member_create", id=org["id"], username=member["name"],
                role="editor")
    secret = factories.Dataset(owner_org=org["id"], title="内部数据", **hidden, resources=[
        {"name": "表", "url": "http://example.com/secret.csv", "format": "CSV"}])
    token = ckan_factories.APIToken(user=member["name"])["token"]
    resource = secret["resources"][0]
    for headers in (BROWSER, {**BROWSER, "Authorization": token}):  # the public, a member
        track(app, "page", f"/dataset/{secret['name']}", headers=headers)
        track(app, "page", f"/dataset/{secret['id']}", headers=headers)
        track(app, "resource", resource["url"], headers=headers)
        track(app, "resource", f"/dataset/{secret['id']}/resource/{resource['id']}/download",
              headers=headers)
    track(app, "page", "/dataset/no-such-dataset")
    assert stored() == []


def visitor_keys() -> set[str]:
    model.Session.expire_all()
    return {r.user_key for r in model.Session.query(TrackingRaw)}


def test_behind_no_trusted_proxy_a_forwarded_address_is_not_believed(app, dataset):
    for address in ("203.0.113.7", "198.51.100.9"):
        track(app, "page", f"/dataset/{dataset['name']}",
              headers={**BROWSER, "X-Forwarded-For": address})
    assert len(visitor_keys()) == 1  # one client, whatever it claims


@pytest.mark.ckan_config("ckanext.yantai.trusted_proxies", "1")
def test_behind_nginx_visitors_are_told_apart_by_the_address_it_forwards(app, dataset):
    for address in ("203.0.113.7", "198.51.100.9", "203.0.113.7"):
        track(app, "page", f"/dataset/{dataset['name']}",
              headers={**BROWSER, "X-Forwarded-For": address})
    assert len(visitor_keys()) == 2
