"""The usage statistics page, ``/statistics`` (数据使用统计): a month's views, downloads and API
calls in all, per department, per domain and per dataset, with the trend of a year, as
``yantai_usage_statistics`` answers them (so the page shows what the API shows). A department's
members choosing their department see all its datasets; everyone else the public ones."""
from __future__ import annotations

import datetime as dt
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
from flask import Blueprint

from ckanext.yantai import usage
from ckanext.yantai.views import departments, errors_text, user_context

statistics = Blueprint("yantai_usage", __name__)
SORTS = ("views", "downloads", "api_calls")
ROWS = 50


def _months(today: dt.date, count: int = 12) -> list[str]:
    months, month = [], today.replace(day=1)
    for _ in range(count):
        months.append(month.strftime("%Y-%m"))
        month = (month - dt.timedelta(days=1)).replace(day=1)
    return months


@statistics.route("/statistics")
def index() -> str:
    args = tk.request.args
    given = {"month": args.get("month", ""), "organization": args.get("organization", "")}
    error = None
    try:
        figures: dict[str, Any] = tk.get_action("yantai_usage_statistics")(
            user_context(), {k: v for k, v in given.items() if v})
    except tk.ValidationError as e:
        error = errors_text(e)
        figures = tk.get_action("yantai_usage_statistics")(user_context(), {})
        given = {"month": "", "organization": ""}
    sort = args.get("sort") if args.get("sort") in SORTS else "views"
    datasets = sorted(figures["datasets"], key=lambda d: (-d[sort], d["name"]))
    published = model.Package.get(usage.DATASET_NAME)
    chart_data = {
        "labels": {"views": tk._("Views"), "downloads": tk._("Downloads"),
                   "api_calls": tk._("API calls"), "trend": tk._("Month by month"),
                   "departments": tk._("By department"), "domains": tk._("By domain")},
        "trend": figures["trend"],
        "departments": [{**d, "url": tk.h.url_for("yantai_usage.index", month=figures["month"],
                                                  organization=d["name"])}
                        for d in figures["departments"]],
        "domains": [{**d, "url": tk.h.url_for("dataset.search", domain=d["name"])}
                    for d in figures["domains"]],
    }
    return tk.render("yantai/usage/index.html", {
        "figures": figures, "datasets": datasets[:ROWS], "dataset_count": len(datasets),
        "sort": sort, "given": given, "error": error, "months": _months(dt.date.today()),
        "departments": departments(), "chart_data": chart_data,
        "published": published if published is not None and published.state == "active"
        and not published.private else None,
    })


def blueprints() -> list[Blueprint]:
    return [statistics]
