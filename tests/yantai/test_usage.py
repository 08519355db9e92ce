"""Usage statistics (ckanext.yantai.usage): crawlers told apart, API calls counted per dataset and
user in Redis, the daily roll-up into yantai_usage_daily (idempotent, re-indexing for the sort
orders), the public and departmental figures, the monthly CSV as an open dataset, and the pages
that show them (/statistics, the dataset page, the API token page, the desk)."""
from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import ckan.model as model
import pytest
from bs4 import BeautifulSoup
from ckan.tests import factories as ckan_factories
from ckan.tests.helpers import call_action
from ckanext.tracking.model import TrackingRaw

from ckanext.yantai import usage
from ckanext.yantai.model import UsageDaily
from tests import factories
from tests.api import Api

pytestmark = [pytest.mark.usefixtures("clean_db", "clean_index")]

CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0.0.0 Safari/537.36")
WECHAT = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
          "like Gecko) Mobile/15E148 MicroMessenger/8.0.44 NetType/WIFI Language/zh_CN")
BAIDU = "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)"
TODAY = dt.date.today()


@pytest.fixture
def city(app):
    """A transport department with an editor and a plain member, an open dataset with a linked
    and an uploaded-style resource, a second open one, and a 不予开放 one."""
    editor = ckan_factories.UserWithToken()
    member = ckan_factories.UserWithToken()
    transport = factories.Organization(title="烟台市交通运输局", users=[
        {"name": editor["name"], "capacity": "editor"},
        {"name": member["name"], "capacity": "member"}])
    health = factories.Organization(title="烟台市卫生健康委员会")
    bus = factories.Dataset(owner_org=transport["id"], title="烟台市公交线路站点信息",
                            domain=["transport"], resources=[
                                {"name": "线路表", "url": "http://data.example/routes.csv",
                                 "format": "CSV"}])
    clinics = factories.Dataset(owner_org=health["id"], title="医疗机构名录",
                                domain=["health", "medical"])
    closed = factories.Dataset(owner_org=transport["id"], title="出租车运营轨迹",
                               open_type="closed", share_type="conditional",
                               share_condition="仅限政务部门")
    return {"editor": editor, "member": member, "transport": transport, "health": health,
            "bus": bus, "clinics": clinics, "closed": closed}


def raw(kind: str, url: str, key: str, when: dt.datetime) -> None:
    model.Session.execute(TrackingRaw.__table__.insert().values(
        user_key=key, url=url, tracking_type=kind, access_timestamp=when))
    model.Session.commit()


def one(soup: BeautifulSoup, selector: str) -> Any:
    found = soup.select_one(selector)
    assert found is not None, selector
    return found


def daily() -> dict[tuple[dt.date, str], tuple[int, int, int]]:
    model.Session.expire_all()
    return {(r.day, r.package_id): (r.views, r.downloads, r.api_calls)
            for r in model.Session.query(UsageDaily)}


# -- crawlers --------------------------------------------------------------------------------------

@pytest.mark.parametrize("agent", [BAIDU, "Mozilla/5.0 (compatible; Googlebot/2.1)",
                                   "Sogou web spider/4.0", "Mozilla/5.0 (compatible; YisouSpider)",
                                   "Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/131.0.0.0",
                                   "curl/8.5.0", "Scrapy/2.11", "", "   "])
def test_crawlers_scripts_and_nameless_clients_are_no_visitors(agent):
    assert usage.is_bot(agent)


@pytest.mark.parametrize("agent", [CHROME, WECHAT])
def test_browsers_are_visitors(agent):
    assert not usage.is_bot(agent)


@pytest.mark.parametrize("agent, crawler", [
    ("python-requests/2.33.0", False), ("ckanapi/4.11", False), ("curl/8.5.0", False),
    ("Go-http-client/1.1", False), (CHROME, False), (BAIDU, True), ("Scrapy/2.11", True)])
def test_programs_calling_the_api_count_and_web_crawlers_do_not(agent, crawler):
    assert usage.is_api_crawler(agent) is crawler


def test_a_crawler_viewing_a_dataset_is_not_stored(app, city):
    url = f"/dataset/{city['bus']['name']}"
    for agent in (BAIDU, "Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/131.0.0.0"):
        assert app.post("/_tracking", data={"type": "page", "url": url},
                        headers={"User-Agent": agent}).status_code == 204
    assert model.Session.query(TrackingRaw).count() == 0
    app.post("/_tracking", data={"type": "page", "url": url}, headers={"User-Agent": CHROME})
    assert model.Session.query(TrackingRaw).count() == 1


