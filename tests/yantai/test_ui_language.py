"""The web pages in Chinese: the main page types, rendered by the Flask test app for an anonymous
visitor, a registered user and a sysadmin, show no stock English string of CKAN, ckanext-harvest or
ckanext-activity, none of the stock catalogue's wrong words, no gravatar image; harvest times are
in Asia/Shanghai; and the same pages under /en/ stay English."""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from bs4 import BeautifulSoup
from ckan.plugins import PluginImplementations
from ckan.plugins.interfaces import ITranslation
from ckan.tests import factories as ckan_factories
from ckan.tests.helpers import call_action
from ckanext.harvest.model import HarvestJob

from tests import factories

pytestmark = pytest.mark.usefixtures("clean_db", "clean_index")

# Stock strings seen on Chinese pages before the catalogue and the templates were corrected.
STOCK = (
    "Username or Email", "登陆", "Profile settings", "News feed", "追从者", "读取更多",
    "文挡", "价值", "Joe Bloggs", "exciting things", "Datastore active", "Has views",
    "Url type",
    "Skip to main content", "Harvest Sources", "Harvest Jobs", "Job Report", "Last Harvest Job",
    "Not Found", "Forbidden", "You might need to login", "The requested URL was not found",
    "Creative Commons Attribution", "All activity types", "New Package", "harvests found",
    "Twitter", "Facebook", "Source type", "UTC",
)
# Words a Chinese page may carry in Latin letters: names of formats, standards and products.
ALLOWED_WORDS = {
    "CKAN", "API", "DCAT", "RDF", "CSV", "JSON", "XLSX", "XLS", "XML", "PDF", "TXT", "HTML", "ZIP",
    "Markdown", "CC", "BY", "SA", "ODC", "ODbL", "PDDL", "GFDL", "GNU", "OGL", "NC", "By",
    "ID", "URL", "HTTP", "http", "https", "Open", "Data", "Turtle", "LD", "KB", "MB", "GB",
    "English",  # the language switcher names English in English
    "harvest", "yantai-release",  # the harvest form's address prefix and a harvester's format name
    "close",  # hidden text of CKAN's search templates, hard-coded (no msgid)
}


@pytest.fixture
def site():
    """A department with an editor, a dataset with a resource, a harvest source with a finished job
    whose times are known, a sysadmin and a user who belongs nowhere."""
    sysadmin = ckan_factories.Sysadmin(fullname="平台管理员", about="")
    editor = ckan_factories.User(fullname="王编辑", about="数据管理科工作人员。",
                                 image_url="")
    user = ckan_factories.User(fullname="李市民", about="")
    org = factories.Organization(
        title="烟台市测试局", description="测试用部门。",
        users=[{"name": editor["name"], "capacity": "editor"}])
    dataset = factories.Dataset(title="测试公交线路", owner_org=org["id"], user=editor,
                                open_type="conditional", open_condition="签署安全承诺书",
                                share_type="none", share_condition="不共享")
    resource = ckan_factories.Resource(package_id=dataset["id"], name="线路表", format="CSV",
                                       description="各线路站点。",
                                       url="http://example.com/lines.csv",
                                       last_modified="2026-03-01T17:30:00")
    source = call_action("harvest_source_create", context={"user": sysadmin["name"]},
                         name="ui-source", title="测试采集源",
                         url="http://1.2.3.4/manifest.json", source_type="yantai_release",
                         owner_org=org["id"])
    job = HarvestJob(source_id=source["id"], status="Finished",
                     created=dt.datetime(2026, 1, 1, 0, 0),
                     gather_started=dt.datetime(2026, 1, 1, 0, 1),
                     finished=dt.datetime(2026, 1, 1, 0, 5))  # UTC, as CKAN stores times
    job.save()
    return {"sysadmin": sysadmin, "editor": editor, "user": user, "org": org, "dataset": dataset,
            "resource": resource, "job": job.id}


def get(app, url: str, user: dict | None = None, status: int = 200) -> str:
    headers = {}
    if user is not None:
        headers["Authorization"] = ckan_factories.APIToken(user=user["name"])["token"]
    resp = app.get(url, headers=headers)
    assert resp.status_code == status, (url, resp.status_code)
    return resp.get_data(as_text=True)


def visible_text(html: str) -> str:
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    # What the visitor reads: the text, and the placeholders and tooltips of the form.
    attrs = [el.get(a, "") for a in ("placeholder", "title", "alt", "aria-label")
             for el in soup.find_all(attrs={a: True})]
    return soup.get_text(" ") + " " + " ".join(attrs)


