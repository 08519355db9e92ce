"""The conditional-access workflow (有条件开放 applications and 有条件共享 share requests):
apply, review within the configured working days (``ckanext.yantai.access.review_workdays``),
approve with an expiry or reject with a reason, revoke."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, cast

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.types import Context, ErrorDict

from ckanext.yantai import access, audit, config, params, tiers
from ckanext.yantai.model import AccessRequest

TEXT_FIELDS = ("purpose", "intended_use", "applicant_organization")
MAX_TEXT = 2000
PERIOD_YEARS = 10  # how far ahead a period of use may reach


def _date(value: Any, key: str, errors: dict[str, list[str]]) -> dt.date | None:
    """A date given as exactly YYYY-MM-DD (the whole value: nothing may follow it)."""
    if value in (None, ""):
        errors[key] = [tk._("Missing value")]
        return None
    day = params.date(value, params.ANY_YEAR)  # (the caller bounds the years)
    if day is None:
        errors[key] = [tk._("Give a date as YYYY-MM-DD")]
    return day


def _in_reach(day: dt.date | None, key: str, today: dt.date,
              errors: dict[str, list[str]]) -> None:
    """A period of use from last year to PERIOD_YEARS ahead: other years are typing errors."""
    if day is not None and key not in errors and not (
            today.year - 1 <= day.year <= today.year + PERIOD_YEARS):
        errors[key] = [tk._("Give a date between {first} and {last}").format(
            first=f"{today.year - 1}-01-01", last=f"{today.year + PERIOD_YEARS}-12-31")]


def status(req: AccessRequest, today: dt.date | None = None) -> str:
    """pending, approved, rejected, revoked or expired (approved, past its expiry day)."""
    if (req.status == "approved" and req.expires is not None
            and req.expires < (today or access.today())):
        return "expired"
    return req.status


def overdue(req: AccessRequest, today: dt.date | None = None) -> bool:
    return (req.status == "pending" and req.review_deadline is not None
            and (today or access.today()) > req.review_deadline)


def as_dict(req: AccessRequest, viewer: tiers.Viewer | None = None) -> dict[str, Any]:
    """The request as the API gives it to ``viewer`` (None: an internal call). A government user
    may apply for a dataset shared on conditions by its id or name while the tiers still hide
    it (from the sharing catalogue): until approved, its name and title are not given."""
    pkg = model.Package.get(req.package_id)
    org = model.Group.get(req.organization_id)
    user = model.User.get(req.user_id)
    known = pkg is not None and (viewer is None or access.may_see(viewer, pkg))
    return {
        "id": req.id, "package_id": req.package_id,
        "package_name": pkg.name if pkg and known else None,
        "package_title": pkg.title if pkg and known else None,
        "organization": org.name if org else None,
        "organization_title": org.title if org else None,
        "user": user.name if user else None,
        "user_display_name": user.display_name if user else None,
        "kind": req.kind, "status": status(req),
        "purpose": req.purpose, "intended_use": req.intended_use,
        "applicant_organization": req.applicant_organization,
        "period_start": req.period_start.isoformat(), "period_end": req.period_end.isoformat(),
        "commitment_accepted": req.commitment_accepted,
        "created": req.created.isoformat(),
        "review_deadline": req.review_deadline.isoformat() if req.review_deadline else None,
        "calendar_missing": req.status == "pending" and req.review_deadline is None,
        "overdue": overdue(req),
        "decided_by": req.decided_by,
        "decided_at": req.decided_at.isoformat() if req.decided_at else None,
        "expires": req.expires.isoformat() if req.expires else None,
        # The expiry an approval may set now (first, last); null when none may.
        "expires_range": _expires_range(req),
        "reason": req.reason,
        "revoked_by": req.revoked_by,
        "revoked_at": req.revoked_at.isoformat() if req.revoked_at else None,
    }


def _expires_range(req: AccessRequest) -> list[str] | None:
    if req.status != "pending":
        return None
    today = access.today()
    first, last = max(today, req.period_start), latest_expiry(req, today)
    return [first.isoformat(), last.isoformat()] if first <= last else None


def get_visible(context: Context, request_id: Any) -> AccessRequest:
    """The request if the caller may see it (``yantai_access_request_show``: its applicant, and
    whoever follows the owning department's work); NotFound otherwise, so that nobody learns of
    another's request. An anonymous caller is told to log in."""
    req = model.Session.get(AccessRequest, request_id) if isinstance(request_id, str) else None
    if req is None:
        raise tk.ObjectNotFound(tk._("Access request not found"))
    try:
        tk.check_access("yantai_access_request_show", context, {"id": req.id})
    except tk.NotAuthorized:
        user = context.get("auth_user_obj")
        if user is None or user.is_anonymous:
            raise
        raise tk.ObjectNotFound(tk._("Access request not found")) from None
    return req


def create(context: Context, data_dict: dict[str, Any]) -> dict[str, Any]:
    user = context.get("auth_user_obj") or model.User.get(context.get("user") or "")
    if user is None or user.is_anonymous:
        raise tk.NotAuthorized(tk._("Log in to apply for data"))
    pkg_ref = data_dict.get("package_id") or data_dict.get("id")
    pkg = model.Package.get(pkg_ref) if isinstance(pkg_ref, str) and pkg_ref else None
    viewer = access.viewer_for(user)
    ds = access.dataset_of(pkg) if pkg is not None else None
    # Government users may ask to share a closed dataset shared on conditions, which they cannot
    # see before approval, by its id or name (from the government sharing catalogue or its
    # department); everything else needs a dataset the user can see.
    if pkg is None or ds is None or pkg.state != "active" or pkg.type != "dataset" or not (
            access.may_see(viewer, pkg)
            or (viewer.government and ds.share_type == "conditional" and not pkg.private)):
        raise tk.ObjectNotFound(tk._("Dataset not found"))

    kind = tiers.request_kind(ds, viewer)
    if kind is None:
        if tiers.sees_data(ds, viewer):
            message = (tk._("This dataset is open to everyone; no application is needed")
                       if ds.open_type == "open" else tk._("You already have access to this data"))
        else:
            message = tk._("This dataset is not open and not shared on conditions; "
                           "it takes no applications")
        raise tk.ValidationError({"package_id": [message]})

    errors: dict[str, list[str]] = {}
    values: dict[str, str] = {}
    for key in TEXT_FIELDS:
        value = data_dict.get(key)
        if not isinstance(value, str) or not value.strip():
            errors[key] = [tk._("Missing value")]
        elif len(value) > MAX_TEXT:
            errors[key] = [tk._("At most {n} characters").format(n=MAX_TEXT)]
        else:
            values[key] = value.strip()
    start = _date(data_dict.get("period_start"), "period_start", errors)
    end = _date(data_dict.get("period_end"), "period_end", errors)
    today = access.today()
    _in_reach(start, "period_start", today, errors)
    _in_reach(end, "period_end", today, errors)
    if start and end and "period_start" not in errors and "period_end" not in errors:
        if end < start:
            errors["period_end"] = [tk._("The end of the period is before its start")]
        elif end < today:
            errors["period_end"] = [tk._("The period of use is over: give a period that has "
                                         "not ended yet")]
    if not params.flag(data_dict.get("commitment_accepted")):
        errors["commitment_accepted"] = [
            tk._("Accept the data security commitment (安全承诺书) to apply")]
    pending = (model.Session.query(AccessRequest)
               .filter(AccessRequest.package_id == pkg.id, AccessRequest.user_id == user.id,
                       AccessRequest.status == "pending").first())
    if pending is not None:
        errors["package_id"] = [
            tk._("You already have an application under review for this dataset")]
    if errors:
        raise tk.ValidationError(cast(ErrorDict, errors))

    now = dt.datetime.utcnow()
    req = AccessRequest(
        id=str(uuid.uuid4()), package_id=pkg.id, organization_id=pkg.owner_org,
        user_id=user.id, kind=kind, status="pending", period_start=start, period_end=end,
        commitment_accepted=True, created=now, review_deadline=access.review_deadline(now),
        **values)
    model.Session.add(req)
    model.Session.commit()
    audit.record("access_request_created", user.name, pkg.id, pkg.owner_org,
                 request_id=req.id, kind=kind)
    return as_dict(req, access.context_viewer(context))


def latest_expiry(req: AccessRequest, today: dt.date | None = None) -> dt.date:
    """The last day access may be granted until: the end of the period asked for, and never
    more than the configured number of months from today."""
    today = today or access.today()
    return min(req.period_end, params.add_months(today, config.access_max_months()))


def expiry_problem(req: AccessRequest, expires: dt.date,
                   today: dt.date | None = None) -> str | None:
    """Why access cannot be granted until ``expires``, or None. An expiry outside the period
    asked for is refused, not clamped: the deciding admin sees the limits and chooses."""
    today = today or access.today()
    if expires < today:
        return tk._("The expiry date is in the past")
    if expires < req.period_start:
        return tk._("The expiry date is before the requested period of use begins ({start})"
                    ).format(start=req.period_start.isoformat())
    if expires > req.period_end:
        return tk._("Access may not last beyond the requested period of use, which ends on "
                    "{end}").format(end=req.period_end.isoformat())
    if expires > latest_expiry(req, today):
        return tk._("Access may be granted for at most {n} months").format(
            n=config.access_max_months())
    return None


def decide(context: Context, data_dict: dict[str, Any]) -> dict[str, Any]:
    req = get_visible(context, data_dict.get("id"))
    tk.check_access("yantai_access_request_decide", context, {"id": req.id})
    if req.status != "pending":
        raise tk.ValidationError({"id": [tk._("This request has already been decided")]})
    decision = data_dict.get("decision")
    errors: dict[str, list[str]] = {}
    reason = data_dict.get("reason")
    reason = reason.strip() if isinstance(reason, str) else ""
    expires = None
    if decision == "approve":
        expires = _date(data_dict.get("expires"), "expires", errors)
        problem = expiry_problem(req, expires) if expires is not None else None
        if problem:
            errors["expires"] = [problem]
    elif decision == "reject":
        if not reason:
            errors["reason"] = [tk._("Give the applicant the reason for the rejection")]
    else:
        errors["decision"] = [tk._("Decision must be approve or reject")]
    if errors:
        raise tk.ValidationError(cast(ErrorDict, errors))
    user = context.get("auth_user_obj") or model.User.get(context["user"])  # pyright: ignore[reportTypedDictNotRequiredAccess]  # set by check_access
    assert user is not None  # check_access above required a signed-in user
    req.status = "approved" if decision == "approve" else "rejected"
    req.decided_by = user.name
    req.decided_at = dt.datetime.utcnow()
    req.expires = expires
    req.reason = reason or None
    model.Session.commit()
    access.forget_viewers()
    audit.record(f"access_request_{req.status}", user.name, req.package_id, req.organization_id,
                 request_id=req.id, expires=req.expires.isoformat() if req.expires else None)
    return as_dict(req, access.context_viewer(context))


def revoke(context: Context, data_dict: dict[str, Any]) -> dict[str, Any]:
    req = get_visible(context, data_dict.get("id"))
    tk.check_access("yantai_access_request_revoke", context, {"id": req.id})
    if status(req) != "approved":
        raise tk.ValidationError({"id": [tk._("Only granted, unexpired access can be revoked")]})
    reason = data_dict.get("reason")
    user = context.get("auth_user_obj") or model.User.get(context["user"])  # pyright: ignore[reportTypedDictNotRequiredAccess]  # set by check_access
    assert user is not None  # check_access above required a signed-in user
    req.status = "revoked"
    req.revoked_by = user.name
    req.revoked_at = dt.datetime.utcnow()
    if isinstance(reason, str) and reason.strip():
        req.reason = reason.strip()
    model.Session.commit()
    access.forget_viewers()
    audit.record("access_request_revoked", user.name, req.package_id, req.organization_id,
                 request_id=req.id)
    return as_dict(req, access.context_viewer(context))


def query(context: Context, data_dict: dict[str, Any]) -> list[dict[str, Any]]:
    """Requests by scope: the caller's own (default), a department's queue (``organization``), or
    every department's (``all``); who may ask for which, ``yantai_access_request_list`` says."""
    user = context.get("auth_user_obj") or model.User.get(context.get("user") or "")
    if user is None or user.is_anonymous:
        raise tk.NotAuthorized(tk._("Log in to see access requests"))
    q = model.Session.query(AccessRequest)
    org_ref = data_dict.get("organization")
    if org_ref:
        org = model.Group.get(org_ref) if isinstance(org_ref, str) else None
        if org is None or not org.is_organization:
            raise tk.ObjectNotFound(tk._("Organization not found"))
        q = q.filter(AccessRequest.organization_id == org.id)
    elif not params.flag(data_dict.get("all")):
        q = q.filter(AccessRequest.user_id == user.id)
    package_ref = data_dict.get("package_id")
    if package_ref:
        pkg = model.Package.get(package_ref) if isinstance(package_ref, str) else None
        q = q.filter(AccessRequest.package_id == (pkg.id if pkg else None))
    viewer = access.context_viewer(context)
    rows = [as_dict(r, viewer) for r in q.order_by(AccessRequest.created.desc())]
    wanted = data_dict.get("status")
    if wanted:
        rows = [r for r in rows if r["status"] == wanted]
    if params.flag(data_dict.get("overdue")):
        rows = [r for r in rows if r["overdue"]]
    return rows


def follow_owner(pkg: model.Package) -> None:
    """A dataset moved to another department takes its requests along: that department's admins
    decide and revoke them, and they stand in its queue and audit log (in the caller's
    transaction)."""
    if pkg.owner_org:
        (model.Session.query(AccessRequest)
         .filter(AccessRequest.package_id == pkg.id,
                 AccessRequest.organization_id != pkg.owner_org)
         .update({"organization_id": pkg.owner_org}, synchronize_session=False))
