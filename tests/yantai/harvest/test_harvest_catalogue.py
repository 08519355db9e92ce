"""Harvester yantai_catalogue: the 政务信息资源目录 XLSX with the guide's columns becomes
datasets of the schema, created or updated by resource code, with a report by row number."""
from __future__ import annotations

import datetime as dt
import io

import ckan.model as model
import pytest
from ckan.tests import factories as ckan_factories
from ckan.tests.helpers import call_action
from openpyxl import Workbook

from ckanext.yantai.harvest import runner
from tests import factories
from tests.yantai.harvest.test_harvest_release import _everything_stored, datasets, errors_of

pytestmark = [pytest.mark.usefixtures("clean_db", "clean_index", "with_request_context"),
              pytest.mark.usefixtures("feeds_allowed")]

HEADER = ["序号", "信息资源分类", "信息资源名称", "信息资源代码（必填）", "信息资源提供方",
          "信息资源提供方代码", "信息资源摘要", "信息资源格式", "信息项", "共享类型", "共享条件",
          "共享方式", "开放类型", "开放条件", "更新周期", "发布日期", "所属领域", "联系科室",
          "联系电话", "涉密属性"]


def row(org, code, title, **changes):
    values = {
        "序号": 1, "信息资源分类": "2-02-003 公共交通", "信息资源名称": title,
        "信息资源代码（必填）": f"2-02-003/{code}", "信息资源提供方": org["title"],
        "信息资源提供方代码": org["dept_code"], "信息资源摘要": f"{title}。",
        "信息资源格式": "电子表格", "信息项": "线路名称（字符型）；站点序号（数值型）",
        "共享类型": "无条件共享", "共享条件": "", "共享方式": "文件下载", "开放类型": "无条件开放",
        "开放条件": "", "更新周期": "每月", "发布日期": dt.datetime(2026, 11, 2),
        "所属领域": "交通", "联系科室": "数据管理科", "联系电话": "0535-6631578",
        "涉密属性": "非涉密",
    }
    values.update(changes)
    return [values[h] for h in HEADER]


def workbook(*rows) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["烟台市交通运输局政务信息资源目录"])  # a title row before the header
    sheet.append(HEADER)
    for values in rows:
        sheet.append(values)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture
def world(feed_server):
    sysadmin = ckan_factories.Sysadmin()
    org = factories.Organization(title="烟台市交通运输局")
    source = call_action("harvest_source_create", context={"user": sysadmin["name"]},
                         name="jtj-catalogue", url=feed_server.url("/catalogue.xlsx"),
                         source_type="yantai_catalogue", owner_org=org["id"])
    return {"org": org, "source": source, "server": feed_server, "sysadmin": sysadmin}


def test_rows_become_datasets_and_bad_rows_are_reported_by_number(world):
    org = world["org"]
    other = factories.Organization()
    world["server"].files["/catalogue.xlsx"] = workbook(
        row(org, "0001", "公交线路站点"),
        row(org, "0002", "出租汽车企业", 信息项="企业名称；车辆数（数值型）"),
        row(other, "0003", "别的部门的资源"),
        row(org, "0004", "共享类型不对", 共享类型="部分共享"),
        row(org, "0005", "涉密资源", 涉密属性="机密"),
    )
    job = runner.run(world["source"]["id"])
    messages = errors_of(job)
    found = datasets(org["id"])
    assert set(found) == {"2-02-003/0001"}, messages
    dataset = found["2-02-003/0001"]
    assert (dataset["share_type"], dataset["share_method"], dataset["open_type"],
            dataset["update_cycle"]) == ("unconditional", "file", "open", "monthly")
    assert dataset["resource_category"] == "2-02-003" and dataset["domain"] == ["transport"]
    assert dataset["release_date"] == "2026-11-02"
    assert [(i["name"], i["data_type"]) for i in dataset["info_items"]] == [
        ("线路名称", "string"), ("站点序号", "number")]
    assert dataset["provider_code"] == org["dept_code"]
    assert any(m.startswith("第 4 行：") and "企业名称" in m for m in messages), messages
    assert any(m.startswith("第 5 行：") and "其他部门" in m for m in messages), messages
    assert any(m.startswith("第 6 行：") and "share_type" in m for m in messages), messages
    assert any(m.startswith("第 7 行：含密级标识") for m in messages), messages
    model.Session.commit()
    assert "涉密资源" not in _everything_stored()

    job = runner.run(world["source"]["id"])
    assert job["stats"]["not modified"] == 1 and job["stats"]["added"] == 0
    world["server"].files["/catalogue.xlsx"] = workbook(row(org, "0001", "公交线路站点（修订）"))
    job = runner.run(world["source"]["id"])
    assert job["stats"]["updated"] == 1 and job["stats"]["deleted"] == 0
    assert datasets(org["id"])["2-02-003/0001"]["title"] == "公交线路站点（修订）"


