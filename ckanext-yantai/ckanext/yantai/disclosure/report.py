"""Where each department stands on 双公示: figures per department and period, the city-wide
ranking, the monthly trend, and the failing records behind each figure.

Periods are months of the decision date (the deadline runs from it). Timeliness counts leave out
records that are not to be published at all (minors, warning-only market-regulation penalties,
轻微 cases) and revoked decisions that never went online: they have no deadline to meet.

Who sees what: department members their own departments; the data authority's reviewers and
sysadmins every department. The ranking names every department to every government user.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Mapping
from typing import Any, cast

import ckan.model as model
import ckan.plugins.toolkit as tk
import sqlalchemy as sa
from ckan.types import ErrorDict
from openpyxl import Workbook
from sqlalchemy.dialects.postgresql import JSONB

from ckanext.yantai import access, params, tiers
from ckanext.yantai.disclosure import intake, privacy, standard, store
from ckanext.yantai.model import DisclosureRecord

MAX_MONTHS = 120  # the longest period a report covers (the trend has a row per month)
TIMELINESS = ("on_time", "late", "overdue", "pending", "calendar_missing")
LATE_BUCKETS = (("1", 1, 1), ("2-3", 2, 3), ("4-7", 4, 7), (">7", 8, None))
PUBLISH = ("allowed", "not_for_publication", "expired", "revoked")
PUSH_FAILED = ("failed", "rejected")
PUSH_STATUSES = ("none", "pending", "sent", "failed", "rejected")
RECORDS_MAX_LIMIT = 1000  # records in one answer of yantai_compliance_records

FIGURES = ("records", "on_time", "late", "overdue", "pending", "calendar_missing", "invalid",
           "push_failed", "not_for_publication", "expired", "revoked", "public")


# -- who may see --------------------------------------------------------------------------------

def visible_departments(user: Any) -> set[str] | None:
    """Organization ids whose figures the user may see; None for all of them.

    Raises:
        tk.NotAuthorized: Not a government user (anonymous or a member of no department).
    """
    viewer = access.viewer_for(user)
    if not tiers.sees_compliance(viewer):
        raise tk.NotAuthorized(tk._("Compliance figures are for department staff"))
    return None if tiers.oversees(viewer) else set(viewer.orgs)


def department(user: Any, name_or_id: str | None) -> model.Group | None:
    """The department asked for, if the user may see it (None when not asked).

    Raises:
        tk.ObjectNotFound: No such department, or one the user may not see.
    """
    if name_or_id in (None, ""):
        return None
    org = model.Group.get(name_or_id) if isinstance(name_or_id, str) else None
    allowed = visible_departments(user)
    if org is None or not org.is_organization or org.state != "active" or (
            allowed is not None and org.id not in allowed):
        raise tk.ObjectNotFound(tk._("Department not found"))
    return org


# -- periods ------------------------------------------------------------------------------------

def period(data: Mapping[str, Any], today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """``start`` and ``end`` months (YYYY-MM, inclusive) as [first day, day after the last).

    Defaults: the twelve months up to the current one. At most ``MAX_MONTHS`` months.

    Raises:
        tk.ValidationError: A month is malformed or out of range, the end is before the start,
            or the period is longer than ``MAX_MONTHS``.
    """
    today = today or dt.date.today()
    errors: dict[str, list[str]] = {}
    bounds: dict[str, dt.date] = {}
    for key in ("start", "end"):
        value = data.get(key)
        if value in (None, ""):
            continue
        first = params.month(value)
        if first is None:
            errors[key] = [tk._("Give a month as YYYY-MM")]
        else:
            bounds[key] = first
    if errors:
        raise tk.ValidationError(cast(ErrorDict, errors))
    end = _next_month(bounds.get("end") or today.replace(day=1))
    start = bounds.get("start") or intake.add_months(end, -12)
    if start >= end:
        raise tk.ValidationError({"end": [tk._("The end month is before the start month")]})
    if start < intake.add_months(end, -MAX_MONTHS):
        raise tk.ValidationError({"start": [tk._(
            "A period is at most {n} months: choose a later start month").format(n=MAX_MONTHS)]})
    return start, end


def _next_month(first: dt.date) -> dt.date:
    return intake.add_months(first.replace(day=1), 1)


# -- figures ------------------------------------------------------------------------------------

_T = DisclosureRecord.__table__.c
# Records that have a deadline to meet (see the module's docstring).
_DUE = sa.and_(_T.publish != "not_for_publication",
               sa.or_(_T.publish != "revoked", _T.first_public_at.isnot(None)))


def _filters(start: dt.date, end: dt.date, organizations: Iterable[str] | None) -> list[Any]:
    clauses = [_T.decision_date >= start, _T.decision_date < end]
    if organizations is not None:
        clauses.append(_T.organization_id.in_(list(organizations)))
    return clauses


def _figure_columns() -> list[Any]:
    count = sa.func.count
    columns = [count().label("records")]
    for name in TIMELINESS:
        columns.append(count().filter(sa.and_(_DUE, _T.timeliness == name)).label(name))
    for label, low, high in LATE_BUCKETS:
        condition = sa.and_(_DUE, _T.timeliness == "late", _T.working_days_late >= low)
        if high is not None:
            condition = sa.and_(condition, _T.working_days_late <= high)
        columns.append(count().filter(condition).label(f"late_{label}"))
    columns += [
        count().filter(_T.valid.is_(False)).label("invalid"),
        count().filter(_T.push_status.in_(PUSH_FAILED)).label("push_failed"),
        count().filter(_T.publish == "not_for_publication").label("not_for_publication"),
        count().filter(_T.publish == "expired").label("expired"),
        count().filter(_T.publish == "revoked").label("revoked"),
        count().filter(_T.public.is_(True)).label("public"),
    ]
    return columns


def _figures(row: Mapping[str, Any]) -> dict[str, Any]:
    figures: dict[str, Any] = {name: int(row[name]) for name in FIGURES}
    figures["late_by_days"] = {label: int(row[f"late_{label}"]) for label, _, _ in LATE_BUCKETS}
    due = figures["on_time"] + figures["late"] + figures["overdue"]
    figures["on_time_rate"] = round(figures["on_time"] / due, 4) if due else None
    return figures


def _invalid_by_rule(start: dt.date, end: dt.date,
                     organizations: Iterable[str] | None) -> dict[str, dict[str, int]]:
    element = sa.func.jsonb_array_elements(_T.errors).table_valued(
        sa.column("value", JSONB)).alias("e")
    code = element.c.value["code"].astext
    query = (sa.select(_T.organization_id, code, sa.func.count(sa.distinct(_T.id)))
             .select_from(DisclosureRecord.__table__.join(element, sa.true()))
             .where(*_filters(start, end, organizations))
             .group_by(_T.organization_id, code))
    out: dict[str, dict[str, int]] = {}
    for org_id, rule, n in model.Session.execute(query):
        out.setdefault(org_id, {})[rule] = int(n)
    return out


def report(user: Any, data: Mapping[str, Any]) -> dict[str, Any]:
    """Figures per department for a period (``yantai_compliance_report``)."""
    start, end = period(data)
    org = department(user, data.get("organization"))
    allowed = visible_departments(user)
    organizations = {org.id} if org else allowed
    query = (sa.select(_T.organization_id, *_figure_columns())
             .where(*_filters(start, end, organizations)).group_by(_T.organization_id))
    rows = {r["organization_id"]: r for r in model.Session.execute(query).mappings()}
    rules = _invalid_by_rule(start, end, organizations)
    departments = []
    for org_id, row in rows.items():
        figures = _figures(row)
        figures["invalid_by_rule"] = rules.get(org_id, {})
        departments.append({**_org_summary(org_id), **figures})
    departments.sort(key=lambda d: d["title"])
    totals = (sa.select(*_figure_columns()).where(*_filters(start, end, organizations)))
    total = _figures(model.Session.execute(totals).mappings().one())
    total["invalid_by_rule"] = _sum_rules(rules.values())
    return {"start": start.isoformat()[:7], "end": _month_before(end),
            "departments": departments, "total": total}


def _sum_rules(per_department: Iterable[Mapping[str, int]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for rules in per_department:
        for rule, n in rules.items():
            out[rule] = out.get(rule, 0) + n
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def _month_before(end: dt.date) -> str:
    return intake.add_months(end, -1).isoformat()[:7]


def _org_summary(org_id: str) -> dict[str, Any]:
    org = model.Group.get(org_id)
    return {"organization": org.name if org else org_id, "title": org.title if org else org_id}


def ranking(user: Any, data: Mapping[str, Any]) -> dict[str, Any]:
    """Every department by on-time rate, best first (``yantai_compliance_ranking``)."""
    visible_departments(user)  # government users only
    start, end = period(data)
    query = (sa.select(_T.organization_id, *_figure_columns())
             .where(*_filters(start, end, None)).group_by(_T.organization_id))
    ranked = []
    for row in model.Session.execute(query).mappings():
        figures = _figures(row)
        ranked.append({**_org_summary(row["organization_id"]), "records": figures["records"],
                       "on_time": figures["on_time"], "late": figures["late"],
                       "overdue": figures["overdue"], "invalid": figures["invalid"],
                       "on_time_rate": figures["on_time_rate"]})
    ranked.sort(key=lambda d: (d["on_time_rate"] is None, -(d["on_time_rate"] or 0),
                               -d["records"], d["title"]))
    for position, entry in enumerate(ranked, 1):
        entry["rank"] = position
    return {"start": start.isoformat()[:7], "end": _month_before(end), "departments": ranked}


def trend(user: Any, data: Mapping[str, Any]) -> dict[str, Any]:
    """Month by month (``yantai_compliance_trend``): one department's, or those the user sees."""
    start, end = period(data)
    org = department(user, data.get("organization"))
    organizations = {org.id} if org else visible_departments(user)
    month = sa.func.to_char(_T.decision_date, "YYYY-MM")
    query = (sa.select(month.label("month"), *_figure_columns())
             .where(*_filters(start, end, organizations)).group_by(month))
    by_month = {r["month"]: _figures(r) for r in model.Session.execute(query).mappings()}
    months = []
    current = start
    while current < end:
        key = current.isoformat()[:7]
        figures = by_month.get(key) or _figures({**{n: 0 for n in FIGURES}, **{
            f"late_{label}": 0 for label, _, _ in LATE_BUCKETS}})
        months.append({"month": key, **figures})
        current = _next_month(current)
    return {"organization": org.name if org else None, "months": months}