def test_the_visitor_key_keeps_no_address_and_changes_every_day(app):
    environ = {"HTTP_USER_AGENT": CHROME, "REMOTE_ADDR": "203.0.113.7"}
    with app.flask_app.test_request_context(environ_base=environ):
        from ckanext.yantai import tracking

        today = tracking.visitor_key(TODAY)
        assert today == tracking.visitor_key(TODAY)
        assert today != tracking.visitor_key(TODAY - dt.timedelta(days=1))
        assert "203.0.113.7" not in today and len(today) == 64
    with app.flask_app.test_request_context(environ_base={**environ,
                                                          "REMOTE_ADDR": "203.0.113.8"}):
        assert tracking.visitor_key(TODAY) != today


# -- API calls -------------------------------------------------------------------------------------

def counters(day: dt.date = TODAY) -> dict[str, int]:
    return {k.decode(): int(v) for k, v in usage._redis().hgetall(usage._key(day)).items()}


def test_api_calls_about_a_dataset_count_for_it_and_for_the_caller(app, city):
    bus = city["bus"]
    resource = bus["resources"][0]
    headers = {"Authorization": city["member"]["token"], "User-Agent": "python-requests/2.33"}
    app.get(f"/api/3/action/package_show?id={bus['name']}", headers=headers)
    app.post("/api/3/action/package_show", json={"id": bus["id"]}, headers=headers)
    app.get(f"/api/3/action/resource_show?id={resource['id']}",
            headers={"User-Agent": "ckanapi/4.11"})
    app.get("/api/3/action/package_search?q=公交", headers={"User-Agent": CHROME})
    # not counted: a crawler, a failed call, a dataset that is not there
    app.get(f"/api/3/action/package_show?id={bus['name']}", headers={"User-Agent": BAIDU})
    app.get("/api/3/action/package_show?id=no-such-dataset", headers={"User-Agent": CHROME},
            status=404)
    app.get(f"/api/3/action/package_show?id={city['closed']['name']}",
            headers={"User-Agent": CHROME}, status=404)
    assert counters() == {f"p:{bus['id']}": 3, f"u:{city['member']['id']}": 2}
    usage.roll_up(TODAY)
    assert daily() == {(TODAY, bus["id"]): (0, 0, 3)}


def test_what_is_counted_is_what_ckan_answered_about_not_what_the_request_named(app, city):
    """A request naming other things beside what CKAN reads (a query string on a POST, keys CKAN
    ignores) adds no counter for them: the counter is the answer's own dataset id."""
    bus, clinics = city["bus"], city["clinics"]
    answered = []
    for junk in ("x" * 90, clinics["name"], "../../etc"):
        resp = app.post(f"/api/3/action/package_show?id={junk}&resource_id={junk}",
                        json={"id": bus["name"], "name_or_id": junk},
                        headers={"User-Agent": CHROME}, expect_errors=True)
        if resp.status_code == 200:
            answered.append(resp.json["result"]["id"])
    resp = app.post("/api/3/action/package_show", data={"id": bus["name"]},
                    headers={"User-Agent": CHROME})
    answered.append(resp.json["result"]["id"])
    assert counters() == {f"p:{pkg_id}": answered.count(pkg_id) for pkg_id in answered}
    assert set(answered) <= {bus["id"], clinics["id"]}


@pytest.mark.ckan_config("ckanext.yantai.quota.enabled", "true")
def test_the_token_page_shows_the_owners_calls_and_quotas(app, city):
    user = city["member"]
    for _ in range(3):
        app.get("/api/3/action/package_search", headers={"Authorization": user["token"]})
    page = app.get(f"/user/{user['name']}/api-tokens",
                   headers={"Authorization": user["token"]})
    soup = BeautifulSoup(page.body, "html.parser")
    section = one(soup, ".yantai-api-usage")
    assert one(section, "h2").text == "我的 API 使用"
    assert one(section, ".yantai-api-today").text == "3"
    assert one(section, ".yantai-api-month").text == "3"
    quotas = [li.text for li in section.select(".yantai-api-quotas li")]
    assert quotas[0] == "API 与 DCAT 调用：每分钟 1200 次"


# -- the roll-up -----------------------------------------------------------------------------------

