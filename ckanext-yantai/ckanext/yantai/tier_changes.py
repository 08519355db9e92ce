"""Changing a dataset's tier: less open applies at once; more open takes a second person.

An update that would publish a dataset more openly than its published tier (the tier it was last
published with, or approved to) saves everything else, keeps the published tier and files a
proposal; a department admin or a data-authority reviewer other than the proposer approves it, and
only then does the tier change. Until a dataset is first published its editor sets its tier freely;
a draft nobody else can see is not a widening."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, cast

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.types import Context

from ckanext.yantai import access, audit, tiers, vocabularies
from ckanext.yantai.model import PublishedTier, TierChange

# The context key under which an approved proposal is applied: the approved fields and values.
APPROVED = "yantai_tier_change_approved"


# What a published dataset's blank or unknown tier field counts as: the least open value.
LEAST_OPEN = {"open_type": "closed", "share_type": "none"}
ORDERS = {"open_type": tiers.OPEN_ORDER, "share_type": tiers.SHARE_ORDER}
# The states of a proposal (yantai_tier_change_list filters by one).
STATUSES = ("pending", "approved", "rejected", "superseded")


def current_tier(pkg: model.Package) -> dict[str, str]:
    """The tier fields as stored."""
    return {key: pkg.extras.get(key) or "" for key in tiers.TIER_FIELDS}


def published_tier(pkg: model.Package) -> dict[str, str] | None:
    """The tier the dataset was last published with (or approved to), the baseline a change is
    compared with; None for a dataset never published, whose editor sets its tier freely."""
    row = model.Session.get(PublishedTier, pkg.id)
    if row is not None:
        return {"open_type": row.open_type, "share_type": row.share_type}
    if pkg.state == "active":  # published before baselines were kept
        return _valid_or_least_open(current_tier(pkg))
    return None


def _valid_or_least_open(tier: dict[str, str]) -> dict[str, str]:
    return {key: tier[key] if tier[key] in ORDERS[key] else LEAST_OPEN[key]
            for key in tiers.TIER_FIELDS}


def hold_widening(pkg: model.Package, published: dict[str, str] | None) -> dict[str, str]:
    """Put back every stored tier field that would make the saved dataset more open than its
    published tier, and return the values put back as the proposal (empty when nothing widens).

    Called after the update is saved and before it is committed, so the decision is made on
    the values as stored: after CKAN's and the schema's validators normalised them, whatever
    key or path (API, form, harvest, ckanapi load) they came by. A dataset that is not active
    (a draft, a deleted one) is no one else's to see; it is checked when it is published."""
    if published is None or pkg.state != "active":
        return {}
    stored = current_tier(pkg)
    proposed = {}
    for key in tiers.TIER_FIELDS:
        if tiers.widens({key: published[key]}, {key: stored[key]}):
            proposed[key] = stored[key]
            pkg.extras[key] = published[key]
    # The licence belongs to the open type that stays: an open licence chosen with (or following)
    # the held open type would otherwise label data that are not open. On approval the licence
    # follows the open type again (logic/validators.yantai_licence_fits).
    open_type = pkg.extras.get("open_type")
    register = model.Package.get_license_register()
    open_licences = frozenset(lid for lid, lic in register.items() if lic.isopen())
    if "open_type" in proposed and not vocabularies.licence_fits(open_type, pkg.license_id,
                                                                 open_licences):
        pkg.license_id = vocabularies.default_licence(open_type) or pkg.license_id
    return proposed


def record_published(pkg: model.Package, approved: dict[str, str] | None = None,
                     published: dict[str, str] | None = None) -> None:
    """Keep the tier of an active dataset as its baseline, in the session's transaction. An
    approval moves the baseline of a dataset that is not active by the approved fields only
    (``published`` already holds them): what else its draft carries is still to be reviewed."""
    if pkg.state == "active":
        tier = _valid_or_least_open(current_tier(pkg))
    elif approved and published is not None:
        tier = published
    else:
        return
    row = model.Session.get(PublishedTier, pkg.id)
    if row is None:
        model.Session.add(PublishedTier(package_id=pkg.id, published_at=dt.datetime.utcnow(),
                                        **tier))
    elif (row.open_type, row.share_type) != (tier["open_type"], tier["share_type"]):
        row.open_type, row.share_type = tier["open_type"], tier["share_type"]
        row.published_at = dt.datetime.utcnow()


def propose(context: Context, pkg: model.Package, current: dict[str, str],
            proposed: dict[str, str]) -> TierChange:
    """File a proposal in the session's transaction (the caller commits; then ``announce``)."""
    user = context.get("auth_user_obj") or model.User.get(context.get("user") or "")
    actor = user.name if user else context.get("user")
    # A newer proposal replaces an older, undecided one.
    for old in model.Session.query(TierChange).filter(TierChange.package_id == pkg.id,
                                                      TierChange.status == "pending"):
        old.status = "superseded"
    change = TierChange(id=str(uuid.uuid4()), package_id=pkg.id, organization_id=pkg.owner_org,
                        proposed_by=actor, proposed_by_id=user.id if user else None,
                        proposed_at=dt.datetime.utcnow(),
                        current=current, proposed=proposed, status="pending")
    model.Session.add(change)
    return change


