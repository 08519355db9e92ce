"""A citizen submits an application built on a transport dataset; the transport bureau's editor
finds it on their desk and approves it; it then shows on /application and on the dataset's page."""
from __future__ import annotations

from tests.browser.conftest import PHONE

TITLE = "烟台出租车企业查询网站"


def test_a_citizen_submits_an_application_and_the_department_approves_it(journey):
    citizen = journey.page(user=journey.portal.accounts["citizen"])
    journey.go(citizen, "/")
    citizen.locator("header nav a", has_text="数据应用").first.click()
    citizen.wait_for_load_state("networkidle")
    text = journey.shot(citizen, "list")
    # the demo's published applications, and not those awaiting review or rejected
    for expected in ("烟台公交实时查询小程序", "烟台市企业信用风险分析报告", "小程序", "分析报告",
                     "海滨科技有限公司", "烟台市公交线路站点信息"):
        assert expected in text, expected
    assert "芝罘区停车场泊位查询网站" not in text and "烟台医保药店导航" not in text

    citizen.locator("a", has_text="提交应用").first.click()
    citizen.wait_for_load_state("networkidle")
    citizen.fill("#field-title", TITLE)
    citizen.select_option("#field-kind", label="网站")
    citizen.fill("#field-developer", "张先生")
    citizen.fill("#field-url", "javascript:alert(document.cookie)")
    citizen.fill("#field-description",
                 "按企业名称查询全市出租汽车企业的地址、车辆数和服务电话，方便乘客投诉和寻找失物。")
    citizen.fill("#field-datasets", "taxi-companies\nno-such-dataset")
    citizen.click("form.yantai-application-form button[type=submit]")
    citizen.wait_for_load_state("networkidle")
    text = journey.shot(citizen, "form-errors")
    assert "请填写应用的网址，以 http:// 或 https:// 开头" in text, text
    assert "数据集不存在，或未向您开放：no-such-dataset" in text, text
    assert citizen.input_value("#field-title") == TITLE  # nothing typed is lost
    assert citizen.input_value("#field-developer") == "张先生"

    citizen.fill("#field-url", "https://taxi.example.cn/")
    citizen.fill("#field-datasets", f"{journey.portal.url}/dataset/taxi-companies")
    citizen.click("form.yantai-application-form button[type=submit]")
    citizen.wait_for_load_state("networkidle")
    text = journey.shot(citizen, "submitted")
    assert "应用已提交，审核通过后公开展示。" in text and TITLE in text and "待审核" in text
    assert "烟台市出租汽车企业信息" in text
    application_path = citizen.url.split(journey.portal.url, 1)[1]

    editor = journey.page(user=journey.portal.accounts["editor"])
    journey.go(editor, "/dashboard/")
    text = journey.shot(editor, "desk")
    assert "1 个应用待审核" in text, text
    editor.locator(".yantai-desk-applications a").click()
    editor.wait_for_load_state("networkidle")
    text = journey.shot(editor, "queue")
    assert TITLE in text and "芝罘区停车场泊位查询网站" not in text  # another department's
    editor.locator(".yantai-application-card a", has_text=TITLE).click()
    editor.wait_for_load_state("networkidle")
    assert editor.url.endswith(application_path)
    assert "市民张先生" in journey.shot(editor, "review")  # the reviewer sees who submitted it
    editor.click("form.yantai-application-review-form button[value=approve]")
    editor.wait_for_load_state("networkidle")
    assert "应用已审核通过并发布。" in journey.shot(editor, "approved")

    anonymous = journey.page()
    journey.go(anonymous, "/application")
    text = journey.shot(anonymous, "public-list")
    assert TITLE in text and "张先生" in text
    journey.go(anonymous, application_path)
    text = journey.shot(anonymous, "public-page")
    assert "https://taxi.example.cn/" in text and "市民张先生" not in text and "待审核" not in text
    link = anonymous.locator("a.yantai-application-link")
    assert set((link.get_attribute("rel") or "").split()) == {"nofollow", "noopener",
                                                              "noreferrer"}
    journey.go(anonymous, "/dataset/taxi-companies")
    anonymous.locator(".yantai-dataset-applications").scroll_into_view_if_needed()
    text = journey.shot(anonymous, "dataset-page")
    assert "使用该数据的应用" in text and TITLE in text

    phone = journey.page(PHONE)
    journey.go(phone, "/application")
    journey.shot(phone, "phone-list")
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