def test_the_roll_up_sums_visitors_downloads_and_calls_per_day_and_is_idempotent(app, city):
    bus, clinics = city["bus"], city["clinics"]
    yesterday = TODAY - dt.timedelta(days=1)
    noon = dt.datetime.combine(yesterday, dt.time(12))
    page = f"/dataset/{bus['name']}"
    for key in ("v1", "v2", "v1"):  # v1 twice: one view
        raw("page", page, key, noon)
    raw("page", page, "v1", noon + dt.timedelta(days=1))  # today: counted again
    raw("page", f"/dataset/{clinics['name']}", "v3", noon)
    raw("resource", bus["resources"][0]["url"], "v2", noon)
    usage._redis().hincrby(usage._key(yesterday), f"p:{clinics['name']}", 5)

    first = usage.roll_up(yesterday)
    expected = {(yesterday, bus["id"]): (2, 1, 0), (TODAY, bus["id"]): (1, 0, 0),
                (yesterday, clinics["id"]): (1, 0, 5)}
    assert daily() == expected
    assert first.changed == {bus["id"], clinics["id"]}
    again = usage.roll_up(yesterday)
    assert daily() == expected and again.changed == set()

    # the index sorts by them
    def order(sort: str) -> list[str]:
        return [d["name"] for d in call_action("package_search", sort=sort)["results"]][:2]

    assert order("views_total desc") == [bus["name"], clinics["name"]]
    assert order("downloads_total desc")[0] == bus["name"]
    assert order("api_calls_total desc")[0] == clinics["name"]


def test_api_calls_summed_before_redis_forgot_them_are_kept(app, city):
    day = TODAY - dt.timedelta(days=3)
    usage._redis().hincrby(usage._key(day), f"p:{city['bus']['id']}", 4)
    usage.roll_up(day)
    usage._redis().delete(usage._key(day))
    raw("page", f"/dataset/{city['bus']['name']}", "v1", dt.datetime.combine(day, dt.time(9)))
    usage.roll_up(day)
    assert daily()[(day, city["bus"]["id"])] == (1, 0, 4)


# -- the figures -----------------------------------------------------------------------------------

@pytest.fixture
def counted(city):
    """This month: the bus dataset 7 views, 2 downloads, 3 calls; clinics 4, 0, 1; the closed
    dataset 0, 0, 9 (government users' calls)."""
    rows = {city["bus"]["id"]: (7, 2, 3), city["clinics"]["id"]: (4, 0, 1),
            city["closed"]["id"]: (0, 0, 9)}
    for pkg_id, (v, d, a) in rows.items():
        model.Session.add(UsageDaily(day=TODAY, package_id=pkg_id, views=v, downloads=d,
                                           api_calls=a))
    model.Session.add(UsageDaily(day=(TODAY.replace(day=1) - dt.timedelta(days=1)),
                                       package_id=city["bus"]["id"], views=11, downloads=1,
                                       api_calls=0))
    model.Session.commit()
    return city


def test_the_public_figures_leave_out_what_the_public_cannot_find(app, counted):
    figures = Api(app, None).ok("yantai_usage_statistics")
    assert figures["scope"] == "public"
    assert figures["total"] == {"views": 11, "downloads": 2, "api_calls": 4}
    assert [(d["title"], d["views"]) for d in figures["datasets"]] == [
        ("烟台市公交线路站点信息", 7), ("医疗机构名录", 4)]
    assert [(d["title"], d["api_calls"]) for d in figures["departments"]] == [
        ("烟台市交通运输局", 3), ("烟台市卫生健康委员会", 1)]
    assert {d["title"]: d["views"] for d in figures["domains"]} == {
        "交通": 7, "卫生": 4, "医疗": 4}
    assert figures["trend"][-1] == {"month": TODAY.strftime("%Y-%m"), "views": 11,
                                    "downloads": 2, "api_calls": 4}
    assert figures["trend"][-2]["views"] == 11 and len(figures["trend"]) == 12


def test_a_department_sees_all_its_datasets_and_others_only_the_public_ones(app, counted):
    transport = counted["transport"]["name"]
    own = Api(app, counted["member"]["token"]).ok("yantai_usage_statistics",
                                                   organization=transport)
    assert own["scope"] == "department"
    assert own["total"] == {"views": 7, "downloads": 2, "api_calls": 12}
    assert {d["title"] for d in own["datasets"]} == {"烟台市公交线路站点信息", "出租车运营轨迹"}
    stranger = Api(app, ckan_factories.UserWithToken()["token"]).ok(
        "yantai_usage_statistics", organization=transport)
    assert stranger["scope"] == "public" and stranger["total"]["api_calls"] == 3


