"""A department editor creates a dataset through every page of the form, in Chinese."""
from __future__ import annotations

import pathlib

from ckanapi import RemoteCKAN

from tests.browser.conftest import run_background_jobs

CSV = ("停车场名称,地址,泊位数,收费标准\n"
       "南大街停车场,芝罘区南大街100号,320,每小时3元\n"
       "万达广场地下停车场,芝罘区西关南街6号,1200,首小时5元\n")


def next_page(page):
    page.click("#dataset-edit button[name=save]")
    page.wait_for_load_state("networkidle")


def form_action(page) -> str:
    return page.get_attribute("#dataset-edit", "action") or ""


def errors(page) -> str:
    found = page.locator(".error-explanation")
    return found.inner_text() if found.count() else ""


def test_an_editor_creates_and_publishes_a_dataset(journey, tmp_path):
    editor = journey.portal.accounts["editor"]
    page = journey.page(user=editor)
    journey.go(page, "/dataset/new")
    journey.shot(page, "page-1")

    # 1 基本信息 (the licence left to the open type)
    page.fill("#field-title", "芝罘区公共停车场泊位信息")
    page.fill("#field-notes",
              "芝罘区城市公共停车场的名称、地址、泊位数和收费标准，由市交通运输局每月更新。")
    page.select_option("#field-private", "False")  # 公开 (the form proposes 私有)
    next_page(page)
    assert "/dataset/new/" in page.url and page.url.endswith("/2"), page.url
    name = page.url.split("/dataset/new/")[1].split("/")[0]

    # 2 资源分类: a bad code is an error on this page, and the page posts back to itself
    page.fill("#field-resource_category", "2-02-017")
    page.fill("#field-resource_code", "停车场")
    page.check("input[name=domain][value=transport]")
    next_page(page)
    text = journey.shot(page, "page-2-error")
    assert "信息资源代码" in errors(page), text
    assert form_action(page).endswith(f"/dataset/new/{name}/2"), form_action(page)
    assert "An organization must be provided" not in text and "信息资源名称：缺失值" not in text
    page.fill("#field-resource_code", "2-02-017/0001")
    next_page(page)
    assert page.url.endswith(f"/dataset/new/{name}/3"), page.url

    # 3 提供方 (optional code left blank), 4 共享: conditional sharing, its condition forgotten
    next_page(page)
    page.select_option("#field-share_type", "conditional")
    page.select_option("#field-share_method", "file")
    next_page(page)
    # 5 开放
    page.select_option("#field-open_type", "open")
    next_page(page)

    # 6 信息项: add three, remove one, move one up; 数据长度 left blank on one
    add = page.locator("a[name=repeating-add]")
    for _ in range(3):
        add.click()
    items = [("收费标准", "string", ""), ("临时项", "string", "10"), ("停车场名称", "string", "50")]
    for index, (label, kind, length) in enumerate(items):
        page.fill(f"#field-info_items-{index}-name", label)
        page.select_option(f"#field-info_items-{index}-data_type", kind)
        page.fill(f"#field-info_items-{index}-length", length)
    page.locator(".scheming-subfield-group").nth(1).locator("a[name=repeating-remove]").click()
    page.locator(".scheming-subfield-group").nth(2).locator("button[data-move=up]").click()
    page.locator(".scheming-subfield-group").nth(1).locator("button[data-move=up]").click()
    journey.shot(page, "page-6-items")
    next_page(page)
    assert page.url.endswith(f"/dataset/new/{name}/7"), (page.url, errors(page))

    # 7 范围与周期, 8 联系方式
    page.select_option("#field-update_cycle", "monthly")
    next_page(page)
    page.fill("#field-contact_office", "市交通运输局信息中心")
    page.fill("#field-contact_phone", "0535-6788123")
    next_page(page)
    assert page.url.endswith(f"/dataset/{name}/resource/new"), page.url
    journey.shot(page, "resource")

    # 完成 with 共享条件 missing: back on page 4 with the error, the resource not saved
    csv = tmp_path / "parking.csv"
    csv.write_text(CSV, encoding="utf-8")
    upload(page, csv)
    page.click("button[value=go-metadata]")
    page.wait_for_load_state("networkidle")
    text = journey.shot(page, "finish-error")
    assert "共享条件" in errors(page), text
    assert form_action(page).endswith(f"/dataset/new/{name}/4"), form_action(page)
    admin = RemoteCKAN(journey.portal.url, apikey=sysadmin_token(journey))
    assert admin.action.package_show(id=name)["resources"] == []

    # The editor changes their mind on the draft: unconditional sharing needs no review
    page.select_option("#field-share_type", "unconditional")
    for _ in range(4, 9):
        next_page(page)
    assert page.url.endswith(f"/dataset/{name}/resource/new"), (page.url, errors(page))
    upload(page, csv)
    page.click("button[value=go-metadata]")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(f"/dataset/{name}"), (page.url, errors(page))
    text = journey.shot(page, "published")
    assert "芝罘区公共停车场泊位信息" in text

    pkg = admin.action.package_show(id=name)
    assert pkg["state"] == "active"
    assert pkg["share_type"] == "unconditional" and pkg["open_type"] == "open"
    assert [i["name"] for i in pkg["info_items"]] == ["停车场名称", "收费标准"]
    assert [r["name"] for r in pkg["resources"]] == ["停车场泊位表"]
    assert pkg["license_id"] == "cc-by"  # what an open dataset's licence defaults to
    assert admin.action.yantai_tier_change_list(package_id=pkg["id"], status="") == []
    assert pkg["private"] is False

    # The background worker loads the file into the DataStore; the editor sees the load and
    # what the table has beyond the dataset's 信息项
    run_background_jobs(journey.portal.url)
    journey.go(page, f"/dataset/{name}/resource/{pkg['resources'][0]['id']}")
    text = journey.shot(page, "table-loaded")
    status = page.locator(".yantai-datastore-status").inner_text()
    assert "已载入，共 2 行" in status, status
    assert "信息项中没有的列：地址、泊位数" in status, status
    assert page.locator(".yantai-datastore-status button", has_text="重新载入").count() == 1

    # A citizen finds it at once: in the search, and counted on the home page's 交通 tile
    citizen = journey.page()
    journey.go(citizen, "/dataset/?q=停车场泊位")
    text = journey.shot(citizen, "citizen-finds-it")
    assert "芝罘区公共停车场泊位信息" in text
    journey.go(citizen, "/")
    tile = citizen.locator("a.yantai-domain-tile", has_text="交通")
    shown = int("".join(ch for ch in tile.locator(".yantai-domain-count").inner_text()
                        if ch.isdigit()))
    found = RemoteCKAN(journey.portal.url).action.package_search(fq="domain:transport", rows=0)
    assert shown == found["count"]


def upload(page, path: pathlib.Path) -> None:
    page.set_input_files("#field-resource-upload", str(path))
    page.fill("#field-name", "停车场泊位表")


def sysadmin_token(journey) -> str:
    from ckan.tests import factories

    return factories.APIToken(user=journey.portal.accounts["sysadmin"])["token"]
