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


def test_the_list_filters_by_dataset_and_status_and_refuses_odd_values(department):
    d = department
    d["editor"].ok("package_patch", id=d["dataset"]["id"], open_type="closed",
                   share_type="none", share_condition="不共享")
    change = d["editor"].ok("package_patch", id=d["dataset"]["id"],
                            share_type="unconditional")["yantai_tier_change"]
    for ref in (d["dataset"]["id"], d["dataset"]["name"]):
        listed = d["admin"].ok("yantai_tier_change_list", package_id=ref)
        assert [c["id"] for c in listed] == [change["id"]]
    # A value of another type (the fuzz test's falsifying example was a list: a 500) finds none.
    for odd in ([d["dataset"]["id"]], {"id": d["dataset"]["id"]}, 7, "没有这个数据集"):
        assert d["admin"].ok("yantai_tier_change_list", package_id=odd) == []
    assert d["admin"].ok("yantai_tier_change_list", status="rejected") == []
    assert [c["id"] for c in d["admin"].ok("yantai_tier_change_list", status="")] == [change["id"]]
    for odd in ("Pending", "pending ", ["pending"], 1):
        assert d["admin"].errors("yantai_tier_change_list", status=odd)["status"]


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


def _closed(d) -> None:
    d["editor"].ok("package_patch", id=d["dataset"]["id"], open_type="closed",
                   share_type="none", share_condition="不共享")


def _stored_tier(dataset_id: str) -> tuple[str, str]:
    import ckan.model as model

    model.Session.expire_all()
    pkg = model.Package.get(dataset_id)
    assert pkg is not None
    return pkg.extras.get("open_type"), pkg.extras.get("share_type")


# Values a hostile editor might send for 无条件开放 / 无条件共享: whatever the validators make of
# them, the dataset must not become more open without a second person.
WIDENING_VARIANTS = [
    {"open_type": "open "}, {"open_type": " open"}, {"open_type": "open\t"},
    {"open_type": "open\n"}, {"open_type": "\topen\r\n"}, {"open_type": "OPEN"},
    {"open_type": "Open"}, {"open_type": "ｏｐｅｎ"}, {"open_type": "open\u200b"},
    {"open_type": "\ufeffopen"}, {"open_type": "无条件开放"}, {"open_type": ["open"]},
    {"open_type": {"open": 1}}, {"open_type": "conditional ", "open_condition": "实名申请"},
    {"share_type": "unconditional "}, {"share_type": " unconditional"},
    {"share_type": "UNCONDITIONAL"}, {"share_type": "ｕｎｃｏｎｄｉｔｉｏｎａｌ"},
    {"extras": [{"key": "open_type", "value": "open"},
                {"key": "share_type", "value": "unconditional"}]},
]


@pytest.mark.parametrize("variant", WIDENING_VARIANTS, ids=repr)
def test_no_variant_of_a_value_widens_in_one_request(department, variant):
    d = department
    _closed(d)
    body = d["editor"].call("package_patch", id=d["dataset"]["id"], **variant)
    assert _stored_tier(d["dataset"]["id"]) == ("closed", "none")
    assert not any(anonymous_sees(d).values())
    if body["success"]:
        result = body["result"]
        assert (result["open_type"], result["share_type"]) == ("closed", "none")
        change = result.get("yantai_tier_change")
        if change is not None:  # normalised to a valid wider value: proposed, not applied
            assert set(change["proposed"].values()) <= {"open", "conditional", "unconditional"}
    else:
        assert body["error"]["__type"] == "Validation Error", body


def test_package_revise_and_update_are_held_too(department):
    d = department
    _closed(d)
    d["editor"].ok("package_revise", match={"id": d["dataset"]["id"]},
                   update={"open_type": "open", "share_type": "unconditional"})
    assert _stored_tier(d["dataset"]["id"]) == ("closed", "none")
    full = d["editor"].ok("package_show", id=d["dataset"]["id"])
    full.update(open_type="open ", share_type="unconditional")
    d["editor"].ok("package_update", **full)
    assert _stored_tier(d["dataset"]["id"]) == ("closed", "none")
    assert not any(anonymous_sees(d).values())
    pending = d["admin"].ok("yantai_tier_change_list", organization=d["org"]["name"])
    assert [c["proposed"] for c in pending] == [{"open_type": "open",
                                                 "share_type": "unconditional"}]


def test_a_blanked_draft_is_published_no_wider_than_before(department):
    d = department
    _closed(d)
    d["editor"].ok("package_patch", id=d["dataset"]["id"], state="draft", open_type="",
                   share_type="")
    result = d["editor"].ok("package_patch", id=d["dataset"]["id"], state="active",
                            open_type="open", share_type="unconditional")
    assert (result["open_type"], result["share_type"]) == ("closed", "none")
    assert result["yantai_tier_change"]["proposed"] == {"open_type": "open",
                                                        "share_type": "unconditional"}
    assert _stored_tier(d["dataset"]["id"]) == ("closed", "none")
    assert not any(anonymous_sees(d).values())


def test_a_widened_draft_is_held_when_it_is_published_again(department):
    d = department
    _closed(d)
    d["editor"].ok("package_patch", id=d["dataset"]["id"], state="draft")
    # Inside the draft the editor works freely: nobody else sees it.
    draft = d["editor"].ok("package_patch", id=d["dataset"]["id"], open_type="open",
                           share_type="unconditional")
    assert draft["open_type"] == "open" and "yantai_tier_change" not in draft
    published = d["editor"].ok("package_patch", id=d["dataset"]["id"], state="active")
    assert (published["open_type"], published["share_type"]) == ("closed", "none")
    assert published["yantai_tier_change"]["status"] == "pending"
    assert not any(anonymous_sees(d).values())