@pytest.mark.parametrize("given, field", [
    ({"month": "2026-13"}, "month"), ({"month": "3000-01"}, "month"),
    ({"month": "１９９９-01"}, "month"), ({"month": ["2026-11"]}, "month"),
    ({"month": "2026-11; DROP TABLE package"}, "month"),
    ({"organization": "no-such-department"}, "organization"),
    ({"organization": {"id": "x"}}, "organization"),
    ({"dataset": "no-such-dataset"}, "dataset")])
def test_bad_parameters_are_named(app, counted, given, field):
    errors = Api(app, None).errors("yantai_usage_statistics", **given)
    assert errors["__type"] == "Validation Error" and set(errors) == {"__type", field}


def test_a_hidden_dataset_is_answered_as_none(app, counted):
    errors = Api(app, None).errors("yantai_usage_statistics", dataset=counted["closed"]["name"])
    assert errors == Api(app, None).errors("yantai_usage_statistics", dataset="no-such-thing")


def test_the_statistics_page(app, counted):
    soup = BeautifulSoup(app.get("/statistics").body, "html.parser")
    assert one(soup, "h1").text.strip() == "数据使用统计"
    assert [dd.text for dd in soup.select(".yantai-usage-totals dd")] == ["11", "2", "4"]
    rows = [[c.text.strip() for c in tr.find_all(["th", "td"])]
            for tr in soup.select(".yantai-usage-datasets tbody tr")]
    assert rows[0][:2] == ["烟台市公交线路站点信息", "烟台市交通运输局"]
    assert "出租车运营轨迹" not in soup.text
    by_downloads = BeautifulSoup(app.get("/statistics?sort=downloads").body, "html.parser")
    assert one(by_downloads, "th[aria-sort]").text.strip().startswith("下载")
    bad = BeautifulSoup(app.get("/statistics?month=2026-99").body, "html.parser")
    assert "请按 YYYY-MM" in one(bad, ".alert-warning").text


def test_the_dataset_page_and_the_desk_show_the_figures(app, counted):
    page = BeautifulSoup(app.get(f"/dataset/{counted['bus']['name']}").body, "html.parser")
    assert [s.text for s in page.select(".yantai-dataset-usage strong")] == ["18", "3", "3"]
    desk = BeautifulSoup(app.get("/dashboard/", headers={
        "Authorization": counted["member"]["token"]}).body, "html.parser")
    line = desk.select_one(".yantai-desk-usage")
    assert line is not None and [s.text for s in line.select("strong")] == ["7", "2", "12"]


# -- the open dataset ------------------------------------------------------------------------------

