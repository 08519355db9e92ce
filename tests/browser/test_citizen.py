"""A citizen finds bus data from the home page, previews it and downloads it."""
from __future__ import annotations

import csv
import io

from tests.browser.conftest import PHONE


def preview_text(page) -> str:
    """The text of the resource's preview, inline or in CKAN's view frame."""
    texts = [page.inner_text("body")]
    for frame in page.frames[1:]:
        frame.wait_for_load_state("networkidle")
        texts.append(frame.inner_text("body"))
    return "\n".join(texts)


def test_a_citizen_finds_previews_and_downloads_bus_stops(journey):
    page = journey.page()
    journey.go(page, "/")
    journey.shot(page, "home")

    page.locator("a.yantai-domain-tile", has_text="交通").click()
    page.wait_for_load_state("networkidle")
    journey.shot(page, "transport")

    page.fill("#field-giant-search, input[name=q]", "公交")
    page.press("#field-giant-search, input[name=q]", "Enter")
    page.wait_for_load_state("networkidle")
    text = journey.shot(page, "search")
    assert "烟台市公交线路站点信息" in text

    page.locator(".dataset-heading a", has_text="烟台市公交线路站点信息").click()
    page.wait_for_load_state("networkidle")
    text = journey.shot(page, "dataset")
    assert "无条件开放" in text

    page.locator(".resource-item a.heading", has_text="公交线路站点表").click()
    page.wait_for_load_state("networkidle")
    text = preview_text(page)
    journey.shot(page, "resource-preview")
    assert "该资源暂时没有视图" not in text
    for cell in ("烟台火车站", "毓璜顶医院", "121.3921"):
        assert cell in text, f"the preview shows no {cell}"

    with page.expect_download() as got:
        page.locator("a.resource-url-analytics, a[href*='/download/']").first.click()
    rows = list(csv.reader(io.StringIO(got.value.path().read_text(encoding="utf-8-sig"))))
    assert rows[0] == ["线路名称", "站点序号", "站点名称", "经度", "纬度"]
    assert ["46路", "2", "毓璜顶医院", "121.3932", "37.5311"] in rows

    # The table was loaded into the DataStore: its status, a search in Chinese in the preview's
    # box, the table's own downloads
    status = page.locator(".yantai-datastore-status")
    assert "已载入" in status.inner_text(), status.inner_text()
    table = page.frame_locator("iframe").first
    box = table.locator("input[type=search][aria-controls=dtprv]")
    box.fill("毓璜顶")
    with page.expect_response(lambda r: "/datatables/ajax/" in r.url) as searched:
        box.press("Enter")  # the view searches on Enter
    assert searched.value.ok
    table.locator("td", has_text="毓璜顶医院").first.wait_for()
    shown = table.locator("table#dtprv tbody").inner_text()
    journey.shot(page, "table-search")
    assert "毓璜顶医院" in shown and "烟台火车站" not in shown, shown

    with page.expect_download() as got:
        status.locator("a", has_text="CSV").click()
    assert got.value.suggested_filename == "烟台市公交线路站点信息-公交线路站点表.csv"
    data = got.value.path().read_bytes()
    assert data.startswith("\ufeff线路名称,站点序号".encode())


def test_the_resource_page_on_a_phone(journey):
    page = journey.page(PHONE)
    journey.go(page, "/dataset/bus-routes-stops")
    page.locator(".resource-item a.heading").first.click()
    page.wait_for_load_state("networkidle")
    journey.shot(page, "resource")
    download = page.locator("a.resource-url-analytics, a[href*='/download/']").first
    assert download.is_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
