"""数据需求 and 纠错: anyone logged in asks for data that is not published (what, why, which
department) or reports an error in a dataset or one of its resources; the department answers in
its queue within the configured working days (``ckanext.yantai.data_request.answer_workdays``,
by the working-day calendar). Requests and answers are public and searchable, without who
asked (and with identity numbers, phones and bank cards masked in every text); users follow
them; the data authority sees the overdue ones of every department.

Who answers: the department's editors and admins, the data authority's reviewers (who also take
what was asked of no department in particular), sysadmins (``tiers.answers_data_request``).
"""
from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any, cast

import ckan.model as model
import ckan.plugins.toolkit as tk
import sqlalchemy as sa
from ckan.types import Context, ErrorDict

from ckanext.yantai import access, classified, codes, config, params, tiers, workdays
from ckanext.yantai.disclosure import privacy
from ckanext.yantai.guards import firewall
from ckanext.yantai.messages import message
from ckanext.yantai.model import DataRequest, DataRequestFollower

KINDS = ("request", "correction")
# labels: English msgids, translated (tk._) where shown
KIND_LABELS = {"request": "Data request", "correction": "Error report"}
# what a department may answer, by kind
OUTCOMES = {
    "request": ("published", "planned", "not_held", "not_open", "other"),
    "correction": ("fixed", "not_an_error", "other"),
}
OUTCOME_LABELS = {"published": "Published as open data", "planned": "Planned for opening",
                  "not_held": "Not held by this department",
                  "not_open": "Not open by law", "fixed": "Corrected",
                  "not_an_error": "Checked: no error", "other": "Other"}
STATUS_LABELS = {"pending": "Awaiting answer", "answered": "Answered", "overdue": "Overdue"}
STATUSES = ("pending", "answered", "overdue")
TEXT_LIMITS = {"title": (2, 200), "description": (2, 4000), "purpose": (2, 2000),
               "answer": (2, 4000)}
LIST_MAX = 100


def viewer_of(context: Context) -> tiers.Viewer:
    return access.viewer_for(context.get("auth_user_obj") or context.get("user"))


def _user(context: Context) -> model.User:
    user = context.get("auth_user_obj") or model.User.get(context.get("user") or "")
    if user is None or user.is_anonymous or user.state != "active":
        raise tk.NotAuthorized(message("data_request_login"))
    return cast(model.User, user)


def _text(data: dict[str, Any], key: str, errors: dict[str, list[str]],
          required: bool = True) -> str | None:
    """A text field, stripped, within its length; None when absent and not required."""
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors[key] = [tk._("Missing value")]
        return None
    if not isinstance(value, str):
        errors[key] = [message("param_text")]
        return None
    low, high = TEXT_LIMITS[key]
    text = value.strip()
    if not low <= len(text) <= high:
        errors[key] = [message("data_request_length", low=str(low), high=str(high))]
        return None
    return text


def _department(ref: Any, errors: dict[str, list[str]], key: str) -> model.Group | None:
    """An active department by id or name."""
    if not isinstance(ref, str) or not ref.strip():
        errors[key] = [message("data_request_department")]
        return None
    org = model.Group.get(ref.strip())
    if org is None or not org.is_organization or org.state != "active":
        errors[key] = [message("data_request_department")]
        return None
    return org


def _visible_dataset(ref: Any, viewer: tiers.Viewer, errors: dict[str, list[str]],
                     key: str) -> model.Package | None:
    """An active dataset the viewer may see, by id or name (else the same error as none)."""
    pkg = model.Package.get(ref.strip()) if isinstance(ref, str) and ref.strip() else None
    if pkg is None or pkg.state != "active" or pkg.type != "dataset" or not access.may_see(
            viewer, pkg):
        errors[key] = [message("data_request_dataset")]
        return None
    return pkg


def _refuse_classified(context: Context, texts: dict[str, str | None],
                       package_id: str | None, org_id: str | None) -> None:
    found = classified.findings({k: v for k, v in texts.items() if v})
    firewall.refuse(context, found, package_id, org_id, channel="data_request")


