"""The auth functions carry the access policy (ckanext.yantai.tiers): what ``check_access`` and
the templates' ``h.check_access`` answer for each role, asked with CKAN's ``call_auth``."""
from __future__ import annotations

import datetime as dt

import ckan.plugins.toolkit as tk
import pytest
from ckan.tests import factories as ckan_factories
from ckan.tests.helpers import call_action, call_auth

from ckanext.yantai import access
from tests import factories

pytestmark = pytest.mark.usefixtures("clean_db", "clean_index")

ROLES = ("anonymous", "public", "applicant", "admin", "editor", "other_admin", "reviewer",
         "sysadmin")


@pytest.fixture
def world():
    users = {role: ckan_factories.User() for role in ROLES if role != "anonymous"}
    users["sysadmin"] = ckan_factories.Sysadmin()
    org = factories.Organization(users=[{"name": users["admin"]["name"], "capacity": "admin"},
                                        {"name": users["editor"]["name"], "capacity": "editor"}])
    factories.Organization(users=[{"name": users["other_admin"]["name"], "capacity": "admin"}])
    factories.Organization(name=tk.config["ckanext.yantai.access.authority_org"],
                           users=[{"name": users["reviewer"]["name"], "capacity": "editor"}])
    conditional = factories.Dataset(owner_org=org["id"], open_type="conditional",
                                    open_condition="签署安全承诺书", share_type="none",
                                    share_condition="不共享")
    today = access.today()
    request = call_action(
        "yantai_access_request_create", context={"user": users["applicant"]["name"]},
        package_id=conditional["id"], purpose="交通研究", intended_use="统计分析",
        applicant_organization="烟台大学", period_start=today.isoformat(),
        period_end=(today + dt.timedelta(days=90)).isoformat(), commitment_accepted=True)
    # A widening the editor proposes on a published dataset.
    published = factories.Dataset(owner_org=org["id"], open_type="closed", share_type="none",
                                  share_condition="不共享", user=users["editor"])
    proposed = call_action("package_patch", context={"user": users["editor"]["name"]},
                           id=published["id"], open_type="open", share_type="unconditional")
    return {"users": users, "org": org, "request": request,
            "change": proposed["yantai_tier_change"]}


def allowed(world, role: str, auth: str, **data) -> bool:
    user = world["users"].get(role)
    context = {"user": user["name"] if user else ""}
    try:
        return call_auth(auth, context, **data) is True
    except tk.NotAuthorized:
        return False


@pytest.mark.parametrize("auth, expected", [
    ("yantai_access_request_show", {"applicant", "admin", "editor", "reviewer", "sysadmin"}),
    ("yantai_access_request_decide", {"admin", "sysadmin"}),
    ("yantai_access_request_revoke", {"admin", "sysadmin"}),
])
def test_an_access_request(world, auth, expected):
    got = {role for role in ROLES if allowed(world, role, auth, id=world["request"]["id"])}
    assert got == expected


def test_a_tier_change_is_decided_by_a_second_person(world):
    got = {role for role in ROLES
           if allowed(world, role, "yantai_tier_change_decide", id=world["change"]["id"])}
    assert got == {"admin", "reviewer", "sysadmin"}  # not the editor who proposed it


@pytest.mark.parametrize("auth, data, expected", [
    ("yantai_access_request_list", {}, set(ROLES) - {"anonymous"}),
    ("yantai_access_request_list", {"organization": "ORG"},
     {"admin", "editor", "reviewer", "sysadmin"}),
    ("yantai_access_request_list", {"all": "true"}, {"reviewer", "sysadmin"}),
    ("yantai_tier_change_list", {"organization": "ORG"},
     {"admin", "editor", "reviewer", "sysadmin"}),
    ("yantai_audit_log_list", {"organization": "ORG"}, {"admin", "reviewer", "sysadmin"}),
    ("yantai_compliance_report", {},
     {"admin", "editor", "other_admin", "reviewer", "sysadmin"}),
])
def test_a_departments_queues_and_figures(world, auth, data, expected):
    data = {k: world["org"]["name"] if v == "ORG" else v for k, v in data.items()}
    assert {role for role in ROLES if allowed(world, role, auth, **data)} == expected


def test_unknown_ids_are_refused_not_an_error(world):
    for auth in ("yantai_access_request_show", "yantai_access_request_decide",
                 "yantai_tier_change_decide"):
        assert not allowed(world, "admin", auth, id="no-such-id")
        assert not allowed(world, "admin", auth, id={"$ne": ""})
    assert not allowed(world, "admin", "yantai_audit_log_list", organization="no-such-org")


def test_no_one_decides_their_own_request_not_even_after_becoming_an_admin(world):
    call_action("organization_member_create", id=world["org"]["id"], role="admin",
                username=world["users"]["applicant"]["name"])
    assert not allowed(world, "applicant", "yantai_access_request_decide",
                       id=world["request"]["id"])
    assert allowed(world, "admin", "yantai_access_request_decide", id=world["request"]["id"])


def test_renaming_oneself_does_not_make_one_a_second_person(world):
    """The proposer is known by id: an admin who proposes a widening and whose account is then
    renamed (by a sysadmin: CKAN refuses a user's own rename) still may not approve it."""
    admin = world["users"]["admin"]
    dataset = factories.Dataset(owner_org=world["org"]["id"], open_type="closed",
                                share_type="none", share_condition="不共享", user=admin)
    proposed = call_action("package_patch", context={"user": admin["name"]},
                           id=dataset["id"], open_type="open")["yantai_tier_change"]
    call_action("user_patch", context={"user": world["users"]["sysadmin"]["name"]}, id=admin["id"],
                name=admin["name"] + "-renamed")
    world["users"]["admin"] = {**admin, "name": admin["name"] + "-renamed"}
    assert not allowed(world, "admin", "yantai_tier_change_decide", id=proposed["id"])
    assert allowed(world, "reviewer", "yantai_tier_change_decide", id=proposed["id"])


def test_a_moved_dataset_takes_its_request_and_proposal_to_its_new_department(world):
    new_admin = ckan_factories.User()
    new_org = factories.Organization(users=[{"name": new_admin["name"], "capacity": "admin"}])
    world["users"]["new_admin"] = new_admin
    for pkg_id in (world["request"]["package_id"], world["change"]["package_id"]):
        call_action("package_patch", context={"user": world["users"]["sysadmin"]["name"]},
                    id=pkg_id, owner_org=new_org["id"])
    request, change = world["request"]["id"], world["change"]["id"]
    assert not allowed(world, "admin", "yantai_access_request_decide", id=request)
    assert allowed(world, "new_admin", "yantai_access_request_decide", id=request)
    assert not allowed(world, "admin", "yantai_tier_change_decide", id=change)
    assert allowed(world, "new_admin", "yantai_tier_change_decide", id=change)
    queue = call_action("yantai_access_request_list", context={"user": new_admin["name"]},
                        organization=new_org["name"])
    assert [r["id"] for r in queue] == [request]
    changes = call_action("yantai_tier_change_list", context={"user": new_admin["name"]},
                          organization=new_org["name"])
    assert [c["id"] for c in changes] == [change]
