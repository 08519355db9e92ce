"""Metadata quality of a catalogue entry: a score out of 100 and the reasons it falls short.

Pure rules (a dataset dict in, an assessment out; no CKAN imports), so they read like the checklist
they implement and can be tested without services:

- completeness of the catalogue's core fields (40 points, in proportion);
- a licence that agrees with the open type (15; ``vocabularies.licence_fits``): an open licence
  for 无条件开放 data, a licence that is not open for 有条件开放 and 不予开放 data;
- machine-readable resource formats (15, in proportion to the resources): a table file counts
  once its DataStore load found it as the catalogue describes it (loaded, every value fitting its
  column's type, every 信息项 a column); one that failed or differs is 数据与信息项不符
  (``table_mismatch``);
- resources reachable: each resource's last check (15, in proportion; unchecked ones count as
  reachable until a check says otherwise);
- freshness against the declared update cycle (15): a dataset not updated within its cycle's
  allowance is 更新超期 (``update_overdue``).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, NamedTuple

from ckanext.yantai import vocabularies

CORE_FIELDS = (
    "title", "notes", "resource_category", "resource_code", "provider_code", "domain", "region",
    "update_cycle", "open_type", "share_type", "share_method", "info_items", "release_date",
    "temporal_start", "temporal_end", "contact_office", "contact_phone", "tags",
)
MACHINE_READABLE = frozenset({
    "CSV", "TSV", "XLS", "XLSX", "ODS", "JSON", "JSON-LD", "GEOJSON", "XML", "RDF", "TTL", "API",
    "WMS", "WFS", "SHP", "KML", "SQL",
})
# Days after the last update before a dataset counts as overdue: the cycle plus a margin for the
# department's publishing routine. Irregular datasets are never overdue.
OVERDUE_AFTER_DAYS: dict[str, int | None] = {
    "realtime": 1, "daily": 2, "weekly": 10, "monthly": 45, "quarterly": 135,
    "half_yearly": 270, "yearly": 540, "irregular": None,
}
WEIGHTS = {"completeness": 40, "licence": 15, "machine_readable": 15, "reachable": 15,
           "freshness": 15}

# Issue codes (labels in ISSUE_LABELS, translated by the templates).
ISSUE_LABELS = {
    "incomplete": "Catalogue fields missing",
    "licence_not_open": "Licence is not open",
    "licence_mismatch": "Licence does not match the open type",
    "no_resources": "No data resources",
    "not_machine_readable": "Resources not machine-readable",
    "table_mismatch": "Data does not match its information items",
    "unreachable": "Resources unreachable",
    "update_overdue": "Update overdue",
}


class Assessment(NamedTuple):
    score: int
    issues: list[str]
    missing_fields: list[str]
    last_updated: dt.datetime | None
    overdue_days: int | None  # days past the allowance, when overdue


def _present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip()) and value.strip() not in ("[]", "{}")
    if isinstance(value, (list, tuple, dict)):
        return bool(value)
    return True


def _parse_time(value: Any) -> dt.datetime | None:
    if not value:
        return None
    if isinstance(value, dt.datetime):
        parsed = value
    else:
        try:
            parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return None
    # CKAN stores naive UTC timestamps.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


# Live services: their data is as fresh as the service, not as the resource record.
LIVE_FORMATS = frozenset({"API", "WMS", "WFS", "WMTS"})


def last_updated(pkg: Mapping[str, Any]) -> dt.datetime | None:
    """When the data last changed: the newest resource (its file's last modification, else its
    creation). A dataset without resources counts from its metadata. Editing only the metadata
    does not make data fresh."""
    times = [_parse_time(r.get("last_modified") or r.get("created"))
             for r in pkg.get("resources") or []]
    known = [t for t in times if t is not None]
    if known:
        return max(known)
    return _parse_time(pkg.get("metadata_modified"))


def assess(pkg: Mapping[str, Any], now: dt.datetime, open_licences: frozenset[str],
           reachable: Mapping[str, bool] | None = None,
           tables: Mapping[str, bool] | None = None) -> Assessment:
    """Score a dataset dict (package_show form). ``reachable`` maps resource ids to the result of
    their last check, ``tables`` those of table files loaded to whether the table matched the
    catalogue."""
    reachable = reachable or {}
    tables = tables or {}
    issues: list[str] = []
    points = 0.0

    missing = [f for f in CORE_FIELDS if not _present(pkg.get(f))]
    points += WEIGHTS["completeness"] * (1 - len(missing) / len(CORE_FIELDS))
    if missing:
        issues.append("incomplete")

    open_type = pkg.get("open_type") or None
    if vocabularies.licence_fits(open_type, pkg.get("license_id"), open_licences):
        points += WEIGHTS["licence"]
    else:
        issues.append("licence_not_open" if open_type in (None, "open") else "licence_mismatch")

    resources = pkg.get("resources") or []
    if not resources:
        issues.append("no_resources")
    else:
        readable = [r for r in resources if str(r.get("format") or "").upper() in MACHINE_READABLE]
        matching = [r for r in readable if tables.get(r.get("id", ""), True)]
        points += WEIGHTS["machine_readable"] * len(matching) / len(resources)
        if len(readable) < len(resources):
            issues.append("not_machine_readable")
        if len(matching) < len(readable):
            issues.append("table_mismatch")
        ok = [r for r in resources if reachable.get(r.get("id", ""), True)]
        points += WEIGHTS["reachable"] * len(ok) / len(resources)
        if len(ok) < len(resources):
            issues.append("unreachable")

    updated = last_updated(pkg)
    allowance = OVERDUE_AFTER_DAYS.get(str(pkg.get("update_cycle") or ""))
    if resources and all(str(r.get("format") or "").upper() in LIVE_FORMATS for r in resources):
        allowance = None  # a service answers with current data; reachability covers it
    overdue_days = None
    if allowance is not None and updated is not None:
        late = (now - updated).days - allowance
        if late > 0:
            overdue_days = late
            issues.append("update_overdue")
    if overdue_days is None:
        points += WEIGHTS["freshness"]

    return Assessment(round(points), issues, missing, updated, overdue_days)
