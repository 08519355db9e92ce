"""Auth functions of the portal's actions.

They carry the real rules, asked of the access policy in :mod:`ckanext.yantai.tiers` (who follows
a department's work, who decides a request or a tier change), so that ``check_access`` and the
templates' ``h.check_access`` tell the truth. Where an outsider should not learn that something
exists, the actions answer "not found" for a refusal (see ``access_requests.get_visible``).
"""
from __future__ import annotations

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.types import AuthFunction, AuthResult, Context, DataDict

from ckanext.yantai import access, applications, params, tiers
from ckanext.yantai.messages import message
from ckanext.yantai.model import AccessRequest, TierChange


def _viewer(context: Context) -> tiers.Viewer:
    return access.viewer_for(context.get("auth_user_obj"))


def _allowed(allowed: bool, msg: str) -> AuthResult:
    return {"success": True} if allowed else {"success": False, "msg": msg}


@tk.auth_allow_anonymous_access
def yantai_vocabulary_list(context: Context, data_dict: DataDict) -> AuthResult:
    # Anyone: the code lists are public.
    return {"success": True}


@tk.auth_allow_anonymous_access
def yantai_quality_summary(context: Context, data_dict: DataDict) -> AuthResult:
    # Anyone: the summary counts only the datasets the caller can already find.
    return {"success": True}


def _logged_in(context: Context, data_dict: DataDict) -> AuthResult:
    user = context.get("auth_user_obj")
    if user is None or user.is_anonymous:
        return {"success": False, "msg": tk._("Log in first")}
    return {"success": True}


yantai_access_request_create = _logged_in


def _request(data_dict: DataDict) -> AccessRequest | None:
    ref = data_dict.get("id")
    return model.Session.get(AccessRequest, ref) if isinstance(ref, str) and ref else None


def _department(package_id: str, filed_with: str) -> str:
    """The department a request or proposal is decided by: the one that owns the dataset now
    (a dataset moved to another department takes its open requests along), else the one it was
    filed with."""
    pkg = model.Package.get(package_id)
    return pkg.owner_org if pkg is not None and pkg.owner_org else filed_with


def _organization(data_dict: DataDict) -> model.Group | None:
    ref = data_dict.get("organization")
    org = model.Group.get(ref) if isinstance(ref, str) and ref else None
    return org if org is not None and org.is_organization else None


def yantai_access_request_show(context: Context, data_dict: DataDict) -> AuthResult:
    """Its applicant, and whoever follows the owning department's work."""
    req, viewer = _request(data_dict), _viewer(context)
    return _allowed(req is not None and viewer.user_id is not None
                    and (req.user_id == viewer.user_id
                         or tiers.oversees(viewer, _department(req.package_id,
                                                               req.organization_id))),
                    tk._("Not authorized to see this access request"))


def _decides_request(msg: str) -> AuthFunction:
    @tk.auth_sysadmins_check  # no one decides their own request, not even a sysadmin
    def auth(context: Context, data_dict: DataDict) -> AuthResult:
        req = _request(data_dict)
        return _allowed(req is not None and tiers.decides_request(
            _viewer(context), _department(req.package_id, req.organization_id), req.user_id),
            tk._(msg))
    return auth


yantai_access_request_decide = _decides_request(
    "Only the owning department's admins decide access requests")
yantai_access_request_revoke = _decides_request(
    "Only the owning department's admins revoke access")


def _queue(context: Context, data_dict: DataDict, log_in: str, refused: str) -> AuthResult | None:
    """The rule shared by the queues: an account, and for a named department (``organization``)
    someone who follows its work. None: the caller's own scope, decided by the list."""
    viewer = _viewer(context)
    if viewer.user_id is None:
        return {"success": False, "msg": log_in}
    if data_dict.get("organization"):
        org = _organization(data_dict)
        return _allowed(org is not None and tiers.oversees(viewer, org.id), refused)
    return None


def yantai_access_request_list(context: Context, data_dict: DataDict) -> AuthResult:
    """Any account its own requests; a department's queue (``organization``) whoever follows its
    work; every department's (``all``) the data authority's reviewers and sysadmins."""
    result = _queue(context, data_dict, tk._("Log in to see access requests"),
                    tk._("Not authorized to see this department's requests"))
    if result is not None:
        return result
    if params.flag(data_dict.get("all")):
        return _allowed(tiers.oversees(_viewer(context)),
                        tk._("Only the data authority sees every department's requests"))
    return {"success": True}


def yantai_tier_change_list(context: Context, data_dict: DataDict) -> AuthResult:
    """Any government account its departments' proposals; a named department's whoever follows
    its work."""
    return _queue(context, data_dict, tk._("Log in to see tier changes"),
                  tk._("Not authorized to see this department's tier changes")) \
        or {"success": True}


@tk.auth_sysadmins_check  # no one decides their own request or proposal
def yantai_tier_change_decide(context: Context, data_dict: DataDict) -> AuthResult:
    ref = data_dict.get("id")
    change = model.Session.get(TierChange, ref) if isinstance(ref, str) and ref else None
    if change is None:
        return {"success": False, "msg": tk._("Tier change not found")}
    site_name = tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]
    site_user = model.User.get(site_name)
    # By id: the proposer may have renamed themselves since. A proposal without one (its
    # proposer was gone when ids were added) is for a reviewer, like one a harvest filed.
    proposer_id = change.proposed_by_id or ""
    return _allowed(tiers.decides_tier_change(
        _viewer(context), _department(change.package_id, change.organization_id), proposer_id,
        filed_by_harvest=not proposer_id or (site_user is not None
                                             and proposer_id == site_user.id)),
        tk._("A tier change is approved by another person: an admin of the department or a "
             "reviewer of the data authority"))


