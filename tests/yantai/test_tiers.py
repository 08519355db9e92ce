"""The tier rules, and the permission labels that carry them into search and activity streams."""
from __future__ import annotations

import itertools

import pytest

from ckanext.yantai import tiers

pytestmark = pytest.mark.pure

OWNER, OTHER = "org-owner", "org-other"
OPEN_TYPES = ("open", "conditional", "closed")
SHARE_TYPES = ("unconditional", "conditional", "none")

VIEWERS = {
    "anonymous": tiers.ANONYMOUS,
    "public": tiers.Viewer(user_id="u1"),
    "public_granted": tiers.Viewer(user_id="u1", grants=frozenset({"ds"})),
    "government": tiers.Viewer(user_id="u2", orgs=frozenset({OTHER})),
    "government_share_granted": tiers.Viewer(user_id="u2", orgs=frozenset({OTHER}),
                                             share_grants=frozenset({"ds"})),
    "government_open_granted": tiers.Viewer(user_id="u2", orgs=frozenset({OTHER}),
                                            grants=frozenset({"ds"})),
    "department": tiers.Viewer(user_id="u3", orgs=frozenset({OWNER})),
    "reviewer": tiers.Viewer(user_id="u4", orgs=frozenset({"authority"}), reviewer=True),
    "sysadmin": tiers.Viewer(user_id="u5", sysadmin=True),
}


def dataset(open_type: str, share_type: str) -> tiers.Dataset:
    return tiers.Dataset(id="ds", owner_org=OWNER, open_type=open_type, share_type=share_type)


def labels_allow(ds: tiers.Dataset, viewer: tiers.Viewer) -> bool:
    """What CKAN's search does: a match if the viewer has any of the dataset's labels (CKAN's
    own user labels: public, creator-, and member- of every organization of the user)."""
    user = {"public"} | {f"member-{org}" for org in viewer.orgs}
    if viewer.sysadmin:
        return True  # CKAN's search applies no labels for sysadmins
    return bool(user.union(tiers.viewer_labels(viewer)) & set(tiers.dataset_labels(ds)))


@pytest.mark.parametrize("open_type,share_type,who", list(itertools.product(
    OPEN_TYPES, SHARE_TYPES, VIEWERS)))
def test_labels_agree_with_the_rules(open_type, share_type, who):
    ds = dataset(open_type, share_type)
    assert labels_allow(ds, VIEWERS[who]) is tiers.sees_metadata(ds, VIEWERS[who])


EXPECTED_METADATA = {
    # open and conditional: everyone; closed: by department, share type and grants
    ("closed", "unconditional"): {"government", "government_share_granted",
                                  "government_open_granted", "department", "reviewer",
                                  "sysadmin"},
    ("closed", "conditional"): {"government_share_granted", "department", "reviewer", "sysadmin"},
    ("closed", "none"): {"department", "reviewer", "sysadmin"},
}
EXPECTED_DATA = {
    "open": set(VIEWERS),
    # the reviewer is a government user of another department too
    ("conditional", "unconditional"): {"public_granted", "government", "government_share_granted",
                                       "government_open_granted", "department", "reviewer",
                                       "sysadmin"},
    ("conditional", "conditional"): {"public_granted", "government_share_granted",
                                     "government_open_granted", "department", "sysadmin"},
    ("conditional", "none"): {"public_granted", "government_open_granted", "department",
                              "sysadmin"},
    ("closed", "unconditional"): {"government", "government_share_granted",
                                  "government_open_granted", "department", "reviewer",
                                  "sysadmin"},
    ("closed", "conditional"): {"government_share_granted", "department", "sysadmin"},
    ("closed", "none"): {"department", "sysadmin"},
}


@pytest.mark.parametrize("open_type,share_type", list(itertools.product(OPEN_TYPES, SHARE_TYPES)))
def test_who_sees_what(open_type, share_type):
    ds = dataset(open_type, share_type)
    metadata = {who for who, v in VIEWERS.items() if tiers.sees_metadata(ds, v)}
    data = {who for who, v in VIEWERS.items() if tiers.sees_data(ds, v)}
    assert metadata == EXPECTED_METADATA.get((open_type, share_type), set(VIEWERS))
    assert data == EXPECTED_DATA.get(open_type, EXPECTED_DATA.get((open_type, share_type)))
    assert data <= metadata


def test_request_kinds():
    conditional_open = dataset("conditional", "none")
    assert tiers.request_kind(conditional_open, VIEWERS["anonymous"]) is None
    assert tiers.request_kind(conditional_open, VIEWERS["public"]) == "open"
    assert tiers.request_kind(conditional_open, VIEWERS["government"]) == "open"
    assert tiers.request_kind(conditional_open, VIEWERS["public_granted"]) is None
    assert tiers.request_kind(conditional_open, VIEWERS["department"]) is None
    shared = dataset("closed", "conditional")
    assert tiers.request_kind(shared, VIEWERS["government"]) == "share"
    assert tiers.request_kind(shared, VIEWERS["public"]) is None
    assert tiers.request_kind(dataset("closed", "none"), VIEWERS["government"]) is None
    assert tiers.request_kind(dataset("open", "none"), VIEWERS["public"]) is None


@pytest.mark.parametrize("old,new,wider", [
    ({"open_type": "closed"}, {"open_type": "conditional"}, True),
    ({"open_type": "conditional"}, {"open_type": "open"}, True),
    ({"open_type": "open"}, {"open_type": "closed"}, False),
    ({"share_type": "none"}, {"share_type": "conditional"}, True),
    ({"share_type": "unconditional"}, {"share_type": "none"}, False),
    ({"open_type": "open", "share_type": "none"},
     {"open_type": "closed", "share_type": "unconditional"}, True),
    ({"open_type": "open"}, {"open_type": "open"}, False),
])
def test_widening(old, new, wider):
    assert tiers.widens(old, new) is wider


