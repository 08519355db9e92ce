"""信用信息一站式查询 pages: ``/credit`` (search by a name fragment, a code or a document
number), ``/credit/<code>`` (a market entity's profile) and its 信用报告 as XLSX or PDF. Every
page goes through the lookup's actions, so the pages answer what the API answers."""
from __future__ import annotations

import urllib.parse
from typing import Any

import ckan.plugins.toolkit as tk
from flask import Blueprint, Response

from ckanext.yantai import config, credit_report
from ckanext.yantai.disclosure import lookup
from ckanext.yantai.views import errors_text, user_context

credit = Blueprint("yantai_credit", __name__)
ROWS = 20
PAGE_MAX = lookup.COUNTED_MAX // ROWS


def _page_number(value: str | None) -> int:
    try:
        number = int(value or 1)
    except ValueError:
        return 1
    return min(max(number, 1), PAGE_MAX)


@credit.route("/credit")
def search() -> str:
    q = tk.request.args.get("q", "")
    page = _page_number(tk.request.args.get("page"))
    result: dict[str, Any] | None = None
    error = None
    if q.strip():
        try:
            result = tk.get_action("yantai_credit_search")(
                user_context(), {"q": q, "rows": ROWS, "start": (page - 1) * ROWS})
        except tk.ValidationError as e:
            error = errors_text(e)
    pages = 0 if result is None else min(-(-result["count"] // ROWS), PAGE_MAX)
    return tk.render("yantai/credit/search.html", {
        "q": q, "result": result, "error": error, "page": page, "pages": pages})


def _profile(code: str) -> dict[str, Any]:
    try:
        return tk.get_action("yantai_credit_profile")(user_context(), {"id": code})
    except (tk.ObjectNotFound, tk.ValidationError):
        return tk.abort(404, tk._("No market entity with public credit records has this code"))


@credit.route("/credit/<code>")
def profile(code: str) -> Any:
    found = _profile(code)
    if code != found["code"]:  # one address per entity
        return tk.redirect_to("yantai_credit.profile", code=found["code"])
    by_type = {kind: credit_report.record_table(found, kind)
               for kind in credit_report.COLUMNS}
    return tk.render("yantai/credit/profile.html", {
        "profile": found, "by_type": by_type, "sections": credit_report.SECTION,
        "queried_at": credit_report.queried_at(found), "notice": credit_report.NOTICE})


@credit.route("/credit/<code>/report.<any(xlsx, pdf):fmt>")
def report(code: str, fmt: str) -> Response:
    found = _profile(code)
    if fmt == "xlsx":
        body = credit_report.to_xlsx(found)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        body = credit_report.to_pdf(found, config.credit_report_font())
        mimetype = "application/pdf"
    name = credit_report.file_name(found, fmt)
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="credit-report-{found["code"]}.{fmt}"; '
        f"filename*=UTF-8''{urllib.parse.quote(name)}")
    # stamped with the moment of the query: never from a cache (CKAN then says private, not
    # public)
    tk.request.environ["__no_cache__"] = True
    response.headers["Cache-Control"] = "no-store"
    return response


def blueprints() -> list[Blueprint]:
    return [credit]
