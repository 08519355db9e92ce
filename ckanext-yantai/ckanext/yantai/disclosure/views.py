"""双公示 compliance pages: the city-wide dashboard, each department's dashboard with the records
behind its figures, and CSV/XLSX exports. Every page goes through the compliance actions, so the
pages show exactly what the API gives the same user."""
from __future__ import annotations

import datetime as dt
from typing import Any, cast

import ckan.plugins.toolkit as tk
from ckan.types import Context
from flask import Blueprint, Response

from ckanext.yantai import messages
from ckanext.yantai.disclosure import report as reports

compliance = Blueprint("yantai_compliance", __name__)

PAGE_SIZE = 50
EXPORT_LIMIT = 1000  # per request to yantai_compliance_records; exports page through
FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _context() -> Context:
    return {"user": tk.current_user.name, "auth_user_obj": tk.current_user}


def _period() -> dict[str, str]:
    return {k: tk.request.args[k] for k in ("start", "end") if tk.request.args.get(k)}


def _call(action: str, data: dict[str, Any]) -> Any:
    """The action's answer; its refusals become the page's (login, 403, 404, 400)."""
    try:
        return tk.get_action(action)(_context(), data)
    except tk.NotAuthorized:
        if not tk.current_user.is_authenticated:
            raise _Redirect(tk.redirect_to("user.login", came_from=tk.request.full_path)) from None
        return tk.abort(403, tk._("Compliance figures are for department staff"))
    except tk.ObjectNotFound:
        return tk.abort(404, tk._("Department not found"))
    except tk.ValidationError as error:
        errors = cast("dict[str, list[str]]", error.error_dict)
        text = "；".join(f"{k}: {' '.join(v)}" for k, v in errors.items())
        return tk.abort(400, text)


class _Redirect(Exception):
    def __init__(self, response: Any) -> None:
        self.response = response


@compliance.errorhandler(_Redirect)
def _redirect(error: _Redirect) -> Any:
    return error.response


def chart_labels() -> dict[str, str]:
    return {
        "records": tk._("Records"), "on_time": tk._("On time"), "late": tk._("Late"),
        "overdue": tk._("Overdue"), "on_time_rate": tk._("On-time rate"),
        "trend": tk._("Monthly trend"), "ranking": tk._("On-time rate by department"),
        "late_by_days": tk._("Late, by working days"),
        "invalid_by_rule": tk._("Records failing each rule"),
        "days": tk._("Working days late"), "count": tk._("Records"),
    }


def chart_data(report: dict[str, Any], trend: dict[str, Any], ranking: dict[str, Any] | None,
               organization: str | None) -> dict[str, Any]:
    """The page's data for compliance-dashboard.js (see its header)."""
    def records_url(**filters: str) -> str | None:
        if organization is None:
            return None
        return tk.h.url_for("yantai_compliance.records", id=organization, **filters)

    figures = report["total"]
    return {
        "labels": chart_labels(),
        "trend": [{"month": m["month"], "records": m["records"], "on_time": m["on_time"],
                   "late": m["late"], "overdue": m["overdue"],
                   "on_time_rate": m["on_time_rate"],
                   "url": records_url(month=m["month"])} for m in trend["months"]],
        "ranking": [{"organization": d["organization"], "title": d["title"],
                     "records": d["records"], "on_time_rate": d["on_time_rate"],
                     "url": tk.h.url_for("yantai_compliance.department", id=d["organization"])}
                    for d in (ranking or {}).get("departments", [])],
        "late_by_days": [{"days": label, "count": n,
                          "url": records_url(late_days=label)}
                         for label, n in figures["late_by_days"].items()]
        if figures["late"] else [],
        "invalid_by_rule": [{"code": code, "label": messages.rule_label(code), "count": n,
                             "url": records_url(error=code)}
                            for code, n in figures["invalid_by_rule"].items()],
    }