def yantai_audit_log_list(context: Context, data_dict: DataDict) -> AuthResult:
    """A department's admins, the data authority's reviewers and sysadmins."""
    org = _organization(data_dict)
    return _allowed(org is not None and tiers.sees_audit_log(_viewer(context), org.id),
                    tk._("Not authorized to see this audit log"))


@tk.auth_allow_anonymous_access
def yantai_compliance_check(context: Context, data_dict: DataDict) -> AuthResult:
    # Anyone: it stores nothing and answers only about the record it is given.
    return {"success": True}


def _resource_ref(data_dict: DataDict) -> str:
    """The resource id to ask resource_update's auth about: text, else one that finds none (a
    list or an object reached the database: a 500 for template callers of check_access)."""
    ref = data_dict.get("resource_id")
    return ref if isinstance(ref, str) else ""


def yantai_disclosure_submit(context: Context, data_dict: DataDict) -> AuthResult:
    """Who may edit the resource: the department's editors and admins."""
    try:
        tk.check_access("resource_update", context.copy(), {"id": _resource_ref(data_dict)})
    except (tk.NotAuthorized, tk.ObjectNotFound):
        return {"success": False, "msg": tk._("Not authorized to submit records to this resource")}
    return {"success": True}


def _government(context: Context, data_dict: DataDict) -> AuthResult:
    """Department staff (members of any department), the data authority and sysadmins; which
    departments' figures they see, the reports decide."""
    viewer = _viewer(context)
    if viewer.user_id is None:
        return {"success": False, "msg": tk._("Log in first")}
    return _allowed(tiers.sees_compliance(viewer),
                    tk._("Compliance figures are for department staff"))


def yantai_datastore_submit(context: Context, data_dict: DataDict) -> AuthResult:
    """Whoever may edit the resource."""
    try:
        tk.check_access("resource_update", context.copy(), {"id": _resource_ref(data_dict)})
    except (tk.NotAuthorized, tk.ObjectNotFound):
        return {"success": False, "msg": tk._("Not authorized to load this resource")}
    return {"success": True}


yantai_compliance_report = yantai_compliance_ranking = yantai_compliance_trend = \
    yantai_compliance_records = _government


# Every yantai_ function is public (registered by the plugin's blankets).
@tk.auth_allow_anonymous_access
def yantai_credit_search(context: Context, data_dict: DataDict) -> AuthResult:
    # Anyone: public records only, the same for every caller.
    return {"success": True}


yantai_credit_profile = yantai_credit_search  # the same: public records only


def yantai_data_request_create(context: Context, data_dict: DataDict) -> AuthResult:
    # Logged-in users (CKAN refuses anonymous callers of a function without
    # auth_allow_anonymous_access).
    return {"success": True}


yantai_data_request_follow = yantai_data_request_create  # the same: logged-in users


@tk.auth_allow_anonymous_access
def yantai_data_request_list(context: Context, data_dict: DataDict) -> AuthResult:
    # Anyone: requests and answers are public (who asked is shown only to those it concerns).
    return {"success": True}


yantai_data_request_show = yantai_data_request_list  # the same: public


def yantai_data_request_answer(context: Context, data_dict: DataDict) -> AuthResult:
    # Logged-in users; the action checks the department (tiers.answers_data_request).
    return {"success": True}


yantai_application_create = yantai_data_request_create  # the same: logged-in users


@tk.auth_allow_anonymous_access
def yantai_application_list(context: Context, data_dict: DataDict) -> AuthResult:
    # Anyone: the list holds published applications, and others only for those who see them.
    return {"success": True}


@tk.auth_allow_anonymous_access
def yantai_application_show(context: Context, data_dict: DataDict) -> AuthResult:
    """A published application anyone; one awaiting review or rejected, the one who submitted
    it and those who review it (the action answers "not found" to the others)."""
    app = applications.get(data_dict.get("id"))
    return _allowed(app is not None and tiers.sees_application(
        _viewer(context), app.status, applications.departments(app.id), app.submitted_by),
        message("application_not_found"))


@tk.auth_sysadmins_check  # no one reviews what they submitted, not even a sysadmin
def yantai_application_review(context: Context, data_dict: DataDict) -> AuthResult:
    """Editors and admins of a department whose data it uses, the data authority's reviewers and
    sysadmins, never the one who submitted it."""
    app = applications.get(data_dict.get("id"))
    return _allowed(app is not None and tiers.decides_application(
        _viewer(context), applications.departments(app.id), app.submitted_by),
        message("application_not_yours"))


def yantai_application_delete(context: Context, data_dict: DataDict) -> AuthResult:
    """Its reviewers, and the one who submitted it while it awaits review."""
    app = applications.get(data_dict.get("id"))
    return _allowed(app is not None and tiers.deletes_application(
        _viewer(context), app.status, applications.departments(app.id), app.submitted_by),
        message("application_not_deletable"))

@tk.auth_allow_anonymous_access
def yantai_usage_statistics(context: Context, data_dict: DataDict) -> AuthResult:
    # Anyone: counts of the datasets the public may find; a department's members see all of
    # theirs (decided by the action, tiers.sees_department_usage).
    return {"success": True}


def yantai_usage_import(context: Context, data_dict: DataDict) -> AuthResult:
    # Sysadmins only (CKAN lets them through before this).
    return {"success": False, "msg": tk._("Only system administrators import usage figures")}


__all__ = [name for name in dir() if name.startswith("yantai_")]
