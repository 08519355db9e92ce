"""Quality in CKAN: computed when a dataset is indexed, shown on its page, summed per department."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.lib import search
from ckan.lib.uploader import get_resource_uploader
from ckan.types import Context

from ckanext.yantai import config, linkcheck, quality
from ckanext.yantai.datastore import loader as datastore_loader
from ckanext.yantai.model import ResourceCheck


def open_licences() -> frozenset[str]:
    register = model.Package.get_license_register()
    return frozenset(lid for lid, lic in register.items() if lic.isopen())


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def reachability(pkg: dict[str, Any]) -> dict[str, bool]:
    """The last check of each of the dataset's resources that has been checked."""
    ids = [r["id"] for r in pkg.get("resources") or [] if r.get("id")]
    if not ids:
        return {}
    rows = model.Session.query(ResourceCheck.resource_id, ResourceCheck.ok).filter(
        ResourceCheck.resource_id.in_(ids))
    return {resource_id: ok for resource_id, ok in rows}


def table_conformance(pkg: dict[str, Any]) -> dict[str, bool]:
    """Each table file's last DataStore load: whether it matched the catalogue. A 信息项 that
    none of the dataset's loaded tables has makes them all unlike it."""
    statuses = {r["id"]: status for r in pkg.get("resources") or [] if r.get("id")
                if (status := datastore_loader.status(r["id"])) is not None
                and status["state"] in (datastore_loader.COMPLETE, datastore_loader.ERROR)}
    loaded = [set((s.get("items") or {}).get("missing") or []) for s in statuses.values()
              if s["state"] == datastore_loader.COMPLETE]
    if loaded and set.intersection(*loaded):
        return dict.fromkeys(statuses, False)
    return {rid: datastore_loader.conforms(status) for rid, status in statuses.items()}


def assess(pkg: dict[str, Any]) -> quality.Assessment:
    return quality.assess(pkg, now(), open_licences(), reachability(pkg),
                          table_conformance(pkg))


def check_resource(resource: dict[str, Any]) -> linkcheck.Result:
    if resource.get("url_type") == "datastore":  # its data is its table, served by the portal
        return linkcheck.Result(True, None, None)
    if resource.get("url_type") == "upload":
        return linkcheck.check_upload(get_resource_uploader(resource).get_path(resource["id"]))
    return linkcheck.check_url(resource.get("url") or "",
                               policy=config.linkcheck_policy(),
                               timeout=config.linkcheck_timeout())


def check_package(package_id: str) -> dict[str, linkcheck.Result]:
    """Check every resource of a dataset, record the results and re-index it when they changed."""
    pkg = tk.get_action("package_show")({"ignore_auth": True}, {"id": package_id})
    results = {r["id"]: check_resource(r) for r in pkg.get("resources") or []}
    changed = False
    for resource_id, result in results.items():
        row = model.Session.get(ResourceCheck, resource_id)
        if row is None:
            row = ResourceCheck(resource_id=resource_id)
            model.Session.add(row)
        changed = changed or row.ok != result.ok
        row.ok, row.status_code, row.error = result.ok, result.status_code, result.error
        row.checked_at = now().replace(tzinfo=None)
    model.Session.commit()
    if changed:
        search.rebuild(package_id)
    return results


def index_fields(pkg_dict: dict[str, Any]) -> dict[str, Any]:
    """Add quality_score and quality_issues to a dataset's Solr document."""
    validated = json.loads(pkg_dict.get("validated_data_dict") or "{}")
    result = assess(validated)
    pkg_dict["quality_score"] = result.score
    pkg_dict["quality_issues"] = result.issues
    return pkg_dict


def department_summary(context: Context, organization: str | None) -> list[dict[str, Any]]:
    """Per department: datasets, average score and how many datasets have each issue.

    Goes through package_search, so it counts exactly the datasets the caller may see; the
    average comes from the facet counts of the scores, one query per department.
    """
    search_action = tk.get_action("package_search")

    def facets(fq: str, fields: list[str]) -> dict[str, dict[str, int]]:
        return search_action(context.copy(), {
            "q": "*:*", "fq": fq, "rows": 0, "include_private": True,
            "facet.field": fields, "facet.limit": -1, "facet.mincount": 1})["facets"]

    fq = f'organization:"{organization}"' if organization else ""
    summary = []
    for org, count in sorted(facets(fq, ["organization"])["organization"].items()):
        counts = facets(f'organization:"{org}"', ["quality_score", "quality_issues"])
        scored = sum(counts["quality_score"].values())
        total = sum(int(score) * n for score, n in counts["quality_score"].items())
        summary.append({"organization": org, "datasets": count,
                        "average_score": round(total / scored, 1) if scored else None,
                        "issues": dict(sorted(counts["quality_issues"].items()))})
    return summary
