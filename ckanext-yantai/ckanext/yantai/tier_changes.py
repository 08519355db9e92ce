"""Changing a dataset's tier: less open applies at once; more open takes a second person.

An update that widens open type or share type saves everything else, keeps the current tier and
files a proposal; a department admin or a data-authority reviewer other than the proposer approves
it, and only then does the tier change."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import ckan.authz as authz
import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.types import Context

from ckanext.yantai import access, audit, tiers
from ckanext.yantai.model import TierChange

# The context flag under which an approved proposal is applied.
APPROVED = "yantai_tier_change_approved"


def current_tier(pkg: model.Package) -> dict[str, str]:
    return {key: pkg.extras.get(key) or "" for key in tiers.TIER_FIELDS}


def split(pkg: model.Package, data_dict: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """The update's tier fields as ``(kept, proposed)``: ``kept`` are the values the update may
    save now (narrowing or unchanged); ``proposed`` the widening ones, for approval."""
    old = current_tier(pkg)
    kept, proposed = {}, {}
    for key in tiers.TIER_FIELDS:
        new = data_dict.get(key)
        if key not in data_dict or new == old[key] or not old[key]:
            continue
        if tiers.widens({key: old[key]}, {key: new}):
            kept[key], proposed[key] = old[key], new
    return kept, proposed


def propose(context: Context, pkg: model.Package, current: dict[str, str],
            proposed: dict[str, str]) -> dict[str, Any]:
    user = context.get("auth_user_obj") or model.User.get(context.get("user") or "")
    actor = user.name if user else context.get("user")
    # A newer proposal replaces an older, undecided one.
    for old in model.Session.query(TierChange).filter(TierChange.package_id == pkg.id,
                                                      TierChange.status == "pending"):
        old.status = "superseded"
    change = TierChange(id=str(uuid.uuid4()), package_id=pkg.id, organization_id=pkg.owner_org,
                        proposed_by=actor, proposed_at=dt.datetime.utcnow(),
                        current=current, proposed=proposed, status="pending")
    model.Session.add(change)
    model.Session.commit()
    audit.record("tier_change_proposed", actor, pkg.id, pkg.owner_org, change_id=change.id,
                 current=current, proposed=proposed)
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
    """A second person: an admin of the owning department or a data-authority reviewer (or a
    sysadmin), never the proposer."""
    if user is None or user.name == change.proposed_by:
        return False
    if user.sysadmin:
        return True
    viewer = access.viewer_for(user)
    return viewer.reviewer or authz.has_user_permission_for_group_or_org(
        change.organization_id, user.name, "admin")


def decide(context: Context, data_dict: dict[str, Any]) -> dict[str, Any]:
    change = model.Session.get(TierChange, str(data_dict.get("id") or ""))
    user = context.get("auth_user_obj") or model.User.get(context.get("user") or "")
    pkg = model.Package.get(change.package_id) if change else None
    if change is None or pkg is None or not access.may_see_pkg(access.viewer_for(user), pkg):
        raise tk.ObjectNotFound(tk._("Tier change not found"))
    if not may_approve(user, change):
        raise tk.NotAuthorized(tk._(
            "A tier change is approved by another person: an admin of the department or a "
            "reviewer of the data authority"))
    if change.status != "pending":
        raise tk.ValidationError({"id": [tk._("This tier change has already been decided")]})
    decision = data_dict.get("decision")
    if decision not in ("approve", "reject"):
        raise tk.ValidationError({"decision": [tk._("Decision must be approve or reject")]})
    reason = data_dict.get("reason")
    if decision == "approve":
        if current_tier(pkg) != {**current_tier(pkg), **change.current}:
            change.status = "superseded"
            model.Session.commit()
            raise tk.ValidationError({"id": [tk._(
                "The dataset's tier has changed since this proposal; propose again")]})
        # The approver need not be able to edit the dataset: approving is their right here.
        tk.get_action("package_patch")(
            {"user": user.name, "ignore_auth": True, APPROVED: True},
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
        org = model.Group.get(org_ref)
        if org is None or not (viewer.sysadmin or viewer.reviewer or org.id in viewer.orgs):
            raise tk.ObjectNotFound(tk._("Organization not found"))
        q = q.filter(TierChange.organization_id == org.id)
    elif not (viewer.sysadmin or viewer.reviewer):
        q = q.filter(TierChange.organization_id.in_(viewer.orgs or {""}))
    if data_dict.get("package_id"):
        q = q.filter(TierChange.package_id == data_dict["package_id"])
    status = data_dict.get("status", "pending")
    if status:
        q = q.filter(TierChange.status == status)
    return [as_dict(c) for c in q.order_by(TierChange.proposed_at.desc())]
