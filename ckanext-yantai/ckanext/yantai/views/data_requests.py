"""数据需求 and 纠错 pages: the public list (search, filters), the form to ask for data or report
an error, a request's page (follow it; the department answers there) and the overdue figures.
Every page goes through the ``yantai_data_request_*`` actions, so the pages hold the API's rules."""
from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk
from flask import Blueprint

from ckanext.yantai import config, data_requests
from ckanext.yantai.views import departments, errors_text, user_context

requests_bp = Blueprint("yantai_data_request", __name__)
ROWS = 20
FORM_FIELDS = ("kind", "title", "description", "purpose", "organization", "package_id",
               "resource_id")


@requests_bp.route("/data-request")
def index() -> str:
    args = tk.request.args
    try:
        page = max(int(args.get("page", "1")), 1)
    except ValueError:
        page = 1
    filters = {key: args.get(key, "") for key in ("q", "kind", "status", "organization")}
    query: dict[str, Any] = {k: v for k, v in filters.items() if v}
    if args.get("following") and tk.current_user.is_authenticated:
        query["following"] = True
        filters["following"] = "true"
    result: dict[str, Any] = {"count": 0, "results": []}
    error = None
    try:
        result = tk.get_action("yantai_data_request_list")(
            user_context(), {**query, "limit": ROWS, "offset": (page - 1) * ROWS})
    except tk.ValidationError as e:
        error = errors_text(e)
    overdue = tk.get_action("yantai_data_request_overdue")(user_context(), {})
    return tk.render("yantai/data_request/index.html", {
        "filters": filters, "result": result, "error": error, "page": page,
        "pages": -(-result["count"] // ROWS), "departments": departments(),
        "overdue": overdue, "statuses": data_requests.STATUS_LABELS,
        "kinds": data_requests.KIND_LABELS})


@requests_bp.route("/data-request/new", methods=["GET", "POST"])
def new() -> Any:
    if not tk.current_user.is_authenticated:
        return tk.redirect_to("user.login", came_from=tk.request.full_path)
    source = tk.request.form if tk.request.method == "POST" else tk.request.args
    kind = source.get("kind") if source.get("kind") in data_requests.KINDS else "request"
    data: dict[str, Any] = {key: source.get(key, "") for key in FORM_FIELDS}
    data["kind"] = kind
    if tk.request.method == "GET" and source.get("dataset"):
        data["package_id"] = source.get("dataset")
    dataset = None
    if data.get("package_id"):
        try:
            dataset = tk.get_action("package_show")(user_context(), {"id": data["package_id"]})
        except (tk.ObjectNotFound, tk.NotAuthorized, tk.ValidationError):
            dataset = None
    errors: dict[str, Any] = {}
    if tk.request.method == "POST":
        try:
            created = tk.get_action("yantai_data_request_create")(
                user_context(), {k: v for k, v in data.items() if v not in ("", None)})
        except tk.ValidationError as e:
            errors = e.error_dict
        else:
            tk.h.flash_success(tk._("Your request is filed. The department answers by {date}.")
                               .format(date=created["deadline"] or "—"))
            return tk.redirect_to("yantai_data_request.read", id=created["id"])
    labels = {"kind": tk._("Kind"),
              "title": tk._("What is wrong") if kind == "correction"
              else tk._("What data do you need"),
              "description": tk._("Details"), "purpose": tk._("What it is for"),
              "organization": tk._("Department asked"), "package_id": tk._("Dataset"),
              "resource_id": tk._("Resource (optional)")}
    summary = {labels.get(key, key): "；".join(str(m) for m in value) if isinstance(value, list)
               else str(value) for key, value in errors.items()}
    return tk.render("yantai/data_request/new.html", {
        "data": data, "errors": errors, "error_summary": summary,
        "dataset": dataset, "departments": departments(),
        "authority": config.access_authority_org(),
        "workdays": config.data_request_answer_workdays()})


def _show(request_id: str) -> dict[str, Any]:
    try:
        return tk.get_action("yantai_data_request_show")(user_context(), {"id": request_id})
    except tk.ObjectNotFound:
        return tk.abort(404, tk._("Data request not found"))


@requests_bp.route("/data-request/<id>")
def read(id: str) -> str:
    request = _show(id)
    return tk.render("yantai/data_request/read.html", {
        "request": request, "outcomes": [
            (value, tk._(data_requests.OUTCOME_LABELS[value]))
            for value in data_requests.OUTCOMES[request["kind"]]],
        "errors": {}, "data": {}})


@requests_bp.route("/data-request/<id>/follow", methods=["POST"])
def follow(id: str) -> Any:
    if not tk.current_user.is_authenticated:
        return tk.redirect_to("user.login", came_from=tk.url_for(
            "yantai_data_request.read", id=id))
    action = "yantai_data_request_unfollow" if tk.request.form.get("unfollow") \
        else "yantai_data_request_follow"
    try:
        tk.get_action(action)(user_context(), {"id": id})
    except tk.ObjectNotFound:
        return tk.abort(404, tk._("Data request not found"))
    return tk.redirect_to("yantai_data_request.read", id=id)


@requests_bp.route("/data-request/<id>/answer", methods=["POST"])
def answer(id: str) -> Any:
    request = _show(id)
    form = tk.request.form
    data = {key: form.get(key, "") for key in ("outcome", "answer", "answer_package_id")}
    try:
        tk.get_action("yantai_data_request_answer")(
            user_context(), {"id": id, **{k: v for k, v in data.items() if v}})
    except tk.NotAuthorized as e:
        return tk.abort(403, str(e))
    except tk.ValidationError as e:
        return tk.render("yantai/data_request/read.html", {
            "request": request, "errors": e.error_dict, "data": data, "outcomes": [
                (value, tk._(data_requests.OUTCOME_LABELS[value]))
                for value in data_requests.OUTCOMES[request["kind"]]]})
    tk.h.flash_success(tk._("The answer is published."))
    return tk.redirect_to("yantai_data_request.read", id=id)


def blueprints() -> list[Blueprint]:
    return [requests_bp]