def test_the_data_authority_lists_every_departments_resources(feed_server):
    sysadmin = ckan_factories.Sysadmin()
    authority = factories.Organization(name="ytdsjj", title="烟台市大数据局")
    department = factories.Organization(title="烟台市交通运输局")
    source = call_action("harvest_source_create", context={"user": sysadmin["name"]},
                         name="city-catalogue", url=feed_server.url("/city.xlsx"),
                         source_type="yantai_catalogue", owner_org=authority["id"])
    feed_server.files["/city.xlsx"] = workbook(row(department, "0001", "公交线路站点"))
    job = runner.run(source["id"])
    assert job["stats"]["added"] == 1, errors_of(job)
    assert set(datasets(department["id"])) == {"2-02-003/0001"}
    assert datasets(authority["id"]) == {}


def test_a_workbook_without_the_guides_columns(world):
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["名称", "地址"])
    out = io.BytesIO()
    book.save(out)
    world["server"].files["/catalogue.xlsx"] = out.getvalue()
    assert any("编制指南列名" in m for m in errors_of(runner.run(world["source"]["id"])))
    world["server"].files["/catalogue.xlsx"] = b"not a workbook"
    assert any("压缩包无法读取" in m for m in errors_of(runner.run(world["source"]["id"])))


def test_a_row_updates_only_its_fields_and_keeps_the_departments_files(world):
    org = world["org"]
    sysadmin = world["sysadmin"]
    dataset = factories.Dataset(owner_org=org["id"], resource_code="2-02-003/0001",
                                title="公交线路站点", tags=[{"name": "公交"}],
                                contact_email="sjk@jtj.yantai.gov.cn")
    resource = call_action("resource_create", context={"user": sysadmin["name"]},
                           package_id=dataset["id"], name="站点表",
                           url="https://data.example.cn/stops.csv")
    world["server"].files["/catalogue.xlsx"] = workbook(row(org, "0001", "公交线路站点（目录）"))
    job = runner.run(world["source"]["id"])
    assert job["stats"]["errored"] == 0, errors_of(job)
    shown = call_action("package_show", context={"ignore_auth": True}, id=dataset["id"])
    assert shown["title"] == "公交线路站点（目录）"
    assert [r["id"] for r in shown["resources"]] == [resource["id"]]
    assert [t["name"] for t in shown["tags"]] == ["公交"]
    assert shown["contact_email"] == "sjk@jtj.yantai.gov.cn"
    # A dataset the department took offline stays offline.
    call_action("package_delete", context={"user": sysadmin["name"]}, id=dataset["id"])
    world["server"].files["/catalogue.xlsx"] = workbook(row(org, "0001", "再次修订"))
    runner.run(world["source"]["id"])
    model.Session.expire_all()
    withdrawn = model.Package.get(dataset["id"])
    assert withdrawn is not None and withdrawn.state == "deleted"


def test_a_marking_anywhere_in_a_row_is_refused_before_it_is_quoted(world):
    world["server"].files["/catalogue.xlsx"] = workbook(
        row(world["org"], "0001", "公交线路", 信息项="机密★名单"))
    job = runner.run(world["source"]["id"])
    assert any(m.startswith("第 3 行：含密级标识") for m in errors_of(job)), errors_of(job)
    model.Session.commit()
    assert "机密★名单" not in _everything_stored()
