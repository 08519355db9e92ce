"""Journeys in a real browser: Playwright driving Debian's Chromium against the live test portal,
loaded with the demo catalogue.

Every page a journey opens fails the test on a same-origin answer of 4xx/5xx, a page error, a
request to another site, or a stock placeholder on the page. Screenshots of each step go to
``.run/browser/<test>/`` (RUN_DIR) for a person to look at.
"""
from __future__ import annotations

import dataclasses
import os
import pathlib
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import ckan.plugins.toolkit as tk
import pytest
from ckan.tests import factories
from ckanapi import RemoteCKAN

from demo import Loader, read_catalogue
from tests.conftest import ROOT, serve_portal

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Chromium's own background traffic (updates, sync, safe browsing) would be refused by a closed
# network and is none of the portal's business.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage"]
SHOTS = pathlib.Path(os.environ.get("RUN_DIR", ROOT / ".run")) / "browser"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
PASSWORD = "Yantai-Browser-2026"

# What a page of a real portal never shows: CKAN's and its extensions' stock content.
PLACEHOLDERS = ("欢迎來到CKAN", "欢迎来到CKAN", "Welcome to CKAN", "这是一个关于CKAN", "420 x 220",
                "Joe Bloggs", "other exciting things", "Lorem ipsum", "Powered by",
                # CKAN's JavaScript strings left in English (its translations not built)
                "Show more", "Upload a file")


# CKAN starts its JS modules only once the page's translations have loaded.
JS_STARTED = """() => {
  const declared = document.querySelectorAll('[data-module]').length;
  const started = Object.values(window.ckan?.module?.instances || {}).flat().length;
  return !!window.ckan?.i18n && (declared === 0 || started > 0);
}"""


@dataclasses.dataclass
class Portal:
    url: str
    accounts: dict[str, str]  # role -> user name (all with PASSWORD)
    catalogue: dict[str, Any]


@pytest.fixture(scope="package")
def portal() -> Iterator[Portal]:
    """The portal on a clean test database with the demo catalogue (its tables loaded into the
    DataStore by a background worker, as after ``make up``), an editor and an admin of the
    transport bureau, a data-authority reviewer and a citizen."""
    with serve_portal(workers=2, own_site_url=True,
                      settings={"ckanext.yantai.datastore.load_on_update": "true"}) as url:
        admin = factories.SysadminWithToken()
        catalogue = read_catalogue()
        with RemoteCKAN(url, apikey=admin["token"]) as client:
            Loader(client, log=lambda *_: None).load(catalogue)
            run_background_jobs(url)
            accounts: dict[str, str] = {"sysadmin": admin["name"]}
            for role in ("editor", "admin", "reviewer", "citizen"):
                user = factories.User(name=f"browser-{role}", password=PASSWORD, image_url="",
                                      fullname={"editor": "交通局数据专员",
                                                "admin": "交通局数据管理员",
                                                "reviewer": "大数据局审核员",
                                                "citizen": "市民张先生"}[role])
                accounts[role] = user["name"]
            transport = transport_department(catalogue)
            client.action.organization_member_create(id=transport, username=accounts["editor"],
                                                     role="editor")
            client.action.organization_member_create(id=transport, username=accounts["admin"],
                                                     role="admin")
            client.action.organization_member_create(
                id=tk.config["ckanext.yantai.access.authority_org"],
                username=accounts["reviewer"], role="editor")
        yield Portal(url, accounts, catalogue)


def run_background_jobs(url: str) -> None:
    """What the portal at ``url`` queued (tables to load), done by CKAN's worker until the queue
    is empty. The worker knows the portal's address, as in production: the datasets it indexes
    carry their links in Solr, where package_show reads them."""
    ckan = os.path.join(os.path.dirname(sys.executable), "ckan")
    subprocess.run([ckan, "-c", tk.config["__file__"], "jobs", "worker", "--burst"],
                   check=True, cwd=ROOT, capture_output=True, timeout=900,
                   env={**os.environ, "CKAN_SITE_URL": url})


