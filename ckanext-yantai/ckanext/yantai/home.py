"""The home page's catalogue figures and the About page's facts about the portal.

Every figure comes from ``package_search`` called as the visitor, so that what the tiers or
CKAN's privacy keep from them is neither counted nor listed, and every count matches what the
search page shows after a click. Answers are kept per visitor for a short while
(``ckanext.yantai.home.cache_seconds``) so the home page does not query Solr on every view, and
only while the catalogue is unchanged: a dataset created, changed, published or deleted (in any
worker of any node) makes the next view compute them afresh.
"""
from __future__ import annotations

import threading
import time
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
import sqlalchemy as sa
from ckan.types import Context

from ckanext.yantai import config, tracking, vocabularies

LIST_ROWS = 6  # datasets in each of the home page's lists
ORG_PAGE = 25  # organizations per organization_list call (CKAN's all_fields maximum)

_cache: dict[tuple[str, str], tuple[float, tuple[Any, ...], dict[str, Any]]] = {}
_lock = threading.Lock()


def _viewer_name() -> str:
    return tk.current_user.name if tk.current_user.is_authenticated else ""


def _search(params: dict[str, Any]) -> dict[str, Any]:
    """package_search as the visitor, over what the dataset search page shows them."""
    user = _viewer_name()
    context: Context = {"user": user}
    if user:
        context["auth_user_obj"] = tk.current_user
    data = {"include_private": config.search_include_private(), **params}
    return tk.get_action("package_search")(context, data)


def _facet(result: dict[str, Any], name: str) -> dict[str, int]:
    return {item["name"]: item["count"]
            for item in (result.get("search_facets") or {}).get(name, {}).get("items", [])}


def _resource_count(result: dict[str, Any]) -> int:
    """The resources of every dataset the visitor finds: the index's ``num_resources`` facet
    (datasets per number of resources), added up."""
    return sum(int(value) * count for value, count in _facet(result, "num_resources").items())


def _organizations() -> list[dict[str, Any]]:
    """Every department (organizations are public in CKAN), with its type from the schema."""
    found: list[dict[str, Any]] = []
    while True:
        page = tk.get_action("organization_list")(
            {"user": _viewer_name()},
            {"all_fields": True, "include_extras": True, "limit": ORG_PAGE,
             "offset": len(found), "sort": "title asc"})
        found.extend(page)
        if len(page) < ORG_PAGE:
            return found


def _dept_type(org: dict[str, Any]) -> str:
    if org.get("dept_type"):
        return str(org["dept_type"])
    for extra in org.get("extras") or []:
        if extra.get("key") == "dept_type":
            return str(extra.get("value") or "")
    return ""


def _directory(counts: dict[str, int], lang: str) -> list[dict[str, Any]]:
    """Departments by type (市直部门, 县市区, …, in the vocabulary's order), each with the number
    of datasets the visitor finds under it; types without a department are left out."""
    by_type: dict[str, list[dict[str, Any]]] = {}
    for org in _organizations():
        by_type.setdefault(_dept_type(org), []).append(
            {"name": org["name"], "title": org.get("title") or org["name"],
             "count": counts.get(org["name"], 0)})
    order = [term.value for term in vocabularies.DEPT_TYPES]
    sections = []
    for code in order + sorted(set(by_type) - set(order)):
        if code in by_type:
            sections.append({
                "type": code,
                "label": vocabularies.label("dept_type", code, lang) if code else "",
                "organizations": by_type[code]})
    return sections


def _counted() -> bool:
    """Whether the portal counts views and downloads (``yantai_tracking``)."""
    return bool(tk.h.plugin_loaded("yantai_tracking"))


def _most_viewed(newest: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], bool]:
    """The second list: the most viewed in the last two weeks where views are counted and there
    are any, else the recently updated ones less those the newest list shows already."""
    if _counted():
        viewed = _search({"q": "*:*", "rows": LIST_ROWS, "fq": "views_recent:[1 TO *]",
                          "sort": "views_recent desc, metadata_modified desc"})["results"]
        if viewed:
            return viewed, True
    shown = {pkg["id"] for pkg in newest}
    updated = _search({"q": "*:*", "rows": 2 * LIST_ROWS, "sort": "metadata_modified desc"})
    return [pkg for pkg in updated["results"] if pkg["id"] not in shown][:LIST_ROWS], False