def deadline(now: dt.datetime) -> dt.date | None:
    try:
        return config.calendar().add_workdays(workdays.local_date(now.replace(tzinfo=dt.UTC)),
                                              config.data_request_answer_workdays())
    except workdays.CalendarMissing:
        return None


def create(context: Context, data: dict[str, Any]) -> dict[str, Any]:
    user = _user(context)
    viewer = viewer_of(context)
    errors: dict[str, list[str]] = {}
    kind = data.get("kind")
    if kind not in KINDS:
        errors["kind"] = [message("not_in_vocabulary", choices="、".join(KINDS))]
    title = _text(data, "title", errors)
    description = _text(data, "description", errors)
    purpose = _text(data, "purpose", errors, required=kind == "request")
    pkg: model.Package | None = None
    resource_id: str | None = None
    org: model.Group | None = None
    if kind == "correction":
        pkg = _visible_dataset(data.get("package_id"), viewer, errors, "package_id")
        resource_ref = data.get("resource_id")
        if pkg is not None and resource_ref not in (None, ""):
            resource = model.Resource.get(resource_ref) if isinstance(resource_ref, str) \
                else None
            if resource is None or resource.package_id != pkg.id or resource.state != "active":
                errors["resource_id"] = [message("data_request_resource")]
            else:
                resource_id = resource.id
        if pkg is not None:
            org = model.Group.get(pkg.owner_org) if pkg.owner_org else None
    elif kind == "request":
        ref = data.get("organization") or config.access_authority_org()
        org = _department(ref, errors, "organization")
    now = dt.datetime.utcnow()
    filed_at, requester = _imported(data, viewer, now, errors)
    if errors:
        raise tk.ValidationError(cast(ErrorDict, errors))
    assert org is not None and title is not None and description is not None
    _refuse_classified(context, {"title": title, "description": description,
                                 "purpose": purpose}, pkg.id if pkg else None, org.id)
    asker = requester or user
    # Kept as shown (masked): a search over the stored words cannot read a number back.
    title, description, purpose = (_public_text(title), _public_text(description),
                                   _public_text(purpose))
    req = DataRequest(id=str(uuid.uuid4()), kind=kind, title=title, description=description,
                      purpose=purpose, organization_id=org.id,
                      package_id=pkg.id if pkg else None, resource_id=resource_id,
                      user_id=asker.id, created=filed_at, deadline=deadline(filed_at),
                      status="pending")
    model.Session.add(req)
    model.Session.add(DataRequestFollower(request_id=req.id, user_id=asker.id, created=now))
    model.Session.commit()
    return as_dict(req, viewer)


def _imported(data: dict[str, Any], viewer: tiers.Viewer, now: dt.datetime,
              errors: dict[str, list[str]]) -> tuple[dt.datetime, model.User | None]:
    """When and by whom a request was filed, as a sysadmin importing requests from an earlier
    system gives them (``created``: an ISO date and time in the past; ``requester``: a user's
    name or id); now and the caller otherwise."""
    created, requester = data.get("created"), data.get("requester")
    if created in (None, "") and requester in (None, ""):
        return now, None
    if not viewer.sysadmin:
        for key in ("created", "requester"):
            if data.get(key) not in (None, ""):
                errors[key] = [message("data_request_import_only")]
        return now, None
    filed_at, user = now, None
    if created not in (None, ""):
        moment = params.datetime(created)
        if moment is None or moment > now:
            errors["created"] = [message("data_request_created")]
        else:
            filed_at = moment
    if requester not in (None, ""):
        user = model.User.get(requester) if isinstance(requester, str) else None
        if user is None or user.state != "active":
            errors["requester"] = [message("data_request_requester")]
    return filed_at, user


def get(request_id: Any) -> DataRequest:
    req = model.Session.get(DataRequest, request_id) if isinstance(request_id, str) else None
    if req is None:
        raise tk.ObjectNotFound(message("data_request_not_found"))
    return req