def foreign_words(text: str, names: set[str]) -> set[str]:
    """Latin-letter words of the text that are neither allowed nor the site's own names."""
    text = re.sub(r"\S+@\S+|\w+://\S+|[0-9a-f]{8}-[0-9a-f-]{27}", " ", text)  # addresses, ids
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, " ")
    words = set(re.findall(r"[A-Za-z][A-Za-z'-]*[A-Za-z]", text))
    return {w for w in words if w not in ALLOWED_WORDS
            and not set(w.split("-")) <= ALLOWED_WORDS}


def pages(site: dict) -> list[tuple[str, str | None, int]]:
    """(url, who, status) for every page type; who names a user of the site fixture."""
    name, org, res = site["dataset"]["name"], site["org"]["name"], site["resource"]["id"]
    job = site["job"]
    return [
        ("/dataset", None, 200), (f"/dataset/{name}", None, 200),
        (f"/dataset/{name}", "user", 200), (f"/organization/{org}", "user", 200),
        (f"/dataset/{name}/resource/new", "editor", 200),
        (f"/dataset/{name}/resource/{res}", None, 200), ("/organization", None, 200),
        (f"/organization/{org}", None, 200), ("/group", None, 200),
        ("/user/login", None, 200), ("/user/register", None, 200),
        (f"/dataset/activity/{name}", None, 200), ("/no-such-page", None, 404),
        ("/dataset/new", None, 403),
        ("/dashboard/datasets", "editor", 200), (f"/user/{site['editor']['name']}", "editor", 200),
        (f"/user/edit/{site['editor']['name']}", "editor", 200), ("/dataset/new", "editor", 200),
        ("/ckan-admin", "user", 403),
        ("/harvest", "sysadmin", 200), ("/harvest/ui-source", "sysadmin", 200),
        ("/harvest/admin/ui-source", "sysadmin", 200), ("/harvest/ui-source/job", "sysadmin", 200),
        (f"/harvest/ui-source/job/{job}", "sysadmin", 200), ("/harvest/new", "sysadmin", 200),
    ]


def test_no_stock_english_or_wrong_word_on_a_chinese_page(app, site):
    names = {site[k]["name"] for k in ("sysadmin", "editor", "user", "org", "dataset")}
    names.add("ui-source")
    found = {}
    for url, who, status in pages(site):
        html = get(app, url, site[who] if who else None, status)
        text = visible_text(html)
        stock = [s for s in STOCK if s in text]
        stray = foreign_words(text, names)
        if stock or stray:
            found[url + (f" ({who})" if who else "")] = (stock, sorted(stray))
    assert found == {}


def test_custom_fields_are_headed_field_and_value(app, site):
    html = get(app, f"/dataset/{site['dataset']['name']}/resource/{site['resource']['id']}")
    assert ">字段<" in html and ">值<" in html
    assert ">域<" not in html and "价值" not in html
    # A stored UTC time read in Asia/Shanghai, not as a raw ISO string
    assert "2026-03-02 01:30" in html and "2026-03-01T17:30" not in html


def test_the_login_page_says_denglu(app):
    text = visible_text(get(app, "/user/login"))
    assert "登录" in text and "登陆" not in text
    assert "用户名或电子邮箱" in text


def test_no_page_asks_gravatar_for_an_avatar(app, site):
    for url, who in ((f"/user/{site['editor']['name']}", "editor"),
                     ("/dashboard/datasets", "editor"),
                     (f"/dataset/activity/{site['dataset']['name']}", None)):
        html = get(app, url, site[who] if who else None)
        assert "gravatar" not in html.lower(), url
    assert "placeholder-user.png" in get(app, f"/user/{site['editor']['name']}", site["editor"])


def test_harvest_times_are_shown_in_asia_shanghai(app, site):
    for url in ("/harvest/admin/ui-source", "/harvest/ui-source/job",
                f"/harvest/ui-source/job/{site['job']}"):
        text = visible_text(get(app, url, site["sysadmin"]))
        assert "2026-01-01 08:01" in text and "2026-01-01 08:05" in text, url
        assert "automatic-local-datetime" not in get(app, url, site["sysadmin"])
    assert "已完成" in visible_text(get(app, "/harvest/admin/ui-source", site["sysadmin"]))


