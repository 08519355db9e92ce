"""A firm looks itself up in 信用查询: by a fragment of its name and by its code, reads its
records from every department, and downloads its 信用报告."""
from __future__ import annotations

import io

import openpyxl
import pypdf

from tests.browser.conftest import PHONE

FIRM = "91370600MA3CR5H88F"  # 烟台恒瑞化工有限公司 in the demo catalogue


def test_a_firm_finds_its_credit_records_and_downloads_its_report(journey):
    page = journey.page()
    journey.go(page, "/")
    page.locator("header nav a", has_text="信用查询").click()
    page.wait_for_load_state("networkidle")
    journey.shot(page, "credit")

    page.fill("#credit-q", "恒瑞")
    page.press("#credit-q", "Enter")
    page.wait_for_load_state("networkidle")
    text = journey.shot(page, "search-fragment")
    assert "找到 1 个市场主体" in text and "烟台恒瑞化工有限公司" in text, text

    page.locator(".yantai-credit-entity a", has_text="烟台恒瑞化工有限公司").click()
    page.wait_for_load_state("networkidle")
    text = journey.shot(page, "profile")
    for expected in ("统一社会信用代码：" + FIRM, "行政许可信息（1）", "行政处罚信息（1）",
                     "烟环许〔2026〕0215号", "烟环罚〔2026〕118号", "超标排放大气污染物",
                     "烟台市企业经营异常名录", "未依照《企业信息公示暂行条例》",
                     "烟台市重点排污单位名录"):
        assert expected in text.replace(": ", "：").replace(" ", ""), expected

    with page.expect_download() as got:
        page.locator("a", has_text="信用报告（PDF）").click()
    assert got.value.suggested_filename == f"信用报告-烟台恒瑞化工有限公司-{FIRM}.pdf"
    report = pypdf.PdfReader(io.BytesIO(got.value.path().read_bytes()))
    words = "".join("".join(p.extract_text() for p in report.pages).split())
    assert "烟台恒瑞化工有限公司" in words and "烟台市企业经营异常名录" in words

    with page.expect_download() as got:
        page.locator("a", has_text="信用报告（XLSX）").click()
    book = openpyxl.load_workbook(io.BytesIO(got.value.path().read_bytes()))
    # (the demo lists it in the 经营异常名录 and the 重点排污单位名录)
    assert book.sheetnames == ["信用报告", "行政许可信息", "行政处罚信息", "其他信用信息1",
                               "其他信用信息2"]

    # by its code, typed with spaces and in lower case
    journey.go(page, "/credit")
    page.fill("#credit-q", f"{FIRM[:8].lower()} {FIRM[8:].lower()}")
    page.press("#credit-q", "Enter")
    page.wait_for_load_state("networkidle")
    text = journey.shot(page, "search-code")
    assert "找到 1 个市场主体" in text and "烟台恒瑞化工有限公司" in text

    # one character is not enough: said in Chinese
    page.fill("#credit-q", "恒")
    page.press("#credit-q", "Enter")
    page.wait_for_load_state("networkidle")
    assert "请至少输入名称中的 2 个字" in journey.shot(page, "search-short")


def test_the_credit_profile_on_a_phone(journey):
    page = journey.page(PHONE)
    journey.go(page, f"/credit/{FIRM}")
    text = journey.shot(page, "profile")
    assert "烟台恒瑞化工有限公司" in text
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width  # the tables scroll in their own box
