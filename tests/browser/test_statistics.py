"""A visitor views a dataset and a developer calls the API about it; after the daily roll-up
(``ckan tracking update``, as the scheduler runs it) the dataset page counts them, the
statistics page shows this month's figures with charts, the developer sees the call on the API
token page, the transport bureau its own month on its desk, and the monthly figures are an
open dataset of the portal."""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import ckan.plugins.toolkit as tk

from tests.conftest import ROOT

DATASET = "/dataset/bus-routes-stops"
PHONE = {"width": 390, "height": 844}


def roll_up(url: str) -> None:
    ckan = os.path.join(os.path.dirname(sys.executable), "ckan")
    subprocess.run([ckan, "-c", tk.config["__file__"], "tracking", "update"], check=True,
                   cwd=ROOT, capture_output=True, timeout=600,
                   env={**os.environ, "CKAN_SITE_URL": url})


def counts(page) -> list[int]:
    """Views, downloads and API calls on a dataset page."""
    return [int(s) for s in page.locator(".yantai-dataset-usage strong").all_inner_texts()]


def test_this_months_figures_count_what_people_did(journey):
    visitor = journey.page()
    journey.go(visitor, DATASET)
    before = counts(visitor)
    journey.shot(visitor, "dataset-before")

    developer = journey.page(user=journey.portal.accounts["citizen"])
    journey.go(developer, "/api/3/action/package_show?id=bus-routes-stops")
    assert '"success": true' in developer.inner_text("body")

    roll_up(journey.portal.url)
    journey.go(visitor, DATASET)
    after = counts(visitor)
    journey.shot(visitor, "dataset-after")
    assert after[0] == before[0] + 1 and after[2] == before[2] + 1, (before, after)

    visitor.locator(".yantai-dataset-usage a", has_text="数据使用统计").click()
    visitor.wait_for_load_state("networkidle")
    text = journey.shot(visitor, "statistics")
    month = dt.date.today().strftime("%Y-%m")
    assert visitor.locator("#usage-month").input_value() == month
    assert "烟台市公交线路站点信息" in text and "烟台市交通运输局" in text
    totals = [int(t) for t in visitor.locator(".yantai-usage-totals dd").all_inner_texts()]
    assert len(totals) == 3 and totals[0] >= 1 and totals[2] >= 1
    for chart in ("trend", "departments", "domains"):
        assert visitor.locator(f"#yantai-usage-{chart} svg").count() == 1, chart
    # sorted by downloads; then one department's figures
    visitor.locator(".yantai-usage-datasets thead a", has_text="下载量").click()
    visitor.wait_for_load_state("networkidle")
    downloads = [int(t) for t in visitor.locator(
        ".yantai-usage-datasets tbody tr td:nth-child(4)").all_inner_texts()]
    assert downloads == sorted(downloads, reverse=True) and downloads
    visitor.select_option("#usage-organization", label="烟台市交通运输局")
    visitor.click(".yantai-usage-form button[type=submit]")
    visitor.wait_for_load_state("networkidle")
    text = journey.shot(visitor, "statistics-transport")
    departments = visitor.locator(
        ".yantai-usage-datasets tbody tr td:nth-child(2)").all_inner_texts()
    assert "烟台市公交线路站点信息" in text and set(departments) == {"烟台市交通运输局"}

    visitor.locator("a", has_text="按月统计数据（开放数据集，CSV）").click()
    visitor.wait_for_load_state("networkidle")
    text = journey.shot(visitor, "open-dataset")
    assert "烟台市公共数据开放网数据使用情况统计" in text and "数据使用统计" in text

    phone = journey.page(PHONE)
    journey.go(phone, "/statistics")
    journey.shot(phone, "statistics-phone")

    name = journey.portal.accounts["citizen"]
    journey.go(developer, f"/user/{name}/api-tokens")
    text = journey.shot(developer, "api-tokens")
    assert "我的 API 使用" in text
    assert int(developer.locator(".yantai-api-today").inner_text()) >= 1

    editor = journey.page(user=journey.portal.accounts["editor"])
    journey.go(editor, "/dashboard/")
    line = editor.locator(".yantai-desk-usage")
    assert line.count() == 1 and "本月" in line.inner_text()
    journey.shot(editor, "desk")


def test_search_sorts_by_most_viewed(journey):
    page = journey.page()
    journey.go(page, "/dataset/")
    with page.expect_navigation():
        page.select_option("#field-order-by", label="浏览最多")
    page.wait_for_load_state("networkidle")
    assert "sort=views_total" in page.url
    journey.shot(page, "most-viewed")
    first, second = page.locator(".dataset-heading a").evaluate_all(
        "links => links.slice(0, 2).map(a => a.getAttribute('href'))")
    views = []
    for href in (first, second):
        journey.go(page, href)
        views.append(counts(page)[0])
    assert views[0] >= views[1] > 0, views


def test_the_compliance_dashboard_draws_its_charts(journey):
    """The other page drawing with the shared chart code (charts.js)."""
    reviewer = journey.page(user=journey.portal.accounts["reviewer"])
    journey.go(reviewer, "/compliance")
    journey.shot(reviewer, "compliance")
    for chart in ("trend", "ranking"):
        drawn = reviewer.locator(f"#yantai-chart-{chart}")
        assert drawn.locator("svg").count() == 1, chart
        assert drawn.get_attribute("aria-label"), chart
        assert drawn.bounding_box()["height"] >= 100, chart