def test_each_ended_month_is_published_as_a_csv_of_the_data_authority(app, counted):
    authority = factories.Organization(name="ytdsjj", title="烟台市大数据局", phone="0535-6788126")
    last_month = (TODAY.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    assert usage.publish_due() == {last_month.strftime("%Y-%m"): "created"}
    assert usage.publish_due() == {last_month.strftime("%Y-%m"): "unchanged"}
    dataset = call_action("package_show", id=usage.DATASET_NAME)
    assert dataset["owner_org"] == authority["id"] and dataset["open_type"] == "open"
    (resource,) = dataset["resources"]
    assert resource["name"] == f"{last_month.year}年{last_month.month}月数据使用统计"
    body = app.get(resource["url"].replace("http://test.ckan.net", "")).body
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows == [list(usage.CSV_COLUMNS), [
        last_month.strftime("%Y-%m"), counted["bus"]["name"], "烟台市公交线路站点信息",
        "烟台市交通运输局", "交通", "11", "1", "0"]]


def test_the_operators_calls_are_no_use_of_the_data(app, city):
    admin = ckan_factories.SysadminWithToken()
    app.get(f"/api/3/action/package_show?id={city['bus']['name']}",
            headers={"Authorization": admin["token"], "User-Agent": "ckanapi/4.11"})
    assert counters() == {f"u:{admin['id']}": 1}


def test_a_token_is_created_from_the_page_by_its_name_in_chinese(app, city):
    user = city["member"]
    headers = {"Authorization": user["token"]}
    soup = BeautifulSoup(app.get(f"/user/{user['name']}/api-tokens", headers=headers).body,
                         "html.parser")
    assert one(soup, "label[for=field-name]").text.strip().endswith("令牌名称")
    assert one(soup, "#field-name")["placeholder"] == "如：公交数据同步脚本"


# -- what a hostile visitor tried ------------------------------------------------------------------

@pytest.mark.parametrize("month", ["0000-01", "𝟎𝟎𝟎𝟎-01", "1999-12", "9999-01", "2026-00"])
def test_a_month_out_of_range_is_named_not_a_500(app, month):
    errors = Api(app, None).errors("yantai_usage_statistics", month=month)
    assert set(errors) == {"__type", "month"}
    page = app.get("/statistics", query_string={"month": month})
    assert "请按 YYYY-MM" in one(BeautifulSoup(page.body, "html.parser"), ".alert-warning").text


def test_one_browser_varying_its_headers_is_one_visitor(app, city):
    url = f"/dataset/{city['bus']['name']}"
    for i in range(5):
        app.post("/_tracking", data={"type": "page", "url": url}, headers={
            "User-Agent": CHROME, "Accept-Language": f"zh-CN;q=0.{i}",
            "Accept-Encoding": ["gzip", "br", "deflate", "identity", "*"][i]})
    usage.roll_up(TODAY)
    assert daily()[(TODAY, city["bus"]["id"])][0] == 1


@pytest.mark.parametrize("agent", [
    CHROME + " " + "x" * 600 + " Googlebot/2.1", "x", "-", "python-requests/2.33",
    "Mozilla/5.0 (compatible; Baiduspider/2.0)"])
def test_no_view_without_a_browser(app, city, agent):
    app.post("/_tracking", data={"type": "page", "url": f"/dataset/{city['bus']['name']}"},
             headers={"User-Agent": agent})
    assert model.Session.query(TrackingRaw).count() == 0


@pytest.mark.parametrize("agent", ["phpcrawl", "NodePing", "java Googlebot/2.1 crawler",
                                   "python-requests/2.33 (my-spider)", "Java/17 Crawler"])
def test_crawlers_on_http_libraries_are_crawlers(agent):
    assert usage.is_api_crawler(agent)


def test_the_csv_is_text_not_formulas_and_forgets_datasets_closed_since(app, counted):
    factories.Organization(name="ytdsjj", title="烟台市大数据局", phone="0535-6788126")
    last_month = (TODAY.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    admin = {"user": ckan_factories.Sysadmin()["name"]}
    call_action("package_patch", context=dict(admin), id=counted["bus"]["id"],
                title='=HYPERLINK("http://evil.example/x","点击")')
    usage.publish_due()
    body = usage.month_csv(last_month).decode("utf-8-sig")
    formula = '=HYPERLINK("http://evil.example/x","点击")'
    assert list(csv.reader(io.StringIO(body)))[1][2] == "'" + formula
    call_action("package_patch", context=dict(admin), id=counted["bus"]["id"], open_type="closed",
                share_type="conditional", share_condition="仅限政务部门")
    assert usage.publish_due() == {last_month.strftime("%Y-%m"): "updated"}
    (resource,) = call_action("package_show", id=usage.DATASET_NAME)["resources"]
    published = app.get(resource["url"].replace("http://test.ckan.net", "")).body
    assert counted["bus"]["name"] not in published and len(published.splitlines()) == 1


def test_an_import_names_a_bad_dataset_not_a_500(app, city):
    admin = ckan_factories.SysadminWithToken()
    for bad in (["x"], {"a": 1}, None):
        errors = Api(app, admin["token"]).errors("yantai_usage_import", rows=[
            {"day": "2020-01-01", "dataset": bad, "views": 1}])
        assert set(errors) == {"__type", "rows[0].dataset"}


def test_after_an_old_import_the_roll_up_does_not_walk_the_years(app, city):
    admin = ckan_factories.SysadminWithToken()
    Api(app, admin["token"]).ok("yantai_usage_import", rows=[
        {"day": "2020-01-01", "dataset": city["bus"]["name"], "views": 3}])
    assert len(usage.roll_up().days) <= usage.KEEP_DAYS + 1
    assert daily()[(dt.date(2020, 1, 1), city["bus"]["id"])] == (3, 0, 0)