def answer(context: Context, data: dict[str, Any]) -> dict[str, Any]:
    _user(context)
    viewer = viewer_of(context)
    req = get(data.get("id"))
    if not tiers.answers_data_request(viewer, req.organization_id):
        raise tk.NotAuthorized(message("data_request_not_yours"))
    errors: dict[str, list[str]] = {}
    outcome = data.get("outcome")
    if outcome not in OUTCOMES[req.kind]:
        errors["outcome"] = [message("not_in_vocabulary", choices="、".join(OUTCOMES[req.kind]))]
    text = _text(data, "answer", errors)
    published: model.Package | None = None
    if outcome == "published":
        published = _visible_dataset(data.get("answer_package_id"), tiers.ANONYMOUS, errors,
                                     "answer_package_id")
    if errors:
        raise tk.ValidationError(cast(ErrorDict, errors))
    _refuse_classified(context, {"answer": text}, req.package_id, req.organization_id)
    req.outcome, req.answer = outcome, _public_text(text)
    req.answer_package_id = published.id if published else None
    req.status = "answered"
    req.answered_by = viewer.user_id
    req.answered_at = dt.datetime.utcnow()
    model.Session.commit()
    return as_dict(req, viewer)


def follow(context: Context, data: dict[str, Any], following: bool) -> dict[str, Any]:
    user = _user(context)
    req = get(data.get("id"))
    row = model.Session.get(DataRequestFollower, (req.id, user.id))
    if following and row is None:
        model.Session.add(DataRequestFollower(request_id=req.id, user_id=user.id,
                                              created=dt.datetime.utcnow()))
    elif not following and row is not None:
        model.Session.delete(row)
    model.Session.commit()
    return as_dict(req, viewer_of(context))


def overdue(req: DataRequest, today: dt.date | None = None) -> bool:
    return (req.status == "pending" and req.deadline is not None
            and (today or access.today()) > req.deadline)


def _public_text(text: str | None) -> str | None:
    """A text as the public reads it: identity numbers, phones, bank cards and home addresses
    masked (places named in a request stay: they say what data is asked for)."""
    return privacy.mask_text(text, person=True, places=False) if text else text


def as_dict(req: DataRequest, viewer: tiers.Viewer | None) -> dict[str, Any]:
    """The request as ``viewer`` sees it (None: an internal call, which sees all)."""
    org = model.Group.get(req.organization_id)
    pkg = model.Package.get(req.package_id) if req.package_id else None
    known = pkg is not None and (viewer is None or access.may_see(viewer, pkg))
    resource = model.Resource.get(req.resource_id) if req.resource_id and known else None
    published = model.Package.get(req.answer_package_id) if req.answer_package_id else None
    shown = published is not None and published.state == "active" and access.may_see(
        tiers.ANONYMOUS, published)
    identity = viewer is None or tiers.sees_requester(viewer, req.organization_id, req.user_id)
    requester = model.User.get(req.user_id) if identity else None
    status = "overdue" if overdue(req) else req.status
    followers = model.Session.query(sa.func.count(DataRequestFollower.user_id)).filter(
        DataRequestFollower.request_id == req.id).scalar() or 0
    following = viewer is not None and viewer.user_id is not None and model.Session.get(
        DataRequestFollower, (req.id, viewer.user_id)) is not None
    return {
        "id": req.id, "kind": req.kind, "kind_label": tk._(KIND_LABELS[req.kind]),
        "title": _public_text(req.title), "description": _public_text(req.description),
        "purpose": _public_text(req.purpose),
        "organization": org.name if org else None,
        "organization_title": org.title if org else None,
        "package_name": pkg.name if pkg and known else None,
        "package_title": pkg.title if pkg and known else None,
        "resource_id": resource.id if resource else None,
        "resource_name": resource.name if resource else None,
        "created": req.created.isoformat(),
        "deadline": req.deadline.isoformat() if req.deadline else None,
        "status": status,
        "status_label": tk._(STATUS_LABELS[status]),
        "outcome": req.outcome,
        "outcome_label": tk._(OUTCOME_LABELS[req.outcome]) if req.outcome else None,
        "answer": _public_text(req.answer),
        "answer_package_name": published.name if shown and published else None,
        "answer_package_title": published.title if shown and published else None,
        "answered_at": req.answered_at.isoformat() if req.answered_at else None,
        "followers": followers, "following": following,
        "mine": viewer is not None and viewer.user_id == req.user_id,
        "user": requester.name if requester else None,
        "user_display_name": requester.display_name if requester else None,
        "can_answer": viewer is not None and tiers.answers_data_request(
            viewer, req.organization_id),
    }