def announce(change: TierChange) -> dict[str, Any]:
    """Audit a committed proposal; its dict for the caller."""
    audit.record("tier_change_proposed", change.proposed_by, change.package_id,
                 change.organization_id, change_id=change.id, current=change.current,
                 proposed=change.proposed)
    return as_dict(change)


def as_dict(change: TierChange) -> dict[str, Any]:
    pkg = model.Package.get(change.package_id)
    return {"id": change.id, "package_id": change.package_id,
            "package_name": pkg.name if pkg else None,
            "package_title": pkg.title if pkg else None,
            "proposed_by": change.proposed_by, "proposed_at": change.proposed_at.isoformat(),
            "current": change.current, "proposed": change.proposed, "status": change.status,
            "decided_by": change.decided_by,
            "decided_at": change.decided_at.isoformat() if change.decided_at else None,
            "reason": change.reason}


def pending_for(package_id: str) -> TierChange | None:
    return (model.Session.query(TierChange)
            .filter(TierChange.package_id == package_id, TierChange.status == "pending")
            .order_by(TierChange.proposed_at.desc()).first())


def may_approve(user: model.User | None, change: TierChange) -> bool:
    """Whether the user may decide the proposal (``yantai_tier_change_decide``)."""
    if user is None:
        return False
    try:
        return tk.check_access("yantai_tier_change_decide",
                               {"user": user.name, "auth_user_obj": user}, {"id": change.id})
    except tk.NotAuthorized:
        return False


def decide(context: Context, data_dict: dict[str, Any]) -> dict[str, Any]:
    change = model.Session.get(TierChange, str(data_dict.get("id") or ""))
    user = context.get("auth_user_obj") or model.User.get(context.get("user") or "")
    pkg = model.Package.get(change.package_id) if change else None
    if change is None or pkg is None or not access.may_see(access.viewer_for(user), pkg):
        raise tk.ObjectNotFound(tk._("Tier change not found"))
    tk.check_access("yantai_tier_change_decide", context, {"id": change.id})
    if user is None:  # only an internal call (ignore_auth) without a user comes this far
        raise tk.NotAuthorized(tk._("Not authorized to decide tier changes"))
    if change.status != "pending":
        raise tk.ValidationError({"id": [tk._("This tier change has already been decided")]})
    decision = data_dict.get("decision")
    if decision not in ("approve", "reject"):
        raise tk.ValidationError({"decision": [tk._("Decision must be approve or reject")]})
    reason = data_dict.get("reason")
    if decision == "approve":
        baseline = published_tier(pkg) or _valid_or_least_open(current_tier(pkg))
        if baseline != {**baseline, **change.current}:
            change.status = "superseded"
            model.Session.commit()
            raise tk.ValidationError({"id": [tk._(
                "The dataset's tier has changed since this proposal; propose again")]})
        # The approver need not be able to edit the dataset: approving is their right here.
        tk.get_action("package_patch")(
            cast(Context, {"user": user.name, "ignore_auth": True,
                           APPROVED: dict(change.proposed)}),
            {"id": pkg.id, **change.proposed})
    change.status = "approved" if decision == "approve" else "rejected"
    change.decided_by = user.name
    change.decided_at = dt.datetime.utcnow()
    change.reason = reason.strip() if isinstance(reason, str) and reason.strip() else None
    model.Session.commit()
    audit.record(f"tier_change_{change.status}", user.name, pkg.id, pkg.owner_org,
                 change_id=change.id, proposed=change.proposed)
    return as_dict(change)


def query(context: Context, data_dict: dict[str, Any]) -> list[dict[str, Any]]:
    user = context.get("auth_user_obj") or model.User.get(context.get("user") or "")
    if user is None or user.is_anonymous:
        raise tk.NotAuthorized(tk._("Log in to see tier changes"))
    viewer = access.viewer_for(user)
    q = model.Session.query(TierChange)
    org_ref = data_dict.get("organization")
    if org_ref:
        org = model.Group.get(org_ref) if isinstance(org_ref, str) else None
        if org is None:
            raise tk.ObjectNotFound(tk._("Organization not found"))
        q = q.filter(TierChange.organization_id == org.id)
    elif not tiers.oversees(viewer):
        q = q.filter(TierChange.organization_id.in_(viewer.orgs or {""}))
    package_ref = data_dict.get("package_id")
    if package_ref:
        # By id or name, as package_show takes it; anything else (a list, a number) finds none.
        pkg = model.Package.get(package_ref) if isinstance(package_ref, str) else None
        q = q.filter(TierChange.package_id == (pkg.id if pkg else None))
    status = data_dict.get("status", "pending")
    if status:
        if status not in STATUSES:
            raise tk.ValidationError({"status": [tk._(
                "A tier change status is pending, approved, rejected or superseded")]})
        q = q.filter(TierChange.status == status)
    return [as_dict(c) for c in q.order_by(TierChange.proposed_at.desc())]


def follow_owner(pkg: model.Package) -> None:
    """A dataset moved to another department takes its proposals along: that department's admins
    decide them (in the caller's transaction)."""
    if pkg.owner_org:
        (model.Session.query(TierChange)
         .filter(TierChange.package_id == pkg.id, TierChange.organization_id != pkg.owner_org)
         .update({"organization_id": pkg.owner_org}, synchronize_session=False))