@compliance.route("/compliance")
def dashboard() -> Any:
    """The city-wide dashboard: ranking, trend, and every department's figures."""
    period = _period()
    report = _call("yantai_compliance_report", period)
    ranking = _call("yantai_compliance_ranking", period)
    trend = _call("yantai_compliance_trend", period)
    return tk.render("yantai/compliance/dashboard.html", {
        "report": report, "ranking": ranking, "trend": trend, "period": period,
        "charts": chart_data(report, trend, ranking, None),
        "rule_label": messages.rule_label})


@compliance.route("/organization/compliance/<id>")
def department(id: str) -> Any:
    """One department's dashboard: its figures, trend, late days, failing rules and records."""
    period = _period()
    report = _call("yantai_compliance_report", {**period, "organization": id})
    trend = _call("yantai_compliance_trend", {**period, "organization": id})
    group_dict = tk.get_action("organization_show")(_context(), {"id": id})
    failing = _call("yantai_compliance_records", {"organization": id, "valid": "false",
                                                   "limit": 20})
    overdue = _call("yantai_compliance_records", {"organization": id, "timeliness": "overdue",
                                                   "limit": 20})
    return tk.render("yantai/compliance/department.html", {
        "group_dict": group_dict, "group_type": "organization", "report": report,
        "figures": report["departments"][0] if report["departments"] else report["total"],
        "trend": trend, "period": period, "failing": failing, "overdue": overdue,
        "charts": chart_data(report, trend, None, group_dict["name"]),
        "rule_label": messages.rule_label})


RECORD_FILTERS = reports.RECORD_FILTERS


@compliance.route("/organization/compliance/<id>/records")
def records(id: str) -> Any:
    """The records behind a figure (drill-down), filtered as the link says."""
    filters = {k: tk.request.args[k] for k in RECORD_FILTERS if tk.request.args.get(k)}
    try:
        page = max(int(tk.request.args.get("page", 1)), 1)
    except ValueError:
        page = 1
    result = _call("yantai_compliance_records", {**filters, "organization": id,
                                                 "limit": PAGE_SIZE,
                                                 "offset": (page - 1) * PAGE_SIZE})
    group_dict = tk.get_action("organization_show")(_context(), {"id": id})
    return tk.render("yantai/compliance/records.html", {
        "group_dict": group_dict, "group_type": "organization", "result": result,
        "filters": filters, "page": page, "pages": max(1, -(-result["count"] // PAGE_SIZE)),
        "rule_label": messages.rule_label})


@compliance.route("/compliance/report.<fmt>")
def report_export(fmt: str) -> Any:
    """The figures per department (those the user sees), as CSV or XLSX."""
    if fmt not in FORMATS:
        return tk.abort(404)
    data = {**_period(), "organization": tk.request.args.get("organization") or None}
    body = _call("yantai_compliance_report", data)
    rows = reports.report_rows(body)
    name = f"shuanggongshi-{body['start']}-{body['end']}"
    return _download(rows, fmt, name, f"双公示 {body['start']}至{body['end']}")


@compliance.route("/organization/compliance/<id>/records.<fmt>")
def records_export(id: str, fmt: str) -> Any:
    """The drill-down's records (masked), as CSV or XLSX."""
    if fmt not in FORMATS:
        return tk.abort(404)
    filters = {k: tk.request.args[k] for k in RECORD_FILTERS if tk.request.args.get(k)}
    results: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = _call("yantai_compliance_records", {**filters, "organization": id,
                                                   "limit": EXPORT_LIMIT, "offset": offset})
        results += page["results"]
        offset += EXPORT_LIMIT
        if offset >= page["count"]:
            break
    stamp = dt.date.today().isoformat()
    return _download(reports.record_rows(results), fmt, f"shuanggongshi-{id}-{stamp}",
                     "双公示记录")


def _download(rows: list[list[Any]], fmt: str, name: str, title: str) -> Response:
    data = reports.to_csv(rows) if fmt == "csv" else reports.to_xlsx(rows, title)
    return Response(data, mimetype=FORMATS[fmt].split(";")[0], headers={
        "Content-Type": FORMATS[fmt],
        "Content-Disposition": f'attachment; filename="{name}.{fmt}"',
        "Cache-Control": "private, no-store"})
