"""数据需求 and 纠错 pages, in Chinese: a citizen asks a department and follows the request, the
department answers on the request's page, the public reads it; a dataset's page leads to 纠错."""
from __future__ import annotations

import lxml.html
import pytest

pytestmark = pytest.mark.usefixtures("clean_db", "clean_index")


def _html(answer) -> lxml.html.HtmlElement:
    assert answer.status_code == 200, answer.status_code
    return lxml.html.fromstring(answer.get_data(as_text=True))


def _texts(page, xpath: str) -> list[str]:
    return [" ".join(node.text_content().split()) for node in page.xpath(xpath)]


def test_a_citizen_asks_the_department_answers_the_public_reads(app, town):
    citizen, editor = town["citizen"].headers, town["editor"].headers
    form = _html(app.get("/data-request/new?kind=request", headers=citizen))
    assert "部门将在 10 个工作日内答复" in form.text_content()
    options = _texts(form, "//select[@name='organization']/option")
    assert options[0] == "不确定（由数据主管部门转办）" and "烟台市交通运输局" in options
    refused = _html(app.post("/data-request/new", headers=citizen, data={
        "kind": "request", "title": "公", "description": "", "purpose": "出行"}))
    assert "请输入 2 至 200 个字符" in refused.text_content()
    sent = app.post("/data-request/new", headers=citizen, follow_redirects=False, data={
        "kind": "request", "title": "公交车辆实时位置数据",
        "description": "全市公交车辆的实时位置。",
        "purpose": "公交到站提醒", "organization": town["transport"]["name"]})
    assert sent.status_code == 302
    path = sent.location.split("//", 1)[-1].split("/", 1)[-1]
    page = _html(app.get("/" + path, headers=citizen))
    assert _texts(page, "//h1") == ["公交车辆实时位置数据"]
    assert "待答复" in _texts(page, "//span[contains(@class, 'yantai-data-request-status')]")
    assert page.xpath("//form[contains(@action, '/follow')]//button")[0].text_content().strip() \
        == "取消关注"  # the requester follows it
    assert not page.xpath("//form[contains(@class, 'yantai-data-request-answer-form')]")
    # the department answers on the page
    answer_page = _html(app.get("/" + path, headers=editor))
    assert answer_page.xpath("//form[contains(@class, 'yantai-data-request-answer-form')]")
    done = app.post("/" + path + "/answer", headers=editor, follow_redirects=False, data={
        "outcome": "planned", "answer": "已纳入2027年第一季度开放计划。"})
    assert done.status_code == 302
    public = _html(app.get("/" + path))
    text = " ".join(public.text_content().split())
    assert "已纳入开放计划" in text and "已纳入2027年第一季度开放计划。" in text
    assert "提出人" not in text  # who asked is not public
    listing = _html(app.get("/data-request", query_string={"q": "实时位置"}))
    assert _texts(listing, "//li[contains(@class, 'yantai-data-request-item')]//a") == [
        "公交车辆实时位置数据"]


def test_an_answer_by_someone_else_is_refused(app, town):
    request = town["citizen"].ok("yantai_data_request_create", kind="request", title="公交数据",
                                 description="公交。", purpose="研究",
                                 organization=town["transport"]["name"])
    answer = app.post(f"/data-request/{request['id']}/answer", headers=town["stranger"].headers,
                      data={"outcome": "planned", "answer": "好的。"}, status=None)
    assert answer.status_code == 403


def test_a_dataset_page_leads_to_an_error_report(app, town):
    name = town["dataset"]["name"]
    page = _html(app.get(f"/dataset/{name}"))
    (link,) = page.xpath("//p[contains(@class, 'yantai-correction-link')]/a")
    assert link.text_content().strip() == "发现数据有误？我要纠错"
    form = _html(app.get(link.get("href"), headers=town["citizen"].headers))
    assert "数据纠错" in _texts(form, "//h1")
    assert form.xpath(f"//input[@name='package_id'][@value='{name}']")
    anonymous = app.get(link.get("href"), follow_redirects=False)
    assert anonymous.status_code == 302 and "/user/login" in anonymous.location


def test_the_list_shows_overdue_departments_and_bad_filters_in_chinese(app, town):
    page = _html(app.get("/data-request", query_string={"status": "late"}))
    assert page.xpath("//div[contains(@class, 'alert')]")
    assert "目前没有逾期未答复的部门。" in page.text_content()
    assert app.get("/data-request/no-such-request", status=404).status_code == 404