# -- the records behind the figures -------------------------------------------------------------

RECORD_FILTERS = ("timeliness", "late_days", "error", "valid", "publish", "push_status",
                  "record_type", "month")


def records(user: Any, data: Mapping[str, Any]) -> dict[str, Any]:
    """One department's records with their findings, filtered (``yantai_compliance_records``;
    ``data`` as ``logic.schema.compliance_records`` checked it).

    Field values are shown in their public (masked) form, to department staff too.
    """
    org = department(user, data.get("organization"))
    if org is None:
        raise tk.ValidationError({"organization": [tk._("Missing value")]})
    query = model.Session.query(DisclosureRecord).filter(
        DisclosureRecord.organization_id == org.id)
    if data.get("timeliness"):
        query = query.filter(DisclosureRecord.timeliness == data["timeliness"], _DUE)
    if data.get("late_days"):
        _, low, high = next(b for b in LATE_BUCKETS if b[0] == data["late_days"])
        query = query.filter(DisclosureRecord.timeliness == "late", _DUE,
                             DisclosureRecord.working_days_late >= low)
        if high is not None:
            query = query.filter(DisclosureRecord.working_days_late <= high)
    if data.get("publish"):
        query = query.filter(DisclosureRecord.publish == data["publish"])
    if data.get("error"):
        query = query.filter(DisclosureRecord.errors.contains([{"code": data["error"]}]))
    if data.get("valid") is not None:
        query = query.filter(DisclosureRecord.valid.is_(data["valid"]))
    if data.get("push_status"):
        statuses = PUSH_FAILED if data["push_status"] == "failed" else (data["push_status"],)
        query = query.filter(DisclosureRecord.push_status.in_(statuses))
    if data.get("record_type"):
        query = query.filter(DisclosureRecord.record_type == data["record_type"])
    if data.get("month"):
        query = query.filter(DisclosureRecord.decision_date >= data["month"],
                             DisclosureRecord.decision_date < _next_month(data["month"]))
    count = query.count()
    rows = (query.order_by(DisclosureRecord.decision_date.desc().nullslast(),
                           DisclosureRecord.id)
            .limit(data.get("limit", 50)).offset(data.get("offset", 0)).all())
    return {"organization": org.name, "count": count,
            "results": [record_dict(r) for r in rows]}


