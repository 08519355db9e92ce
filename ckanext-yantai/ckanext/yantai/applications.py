"""数据应用: apps, mini programs, websites, analyses and services built on the portal's data.
Anyone logged in submits one with the datasets it uses (1 to 20, each one they may see); a
reviewer approves it, and it is public on the list of applications and on the pages of the
datasets it uses, or rejects it with a note for the one who submitted it. Until approved, and
once rejected, only who submitted it and its reviewers see it: to everyone else it does not
exist. Who submitted it is never public.

Who reviews: the editors and admins of a department owning any dataset it uses, the data
authority's reviewers, sysadmins, never who submitted it (``tiers.decides_application``). Its
texts go through the classified firewall and are shown with identity numbers, phones and bank
cards masked, as data requests are; its address is checked by ``weblinks``. The datasets on an
application's page are those the viewer may see.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
import urllib.parse
import uuid
from typing import Any, cast

import ckan.model as model
import ckan.plugins.toolkit as tk
import sqlalchemy as sa
from ckan.types import Context, ErrorDict

from ckanext.yantai import access, classified, codes, params, tiers, weblinks
from ckanext.yantai.disclosure import privacy
from ckanext.yantai.guards import firewall
from ckanext.yantai.messages import message
from ckanext.yantai.model import Application, ApplicationDataset

KINDS = ("app", "mini_program", "website", "analysis", "service")
# labels: English msgids, translated (tk._) where shown
KIND_LABELS = {"app": "Mobile app", "mini_program": "Mini program", "website": "Website",
               "analysis": "Analysis report", "service": "Data service"}
STATUSES = ("pending", "published", "rejected")
STATUS_LABELS = {"pending": "Awaiting review", "published": "Approved and published",
                 "rejected": "Not approved"}
DECISIONS = ("approve", "reject")
TEXT_LIMITS = {"title": (2, 100), "description": (10, 4000), "developer": (2, 100),
               "note": (2, 2000)}
DATASETS_MAX = 20
REFS_MAX = 100  # dataset references read from one submission, repeats included
LIST_MAX = 100
_SEPARATORS = re.compile(r"[\s,，、;；]+")
_DATASET_PAGE = re.compile(r"/dataset/([^/?#]+)")


def viewer_of(context: Context) -> tiers.Viewer:
    return access.viewer_for(context.get("auth_user_obj") or context.get("user"))


def _user(context: Context) -> model.User:
    user = context.get("auth_user_obj") or model.User.get(context.get("user") or "")
    if user is None or user.is_anonymous or user.state != "active":
        raise tk.NotAuthorized(message("application_login"))
    return cast(model.User, user)


def _visible(char: str) -> bool:
    return char == "\n" or unicodedata.category(char)[0] != "C"


def clean_text(value: str) -> str:
    """A text as kept: without invisible characters (zero-width spaces, controls; line breaks
    stay) and without the spaces around it."""
    return "".join(char for char in value if _visible(char)).strip()


def _text(data: dict[str, Any], key: str, errors: dict[str, list[str]],
          required: bool = True) -> str | None:
    """A text field, cleaned, within its length; None when absent and not required."""
    value = data.get(key)
    text = clean_text(value) if isinstance(value, str) else value
    if text is None or text == "":
        if required:
            errors[key] = [tk._("Missing value")]
        return None
    if not isinstance(text, str):
        errors[key] = [message("param_text")]
        return None
    low, high = TEXT_LIMITS[key]
    if not low <= len(text) <= high:
        errors[key] = [message("application_length", low=str(low), high=str(high))]
        return None
    return text


def _kind(value: Any, errors: dict[str, list[str]]) -> str | None:
    """The kind, as typed too (full-width, with spaces around it)."""
    kind = unicodedata.normalize("NFKC", clean_text(value)).lower() \
        if isinstance(value, str) else None
    if kind not in KINDS:
        errors["kind"] = [message("not_in_vocabulary", choices="、".join(KINDS))]
        return None
    return kind


def _link(value: Any, errors: dict[str, list[str]]) -> str | None:
    if value is not None and not isinstance(value, str):
        errors["url"] = [message("param_text")]
        return None
    if value is None or not weblinks.trimmed(value):
        errors["url"] = [tk._("Missing value")]
        return None
    try:
        return weblinks.link(value)
    except weblinks.BadLink as bad:
        errors["url"] = [message(bad.code, max=str(weblinks.URL_MAX))]
        return None


def dataset_refs(value: Any) -> list[str] | None:
    """The datasets named in a submission: ids, names or addresses of their pages, as a list or
    as text separated by line breaks, spaces or commas (full-width ones too). None when they are
    not text."""
    items = value if isinstance(value, list) else [value]
    refs: list[str] = []
    for item in items:
        if not isinstance(item, str):
            return None
        for token in _SEPARATORS.split(unicodedata.normalize("NFKC", item)):
            ref = "".join(char for char in token if _visible(char)).lower()
            page = _DATASET_PAGE.search(ref)
            if page:
                ref = "".join(char for char in urllib.parse.unquote(page.group(1))
                              if _visible(char) and char != "\n")
            if ref:
                refs.append(ref)
    return refs


def _shown_ref(ref: str) -> str:
    return ref if len(ref) <= 60 else ref[:59] + "…"


def _datasets(value: Any, viewer: tiers.Viewer,
              errors: dict[str, list[str]]) -> list[model.Package]:
    """The datasets an application uses: each active and one the viewer may see (else the same
    error as none), repeats collapsed, 1 to ``DATASETS_MAX``."""
    refs = dataset_refs(value) if value is not None else []
    if refs is None:
        errors["datasets"] = [message("application_datasets_text")]
        return []
    if not refs:
        errors["datasets"] = [message("application_datasets_missing")]
        return []
    if len(refs) > REFS_MAX:
        errors["datasets"] = [message("application_datasets_many", max=str(DATASETS_MAX))]
        return []
    found: dict[str, model.Package] = {}
    unknown: list[str] = []
    for ref in refs:
        pkg = model.Package.get(ref)
        if pkg is None or pkg.state != "active" or pkg.type != "dataset" \
                or not access.may_see(viewer, pkg):
            unknown.append(_shown_ref(ref))
        else:
            found.setdefault(pkg.id, pkg)
    if unknown:
        errors["datasets"] = [message("application_dataset_unknown",
                                      refs="、".join(dict.fromkeys(unknown)))]
    elif len(found) > DATASETS_MAX:
        errors["datasets"] = [message("application_datasets_many", max=str(DATASETS_MAX))]
    return list(found.values())


def _refuse_classified(context: Context, texts: dict[str, str | None],
                       pkg: model.Package | None) -> None:
    found = classified.findings({k: v for k, v in texts.items() if v})
    firewall.refuse(context, found, pkg.id if pkg else None, pkg.owner_org if pkg else None,
                    channel="application")


def _imported(data: dict[str, Any], viewer: tiers.Viewer, now: dt.datetime,
              errors: dict[str, list[str]]) -> tuple[dt.datetime, model.User | None]:
    """When and by whom an application was submitted, as a sysadmin importing applications from
    an earlier system gives them (``created``: an ISO date and time in the past; ``submitter``:
    a user's name or id); now and the caller otherwise."""
    created, submitter = data.get("created"), data.get("submitter")
    if created in (None, "") and submitter in (None, ""):
        return now, None
    if not viewer.sysadmin:
        for key in ("created", "submitter"):
            if data.get(key) not in (None, ""):
                errors[key] = [message("application_import_only")]
        return now, None
    submitted_at, user = now, None
    if created not in (None, ""):
        moment = params.datetime(created)
        if moment is None or moment > now:
            errors["created"] = [message("application_created")]
        else:
            submitted_at = moment
    if submitter not in (None, ""):
        user = model.User.get(submitter) if isinstance(submitter, str) else None
        if user is None or user.state != "active":
            errors["submitter"] = [message("application_submitter")]
    return submitted_at, user


def create(context: Context, data: dict[str, Any]) -> dict[str, Any]:
    user = _user(context)
    viewer = viewer_of(context)
    errors: dict[str, list[str]] = {}
    title = _text(data, "title", errors)
    kind = _kind(data.get("kind"), errors)
    developer = _text(data, "developer", errors)
    url = _link(data.get("url"), errors)
    description = _text(data, "description", errors)
    datasets = _datasets(data.get("datasets"), viewer, errors)
    now = dt.datetime.utcnow()
    submitted_at, submitter = _imported(data, viewer, now, errors)
    if errors:
        raise tk.ValidationError(cast(ErrorDict, errors))
    assert title and kind and developer and url and description and datasets
    _refuse_classified(context, {"title": title, "description": description,
                                 "developer": developer, "url": url}, datasets[0])
    # Kept as shown (masked): a search over the stored words cannot read a number back.
    title, developer, description = (_public_text(title), _public_text(developer),
                                     _public_text(description))
    app = Application(id=str(uuid.uuid4()), title=title, kind=kind, description=description,
                      url=url, developer=developer, submitted_by=(submitter or user).id,
                      created=submitted_at, status="pending")
    model.Session.add(app)
    model.Session.flush()
    model.Session.add_all(ApplicationDataset(application_id=app.id, package_id=pkg.id)
                          for pkg in datasets)
    model.Session.commit()
    return as_dict(app, viewer)


def departments(app_id: str) -> set[str]:
    """The departments owning the datasets an application uses (now: a dataset moved to another
    department takes its applications' reviews along)."""
    rows = model.Session.query(model.Package.owner_org).join(
        ApplicationDataset, ApplicationDataset.package_id == model.Package.id).filter(
        ApplicationDataset.application_id == app_id, model.Package.owner_org.isnot(None))
    return {org_id for (org_id,) in rows}


def _first_dataset(app_id: str) -> model.Package | None:
    """A dataset the application uses, to file a refusal under its department."""
    return model.Session.query(model.Package).join(
        ApplicationDataset, ApplicationDataset.package_id == model.Package.id).filter(
        ApplicationDataset.application_id == app_id).order_by(model.Package.name).first()


def get(app_id: Any) -> Application | None:
    return model.Session.get(Application, app_id) if isinstance(app_id, str) and app_id \
        else None


def get_visible(context: Context, app_id: Any) -> Application:
    """The application if the caller may see it (``yantai_application_show``); NotFound
    otherwise, the same as for an id that does not exist."""
    app = get(app_id)
    if app is None:
        raise tk.ObjectNotFound(message("application_not_found"))
    try:
        tk.check_access("yantai_application_show", context, {"id": app.id})
    except tk.NotAuthorized:
        raise tk.ObjectNotFound(message("application_not_found")) from None
    return app


def review(context: Context, data: dict[str, Any]) -> dict[str, Any]:
    _user(context)
    app = get_visible(context, data.get("id"))
    tk.check_access("yantai_application_review", context, {"id": app.id})
    errors: dict[str, list[str]] = {}
    decision = data.get("decision")
    if not isinstance(decision, str) or decision not in DECISIONS:
        errors["decision"] = [message("not_in_vocabulary", choices="、".join(DECISIONS))]
    note = _text(data, "note", errors, required=False)
    if decision == "reject" and note is None and "note" not in errors:
        errors["note"] = [message("application_reject_note")]
    if errors:
        raise tk.ValidationError(cast(ErrorDict, errors))
    _refuse_classified(context, {"note": note}, _first_dataset(app.id))
    viewer = viewer_of(context)
    app.status = "published" if decision == "approve" else "rejected"
    app.review_note = _public_text(note)
    app.reviewed_by = viewer.user_id
    app.reviewed_at = dt.datetime.utcnow()
    model.Session.commit()
    return as_dict(app, viewer)


def delete(context: Context, data: dict[str, Any]) -> dict[str, Any]:
    _user(context)
    app = get_visible(context, data.get("id"))
    tk.check_access("yantai_application_delete", context, {"id": app.id})
    app_id = app.id
    model.Session.delete(app)
    model.Session.commit()
    return {"id": app_id}


def _public_text(text: str | None) -> str | None:
    """A text as it is shown: identity numbers, phones, bank cards and home addresses masked
    (places named stay: an application may be about them)."""
    return privacy.mask_text(text, person=True, places=False) if text else text


def _linked(app_id: str, viewer: tiers.Viewer) -> list[dict[str, Any]]:
    """The datasets of an application the viewer may see, by title."""
    rows = model.Session.query(model.Package).join(
        ApplicationDataset, ApplicationDataset.package_id == model.Package.id).filter(
        ApplicationDataset.application_id == app_id, model.Package.state == "active").order_by(
        model.Package.title, model.Package.name)
    shown = []
    for pkg in rows:
        if access.may_see(viewer, pkg):
            org = model.Group.get(pkg.owner_org) if pkg.owner_org else None
            shown.append({"name": pkg.name, "title": pkg.title or pkg.name,
                          "organization_title": org.title if org else None})
    return shown


def as_dict(app: Application, viewer: tiers.Viewer) -> dict[str, Any]:
    """The application as ``viewer`` sees it: its review note and who submitted it only to
    them and to its reviewers."""
    org_ids = departments(app.id)
    concerned = viewer.user_id is not None and (
        viewer.user_id == app.submitted_by or tiers.reviews_application(viewer, org_ids))
    submitter = model.User.get(app.submitted_by) if concerned else None
    published = app.status == "published"
    return {
        "id": app.id, "title": _public_text(app.title), "kind": app.kind,
        "kind_label": tk._(KIND_LABELS[app.kind]),
        "description": _public_text(app.description), "url": app.url,
        "developer": _public_text(app.developer),
        "datasets": _linked(app.id, viewer),
        "created": app.created.isoformat(),
        "status": app.status, "status_label": tk._(STATUS_LABELS[app.status]),
        "published_at": app.reviewed_at.isoformat() if published and app.reviewed_at else None,
        "review_note": _public_text(app.review_note) if concerned else None,
        "reviewed_at": app.reviewed_at.isoformat() if concerned and app.reviewed_at else None,
        "submitter": submitter.name if submitter else None,
        "submitter_display_name": submitter.display_name if submitter else None,
        "mine": viewer.user_id is not None and viewer.user_id == app.submitted_by,
        "can_review": tiers.decides_application(viewer, org_ids, app.submitted_by),
        "can_delete": tiers.deletes_application(viewer, app.status, org_ids, app.submitted_by),
    }


def _terms(q: str) -> list[str]:
    return [term for term in codes.search_text(q).split(" ") if term][:10]


def _uses(condition: Any) -> Any:
    """Applications using a dataset that meets ``condition``."""
    return sa.exists().where(sa.and_(ApplicationDataset.application_id == Application.id,
                                     ApplicationDataset.package_id == model.Package.id,
                                     condition))


def _filter_ref(data: dict[str, Any], key: str, viewer: tiers.Viewer) -> Any:
    """The condition of the ``dataset`` or ``organization`` filter (ValidationError for one the
    viewer may not see, as for one that does not exist)."""
    refs = dataset_refs(data[key]) or [""]
    if key == "dataset":
        pkg = model.Package.get(refs[0])
        if pkg is None or pkg.state != "active" or not access.may_see(viewer, pkg):
            raise tk.ValidationError({key: [message("application_dataset")]})
        return _uses(model.Package.id == pkg.id)
    org = model.Group.get(refs[0])
    if org is None or not org.is_organization or org.state != "active":
        raise tk.ValidationError({key: [message("data_request_department")]})
    # only the department's datasets the viewer may see: an app is not found through one it
    # uses that the viewer may not know of
    seen = [pkg.id for pkg in model.Session.query(model.Package).filter(
        model.Package.owner_org == org.id, model.Package.state == "active")
        if access.may_see(viewer, pkg)]
    return _uses(model.Package.id.in_(seen))


def search(context: Context, data: dict[str, Any]) -> dict[str, Any]:
    """Applications by words of their title, description or developer, kind, a dataset they use
    or its department; published ones, or (``status``) those awaiting review or rejected that
    the caller submitted or reviews, or (``mine``) the caller's own. Newest first."""
    viewer = viewer_of(context)
    query = model.Session.query(Application)
    for term in _terms(data.get("q") or ""):
        pattern = "%" + re.sub(r"([\\%_])", r"\\\1", term) + "%"
        query = query.filter(sa.or_(Application.title.ilike(pattern),
                                    Application.description.ilike(pattern),
                                    Application.developer.ilike(pattern)))
    if data.get("kind"):
        query = query.filter(Application.kind == data["kind"])
    for key in ("dataset", "organization"):
        if data.get(key):
            query = query.filter(_filter_ref(data, key, viewer))
    status = data.get("status")
    if data.get("mine"):
        if viewer.user_id is None:
            raise tk.NotAuthorized(message("application_login"))
        query = query.filter(Application.submitted_by == viewer.user_id)
        if status:
            query = query.filter(Application.status == status)
    elif status in (None, "", "published"):
        query = query.filter(Application.status == "published")
    else:
        query = query.filter(Application.status == status)
        if viewer.user_id is None:
            query = query.filter(sa.false())
        elif not (viewer.sysadmin or viewer.reviewer):
            query = query.filter(sa.or_(
                Application.submitted_by == viewer.user_id,
                _uses(model.Package.owner_org.in_(sorted(viewer.editor_orgs)))))
    limit = data["limit"]
    offset = data.get("offset", 0)
    if data.get("page"):
        offset = min((data["page"] - 1) * limit, params.MAX_BIGINT)
    count = query.count()
    rows = query.order_by(Application.created.desc(), Application.id).limit(limit).offset(
        offset).all()
    return {"count": count, "results": [as_dict(row, viewer) for row in rows]}
