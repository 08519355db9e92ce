"""信用信息一站式查询 pages: search, profile, and the 信用报告 as XLSX and PDF, in Chinese, with
the same answers as the API."""
from __future__ import annotations

import io
import urllib.parse
from typing import Any, cast

import lxml.html
import openpyxl
import pypdf
import pytest

from tests.yantai.credit_city import OTHER
from tests.yantai.disclosure_records import ADULT_ID, FIRM

pytestmark = pytest.mark.usefixtures("clean_datastore")


def _page(app, path: str, **query) -> lxml.html.HtmlElement:
    answer = app.get(path, query_string=query)
    assert answer.status_code == 200, answer.status_code
    return lxml.html.fromstring(answer.get_data(as_text=True))


def _text(page: lxml.html.HtmlElement, xpath: str) -> list[str]:
    return [" ".join(node.text_content().split()) for node in page.xpath(xpath)]


def test_the_search_page_finds_a_firm_by_a_fragment_and_links_its_profile(app, city):
    page = _page(app, "/credit", q="恒瑞")
    assert _text(page, "//h2") == ["找到 1 个市场主体"]
    (entity,) = page.xpath("//li[contains(@class, 'yantai-credit-entity')]")
    link = entity.xpath(".//a")[0]
    assert link.text_content() == "烟台恒瑞化工有限公司"
    assert link.get("href") == f"/credit/{FIRM}"
    assert "行政许可 1 条" in entity.text_content() and "行政处罚 1 条" in entity.text_content()
    assert "信用查询" in _text(page, "//header//nav//a")  # in the main menu


def test_the_search_page_explains_a_bad_query_in_chinese(app, city):
    page = _page(app, "/credit", q="恒")
    assert _text(page, "//div[contains(@class, 'yantai-credit-error')]") == [
        "请至少输入名称中的 2 个字，或输入统一社会信用代码、决定文书号"]
    page = _page(app, "/credit", q="没有这家公司")
    assert _text(page, "//p[contains(@class, 'yantai-credit-none')]")


def test_a_person_appears_only_by_decision_number_masked(app, city):
    page = _page(app, "/credit", q="张某某")
    assert not page.xpath("//li[contains(@class, 'yantai-credit-')]")
    assert _text(page, "//h2") == ["找到 0 个市场主体"]
    page = _page(app, "/credit", q="烟市监罚【2026】103号")
    (record,) = page.xpath("//li[contains(@class, 'yantai-credit-record')]")
    text = record.text_content()
    assert "张某某（自然人）" in " ".join(text.split()) and ADULT_ID not in text
    assert not record.xpath(".//a[starts-with(@href, '/credit/')]")


@pytest.mark.parametrize("page_number", ["0", "-1", "x", "99999"])
def test_a_page_number_out_of_range_shows_a_page(app, city, page_number):
    answer = app.get("/credit", query_string={"q": "有限公司", "page": page_number})
    assert answer.status_code == 200


def test_the_profile_lists_every_departments_records_with_links(app, city):
    page = _page(app, f"/credit/{FIRM}")
    assert _text(page, "//h1") == ["烟台恒瑞化工有限公司"]
    penalties = page.xpath("//table[@data-record-type='penalty']//tbody/tr")
    licences = page.xpath("//table[@data-record-type='license']//tbody/tr")
    assert len(penalties) == 1 and len(licences) == 1
    assert "烟市监罚〔2026〕101号" in penalties[0].text_content()
    links = {a.text_content(): a.get("href") for a in penalties[0].xpath(".//a")}
    assert links["烟台市市场监督管理局"].startswith("/organization/")
    assert links["烟台市市场监督管理局行政处罚和行政许可信息"].startswith("/dataset/")
    assert ADULT_ID not in page.text_content()


def test_the_profile_has_one_address_per_firm(app, city):
    answer = app.get(f"/credit/{urllib.parse.quote(FIRM.lower())}", follow_redirects=False)
    assert answer.status_code == 302 and answer.location.endswith(f"/credit/{FIRM}")
    assert app.get("/credit/91370602MA3C7XLK9Y", status=404).status_code == 404
    assert app.get("/credit/%E6%81%92%E7%91%9E", status=404).status_code == 404


def test_the_credit_report_as_xlsx(app, city):
    answer = app.get(f"/credit/{OTHER}/report.xlsx")
    assert answer.status_code == 200
    assert "no-store" in answer.headers["Cache-Control"]
    assert "public" not in answer.headers["Cache-Control"]
    name = urllib.parse.quote(f"信用报告-烟台蓬莱海景酒店有限公司-{OTHER}.xlsx")
    assert f"filename*=UTF-8''{name}" in answer.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(answer.data))
    assert book.sheetnames == ["信用报告", "行政许可信息", "行政处罚信息"]
    sheet = book["信用报告"]
    summary = {str(row[0]): str(row[1]) for row in sheet.iter_rows(values_only=True) if row}
    assert summary["主体名称"] == "烟台蓬莱海景酒店有限公司"
    assert summary["统一社会信用代码"] == OTHER
    assert summary["查询时间"].endswith("（北京时间）")
    penalties = list(book["行政处罚信息"].iter_rows(values_only=True))
    assert penalties[0][0] == "决定书文号" and penalties[1][0] == "烟市监罚〔2026〕102号"
    assert len(list(book["行政许可信息"].iter_rows(values_only=True))) == 1  # the header only


def test_the_credit_report_as_pdf_with_its_chinese_text(app, city):
    answer = app.get(f"/credit/{FIRM}/report.pdf")
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(answer.data))
    text = "".join(page.extract_text() for page in reader.pages)
    compact = "".join(text.split())
    for expected in ("市场主体公共信用信息报告", "烟台恒瑞化工有限公司", FIRM,
                     "烟市监罚〔2026〕101号", "行政许可信息（1条）", "行政处罚信息（1条）",
                     "北京时间", "第1页"):
        assert expected in compact, expected
    assert ADULT_ID not in compact
    # the Chinese font travels with the file (a TrueType subset), so every reader shows it
    fonts: list[Any] = [font.get_object() for page in reader.pages
                        for font in cast(Any, page["/Resources"])["/Font"].values()]
    embedded = [font for font in fonts if "/FontDescriptor" in font
                and "/FontFile2" in font["/FontDescriptor"].get_object()]
    assert [str(font["/BaseFont"]).split("+")[-1] for font in embedded] == [
        "WenQuanYiMicroHei-0"]
    # (reportlab also names Helvetica, one of the 14 fonts every reader has, for no text)
    assert {str(font["/BaseFont"]) for font in fonts if font not in embedded} <= {"/Helvetica"}


def test_the_report_of_no_firm_is_a_404(app, city):
    for path in (f"/credit/{FIRM[:-1]}0/report.pdf", "/credit/x/report.xlsx"):
        assert app.get(path, status=404).status_code == 404
    assert app.get(f"/credit/{FIRM}/report.docx", status=404).status_code == 404
