"""Quality in CKAN: computed when a dataset is indexed, shown on its page, summed per department."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk

from ckanext.yantai import quality


def open_licences() -> frozenset[str]:
    register = model.Package.get_license_register()
    return frozenset(lid for lid, lic in register.items() if lic.isopen())


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def assess(pkg: dict[str, Any]) -> quality.Assessment:
    return quality.assess(pkg, now(), open_licences())


def index_fields(pkg_dict: dict[str, Any]) -> dict[str, Any]:
    """Add quality_score and quality_issues to a dataset's Solr document."""
    validated = json.loads(pkg_dict.get("validated_data_dict") or "{}")
    result = assess(validated)
    pkg_dict["quality_score"] = result.score
    pkg_dict["quality_issues"] = result.issues
    return pkg_dict


def department_summary(context: dict[str, Any], organization: str | None) -> list[dict[str, Any]]:
    """Per department: datasets, average score and how many datasets have each issue.

    Goes through package_search, so it counts exactly the datasets the caller may see.
    """
    fq = f'organization:"{organization}"' if organization else ""
    search = tk.get_action("package_search")
    facets = search(dict(context), {
        "q": "*:*", "fq": fq, "rows": 0, "include_private": True,
        "facet.field": ["organization"], "facet.limit": -1})["facets"]["organization"]
    summary = []
    for org, count in sorted(facets.items()):
        scores: list[int] = []
        issues: dict[str, int] = {}
        start = 0
        while True:
            page = search(dict(context), {
                "q": "*:*", "fq": f'organization:"{org}"', "rows": 1000, "start": start,
                "include_private": True, "fl": "name,quality_score,quality_issues"})
            for hit in page["results"]:
                scores.append(int(hit.get("quality_score") or 0))
                for issue in hit.get("quality_issues") or []:
                    issues[issue] = issues.get(issue, 0) + 1
            start += 1000
            if start >= page["count"]:
                break
        summary.append({"organization": org, "datasets": count,
                        "average_score": round(sum(scores) / len(scores), 1) if scores else None,
                        "issues": dict(sorted(issues.items()))})
    return summary
