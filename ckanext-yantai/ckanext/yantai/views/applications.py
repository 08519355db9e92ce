"""数据应用 pages: the public list of applications built on the portal's data (search, kinds,
the review queue for reviewers), the form to submit one with the datasets it uses, and an
application's page (its reviewers approve or reject it there). Every page goes through the
``yantai_application_*`` actions, so the pages hold the API's rules."""
from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk
from flask import Blueprint

from ckanext.yantai import applications, tiers
from ckanext.yantai.views import errors_text, user_context

applications_bp = Blueprint("yantai_application", __name__)
ROWS = 12
FORM_FIELDS = ("title", "kind", "developer", "url", "description", "datasets")
FILTERS = ("q", "kind", "status", "organization", "dataset")


def _kinds() -> list[tuple[str, str]]:
    return [(value, tk._(applications.KIND_LABELS[value])) for value in applications.KINDS]


def _reviewer() -> bool:
    """Whether the current user reviews applications of any department."""
    viewer = applications.viewer_of(user_context())
    return tiers.reviews_application(viewer, viewer.editor_orgs)


@applications_bp.route("/application")
def index() -> str:
    args = tk.request.args
    try:
        page = max(int(args.get("page", "1")), 1)
    except ValueError:
        page = 1
    filters = {key: args.get(key, "") for key in FILTERS}
    query: dict[str, Any] = {k: v for k, v in filters.items() if v}
    if args.get("mine") and tk.current_user.is_authenticated:
        query["mine"] = filters["mine"] = "true"
    result: dict[str, Any] = {"count": 0, "results": []}
    error = None
    try:
        result = tk.get_action("yantai_application_list")(
            user_context(), {**query, "limit": ROWS, "page": page})
    except (tk.ValidationError, tk.NotAuthorized) as e:
        error = errors_text(e) if isinstance(e, tk.ValidationError) else str(e)
    return tk.render("yantai/application/index.html", {
        "filters": filters, "result": result, "error": error, "page": page,
        "pages": -(-result["count"] // ROWS), "kinds": _kinds(),
        "statuses": {key: tk._(label) for key, label in applications.STATUS_LABELS.items()},
        "reviewer": _reviewer()})


def _labels() -> dict[str, str]:
    return {"title": tk._("Name of the application"), "kind": tk._("Kind"),
            "developer": tk._("Developer"), "url": tk._("Web address"),
            "description": tk._("What it does"), "datasets": tk._("Datasets it uses")}


@applications_bp.route("/application/new", methods=["GET", "POST"])
def new() -> Any:
    if not tk.current_user.is_authenticated:
        return tk.redirect_to("user.login", came_from=tk.request.full_path)
    source = tk.request.form if tk.request.method == "POST" else tk.request.args
    data: dict[str, Any] = {key: source.get(key, "") for key in FORM_FIELDS}
    if tk.request.method == "GET" and source.get("dataset"):
        data["datasets"] = source.get("dataset")
    errors: dict[str, Any] = {}
    if tk.request.method == "POST":
        try:
            created = tk.get_action("yantai_application_create")(
                user_context(), {k: v for k, v in data.items() if v not in ("", None)})
        except tk.ValidationError as e:
            errors = e.error_dict
        else:
            tk.h.flash_success(tk._("Your application is submitted. It is public once a reviewer "
                                    "approves it."))
            return tk.redirect_to("yantai_application.read", id=created["id"])
    labels = _labels()
    summary = {labels.get(key, key): "；".join(str(m) for m in value) if isinstance(value, list)
               else str(value) for key, value in errors.items()}
    return tk.render("yantai/application/new.html", {
        "data": data, "errors": errors, "error_summary": summary, "kinds": _kinds(),
        "labels": labels, "max_datasets": applications.DATASETS_MAX})


def _show(app_id: str) -> dict[str, Any]:
    try:
        return tk.get_action("yantai_application_show")(user_context(), {"id": app_id})
    except tk.ObjectNotFound:
        return tk.abort(404, tk._("Application not found"))


@applications_bp.route("/application/<id>")
def read(id: str) -> str:
    return tk.render("yantai/application/read.html", {
        "application": _show(id), "errors": {}, "data": {}})


@applications_bp.route("/application/<id>/review", methods=["POST"])
def review(id: str) -> Any:
    application = _show(id)
    form = tk.request.form
    data = {key: form.get(key, "") for key in ("decision", "note")}
    try:
        tk.get_action("yantai_application_review")(
            user_context(), {"id": id, **{k: v for k, v in data.items() if v}})
    except tk.NotAuthorized as e:
        return tk.abort(403, str(e))
    except tk.ValidationError as e:
        return tk.render("yantai/application/read.html", {
            "application": application, "errors": e.error_dict, "data": data})
    tk.h.flash_success(tk._("The application is published.") if data["decision"] == "approve"
                       else tk._("The application is rejected; the one who submitted it sees "
                                 "your note."))
    return tk.redirect_to("yantai_application.read", id=id)


@applications_bp.route("/application/<id>/delete", methods=["POST"])
def delete(id: str) -> Any:
    _show(id)
    try:
        tk.get_action("yantai_application_delete")(user_context(), {"id": id})
    except tk.NotAuthorized as e:
        return tk.abort(403, str(e))
    tk.h.flash_success(tk._("The application is deleted."))
    return tk.redirect_to("yantai_application.index")


def blueprints() -> list[Blueprint]:
    return [applications_bp]
