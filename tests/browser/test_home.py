"""The home page, header and dataset page as a visitor sees them, at 1280 and 390 px."""
from __future__ import annotations

import re

import pytest

from tests.browser.conftest import DESKTOP, PHONE

# Title and subtitle each fit the header (not cut off) and stay inside it.
HEADER_FITS = """() => {
  const header = document.querySelector('header.masthead').getBoundingClientRect();
  return ['.yantai-brand-title', '.yantai-brand-subtitle'].map(sel => {
    const el = document.querySelector(sel), box = el.getBoundingClientRect();
    return {sel, cut: el.scrollWidth > el.clientWidth + 1,
            inside: box.top >= header.top && box.bottom <= header.bottom
                    && box.left >= 0 && box.right <= window.innerWidth};
  });
}"""


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
def test_header_title_and_subtitle_fit(journey, viewport):
    page = journey.page(viewport)
    journey.go(page, "/")
    journey.shot(page, "home")
    for part in page.evaluate(HEADER_FITS):
        assert part["inside"] and not part["cut"], part
    assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"]


def test_the_open_phone_menu_keeps_the_subtitle_off_the_search_box(journey):
    page = journey.page(PHONE)
    journey.go(page, "/")
    page.click(".navbar-toggler")
    page.wait_for_selector("#main-navigation-toggle.show")
    page.wait_for_timeout(500)  # the collapse animation
    journey.shot(page, "menu-open")
    subtitle = page.locator(".yantai-brand-subtitle").bounding_box()
    search = page.locator("#field-sitewide-search").bounding_box()
    assert subtitle["y"] + subtitle["height"] <= search["y"]


def test_a_domain_tile_leads_to_as_many_datasets_as_it_shows(journey):
    page = journey.page()
    journey.go(page, "/")
    tile = page.locator("a.yantai-domain-tile", has_text="交通")
    shown = int(re.sub(r"\D", "", tile.locator(".yantai-domain-count").inner_text()))
    assert shown > 0
    tile.click()
    page.wait_for_load_state("networkidle")
    text = journey.shot(page, "domain-search")
    assert f"找到{shown}个数据集" in text.replace(" ", "")


def test_the_dataset_page_on_a_phone(journey):
    page = journey.page(PHONE)
    journey.go(page, "/dataset/?q=公交")
    page.locator(".dataset-heading a").first.click()
    page.wait_for_load_state("networkidle")
    journey.shot(page, "dataset")
    primary = page.locator(".wrapper > .primary").bounding_box()
    secondary = page.locator(".wrapper > .secondary").bounding_box()
    assert primary["y"] < secondary["y"], "the sidebar comes before the dataset"
    items = page.locator(".resource-item")
    assert items.count() > 0
    for i in range(items.count()):
        assert items.nth(i).locator(".yantai-resource-actions a.btn").first.is_visible()
    # 信息项: each header on one line (the table scrolls sideways instead of wrapping).
    heights = page.eval_on_selector_all(
        ".yantai-info-items th", "ths => ths.map(th => th.getBoundingClientRect().height)")
    assert heights and max(heights) < 2 * min(heights)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
