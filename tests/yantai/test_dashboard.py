"""The department desks on the dashboard (editor_dashboard.py, templates/user/dashboard.html):
a department's staff see its datasets, drafts, pending reviews and overdue 双公示 records with
links to the queues; nobody sees another department's."""
from __future__ import annotations

import datetime as dt
import re

import ckan.model as model
import pytest
from ckan.tests import factories as ckan_factories
from ckan.tests.helpers import call_action

from ckanext.yantai.disclosure import recheck, submission
from ckanext.yantai.workdays import SHANGHAI
from tests import factories
from tests.yantai.disclosure_records import penalty

pytestmark = pytest.mark.usefixtures("clean_datastore")


def _draft(org, user, title):
    dataset = factories.Dataset(owner_org=org["id"], title=title, user=user)
    call_action("package_patch", {"user": user["name"]}, id=dataset["id"], state="draft")
    return dataset


@pytest.fixture
def world():
    editor = ckan_factories.UserWithToken(fullname="交通局数据员")
    colleague = ckan_factories.User()
    member = ckan_factories.UserWithToken()
    applicant = ckan_factories.User()
    outsider = ckan_factories.UserWithToken()
    org = factories.Organization(title="烟台市交通运输局", users=[
        {"name": editor["name"], "capacity": "editor"},
        {"name": colleague["name"], "capacity": "editor"},
        {"name": member["name"], "capacity": "member"}])
    other = factories.Organization(title="烟台市文化和旅游局", users=[
        {"name": outsider["name"], "capacity": "admin"}])
    published = factories.Dataset(owner_org=org["id"], title="公交线路站点信息", user=editor)
    conditional = factories.Dataset(owner_org=org["id"], title="公交客流统计", user=editor,
                                    open_type="conditional", open_condition="需签署安全承诺书")
    factories.Dataset(owner_org=other["id"], title="A级旅游景区名录", user=outsider)
    _draft(org, colleague, "出租车候客点（同事的草稿）")
    _draft(org, member, "停车场名录（成员的草稿）")
    _draft(other, outsider, "文化场馆（别的部门的草稿）")
    today = dt.date.today()
    call_action("yantai_access_request_create", {"user": applicant["name"], "ignore_auth": False},
                package_id=conditional["id"], purpose="研究", intended_use="客流分析",
                applicant_organization="烟台大学交通学院", period_start=today.isoformat(),
                period_end=(today + dt.timedelta(days=60)).isoformat(),
                commitment_accepted=True)
    call_action("package_patch", {"user": editor["name"]}, id=conditional["id"],
                open_type="open")  # a widening: waits for review
    # A 双公示 record that failed its checks and is still not public past its deadline.
    records = factories.Dataset(owner_org=org["id"], title="行政处罚信息", user=editor)
    resource = call_action("resource_create", {"user": editor["name"]},
                           package_id=records["id"], name="行政处罚决定", record_type="penalty",
                           url="")
    moment = dt.datetime(2026, 9, 21, 10, tzinfo=SHANGHAI)
    submission.submit({"user": editor["name"], "ignore_auth": False}, resource["id"],
                      [penalty(处罚依据=None, 行政相对人名称="烟台某超期公司")], now=moment)
    recheck.recheck(workers=1, now=dt.datetime(2026, 9, 30, 8, tzinfo=SHANGHAI))
    model.Session.expire_all()
    return {"editor": editor, "member": member, "outsider": outsider, "org": org,
            "published": published, "conditional": conditional}


def _dashboard(app, user) -> str:
    return app.get("/dashboard/", headers={"Authorization": user["token"]}).body


def test_an_editor_sees_the_departments_work_with_links_to_the_queues(app, world):
    html = _dashboard(app, world["editor"])
    org = world["org"]
    assert "我的部门" in html and "烟台市交通运输局" in html
    for title in ("公交线路站点信息", "出租车候客点（同事的草稿）", "停车场名录（成员的草稿）",
                  "公交客流统计", "烟台某超期公司"):
        assert title in html, title
    assert "烟台大学交通学院" in html  # the pending access request
    assert "有条件开放 → 无条件开放" in html  # the tier change under review
    assert f'href="/organization/access-requests/{org["name"]}"' in html
    assert f'/organization/compliance/{org["name"]}/records?timeliness=overdue' in html
    assert 'href="/dataset/edit/' in html  # drafts open in the form
    for elsewhere in ("A级旅游景区名录", "文化场馆（别的部门的草稿）", "烟台市文化和旅游局"):
        assert elsewhere not in html


def test_a_member_sees_only_their_own_drafts(app, world):
    html = _dashboard(app, world["member"])
    assert "停车场名录（成员的草稿）" in html
    assert "出租车候客点（同事的草稿）" not in html


def test_the_figures_count_what_is_there(world):
    from ckanext.yantai import editor_dashboard

    user = model.User.get(world["editor"]["name"])
    assert user is not None
    (desk,) = [editor_dashboard.desk(user, org, capacity)
               for org, capacity in editor_dashboard.memberships(user)]
    assert desk.dataset_count == 3  # the drafts are not among the published datasets
    assert desk.draft_count == 2
    assert [c["package_title"] for c in desk.tier_changes] == ["公交客流统计"]
    assert desk.access_requests is not None and desk.overdue_records is not None
    assert [r["package_title"] for r in desk.access_requests] == ["公交客流统计"]
    assert desk.overdue_records["count"] == 1


def test_no_desk_outside_every_department(app, world):
    citizen = ckan_factories.UserWithToken()
    html = _dashboard(app, citizen)
    assert "我的部门" not in html
    assert "烟台市交通运输局" not in html


def test_data_requests_wait_on_the_desks_and_the_authority_sees_who_is_late(app, world):
    import ckan.plugins.toolkit as tk

    reviewer = ckan_factories.UserWithToken()
    factories.Organization(name=tk.config["ckanext.yantai.access.authority_org"],
                           title="烟台市大数据局",
                           users=[{"name": reviewer["name"], "capacity": "editor"}])
    sysadmin = ckan_factories.Sysadmin()
    asker = ckan_factories.User()
    for title, created in (("公交车辆实时位置", "2026-11-02T09:00:00+08:00"),
                           ("出租车运价", None)):
        call_action("yantai_data_request_create", {"user": sysadmin["name"]}, kind="request",
                    title=title, description="希望开放。", purpose="研究",
                    organization=world["org"]["name"], requester=asker["name"],
                    **({"created": created} if created else {}))
    html = _dashboard(app, world["editor"])
    (line,) = re.findall(r'<li class="yantai-desk-data-requests">.*?</li>', html, re.S)
    assert "<strong>2</strong> 条数据需求待答复" in line and "1 个已超期" in line
    assert f'href="/data-request?organization={world["org"]["name"]}"' in html
    authority = _dashboard(app, reviewer)
    assert "数据需求逾期未答复的部门" in authority and "烟台市交通运输局" in authority
    assert "最早期限 2026-11-16" in authority
    assert "数据需求逾期未答复的部门" not in html  # a department sees its own figures only