def transport_department(catalogue: dict[str, Any]) -> str:
    for org in catalogue["organizations"]:
        if "交通" in org["title"]:
            return org["name"]
    raise AssertionError("the demo catalogue has no transport department")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium "
                    "(scripts/bootstrap.sh system)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Watch:
    """A browser tab's problems: failing same-origin answers, page errors, outside requests."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.problems: list[str] = []
        self.allowed: list[re.Pattern[str]] = []

    def expect(self, pattern: str) -> None:
        """An answer a journey provokes on purpose (e.g. a 403 it checks)."""
        self.allowed.append(re.compile(pattern))

    def response(self, response: Any) -> None:
        if response.url.startswith(self.origin) and response.status >= 400 and not any(
                p.search(response.url) for p in self.allowed):
            self.problems.append(f"HTTP {response.status} {response.request.method} "
                                 f"{response.url}")

    def request_failed(self, request: Any) -> None:
        if request.url.startswith(self.origin) and "ERR_ABORTED" not in (request.failure or ""):
            self.problems.append(f"failed {request.url}: {request.failure}")

    def route(self, route: Any) -> None:
        url = route.request.url
        # chrome:// and chrome-extension:// are the browser's own (its PDF viewer), no network.
        if url.startswith((self.origin, "data:", "blob:", "chrome:", "chrome-extension:")):
            route.continue_()
        else:
            self.problems.append(f"outside request {url}")
            route.abort()


@pytest.fixture
def journey(request, browser, portal):
    """Opens tabs (``journey.page(viewport)``) that watch for problems; fails the test on any."""
    folder = SHOTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    j = Journey(browser, portal, folder)
    yield j
    j.close()
    assert not j.watch.problems, "\n".join(j.watch.problems)


class Journey:
    def __init__(self, browser: Any, portal: Portal, folder: pathlib.Path) -> None:
        self.browser, self.portal, self.folder = browser, portal, folder
        self.watch = Watch(portal.url)
        self.contexts: list[Any] = []
        self.step = 0

    def page(self, viewport: dict[str, int] = DESKTOP, user: str | None = None) -> Any:
        # The User-Agent this Chromium sends when it has a window: a headless browser is a
        # crawler to the usage statistics, and the journeys are people's.
        agent = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                 f"Chrome/{self.browser.version} Safari/537.36")
        context = self.browser.new_context(viewport=viewport, locale="zh-CN",
                                           timezone_id="Asia/Shanghai", accept_downloads=True,
                                           user_agent=agent)
        context.set_default_timeout(30_000)
        context.route("**/*", self.watch.route)
        self.contexts.append(context)
        page = context.new_page()
        page.on("response", self.watch.response)
        page.on("requestfailed", self.watch.request_failed)
        page.on("pageerror", lambda e: self.watch.problems.append(f"page error {e}"))
        if user:
            self.log_in(page, user)
        return page

    def go(self, page: Any, path: str) -> Any:
        response = page.goto(self.portal.url + path, wait_until="networkidle")
        return response

    def log_in(self, page: Any, user: str) -> None:
        self.go(page, "/user/login")
        page.fill("#field-login", user)
        page.fill("#field-password", PASSWORD)
        page.click("form.form-horizontal button[type=submit], form button.btn-primary")
        page.wait_for_load_state("networkidle")
        assert page.locator("form[action$='/user/_logout']").count(), f"{user} could not log in"

    def shot(self, page: Any, name: str) -> str:
        """Screenshot the page, and check that it is the portal's: JS modules started, no stock
        placeholder. Returns the page's visible text."""
        self.step += 1
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(self.folder / f"{self.step:02d}-{name}.png"), full_page=True)
        text = page.inner_text("body")
        found = [p for p in PLACEHOLDERS if p.lower() in text.lower()]
        assert not found, f"{name}: stock placeholder {found} on {page.url}"
        assert page.evaluate(JS_STARTED), f"{name}: CKAN's JS modules did not start on {page.url}"
        assert page.evaluate("() => document.documentElement.lang").startswith("zh"), page.url
        return text

    def close(self) -> None:
        for context in self.contexts:
            context.close()
