"""数据应用 pages, in Chinese: a citizen submits an application from a dataset's page, the
department reviews it on the application's page, the public then finds it on the list and on the
dataset's page; what awaits review stays with the submitter and the reviewers."""
from __future__ import annotations

import re

import ckan.model as model
import lxml.html
import pytest

pytestmark = pytest.mark.usefixtures("clean_db", "clean_index")

FORM = {"title": "烟台公交实时查询小程序", "kind": "mini_program", "developer": "海滨科技有限公司",
        "url": "https://bus.haibin.example.cn/",
        "description": "查询公交线路、站点和到站时间，支持语音播报，方便老年人候车出行。"}


def _html(answer) -> lxml.html.HtmlElement:
    assert answer.status_code == 200, answer.status_code
    return lxml.html.fromstring(answer.get_data(as_text=True))


def _texts(page, xpath: str) -> list[str]:
    return [" ".join(node.text_content().split()) for node in page.xpath(xpath)]


def _text(page) -> str:
    return " ".join(page.text_content().split())


def _path(answer) -> str:
    assert answer.status_code == 302, answer.status_code
    return "/" + answer.location.split("//", 1)[-1].split("/", 1)[-1]


def test_a_citizen_submits_the_department_approves_the_public_finds_it(app, app_town):
    town = app_town
    citizen, editor = town["citizen"].headers, town["editor"].headers
    name = town["dataset"]["name"]
    dataset_page = _html(app.get(f"/dataset/{name}"))
    (section,) = dataset_page.xpath("//section[contains(@class, 'yantai-dataset-applications')]")
    assert _texts(section, ".//h2") == ["使用该数据的应用"]
    assert "暂无使用该数据的应用。" in _text(section)
    (submit,) = section.xpath(".//a[contains(@href, '/application/new')]")
    assert _text(submit) == "用这份数据开发了应用？提交应用"
    anonymous = app.get(submit.get("href"), follow_redirects=False)
    assert anonymous.status_code == 302 and "/user/login" in anonymous.location

    form = _html(app.get(submit.get("href"), headers=citizen))
    assert _texts(form, "//h1") == ["提交应用"]
    assert _texts(form, "//textarea[@name='datasets']") == [name]  # from the dataset's page
    assert _texts(form, "//select[@name='kind']/option")[1:] == [
        "移动应用", "小程序", "网站", "分析报告", "数据服务"]

    refused = _html(app.post("/application/new", headers=citizen, data={
        **FORM, "url": "javascript:alert(document.cookie)", "title": "公",
        "datasets": f"{name}\nno-such-dataset"}))
    text = _text(refused)
    assert "应用名称: 请输入 2 至 100 个字符" in text
    assert "请填写应用的网址，以 http:// 或 https:// 开头" in _texts(
        refused, "//input[@name='url']/following-sibling::span[@class='error-block']")[0]
    assert "数据集不存在，或未向您开放：no-such-dataset" in text
    # nothing typed is lost
    assert refused.xpath("//input[@name='url']/@value") == ["javascript:alert(document.cookie)"]
    assert refused.xpath("//input[@name='developer']/@value") == ["海滨科技有限公司"]
    assert refused.xpath("//select[@name='kind']/option[@selected]/@value") == ["mini_program"]
    assert _texts(refused, "//textarea[@name='datasets']") == [f"{name} no-such-dataset"]
    assert not refused.xpath("//a[starts-with(@href, 'javascript:')]")

    path = _path(app.post("/application/new", headers=citizen, follow_redirects=False,
                          data={**FORM, "datasets": name}))
    page = _html(app.get(path, headers=citizen))
    assert _texts(page, "//h1") == ["烟台公交实时查询小程序"]
    assert _texts(page, "//span[contains(@class, 'yantai-application-status')]") == ["待审核"]
    assert not page.xpath("//form[contains(@class, 'yantai-application-review-form')]")
    assert app.get(path, status=404).status_code == 404  # not yet public
    assert app.get(path, headers=town["stranger"].headers, status=404).status_code == 404

    review_page = _html(app.get(path, headers=editor))
    assert "提交人" in _text(review_page)
    assert review_page.xpath("//form[contains(@class, 'yantai-application-review-form')]")
    queue = _html(app.get("/application", query_string={"status": "pending"}, headers=editor))
    assert _texts(queue, "//div[contains(@class, 'yantai-application-card')]//h3") == [
        "烟台公交实时查询小程序"]
    refused = _html(app.post(path + "/review", headers=editor, data={"decision": "reject"}))
    assert "请说明不予通过的理由" in _text(refused)
    done = app.post(path + "/review", headers=editor, follow_redirects=False,
                    data={"decision": "approve"})
    assert done.status_code == 302

    public = _html(app.get(path))
    text = _text(public)
    assert "海滨科技有限公司" in text and "烟台市公交线路站点信息" in text
    assert "提交人" not in text and "待审核" not in text and town["citizen_name"] not in text
    (link,) = public.xpath("//a[contains(@class, 'yantai-application-link')]")
    assert link.get("href") == "https://bus.haibin.example.cn/"
    assert set(link.get("rel").split()) == {"nofollow", "noopener", "noreferrer"}
    listing = _html(app.get("/application", query_string={"q": "公交"}))
    (card,) = listing.xpath("//div[contains(@class, 'yantai-application-card')]")
    assert "小程序" in _text(card) and "海滨科技有限公司" in _text(card)
    assert "烟台市公交线路站点信息" in _texts(card, ".//div[contains(@class, "
                                                "'yantai-application-datasets')]//a")
    section = _html(app.get(f"/dataset/{name}")).xpath(
        "//section[contains(@class, 'yantai-dataset-applications')]")[0]
    assert _texts(section, ".//li/a") == ["烟台公交实时查询小程序"]


