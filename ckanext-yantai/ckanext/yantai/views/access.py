"""Pages of the conditional-access workflow: apply for a dataset, the user's own requests, a
department's queue (access requests and tier changes), and the department's audit log export.
Every page goes through the workflow's actions, so the UI holds the same rules as the API."""
from __future__ import annotations

import csv
import io
import json
from typing import Any, cast

import ckan.plugins.toolkit as tk
from ckan.lib.navl.dictization_functions import unflatten
from ckan.logic import clean_dict, parse_params, tuplize_dict
from ckan.types import Context
from flask import Blueprint, Response

from ckanext.yantai import config, tiers
from ckanext.yantai.access import viewer_for

access = Blueprint("yantai_access", __name__)

APPLY_FIELDS = ("purpose", "intended_use", "applicant_organization", "period_start",
                "period_end", "commitment_accepted")


def _context() -> Context:
    return {"user": tk.current_user.name, "auth_user_obj": tk.current_user}


def _form() -> dict[str, Any]:
    return clean_dict(unflatten(tuplize_dict(parse_params(tk.request.form))))


def _require_login() -> Any:
    if not tk.current_user.is_authenticated:
        return tk.redirect_to("user.login", came_from=tk.request.full_path)
    return None


@access.route("/dataset/<id>/apply", methods=["GET", "POST"])
def apply(id: str) -> Any:
    """The application form (有条件开放 / 有条件共享) for a dataset."""
    login = _require_login()
    if login is not None:
        return login
    try:
        pkg = tk.get_action("package_show")(_context(), {"id": id})
    except tk.ObjectNotFound:
        return tk.abort(404, tk._("Dataset not found"))
    data: dict[str, Any] = {"applicant_organization": tk.current_user.fullname or ""}
    errors: dict[str, Any] = {}
    if tk.request.method == "POST":
        form = _form()
        data = {key: form.get(key, "") for key in APPLY_FIELDS}
        try:
            tk.get_action("yantai_access_request_create")(
                _context(), {**data, "package_id": pkg["id"]})
        except tk.ValidationError as e:
            errors = e.error_dict
        else:
            tk.h.flash_success(tk._("Your application has been submitted; the department will "
                                    "review it within {num} working days").format(
                num=config.access_review_workdays()))
            return tk.redirect_to("yantai_access.my_requests")
    return tk.render("yantai/access/apply.html",
                     {"pkg": pkg, "pkg_dict": pkg, "data": data, "errors": errors,
                      "review_workdays": config.access_review_workdays(),
                      "error_summary": {_apply_label(k): v[0] if isinstance(v, list) else v
                                        for k, v in errors.items()}})


def _apply_label(key: str) -> str:
    """The form's label for a field of the application, as the error summary names it."""
    labels = {
        "purpose": tk._("Purpose"), "intended_use": tk._("Intended use"),
        "applicant_organization": tk._("Applicant organization"),
        "period_start": tk._("Period of use from"), "period_end": tk._("Period of use until"),
        "commitment_accepted": tk._("Data security commitment"), "package_id": tk._("Dataset"),
    }
    return labels.get(key, key)


@access.route("/dashboard/access-requests")
def my_requests() -> Any:
    """The user's own applications and their status."""
    login = _require_login()
    if login is not None:
        return login
    requests = tk.get_action("yantai_access_request_list")(_context(), {})
    return tk.render("yantai/access/my_requests.html",
                     {"requests": requests, "user_dict": {"name": tk.current_user.name}})


def _organization(id: str) -> dict[str, Any]:
    try:
        return tk.get_action("organization_show")(_context(), {"id": id,
                                                               "include_datasets": False})
    except (tk.ObjectNotFound, tk.NotAuthorized):
        return tk.abort(404, tk._("Organization not found"))


@access.route("/organization/access-requests/<id>", methods=["GET"])
def queue(id: str) -> Any:
    """A department's queue: access requests (overdue first) and tier changes waiting."""
    login = _require_login()
    if login is not None:
        return login
    org = _organization(id)
    try:
        requests = tk.get_action("yantai_access_request_list")(
            _context(), {"organization": org["id"]})
        changes = tk.get_action("yantai_tier_change_list")(
            _context(), {"organization": org["id"]})
    except (tk.ObjectNotFound, tk.NotAuthorized):
        return tk.abort(404, tk._("Organization not found"))
    requests.sort(key=lambda r: (r["status"] != "pending", not r["overdue"],
                                 r["review_deadline"] or "9999"))
    return tk.render("yantai/access/queue.html",
                     {"group_dict": org, "group_type": "organization", "requests": requests,
                      "changes": changes,
                      # Only the department's admins decide (the data authority's reviewers
                      # see every queue, and decide tier changes on the dataset's page).
                      "may_decide": tiers.administers(viewer_for(tk.current_user), org["id"]),
                      "may_export": tk.h.check_access("yantai_audit_log_list",
                                                      {"organization": org["id"]})})


