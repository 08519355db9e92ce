"""Access tiers: who may see a dataset's metadata and who may have its data.

Pure rules (no CKAN imports), read like the policy:

- 无条件开放 (``open``): everyone sees metadata and data.
- 有条件开放 (``conditional``): everyone sees metadata; the data goes to the owning department,
  holders of an approved, unexpired access request, and government users of other departments
  when the share type is 无条件共享.
- 不予开放 (``closed``): no public user sees anything. The owning department sees all; other
  departments' government users see it under 无条件共享, or 有条件共享 with an approved share
  request; never under 不予共享.

Reviewers of the data authority see the metadata of every dataset (they approve tier changes), not
its data. Sysadmins see everything.

Who follows and decides a department's work (access requests, tier changes, audit log, compliance
figures) is stated here too, by :func:`oversees`, :func:`decides_request`,
:func:`decides_tier_change`, :func:`sees_audit_log` and :func:`sees_compliance`; who answers a
data request and who reviews an application built on the data, by :func:`answers_data_request`
and :func:`reviews_application`. The auth functions, actions, helpers and views ask these.

The same rules are expressed as CKAN permission labels (for the search index and activity
streams) by :func:`dataset_labels` and :func:`viewer_labels`; ``tests/yantai/test_tiers.py`` checks
the two agree for every combination.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

OPEN_ORDER = {"closed": 0, "conditional": 1, "open": 2}
SHARE_ORDER = {"none": 0, "conditional": 1, "unconditional": 2}
TIER_FIELDS = ("open_type", "share_type")


@dataclass(frozen=True)
class Dataset:
    """What the rules need to know of a dataset."""

    id: str
    owner_org: str | None
    open_type: str
    share_type: str
    active: bool = True
    private: bool = False


@dataclass(frozen=True)
class Viewer:
    """Who is asking. ``grants`` are datasets with an approved, unexpired request of the viewer
    (``open`` kind, for 有条件开放) and ``share_grants`` those approved as government share
    requests (for 有条件共享)."""

    user_id: str | None = None
    sysadmin: bool = False
    orgs: frozenset[str] = field(default_factory=frozenset)
    reviewer: bool = False
    grants: frozenset[str] = field(default_factory=frozenset)
    share_grants: frozenset[str] = field(default_factory=frozenset)
    admin_orgs: frozenset[str] = field(default_factory=frozenset)
    editor_orgs: frozenset[str] = field(default_factory=frozenset)  # editor or admin

    @property
    def government(self) -> bool:
        """A government user is a member of a department (every organization is one)."""
        return bool(self.orgs)


ANONYMOUS = Viewer()


def _shared_with(ds: Dataset, viewer: Viewer) -> bool:
    """Government sharing to other departments, by share type."""
    if not viewer.government:
        return False
    if ds.share_type == "unconditional":
        return True
    return ds.share_type == "conditional" and ds.id in viewer.share_grants


def _insider(ds: Dataset, viewer: Viewer) -> bool:
    return viewer.sysadmin or (ds.owner_org is not None and ds.owner_org in viewer.orgs)


def sees_metadata(ds: Dataset, viewer: Viewer) -> bool:
    """Whether the viewer may know the dataset exists (title, description, resources' names).

    Private datasets and drafts keep CKAN's own rules; this is about active, non-private ones.
    """
    if _insider(ds, viewer):
        return True
    if ds.open_type in ("open", "conditional"):
        return True
    return viewer.reviewer or _shared_with(ds, viewer)


def sees_data(ds: Dataset, viewer: Viewer) -> bool:
    """Whether the viewer may have the data: downloads, resource URLs, DataStore rows."""
    if _insider(ds, viewer) or ds.open_type == "open":
        return True
    if ds.open_type == "conditional":
        return _shared_with(ds, viewer) or ds.id in viewer.grants
    return _shared_with(ds, viewer)


def request_kind(ds: Dataset, viewer: Viewer) -> str | None:
    """Which request the viewer may file for the dataset's data: ``open`` (有条件开放 application),
    ``share`` (有条件共享, government users), or None when no request applies (already has the
    data, open data, or a closed dataset not shared on conditions)."""
    if viewer.user_id is None or sees_data(ds, viewer):
        return None
    if viewer.government and ds.share_type == "conditional":
        return "share"
    if ds.open_type == "conditional":
        return "open"
    return None


def dataset_labels(ds: Dataset) -> list[str]:
    """Permission labels of an active, non-private dataset (others keep CKAN's)."""
    if ds.open_type in ("open", "conditional"):
        return ["public"]
    labels = [f"member-{ds.owner_org}", "yantai-reviewer"]
    if ds.share_type == "unconditional":
        labels.append("yantai-government")
    elif ds.share_type == "conditional":
        labels.append(f"yantai-share-{ds.id}")
    return labels


def viewer_labels(viewer: Viewer) -> list[str]:
    """Labels added to CKAN's own (public, creator-, member-) for the viewer."""
    labels: list[str] = []
    if viewer.government:
        labels.append("yantai-government")
        labels.extend(f"yantai-share-{pkg}" for pkg in sorted(viewer.share_grants))
    if viewer.reviewer:
        labels.append("yantai-reviewer")
    return labels


def widens(old: dict[str, str], new: dict[str, str]) -> bool:
    """Whether a change of open type or share type makes anything more open."""
    return (OPEN_ORDER.get(new.get("open_type", ""), -1)
            > OPEN_ORDER.get(old.get("open_type", ""), -1)
            or SHARE_ORDER.get(new.get("share_type", ""), -1)
            > SHARE_ORDER.get(old.get("share_type", ""), -1))


def oversees(viewer: Viewer, org_id: str | None = None) -> bool:
    """Whether the viewer follows a department's work (its queues of access requests and tier
    changes, its figures): sysadmins and the data authority's reviewers every department's,
    members their own. Without ``org_id``: every department's."""
    return viewer.sysadmin or viewer.reviewer or (org_id is not None and org_id in viewer.orgs)


def sees_source(viewer: Viewer, owner_org: str | None) -> bool:
    """A harvest source (URL, config, jobs, objects) is its department's: members and
    sysadmins see it, no one else (its URL and config name internal hosts)."""
    return viewer.sysadmin or (owner_org is not None and owner_org in viewer.orgs)


def administers(viewer: Viewer, org_id: str) -> bool:
    """An admin of the department (or a sysadmin)."""
    return viewer.user_id is not None and (viewer.sysadmin or org_id in viewer.admin_orgs)


def decides_request(viewer: Viewer, org_id: str, applicant_id: str) -> bool:
    """An access request is decided by an admin of the owning department (or a sysadmin), never
    by the applicant."""
    return viewer.user_id != applicant_id and administers(viewer, org_id)


def decides_tier_change(viewer: Viewer, org_id: str, proposer_id: str,
                        filed_by_harvest: bool) -> bool:
    """A tier change is approved by a second person: a data-authority reviewer or an admin of the
    owning department (or a sysadmin), never the proposer; one a harvest filed, by a reviewer
    (the department controls its feed, so someone outside it decides)."""
    if viewer.user_id is None or viewer.user_id == proposer_id:
        return False
    if viewer.sysadmin:
        return True
    if filed_by_harvest:
        return viewer.reviewer
    return viewer.reviewer or org_id in viewer.admin_orgs


def answers_data_request(viewer: Viewer, org_id: str) -> bool:
    """A data request (数据需求) or error report (纠错) is answered for its department by the
    department's editors and admins, the data authority's reviewers (who also answer what was
    asked of no department in particular) or a sysadmin."""
    return viewer.user_id is not None and (
        viewer.sysadmin or viewer.reviewer or org_id in viewer.editor_orgs)


def reviews_application(viewer: Viewer, org_ids: Iterable[str]) -> bool:
    """An application built on the portal's data (数据应用) is reviewed by the editors and admins
    of a department owning any dataset it uses, the data authority's reviewers or a sysadmin.
    Asked with the viewer's own departments (``viewer.editor_orgs``): whether they review any."""
    return viewer.user_id is not None and (
        viewer.sysadmin or viewer.reviewer or not viewer.editor_orgs.isdisjoint(org_ids))


def decides_application(viewer: Viewer, org_ids: Iterable[str], submitter_id: str) -> bool:
    """An application is approved or rejected by a reviewer (:func:`reviews_application`) other
    than the one who submitted it."""
    return viewer.user_id != submitter_id and reviews_application(viewer, org_ids)


def sees_application(viewer: Viewer, status: str, org_ids: Iterable[str],
                     submitter_id: str) -> bool:
    """A published application is public; one awaiting review or rejected is seen only by who
    submitted it and those who review it."""
    return status == "published" or (viewer.user_id is not None and (
        viewer.user_id == submitter_id or reviews_application(viewer, org_ids)))


def deletes_application(viewer: Viewer, status: str, org_ids: Iterable[str],
                        submitter_id: str) -> bool:
    """An application is deleted by who submitted it while it awaits review, or by those who
    review it."""
    return viewer.user_id is not None and (
        (viewer.user_id == submitter_id and status == "pending")
        or reviews_application(viewer, org_ids))


def sees_requester(viewer: Viewer, org_id: str, requester_id: str) -> bool:
    """Who asked is shown to the requester, the department asked, the data authority's reviewers
    and sysadmins; the public sees the request and its answer without them."""
    return viewer.user_id is not None and (
        viewer.user_id == requester_id or oversees(viewer, org_id))


def sees_audit_log(viewer: Viewer, org_id: str) -> bool:
    """A department's audit log: its admins, the data authority's reviewers, sysadmins."""
    return viewer.sysadmin or viewer.reviewer or org_id in viewer.admin_orgs


def sees_compliance(viewer: Viewer) -> bool:
    """The 双公示 compliance figures: government users (any department's staff), the data
    authority's reviewers, sysadmins; which departments' rows they get, :func:`oversees` says."""
    return viewer.sysadmin or viewer.reviewer or viewer.government


def sees_department_usage(viewer: Viewer, org_id: str) -> bool:
    """A department's usage statistics over all its datasets (any tier: a 不予开放 dataset's API
    calls by government users too) are seen by its members, the data authority's reviewers and
    sysadmins; everyone else sees those of its datasets the public may find."""
    return viewer.user_id is not None and (
        viewer.sysadmin or viewer.reviewer or org_id in viewer.orgs)