def test_error_pages_are_in_chinese(app, site):
    text = visible_text(get(app, "/no-such-page", status=404))
    assert "页面不存在" in text and "您访问的页面不存在" in text
    text = visible_text(get(app, "/dataset/new", status=403))
    assert "拒绝访问" in text and "点此登录" in text


def test_the_apply_form_names_its_fields_in_its_errors(app, site):
    name = site["dataset"]["name"]
    token = ckan_factories.APIToken(user=site["user"]["name"])["token"]
    resp = app.post(f"/dataset/{name}/apply", headers={"Authorization": token},
                    data={"purpose": "", "intended_use": ""})
    soup = BeautifulSoup(resp.get_data(as_text=True), "html.parser")
    summary = soup.select_one(".error-explanation")
    assert summary is not None
    text = summary.get_text(" ")
    assert "purpose" not in text and "intended_use" not in text
    assert "用途" in text or "目的" in text


def test_english_stays_english_under_en(app, site):
    text = visible_text(get(app, "/en/user/login"))
    assert "Username or Email" in text and "用户名或电子邮箱" not in text
    text = visible_text(get(app, "/en/harvest/admin/ui-source", site["sysadmin"]))
    assert "Last Harvest Job" in text and "最近一次" not in text


def test_our_catalogue_wins_over_the_stock_ones():
    """CKAN merges the ITranslation catalogues in reverse plugin order over its own: ours, first
    in ckan.plugins, is merged last, so its corrections of core and harvest strings hold."""
    domains = [p.i18n_domain() for p in PluginImplementations(ITranslation)]
    assert domains[-1] == "ckanext-yantai"


@pytest.mark.parametrize("path, expected", [
    ("/", "2026年12月4日 11:23"),
    ("/en/", "December 4, 2026, 11:23 (+0800)")])
def test_a_time_to_the_minute_reads_naturally_in_each_language(app, path, expected):
    import ckan.plugins.toolkit as tk

    lang = "en" if path == "/en/" else "zh_Hans_CN"
    with app.flask_app.test_request_context(path, environ_base={"CKAN_LANG": lang}):
        naive_utc = dt.datetime(2026, 12, 4, 3, 23)
        assert tk.h.render_datetime(naive_utc, with_hours=True) == expected
        assert tk.h.render_datetime("2026-12-04T03:23:00", with_hours=True) == expected
        aware = dt.datetime(2026, 12, 4, 3, 23, tzinfo=dt.UTC)
        assert tk.h.render_datetime(aware, with_hours=True) == expected
        assert tk.h.render_datetime(naive_utc, date_format="%Y-%m-%d") == "2026-12-04"


def test_the_catalogue_is_sound():
    """Each message once (a second translation of the same text is silently dropped), every
    placeholder of the text kept in its translation, and the compiled catalogue built from this
    one (a forgotten ``pybabel compile`` shows English)."""
    from pathlib import Path

    from babel.messages.mofile import read_mo
    from babel.messages.pofile import read_po

    folder = (Path(__file__).parents[2] / "ckanext-yantai/ckanext/yantai/i18n/zh_Hans_CN"
              / "LC_MESSAGES")
    text = (folder / "ckanext-yantai.po").read_text("utf-8")
    ids = re.findall(r'^(?:msgctxt "(?:[^"\\]|\\.)*"\n)?msgid "((?:[^"\\]|\\.)*)"', text, re.M)
    repeated = sorted({one for one in ids if ids.count(one) > 1})
    assert repeated == []
    with (folder / "ckanext-yantai.po").open("rb") as source:
        catalogue = read_po(source, locale="zh_Hans_CN")
    assert catalogue.num_plurals == 1
    placeholder = re.compile(r"\{[a-z_]*\}|%\([a-z_]+\)s")
    for entry in catalogue:
        if not entry.id or not entry.string:
            continue
        wanted = set(placeholder.findall(_texts(entry.id)[-1]))
        for translated in _texts(entry.string):
            assert set(placeholder.findall(translated)) == wanted, entry.id
    with (folder / "ckanext-yantai.mo").open("rb") as compiled:
        built = {_texts(entry.id): _texts(entry.string) for entry in read_mo(compiled)
                 if entry.id}
    assert built == {_texts(entry.id): _texts(entry.string) for entry in catalogue
                     if entry.id and entry.string}


def _texts(value: Any) -> tuple[str, ...]:
    """A message's text or its plural forms, as a tuple whichever reader gave them."""
    return tuple(value) if isinstance(value, (list, tuple)) else (value,)