def record_dict(row: DisclosureRecord) -> dict[str, Any]:
    return {
        "record_key": row.record_key, "record_type": row.record_type,
        "resource_id": row.resource_id, "package_id": row.package_id,
        "fields": privacy.mask(row.record_type, row.fields),
        "valid": row.valid, "errors": store.finding_dicts(row.errors or ()),
        "warnings": list(row.warnings or ()),
        "decision_date": standard.iso(row.decision_date),
        "deadline": standard.iso(row.deadline),
        "timeliness": row.timeliness, "working_days_late": row.working_days_late,
        "publish": row.publish, "publicity_end": standard.iso(row.publicity_end),
        "missing_year": row.missing_year, "public": row.public,
        "first_public_at": standard.iso(row.first_public_at),
        "received_at": standard.iso(row.received_at),
        "push_status": row.push_status,
    }


# -- exports ------------------------------------------------------------------------------------

REPORT_COLUMNS = (
    ("title", "部门"), ("records", "记录数"), ("on_time", "按时"), ("late", "迟报"),
    ("late_1", "迟报1个工作日"), ("late_2-3", "迟报2-3个工作日"), ("late_4-7", "迟报4-7个工作日"),
    ("late_>7", "迟报超过7个工作日"), ("overdue", "逾期未报"), ("pending", "待公开"),
    ("calendar_missing", "缺少节假日安排"), ("invalid", "不合规"), ("push_failed", "推送失败"),
    ("on_time_rate", "按时率"),
)
RECORD_COLUMNS = (
    ("record_type", "类型"), ("行政相对人名称", "行政相对人名称"), ("document", "决定文书号"),
    ("decision_date", "决定日期"), ("deadline", "公开时限"), ("first_public_at", "首次公开时间"),
    ("timeliness", "及时性"), ("working_days_late", "迟报工作日"), ("publish", "公示状态"),
    ("errors", "问题"), ("push_status", "推送状态"),
)