def test_the_list_filters_by_kind_and_pages_in_chinese(app, app_town):
    town = app_town
    for n in range(13):
        submitted = town["citizen"].ok("yantai_application_create", **{
            **FORM, "title": f"公交应用{n:02d}", "kind": "website" if n == 0 else "app"},
            datasets=[town["dataset"]["name"]])
        town["reviewer"].ok("yantai_application_review", id=submitted["id"], decision="approve")
    page = _html(app.get("/application"))
    assert "共 13 个应用" in _text(page)
    assert len(page.xpath("//div[contains(@class, 'yantai-application-card')]")) == 12
    assert _texts(page, "//ul[contains(@class, 'pagination')]//a") == ["下一页"]
    second = _html(app.get("/application", query_string={"page": "2"}))
    assert _texts(second, "//div[contains(@class, 'yantai-application-card')]//h3") == [
        "公交应用00"]
    websites = _html(app.get("/application", query_string={"kind": "website"}))
    assert _texts(websites, "//div[contains(@class, 'yantai-application-card')]//h3") == [
        "公交应用00"]
    assert "网站" in _texts(websites, "//span[contains(@class, 'yantai-application-kind')]")
    bad = _html(app.get("/application", query_string={"kind": "game", "page": "x"}))
    assert bad.xpath("//div[contains(@class, 'alert-warning')]")
    assert "取值必须是" in _text(bad)
    # the dataset's page lists a few, and leads to all of them
    section = _html(app.get(f"/dataset/{town['dataset']['name']}")).xpath(
        "//section[contains(@class, 'yantai-dataset-applications')]")[0]
    assert len(section.xpath(".//li")) == 6
    (more,) = section.xpath(".//a[contains(@href, '/application?dataset=')]")
    assert _text(more) == "查看全部 13 个使用该数据的应用"


def test_the_navigation_and_the_desks_lead_to_applications(app, app_town):
    town = app_town
    home = _html(app.get("/"))
    assert "数据应用" in _texts(home, "//nav//a")
    assert "Data applications" in _texts(_html(app.get("/en/application")), "//h1")
    town["citizen"].ok("yantai_application_create", **FORM,
                       datasets=[town["dataset"]["name"]])
    desk = app.get("/dashboard/", headers=town["editor"].headers).get_data(as_text=True)
    (line,) = re.findall(r'<li class="yantai-desk-applications">.*?</li>', desk, re.S)
    assert "<strong>1</strong> 个应用待审核" in line
    assert f"organization={town['transport']['name']}" in line and "status=pending" in line
    authority = app.get("/dashboard/", headers=town["reviewer"].headers).get_data(as_text=True)
    (line,) = re.findall(r'<li class="yantai-desk-applications">.*?</li>', authority, re.S)
    assert "<strong>1</strong> 个应用待审核" in line  # every department's
    assert 'href="/application?status=pending"' in line
    member = app.get("/dashboard/", headers=town["member"].headers).get_data(as_text=True)
    assert "yantai-desk-applications" not in member  # a member does not review


def test_a_reviewer_deletes_and_a_stranger_cannot(app, app_town):
    town = app_town
    submitted = town["citizen"].ok("yantai_application_create", **FORM,
                                   datasets=[town["dataset"]["name"]])
    path = f"/application/{submitted['id']}"
    assert app.post(path + "/delete", headers=town["stranger"].headers,
                    status=None).status_code == 404
    assert app.post(path + "/review", headers=town["other_editor"].headers,
                    data={"decision": "approve"}, status=None).status_code == 404
    town["editor"].ok("yantai_application_review", id=submitted["id"], decision="approve")
    assert app.post(path + "/review", headers=town["other_editor"].headers,
                    data={"decision": "reject", "note": "不行。"}, status=None).status_code == 403
    assert app.post(path + "/delete", headers=town["citizen"].headers,
                    status=None).status_code == 403
    done = app.post(path + "/delete", headers=town["reviewer"].headers, follow_redirects=False)
    assert done.status_code == 302
    assert app.get(path, status=404).status_code == 404


def test_the_pages_hold_no_untranslated_text(app, app_town):
    from tests.yantai.test_ui_language import foreign_words, visible_text

    town = app_town
    submitted = town["citizen"].ok("yantai_application_create", **FORM,
                                   datasets=[town["dataset"]["name"]])
    path = f"/application/{submitted['id']}"
    names = {town["dataset"]["name"], town["transport"]["name"], "bus-routes-stops"}
    names |= {text for user in model.Session.query(model.User) for text in (user.name,
                                                                           user.fullname) if text}
    pages = [("/application", None), ("/application/new", "citizen"), (path, "citizen"),
             (path, "editor"), ("/application?status=pending", "editor")]
    found = {}
    for url, who in pages:
        answer = app.get(url, headers=town[who].headers if who else {})
        assert answer.status_code == 200, url
        stray = foreign_words(visible_text(answer.get_data(as_text=True)), names)
        if stray:
            found[f"{url} ({who})"] = sorted(stray)
    assert found == {}