def _terms(q: str) -> list[str]:
    return [term for term in codes.search_text(q).split(" ") if term][:10]


def search(context: Context, data: dict[str, Any]) -> dict[str, Any]:
    """Requests by words of their texts, kind, status, department; those the caller follows or
    filed. Newest first."""
    viewer = viewer_of(context)
    query = model.Session.query(DataRequest)
    for term in _terms(data.get("q") or ""):
        pattern = "%" + re.sub(r"([\\%_])", r"\\\1", term) + "%"
        query = query.filter(sa.or_(DataRequest.title.ilike(pattern),
                                    DataRequest.description.ilike(pattern),
                                    DataRequest.answer.ilike(pattern)))
    if data.get("kind"):
        query = query.filter(DataRequest.kind == data["kind"])
    today = access.today()
    status = data.get("status")
    if status == "overdue":
        query = query.filter(DataRequest.status == "pending", DataRequest.deadline < today)
    elif status == "pending":
        query = query.filter(DataRequest.status == "pending", sa.or_(
            DataRequest.deadline.is_(None), DataRequest.deadline >= today))
    elif status == "answered":
        query = query.filter(DataRequest.status == "answered")
    if data.get("organization"):
        errors: dict[str, list[str]] = {}
        org = _department(data["organization"], errors, "organization")
        if org is None:
            raise tk.ValidationError(cast(ErrorDict, errors))
        query = query.filter(DataRequest.organization_id == org.id)
    if data.get("following") or data.get("mine"):
        if viewer.user_id is None:
            raise tk.NotAuthorized(message("data_request_login"))
        if data.get("following"):
            query = query.join(DataRequestFollower, sa.and_(
                DataRequestFollower.request_id == DataRequest.id,
                DataRequestFollower.user_id == viewer.user_id))
        if data.get("mine"):
            query = query.filter(DataRequest.user_id == viewer.user_id)
    count = query.count()
    rows = query.order_by(DataRequest.created.desc(), DataRequest.id).limit(
        data["limit"]).offset(data["offset"]).all()
    return {"count": count, "results": [as_dict(row, viewer) for row in rows]}


def overdue_by_department(organization: Any = None) -> list[dict[str, Any]]:
    """The pending requests past their deadline, counted by department (the data authority's
    overview), or for one department."""
    query = model.Session.query(DataRequest.organization_id, sa.func.count(DataRequest.id),
                                sa.func.min(DataRequest.deadline)).filter(
        DataRequest.status == "pending", DataRequest.deadline < access.today())
    if organization not in (None, ""):
        errors: dict[str, list[str]] = {}
        org = _department(organization, errors, "organization")
        if org is None:
            raise tk.ValidationError(cast(ErrorDict, errors))
        query = query.filter(DataRequest.organization_id == org.id)
    rows = query.group_by(DataRequest.organization_id).all()
    result = []
    for org_id, count, oldest in rows:
        org = model.Group.get(org_id)
        result.append({"organization": org.name if org else org_id,
                       "organization_title": org.title if org else org_id,
                       "overdue": count, "oldest_deadline": oldest.isoformat()})
    return sorted(result, key=lambda r: (-r["overdue"], r["organization_title"]))