# Who follows and decides a department's work: the owning department's admin and editor, another
# department's staff, the applicant or proposer, a reviewer, a sysadmin, a public user.
ADMIN = tiers.Viewer(user_id="admin", orgs=frozenset({OWNER}), admin_orgs=frozenset({OWNER}))
EDITOR = tiers.Viewer(user_id="editor", orgs=frozenset({OWNER}))
STAFF = {"anonymous": tiers.ANONYMOUS, "public": VIEWERS["public"], "admin": ADMIN,
         "editor": EDITOR, "other_department": VIEWERS["government"],
         "other_admin": tiers.Viewer(user_id="oa", orgs=frozenset({OTHER}),
                                     admin_orgs=frozenset({OTHER})),
         "reviewer": VIEWERS["reviewer"], "sysadmin": VIEWERS["sysadmin"]}


@pytest.mark.parametrize("who, queue, everyones, audit, compliance", [
    ("anonymous", False, False, False, False),
    ("public", False, False, False, False),
    ("admin", True, False, True, True),
    ("editor", True, False, False, True),
    ("other_department", False, False, False, True),
    ("other_admin", False, False, False, True),
    ("reviewer", True, True, True, True),
    ("sysadmin", True, True, True, True),
])
def test_who_follows_a_departments_work(who, queue, everyones, audit, compliance):
    viewer = STAFF[who]
    assert tiers.oversees(viewer, OWNER) is queue
    assert tiers.oversees(viewer) is everyones
    assert tiers.sees_audit_log(viewer, OWNER) is audit
    assert tiers.sees_compliance(viewer) is compliance


@pytest.mark.parametrize("who, sees", [
    ("anonymous", False), ("public", False), ("admin", True), ("editor", True),
    ("other_department", False), ("other_admin", False),
    ("reviewer", False),  # a source's URL and config are its department's, not the authority's
    ("sysadmin", True),
])
def test_who_sees_a_departments_harvest_source(who, sees):
    assert tiers.sees_source(STAFF[who], OWNER) is sees
    assert tiers.sees_source(STAFF[who], None) is (who == "sysadmin")  # a source of no one


@pytest.mark.parametrize("who, request_, change, harvest_change", [
    ("anonymous", False, False, False),
    ("public", False, False, False),
    ("admin", True, True, False),
    ("editor", False, False, False),
    ("other_department", False, False, False),
    ("other_admin", False, False, False),
    ("reviewer", False, True, True),
    ("sysadmin", True, True, True),
])
def test_who_decides(who, request_, change, harvest_change):
    viewer = STAFF[who]
    assert tiers.decides_request(viewer, OWNER, applicant_id="applicant") is request_
    assert tiers.decides_tier_change(viewer, OWNER, "proposer", filed_by_harvest=False) is change
    assert tiers.decides_tier_change(viewer, OWNER, "site", filed_by_harvest=True) is harvest_change


@pytest.mark.parametrize("who", ["admin", "reviewer", "sysadmin"])
def test_no_one_decides_their_own_request_or_proposal(who):
    viewer = STAFF[who]
    assert viewer.user_id is not None
    assert not tiers.decides_request(viewer, OWNER, applicant_id=viewer.user_id)
    assert not tiers.decides_tier_change(viewer, OWNER, viewer.user_id, filed_by_harvest=False)


# Who reviews an application built on a department's data (editor_orgs: its editors and admins).
REVIEWING = {"anonymous": tiers.ANONYMOUS, "public": VIEWERS["public"],
             "admin": tiers.Viewer(user_id="admin", orgs=frozenset({OWNER}),
                                   admin_orgs=frozenset({OWNER}), editor_orgs=frozenset({OWNER})),
             "editor": tiers.Viewer(user_id="editor", orgs=frozenset({OWNER}),
                                    editor_orgs=frozenset({OWNER})),
             "member": tiers.Viewer(user_id="member", orgs=frozenset({OWNER})),
             "other_editor": tiers.Viewer(user_id="oe", orgs=frozenset({OTHER}),
                                          editor_orgs=frozenset({OTHER})),
             "reviewer": VIEWERS["reviewer"], "sysadmin": VIEWERS["sysadmin"]}


@pytest.mark.parametrize("who, reviews", [
    ("anonymous", False), ("public", False), ("admin", True), ("editor", True), ("member", False),
    ("other_editor", False), ("reviewer", True), ("sysadmin", True),
])
def test_who_reviews_an_application_built_on_the_data(who, reviews):
    viewer = REVIEWING[who]
    assert tiers.reviews_application(viewer, {OWNER}) is reviews
    assert tiers.reviews_application(viewer, {OTHER, OWNER}) is (reviews or who == "other_editor")
    assert tiers.decides_application(viewer, {OWNER}, submitter_id="citizen") is reviews
    assert not tiers.decides_application(viewer, {OWNER}, submitter_id=viewer.user_id or "")
    for status in ("pending", "rejected"):
        assert tiers.sees_application(viewer, status, {OWNER}, "citizen") is reviews
        assert tiers.deletes_application(viewer, status, {OWNER}, "citizen") is reviews
    assert tiers.sees_application(viewer, "published", {OWNER}, "citizen")


def test_the_submitter_sees_their_application_and_deletes_it_while_it_waits():
    citizen = tiers.Viewer(user_id="citizen")
    assert all(tiers.sees_application(citizen, status, set(), "citizen")
               for status in ("pending", "published", "rejected"))
    assert [tiers.deletes_application(citizen, status, set(), "citizen")
            for status in ("pending", "published", "rejected")] == [True, False, False]
