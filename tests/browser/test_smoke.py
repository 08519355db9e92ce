"""Every main page opens in Chinese with CKAN's JavaScript alive."""
from __future__ import annotations

import pytest

PAGES = ["/", "/dataset/", "/organization/", "/organization/ytjtysj", "/organization/about/ytjtysj",
         "/group/", "/about", "/user/login"]


@pytest.mark.parametrize("path", PAGES)
def test_page_opens_in_chinese_with_its_javascript(journey, path):
    page = journey.page()
    response = journey.go(page, path)
    assert response.status == 200
    journey.shot(page, "page")
