"""A department member's desk on their dashboard: for each department they belong to, its
datasets, the drafts they may carry on, and what waits for someone (tier changes under review,
access requests to decide, 双公示 records past their deadline, data requests to answer,
applications built on its data to review); the data authority's desk also shows every department
late to answer its data requests, and counts every application awaiting review.

Everything is read through the same actions as the queues themselves, as the user: the desk
shows nothing its links would then refuse.
"""
from __future__ import annotations

import dataclasses
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.types import Context

from ckanext.yantai import config

RECENT = 5  # datasets and items listed per department; the counts cover all
EDITING = ("editor", "admin")


@dataclasses.dataclass
class Desk:
    organization: dict[str, Any]
    capacity: str
    dataset_count: int
    recent: list[dict[str, Any]]
    drafts: list[dict[str, Any]]
    draft_count: int
    tier_changes: list[dict[str, Any]]
    access_requests: list[dict[str, Any]] | None  # None: not theirs to see
    overdue_requests: int
    overdue_records: dict[str, Any] | None  # {count, results}; None: not theirs to see
    data_requests: dict[str, int]  # {waiting, overdue}: asked of the department, unanswered
    late_departments: list[dict[str, Any]] | None  # the data authority's desk only
    # {waiting, organization}: applications using the department's data awaiting review (the
    # data authority's: every department's, organization None); None: not theirs to review
    applications: dict[str, Any] | None


def _context(user: model.User) -> Context:
    return {"user": user.name, "auth_user_obj": user}


def memberships(user: model.User) -> list[tuple[model.Group, str]]:
    """The active departments the user is a member of, with their capacity, by title."""
    rows = (model.Session.query(model.Group, model.Member.capacity)
            .join(model.Member, model.Member.group_id == model.Group.id)
            .filter(model.Member.table_name == "user", model.Member.table_id == user.id,
                    model.Member.state == "active", model.Group.state == "active",
                    model.Group.is_organization.is_(True))
            .order_by(model.Group.title))
    return [(group, capacity) for group, capacity in rows]


def drafts(user: model.User, org: model.Group, capacity: str) -> tuple[list[model.Package], int]:
    """Unfinished datasets of the department: all of them for its editors and admins (who may
    edit them), a member's own otherwise."""
    q = model.Session.query(model.Package).filter(
        model.Package.owner_org == org.id, model.Package.state == "draft",
        model.Package.type == "dataset")
    if capacity not in EDITING and not user.sysadmin:
        q = q.filter(model.Package.creator_user_id == user.id)
    return q.order_by(model.Package.metadata_modified.desc()).limit(RECENT).all(), q.count()


def _optional(action: str, context: Context, data_dict: dict[str, Any]) -> Any:
    """An action whose answer the user may not be given (then None)."""
    try:
        return tk.get_action(action)(context.copy(), data_dict)
    except (tk.NotAuthorized, tk.ObjectNotFound):
        return None


def desk(user: model.User, org: model.Group, capacity: str) -> Desk:
    context = _context(user)
    found = tk.get_action("package_search")(context.copy(), {
        "fq": f'owner_org:"{org.id}"', "rows": RECENT, "sort": "metadata_modified desc",
        "include_private": True})
    draft_rows, draft_count = drafts(user, org, capacity)
    requests = _optional("yantai_access_request_list", context, {"organization": org.id})
    pending = [r for r in requests or [] if r["status"] == "pending"]
    pending.sort(key=lambda r: (not r["overdue"], r["review_deadline"] or "9999"))
    changes = _optional("yantai_tier_change_list", context, {"organization": org.id}) or []
    overdue = _optional("yantai_compliance_records", context, {
        "organization": org.id, "timeliness": "overdue", "limit": RECENT})
    asked = {status: tk.get_action("yantai_data_request_list")(context.copy(), {
        "organization": org.id, "status": status, "limit": 1})["count"]
        for status in ("pending", "overdue")}
    authority = org.name == config.access_authority_org()
    late = tk.get_action("yantai_data_request_overdue")(context.copy(), {}) \
        if authority else None
    waiting = None
    if capacity in EDITING or user.sysadmin:
        scope = {} if authority else {"organization": org.name}
        waiting = {"organization": scope.get("organization"), "waiting": tk.get_action(
            "yantai_application_list")(context.copy(), {"status": "pending", "limit": 1,
                                                         **scope})["count"]}
    return Desk(
        organization={"id": org.id, "name": org.name, "title": org.title or org.name},
        capacity=capacity, dataset_count=found["count"], recent=found["results"],
        drafts=[{"name": p.name, "title": p.title or p.name,
                 "modified": p.metadata_modified} for p in draft_rows],
        draft_count=draft_count, tier_changes=changes,
        access_requests=pending if requests is not None else None,
        overdue_requests=sum(1 for r in pending if r["overdue"]),
        overdue_records=overdue,
        data_requests={"waiting": asked["pending"] + asked["overdue"],
                       "overdue": asked["overdue"]},
        late_departments=late, applications=waiting)


def for_user(user: Any) -> list[Desk]:
    """The desks of the logged-in user (none for anyone outside every department)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    user_obj = model.User.get(user.id)
    if user_obj is None:
        return []
    return [desk(user_obj, org, capacity) for org, capacity in memberships(user_obj)]
