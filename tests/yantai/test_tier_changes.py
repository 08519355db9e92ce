"""Changing tiers: less open at once and everywhere (search, old activity); more open only after a
second person approves."""
from __future__ import annotations

import pytest
from ckan.tests import factories as ckan_factories

from tests import factories
from tests.api import Api

pytestmark = pytest.mark.usefixtures("clean_db", "clean_index")

CANARY = "tiercanary7q"


@pytest.fixture
def department(app):
    admin = ckan_factories.UserWithToken()
    editor = ckan_factories.UserWithToken()
    org = factories.Organization(users=[{"name": admin["name"], "capacity": "admin"},
                                        {"name": editor["name"], "capacity": "editor"}])
    # Created by the editor: the site user's activities are hidden from streams anyway.
    dataset = factories.Dataset(owner_org=org["id"], title=f"数据 {CANARY}", open_type="open",
                                share_type="unconditional", user=editor)
    return {"org": org, "dataset": dataset, "admin": Api(app, admin["token"]),
            "editor": Api(app, editor["token"]), "admin_name": admin["name"],
            "anonymous": Api(app, None)}


def anonymous_sees(d) -> dict[str, bool]:
    anon = d["anonymous"]
    return {
        "search": anon.ok("package_search", q=CANARY)["count"] == 1,
        "show": anon.call("package_show", id=d["dataset"]["id"])["success"],
        "recent activity": CANARY in str(anon.ok("recently_changed_packages_activity_list")),
        "organization activity": CANARY in str(anon.ok("organization_activity_list",
                                                       id=d["org"]["id"])),
    }


def test_narrowing_applies_at_once_everywhere_including_old_activity(department):
    d = department
    assert all(anonymous_sees(d).values())
    d["editor"].ok("package_patch", id=d["dataset"]["id"], open_type="closed",
                   share_type="none", share_condition="不共享")
    assert not any(anonymous_sees(d).values()), anonymous_sees(d)
    # The audit log keeps the narrowing.
    log = d["admin"].ok("yantai_audit_log_list", organization=d["org"]["name"])
    assert [e["event"] for e in log["results"]] == ["tier_narrowed"]


def test_widening_waits_for_a_second_person(department, app):
    d = department
    d["editor"].ok("package_patch", id=d["dataset"]["id"], open_type="closed",
                   share_type="none", share_condition="不共享")
    result = d["editor"].ok("package_patch", id=d["dataset"]["id"], open_type="open",
                            share_type="unconditional", notes="更新后的说明")
    # The other edit is saved; the tier is not.
    assert result["notes"] == "更新后的说明"
    assert (result["open_type"], result["share_type"]) == ("closed", "none")
    change = result["yantai_tier_change"]
    assert change["status"] == "pending"
    assert change["proposed"] == {"open_type": "open", "share_type": "unconditional"}
    assert not any(anonymous_sees(d).values())
    # The proposer cannot approve it, not even as an admin of the department.
    proposer_admin = d["admin"].ok("package_patch", id=d["dataset"]["id"], open_type="open")
    own = proposer_admin["yantai_tier_change"]
    body = d["admin"].call("yantai_tier_change_decide", id=own["id"], decision="approve")
    assert body["success"] is False and body["error"]["__type"] == "Authorization Error"
    pending = d["admin"].ok("yantai_tier_change_list", organization=d["org"]["name"])
    assert [c["id"] for c in pending] == [own["id"]]  # the newer proposal replaced the older
    # A reviewer of the data authority is a second person.
    reviewer = ckan_factories.UserWithToken()
    factories.Organization(name="ytdsjj", users=[{"name": reviewer["name"],
                                                  "capacity": "editor"}])
    decided = Api(app, reviewer["token"]).ok("yantai_tier_change_decide", id=own["id"],
                                             decision="approve")
    assert decided["status"] == "approved"
    shown = d["anonymous"].ok("package_show", id=d["dataset"]["id"])
    assert shown["open_type"] == "open"
    assert all(anonymous_sees(d).values())


def test_invalid_widening_is_refused_whole(department):
    d = department
    d["editor"].ok("package_patch", id=d["dataset"]["id"], open_type="closed",
                   share_type="none", share_condition="不共享")
    error = d["editor"].errors("package_patch", id=d["dataset"]["id"], open_type="conditional")
    assert error["open_condition"]  # 有条件开放 needs its condition, before any proposal
    assert d["admin"].ok("yantai_tier_change_list", organization=d["org"]["name"]) == []


def test_rejected_widening_changes_nothing(department, app):
    d = department
    d["editor"].ok("package_patch", id=d["dataset"]["id"], open_type="closed",
                   share_type="none", share_condition="不共享")
    change = d["editor"].ok("package_patch", id=d["dataset"]["id"],
                            share_type="unconditional")["yantai_tier_change"]
    d["admin"].ok("yantai_tier_change_decide", id=change["id"], decision="reject",
                  reason="尚未脱敏")
    assert d["admin"].ok("package_show", id=d["dataset"]["id"])["share_type"] == "none"
    page = app.get(f"/dataset/{d['dataset']['name']}", headers=d["admin"].headers)
    assert "等待审核" not in page.get_data(as_text=True)
