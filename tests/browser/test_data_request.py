"""A citizen asks the transport bureau for data and follows it; the bureau's editor answers it on
the request's page; the citizen reports an error from a dataset's page."""
from __future__ import annotations


def citizen_follows(journey, start: str, link: str, shot: str):
    """The citizen's tab, from ``start`` through the link ``link``; and the page's text."""
    citizen = journey.page(user=journey.portal.accounts["citizen"])
    journey.go(citizen, start)
    citizen.locator("footer a, main a, a", has_text=link).first.click()
    citizen.wait_for_load_state("networkidle")
    return citizen, journey.shot(citizen, shot)


def test_a_citizen_asks_for_data_and_the_department_answers(journey):
    citizen, text = citizen_follows(journey, "/", "数据需求与纠错", "list")
    # the demo's requests, in their states, and the late department
    for expected in ("公交车辆实时到站预测数据", "已纳入开放计划", "养老机构床位实时空余情况",
                     "已超期", "烟台市民政局"):
        assert expected in text, expected

    citizen.locator("a", has_text="提出数据需求").click()
    citizen.wait_for_load_state("networkidle")
    citizen.fill("#field-title", "出租车")  # without a description
    citizen.fill("#field-description", "")
    citizen.fill("#field-purpose", "出行研究")
    citizen.click("form.yantai-data-request-form button[type=submit]")
    citizen.wait_for_load_state("networkidle")
    text = journey.shot(citizen, "form-errors")
    assert "详情: 缺失值" in text or "详情：缺失值" in text, text  # named as the form names it

    citizen.fill("#field-title", "出租汽车空车分布热力数据")
    citizen.fill("#field-description",
                 "希望按小时开放全市出租汽车空车位置的网格汇总数据，不含车牌和司机信息。")
    citizen.fill("#field-purpose", "研究夜间打车难的区域，为出行服务提供参考。")
    citizen.select_option("#field-organization", label="烟台市交通运输局")
    citizen.click("form.yantai-data-request-form button[type=submit]")
    citizen.wait_for_load_state("networkidle")
    text = journey.shot(citizen, "filed")
    assert "已提交，部门将于" in text and "出租汽车空车分布热力数据" in text and "待答复" in text
    assert "取消关注" in text  # the requester follows it
    request_path = citizen.url.split(journey.portal.url, 1)[1]

    editor = journey.page(user=journey.portal.accounts["editor"])
    journey.go(editor, request_path)
    editor.select_option("#field-outcome", label="已纳入开放计划")
    editor.fill("#field-answer",
                "出租汽车空车分布数据已纳入2027年开放计划，将按区县网格每小时汇总发布。")
    editor.click("form.yantai-data-request-answer-form button[type=submit]")
    editor.wait_for_load_state("networkidle")
    assert "答复已发布" in journey.shot(editor, "answered")

    journey.go(citizen, request_path)
    text = journey.shot(citizen, "citizen-reads")
    assert "已答复" in text and "将按区县网格每小时汇总发布" in text

    anonymous = journey.page()
    journey.go(anonymous, request_path)
    text = journey.shot(anonymous, "public")
    assert "将按区县网格每小时汇总发布" in text and "市民张先生" not in text

    phone = journey.page({"width": 390, "height": 844})
    for path, name in ((request_path, "phone-request"), ("/data-request", "phone-list")):
        journey.go(phone, path)
        journey.shot(phone, name)
        assert phone.evaluate("() => document.documentElement.scrollWidth") <= 390, path
    # the requests before the sidebar of late departments
    assert phone.evaluate("""() => document.querySelector('.yantai-data-requests')
        .getBoundingClientRect().top < document.querySelector('.yantai-overdue')
        .getBoundingClientRect().top""")


def test_a_citizen_reports_an_error_from_a_dataset(journey):
    citizen, text = citizen_follows(journey, "/dataset/bus-routes-stops", "发现数据有误？我要纠错",
                                    "form")
    assert "数据纠错" in text and "烟台市公交线路站点信息" in text
    citizen.select_option("#field-resource", index=1)
    citizen.fill("#field-title", "火车站站名有误")
    citizen.fill("#field-description", "“烟台火车站”站实际站牌名为“火车站北广场”。")
    citizen.click("form.yantai-data-request-form button[type=submit]")
    citizen.wait_for_load_state("networkidle")
    text = journey.shot(citizen, "filed")
    assert "纠错" in text and "火车站站名有误" in text and "烟台市公交线路站点信息" in text