def _decide(action: str, data: dict[str, Any], missing: str) -> tuple[Any, str | None]:
    """Run a decision action for the web: (result, None), or (None, the error for a flash
    message); absent and forbidden objects end the request."""
    try:
        return tk.get_action(action)(_context(), data), None
    except tk.ObjectNotFound:
        return tk.abort(404, missing), None
    except tk.NotAuthorized as e:
        return tk.abort(403, str(e)), None
    except tk.ValidationError as e:
        return None, "; ".join(f"{v[0] if isinstance(v, list) else v}"
                               for v in e.error_dict.values())


@access.route("/access-request/<id>/<verb>", methods=["POST"])
def decide(id: str, verb: str) -> Any:
    """approve / reject / revoke an access request, from the department's queue."""
    login = _require_login()
    if login is not None:
        return login
    form = _form()
    if verb in ("approve", "reject"):
        result, error = _decide("yantai_access_request_decide",
                                {"id": id, "decision": verb, "expires": form.get("expires"),
                                 "reason": form.get("reason")}, tk._("Access request not found"))
    elif verb == "revoke":
        result, error = _decide("yantai_access_request_revoke",
                                {"id": id, "reason": form.get("reason")},
                                tk._("Access request not found"))
    else:
        return tk.abort(404)
    if error is not None:
        tk.h.flash_error(error)
        result = tk.get_action("yantai_access_request_show")(_context(), {"id": id})
    else:
        tk.h.flash_success(tk._("Decision saved"))
    return tk.redirect_to("yantai_access.queue", id=result["organization"])


@access.route("/tier-change/<id>/<verb>", methods=["POST"])
def decide_tier_change(id: str, verb: str) -> Any:
    login = _require_login()
    if login is not None:
        return login
    if verb not in ("approve", "reject"):
        return tk.abort(404)
    form = _form()
    change, error = _decide("yantai_tier_change_decide",
                            {"id": id, "decision": verb, "reason": form.get("reason")},
                            tk._("Tier change not found"))
    if error is not None:
        tk.h.flash_error(error)
        return tk.redirect_to("dataset.read", id=form.get("package") or id)
    tk.h.flash_success(tk._("Decision saved"))
    return tk.redirect_to("dataset.read", id=change["package_name"])


@access.route("/organization/audit/<id>.csv")
def audit_export(id: str) -> Any:
    """The department's audit log as CSV (UTF-8 with BOM, so spreadsheet programs read the
    Chinese)."""
    login = _require_login()
    if login is not None:
        return login
    org = _organization(id)
    params = {"organization": org["id"], "since": tk.request.args.get("since"),
              "until": tk.request.args.get("until")}
    try:
        tk.check_access("yantai_audit_log_list", _context(), params)
    except tk.NotAuthorized:
        return tk.abort(404, tk._("Organization not found"))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([tk._("Time (UTC)"), tk._("User"), tk._("Event"), tk._("Dataset"),
                      tk._("Resource"), tk._("Details")])
    offset = 0
    while True:
        try:
            page = tk.get_action("yantai_audit_log_list")(
                _context(), {**params, "limit": 1000, "offset": offset})
        except tk.ValidationError as e:
            errors = cast("dict[str, list[Any]]", e.error_dict)
            return tk.abort(400, "; ".join(str(v[0]) for v in errors.values()))
        for entry in page["results"]:
            writer.writerow([entry["at"], entry["actor"] or "", entry["event"],
                             entry["package_id"] or "", entry["resource_id"] or "",
                             json.dumps(entry["detail"], ensure_ascii=False)])
        offset += len(page["results"])
        if not page["results"] or offset >= page["count"]:
            break
    return Response("\ufeff" + buffer.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition":
                             f'attachment; filename="audit-{org["name"]}.csv"'})


def blueprints() -> list[Blueprint]:
    return [access]