def compute(lang: str) -> dict[str, Any]:
    """The home page's figures for the current visitor (uncached)."""
    facets = ["domain", "organization", "open_type", "num_resources"]
    overview = _search({"q": "*:*", "rows": 0, "facet.field": facets, "facet.limit": -1})
    total = overview["count"]
    domain_counts = _facet(overview, "domain")
    org_counts = _facet(overview, "organization")
    open_counts = _facet(overview, "open_type")
    newest = _search({"q": "*:*", "rows": LIST_ROWS, "sort": "metadata_created desc"})["results"]
    popular, by_views = _most_viewed(newest)
    return {
        "datasets": total,
        "resources": _resource_count(overview),
        "departments": sum(1 for n in org_counts.values() if n),
        "open_types": [{"value": t.value, "label": vocabularies.label("open_type", t.value, lang),
                        "count": open_counts.get(t.value, 0)}
                       for t in vocabularies.OPEN_TYPES],
        "domains": [{"name": t.value, "label": vocabularies.label("domain", t.value, lang),
                     "count": domain_counts.get(t.value, 0)} for t in vocabularies.DOMAINS],
        "directory": _directory(org_counts, lang),
        "newest": newest,
        "popular": popular,
        "popular_by_views": by_views,
        # Counted by yantai_tracking over the whole portal (counts, no data): None where not.
        "usage": tracking.totals() if _counted() else None,
    }


def figures() -> dict[str, Any]:
    """``compute`` for the current visitor and language, cached while the catalogue is as it
    was, for a short while."""
    lang = tk.h.lang() or "zh_Hans_CN"
    return _cached((_viewer_name(), lang), lambda: compute(lang), _catalogue_version())


def _catalogue_version() -> tuple[Any, ...]:
    """What changes whenever a figure may: a dataset edited, published or made private (its
    ``metadata_modified``), created, deleted, restored or purged (the count of active ones), a
    new or removed department or group (their count). One query on the database every worker
    shares."""
    package, group = model.Package, model.Group
    return tuple(model.Session.execute(sa.select(
        sa.func.max(package.metadata_modified),
        sa.func.count(package.id).filter(package.state == "active"),
        sa.select(sa.func.count(group.id)).where(group.state == "active").scalar_subquery(),
    )).one())


def _cached(key: tuple[str, str], make: Any, version: tuple[Any, ...] = ()) -> dict[str, Any]:
    """``make()``, kept under ``key`` for ``ckanext.yantai.home.cache_seconds`` while
    ``version`` stays the same."""
    seconds = config.home_cache_seconds()
    now = time.monotonic()
    if seconds > 0:
        with _lock:
            hit = _cache.get(key)
        if hit is not None and now - hit[0] < seconds and hit[1] == version:
            return hit[2]
    value = make()
    if seconds > 0:
        with _lock:
            for stale in [k for k, (at, _, _) in _cache.items() if now - at >= seconds]:
                del _cache[stale]
            _cache[key] = (now, version, value)
    return value


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def portal() -> dict[str, Any]:
    """Who runs the portal and how to reach them (About page, footer): the configured values,
    else the data authority's department as the catalogue records it. Cached like the figures:
    the footer of every page shows it."""
    return _cached(("", "portal"), _portal)


def _portal() -> dict[str, Any]:
    operator = config.portal_operator()
    contact = config.portal_contact()
    authority = None
    if not operator or not contact:
        try:
            authority = tk.get_action("organization_show")(
                {"ignore_auth": True},
                {"id": config.access_authority_org(), "include_datasets": False,
                 "include_users": False, "include_groups": False, "include_tags": False,
                 "include_followers": False})
        except (tk.ObjectNotFound, tk.NotAuthorized):
            authority = None
    if authority is not None:
        operator = operator or authority.get("title") or ""
        if not contact:
            contact = "  ".join(str(authority[k]) for k in ("address", "phone")
                                if authority.get(k))
    return {"operator": operator, "contact": contact, "email": config.portal_email(),
            "credit_url": config.portal_credit_url(), "icp": config.portal_icp(),
            "review_workdays": config.access_review_workdays(),
            "authority": authority["name"] if authority is not None else None}
