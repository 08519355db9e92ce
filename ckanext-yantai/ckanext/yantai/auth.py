"""Auth functions of the portal's actions.

The workflow actions decide finer rules themselves (who may see or decide which request) and
answer "not found" where CKAN would say "not authorized", so that nobody learns of what they may
not see; these functions only keep anonymous users out of what needs an account.
"""
from __future__ import annotations

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.types import AuthResult, Context, DataDict

from ckanext.yantai import access


@tk.auth_allow_anonymous_access
def yantai_quality_summary(context: Context, data_dict: DataDict) -> AuthResult:
    # Anyone: the summary counts only the datasets the caller can already find.
    return {"success": True}


def _logged_in(context: Context, data_dict: DataDict) -> AuthResult:
    user = context.get("auth_user_obj")
    if user is None or user.is_anonymous:
        return {"success": False, "msg": tk._("Log in first")}
    return {"success": True}


# The workflow's actions need an account; which requests, queues and decisions are the
# caller's they decide themselves.
yantai_access_request_create = yantai_access_request_show = yantai_access_request_list = \
    yantai_access_request_decide = yantai_access_request_revoke = yantai_tier_change_list = \
    yantai_tier_change_decide = _logged_in


def yantai_audit_log_list(context: Context, data_dict: DataDict) -> AuthResult:
    """A department's admins, the data authority's reviewers and sysadmins."""
    user = context.get("auth_user_obj")
    org = model.Group.get(data_dict.get("organization") or "")
    if user is None or user.is_anonymous or org is None or not org.is_organization:
        return {"success": False, "msg": tk._("Not authorized to see this audit log")}
    viewer = access.viewer_for(user)
    import ckan.authz as authz

    if viewer.sysadmin or viewer.reviewer or authz.has_user_permission_for_group_or_org(
            org.id, user.name, "admin"):
        return {"success": True}
    return {"success": False, "msg": tk._("Not authorized to see this audit log")}


@tk.auth_allow_anonymous_access
def yantai_compliance_check(context: Context, data_dict: DataDict) -> AuthResult:
    # Anyone: it stores nothing and answers only about the record it is given.
    return {"success": True}


def yantai_disclosure_submit(context: Context, data_dict: DataDict) -> AuthResult:
    """Who may edit the resource: the department's editors and admins."""
    try:
        tk.check_access("resource_update", dict(context), {"id": data_dict.get("resource_id")})
    except (tk.NotAuthorized, tk.ObjectNotFound):
        return {"success": False, "msg": tk._("Not authorized to submit records to this resource")}
    return {"success": True}


def _government(context: Context, data_dict: DataDict) -> AuthResult:
    """Department staff (members of any department), the data authority and sysadmins; which
    departments' figures they see, the reports decide."""
    user = context.get("auth_user_obj")
    if user is None or user.is_anonymous:
        return {"success": False, "msg": tk._("Log in first")}
    viewer = access.viewer_for(user)
    if viewer.sysadmin or viewer.reviewer or viewer.government:
        return {"success": True}
    return {"success": False, "msg": tk._("Compliance figures are for department staff")}


yantai_compliance_report = yantai_compliance_ranking = yantai_compliance_trend = \
    yantai_compliance_records = _government


# Every yantai_ function is public (registered by the plugin's blankets).
__all__ = [name for name in dir() if name.startswith("yantai_")]