def report_rows(body: Mapping[str, Any]) -> list[list[Any]]:
    rows: list[list[Any]] = [[title for _, title in REPORT_COLUMNS]]
    for entry in [*body["departments"], {**body["total"], "title": "合计"}]:
        flat = {**entry, **{f"late_{k}": v for k, v in entry["late_by_days"].items()}}
        rows.append([flat.get(key) for key, _ in REPORT_COLUMNS])
    return rows


def record_rows(results: Iterable[Mapping[str, Any]]) -> list[list[Any]]:
    rows: list[list[Any]] = [[title for _, title in RECORD_COLUMNS]]
    for r in results:
        flat = {**r, "行政相对人名称": r["fields"].get("行政相对人名称"),
                "document": r["fields"].get(standard.DOC_NUMBER[r["record_type"]])
                or r["fields"].get(standard.LICENSE_NO, ""),
                "errors": "；".join(f"{e['field']}：{e['message']}" for e in r["errors"])}
        rows.append([flat.get(key) for key, _ in RECORD_COLUMNS])
    return rows


def to_csv(rows: list[list[Any]]) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel on Chinese Windows reads it right."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow(["" if v is None else safe_cell(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(rows: list[list[Any]], title: str) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31])
    for row in rows:
        sheet.append([safe_cell(v) if isinstance(v, str) else v for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def safe_cell(value: Any) -> Any:
    # Text that a spreadsheet would run as a formula (CSV/formula injection) is quoted.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value