def test_a_new_drafts_tier_is_its_editors_until_first_published(app):
    editor = ckan_factories.UserWithToken()
    org = factories.Organization(users=[{"name": editor["name"], "capacity": "editor"}])
    api = Api(app, editor["token"])
    draft = factories.Dataset(owner_org=org["id"], title=f"草稿 {CANARY}", open_type="closed",
                              share_type="none", share_condition="不共享", state="draft",
                              user=editor)
    changed = api.ok("package_patch", id=draft["id"], open_type="open",
                     share_type="unconditional")
    assert changed["open_type"] == "open" and "yantai_tier_change" not in changed
    published = api.ok("package_patch", id=draft["id"], state="active")
    assert (published["open_type"], published["share_type"]) == ("open", "unconditional")
    assert "yantai_tier_change" not in published
    # From then on the published tier is the baseline.
    api.ok("package_patch", id=draft["id"], open_type="closed", share_type="none",
           share_condition="不共享")
    held = api.ok("package_patch", id=draft["id"], open_type="open")
    assert held["open_type"] == "closed" and held["yantai_tier_change"]


def test_an_approval_carries_only_the_fields_it_approved(department, app):
    d = department
    _closed(d)
    proposal = d["editor"].ok("package_patch", id=d["dataset"]["id"],
                              open_type="open")["yantai_tier_change"]
    # While the proposal waits, the draft widens the other field too.
    d["editor"].ok("package_patch", id=d["dataset"]["id"], state="draft",
                   share_type="unconditional")
    d["admin"].ok("yantai_tier_change_decide", id=proposal["id"], decision="approve")
    published = d["editor"].ok("package_patch", id=d["dataset"]["id"], state="active")
    assert (published["open_type"], published["share_type"]) == ("open", "none")
    assert published["yantai_tier_change"]["proposed"] == {"share_type": "unconditional"}
    assert _stored_tier(d["dataset"]["id"]) == ("open", "none")


def test_the_migration_keeps_the_tier_of_datasets_published_before(department):
    """Datasets published before baselines were kept: an active one keeps its stored tier, a
    draft or deleted one the tier of its last active snapshot in the activity stream."""
    import pathlib
    import subprocess
    import sys

    import ckan.model as model
    import ckan.plugins.toolkit as tk

    d = department
    _closed(d)
    d["editor"].ok("package_patch", id=d["dataset"]["id"], state="draft", open_type="open",
                   share_type="unconditional")
    command = [str(pathlib.Path(sys.executable).parent / "ckan"), "-c", tk.config["__file__"],
               "db"]
    model.Session.remove()
    for step in (["downgrade", "-p", "yantai", "--version", "e4c8b1d7a2f5"],
                 ["upgrade", "-p", "yantai"]):
        done = subprocess.run(command + step, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
    published = d["editor"].ok("package_patch", id=d["dataset"]["id"], state="active")
    assert (published["open_type"], published["share_type"]) == ("closed", "none")
    assert published["yantai_tier_change"]["proposed"] == {"open_type": "open",
                                                           "share_type": "unconditional"}


def test_a_widening_a_harvest_brought_is_decided_outside_the_department(department, app):
    from ckan.tests.helpers import call_action

    d = department
    _closed(d)
    site_user = call_action("get_site_user")["name"]
    # As a harvest imports: the department's feed now says 无条件开放.
    result = call_action("package_patch", {"user": site_user, "ignore_auth": True},
                         id=d["dataset"]["id"], open_type="open")
    change = result["yantai_tier_change"]
    assert change["proposed_by"] == site_user
    body = d["admin"].call("yantai_tier_change_decide", id=change["id"], decision="approve")
    assert body["success"] is False and body["error"]["__type"] == "Authorization Error"
    reviewer = ckan_factories.UserWithToken()
    factories.Organization(name="ytdsjj", users=[{"name": reviewer["name"],
                                                  "capacity": "editor"}])
    Api(app, reviewer["token"]).ok("yantai_tier_change_decide", id=change["id"],
                                   decision="approve")
    assert _stored_tier(d["dataset"]["id"]) == ("open", "none")


@pytest.mark.parametrize("asked", [{}, {"license_id": "cc-by"}, {"license_id": "cc-by-sa"}])
def test_a_held_widening_keeps_the_licence_of_the_tier_that_stays(department, app, asked):
    d = department
    _closed(d)
    assert d["admin"].ok("package_show", id=d["dataset"]["id"])["license_id"] == \
        "yantai-government-1.0"  # narrowing: the licence followed the open type
    held = d["editor"].ok("package_patch", id=d["dataset"]["id"], open_type="open", **asked)
    assert held["open_type"] == "closed" and held["yantai_tier_change"]["status"] == "pending"
    assert held["license_id"] == "yantai-government-1.0"
    shown = d["admin"].ok("package_show", id=d["dataset"]["id"])
    assert (shown["license_id"], shown["isopen"]) == ("yantai-government-1.0", False)
    found = d["admin"].ok("package_search", fq=f"id:{d['dataset']['id']}")["results"][0]
    assert found["license_id"] == "yantai-government-1.0"
    d["editor"].ok("package_patch", id=d["dataset"]["id"], notes="其他编辑照常保存")
    # approved, the licence follows the open type again
    reviewer = ckan_factories.UserWithToken()
    factories.Organization(name="ytdsjj", users=[{"name": reviewer["name"],
                                                  "capacity": "editor"}])
    Api(app, reviewer["token"]).ok("yantai_tier_change_decide",
                                   id=held["yantai_tier_change"]["id"], decision="approve")
    shown = d["admin"].ok("package_show", id=d["dataset"]["id"])
    assert (shown["open_type"], shown["license_id"]) == ("open", "cc-by")
