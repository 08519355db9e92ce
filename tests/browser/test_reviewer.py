"""A citizen applies for conditional data and the department's admin approves it from the
department's queue; the data authority's reviewer approves a tier change from the same queue;
the citizen then gets the data."""
from __future__ import annotations

import datetime

from ckan.tests import factories
from ckanapi import RemoteCKAN

CONDITIONAL = "bus-passenger-flow"  # 有条件开放, 市交通运输局
WIDENED = "taxi-companies"


def token(user: str) -> str:
    return factories.APIToken(user=user)["token"]


def test_a_reviewer_decides_an_application_and_a_tier_change(journey):
    accounts = journey.portal.accounts
    citizen = journey.page(user=accounts["citizen"])

    # The citizen applies for the conditional dataset from its page
    journey.go(citizen, f"/dataset/{CONDITIONAL}")
    text = journey.shot(citizen, "conditional-dataset")
    assert "有条件开放" in text
    assert citizen.locator("a.resource-url-analytics, a[href*='/download/']").count() == 0
    citizen.click(f"a[href$='/dataset/{CONDITIONAL}/apply']")
    citizen.wait_for_load_state("networkidle")
    today = datetime.date.today()
    citizen.fill("#field-purpose", "研究中心城区公交线路客流的时段分布，为高峰期加密班次提供依据。")
    citizen.fill("#field-intended-use",
                 "仅用于烟台大学交通运输学院的课题研究，不对外公开原始数据。")
    citizen.fill("#field-applicant-organization", "烟台大学交通运输学院")
    citizen.fill("#field-period-start", (today + datetime.timedelta(days=1)).isoformat())
    citizen.fill("#field-period-end", (today + datetime.timedelta(days=90)).isoformat())
    citizen.check("#field-commitment")
    journey.shot(citizen, "application")
    citizen.click("form button.btn-primary[type=submit]")
    citizen.wait_for_load_state("networkidle")
    text = journey.shot(citizen, "my-applications")
    assert "申请已提交" in text, text

    # The transport editor narrows, then widens a dataset: the widening waits for review
    editor = RemoteCKAN(journey.portal.url, apikey=token(accounts["editor"]))
    editor.action.package_patch(id=WIDENED, open_type="conditional",
                                open_condition="仅向登记的出行服务企业提供。")
    editor.action.package_patch(id=WIDENED, open_type="open")
    admin = RemoteCKAN(journey.portal.url, apikey=token(accounts["sysadmin"]))
    assert admin.action.package_show(id=WIDENED)["open_type"] == "conditional"

    # The department's admin finds the application in the department's queue and approves it
    department = journey.page(user=accounts["admin"])
    journey.go(department, "/dashboard/")
    journey.shot(department, "admin-dashboard")
    journey.go(department, "/organization/access-requests/ytjtysj")
    text = journey.shot(department, "queue")
    row = department.locator("tr", has_text="烟台大学交通运输学院")
    row.locator("button.btn-success").click()
    department.wait_for_load_state("networkidle")
    text = journey.shot(department, "request-approved")
    assert "审核结果已保存" in text, text

    # The data authority's reviewer sees the queue (no decisions on applications there) and
    # approves the tier change on the dataset's page
    reviewer = journey.page(user=accounts["reviewer"])
    journey.go(reviewer, "/organization/access-requests/ytjtysj")
    text = journey.shot(reviewer, "reviewer-queue")
    assert "烟台大学交通运输学院" in text
    assert reviewer.locator("tr", has_text="烟台大学交通运输学院").locator("button").count() == 0

    reviewer.locator(".yantai-tier-changes a", has_text="出租").first.click()
    reviewer.wait_for_load_state("networkidle")
    journey.shot(reviewer, "tier-change")
    reviewer.locator("form[action*='/tier-change/'][action$='/approve'] button").click()
    reviewer.wait_for_load_state("networkidle")
    text = journey.shot(reviewer, "tier-change-approved")
    assert "审核结果已保存" in text, text
    assert admin.action.package_show(id=WIDENED)["open_type"] == "open"

    # The citizen now gets the conditional data
    journey.go(citizen, f"/dataset/{CONDITIONAL}")
    journey.shot(citizen, "granted")
    download = citizen.locator("a[href*='/download/']").first
    with citizen.expect_download() as got:
        download.click()
    assert got.value.path().stat().st_size > 0
