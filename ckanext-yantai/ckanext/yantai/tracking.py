"""Views and downloads, counted by CKAN's tracking extension (``ckanext.tracking``) with its holes
fixed: the plugin ``yantai_tracking`` takes the place of ``tracking`` in ``ckan.plugins``.

Kept from the stock extension: its tables (``tracking_raw``, ``tracking_summary``), the daily
``ckan tracking update`` that sums them and re-indexes the datasets whose views changed, and the
index fields ``views_total`` / ``views_recent`` (so a search can be sorted by views).

Replaced, because the stock code fails in a browser and on hostile input (or wastes time):

- **The recorder.** The stock script posts to ``/_tracking`` without CSRF token, a path no view
  answers, and the stock hook splits the body by hand after the request: every page view shows a
  failing request (400 or 404) and a body with a second ``=`` or without User-Agent is a 500.
  Here a view answers ``POST /_tracking`` (204), the script sends CKAN's CSRF token, the form is
  parsed by Flask, and only what the counts use is stored: a dataset page (``/dataset/<name>``,
  the language prefix and anything after the name dropped) or a download of one of the portal's
  resources (its URL as the resource records it). Nothing else is stored (a malformed request
  answers 400, any other page 204), so the table cannot be filled with arbitrary text.
- **The summaries in search results.** The stock hook queries the database once per dataset and
  once per resource of every result (and of a shown dataset); here two queries in all.

- **The first ``ckan tracking update``.** With no summary yet, the stock command sums every day
  since 2011-01-01, one day at a time (some 40 s of empty days on a new portal, at every
  ``make up`` until the first view). Here it starts from the day of the first recorded view
  (today when there is none): the days before it have nothing to sum, so the summaries and the
  re-indexed datasets are the same. Given a date, or with summaries already, it is the stock
  command.

A visitor is counted once a day per URL, under a key that changes daily and cannot be traced to
an address (``visitor_key``); crawlers are not counted (``usage.is_bot``). ``ckan tracking
update`` also sums the day's views, downloads and API calls per dataset for the usage statistics
(``usage.py``), which give the index its counts.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from typing import Any, TypeGuard

import ckan.model as model
import ckan.plugins as p
import ckan.plugins.toolkit as tk
import ckanext.tracking.cli.tracking as stock_cli
import click
from ckan.common import CKANConfig
from ckan.lib import munge
from ckanext.tracking.model import TrackingRaw, TrackingSummary
from ckanext.tracking.plugin import TrackingPlugin
from flask import Blueprint, Response, request
from sqlalchemy import func

from ckanext.yantai import access, tiers, usage

MAX_URL = 1000
# A dataset page with an optional language prefix (/en, /zh_Hans_CN) and anything after the name.
_DATASET_PAGE = re.compile(
    r"^(?:/[A-Za-z]{2}(?:_[A-Za-z]+)*)?/dataset/([a-z0-9_-]{2,100})(?:/.*)?$")
# A resource's download on this site: /dataset/<id or name>/resource/<id>/download[/file]
_DOWNLOAD = re.compile(r"/dataset/[^/]+/resource/([0-9a-f-]{36})/download(?:/[^/?#]*)?$")

tracking = Blueprint("yantai_tracking", __name__)


def visitor_key(day: dt.date | None = None) -> str:
    """The anonymous key of a visitor on a day: the browser's User-Agent and the address under a
    keyed hash whose key changes every day (the site's secret and the date). A day's views of
    one visitor share it, so the daily sum counts them once; it cannot be traced back to an
    address (brute-forcing the address space needs the secret), nor linked from one day to the
    next."""
    env = request.environ
    # The browser and the address only: headers a script may vary at will (languages,
    # encodings) would make one visitor many.
    raw = "\n".join(str(env.get(k) or "") for k in ("HTTP_USER_AGENT", "REMOTE_ADDR"))
    secret = str(tk.config.get("SECRET_KEY") or tk.config.get("beaker.session.secret") or "")
    day_key = f"{secret}|{(day or dt.date.today()).isoformat()}".encode()
    return hmac.new(day_key, raw.encode(), hashlib.sha256).hexdigest()


def _counted(package: model.Package | None) -> TypeGuard[model.Package]:
    """Only datasets everyone may find are counted: the counts are public (the home page's
    figures, the most-viewed list), and a dataset hidden from the public (private, a draft,
    不予开放) is answered exactly as one that does not exist."""
    return (package is not None and package.type == "dataset"
            and access.may_see(tiers.ANONYMOUS, package))


def page_url(url: str) -> str | None:
    """``/dataset/<name>`` for a page of a dataset everyone may find on this site (by name or
    id, with or without a language prefix), else None."""
    match = _DATASET_PAGE.match(url.split("?", 1)[0].split("#", 1)[0])
    if match is None:
        return None
    package = model.Package.get(match.group(1))
    return f"/dataset/{package.name}" if _counted(package) else None


def download_url(url: str) -> str | None:
    """The URL a resource shows (the key of its summary, as in the stock extension) for a click
    on its download link: an upload's download route on this site, or a linked resource's URL."""
    match = _DOWNLOAD.search(url.split("?", 1)[0].split("#", 1)[0])
    if match is not None:
        resource = model.Resource.get(match.group(1))
        if resource is None or resource.state != "active":
            return None
        package = model.Package.get(resource.package_id)
        if not _counted(package) or not access.may_have_data(access.request_viewer(), package):
            return None
        if resource.url_type != "upload":
            return resource.url
        return tk.h.url_for(f"{package.type}_resource.download",
                            id=resource.package_id, resource_id=resource.id,
                            filename=munge.munge_filename(resource.url.rsplit("/")[-1]),
                            qualified=True)
    if not url.startswith(("http://", "https://")):
        return None
    viewer = access.request_viewer()
    for (package_id,) in model.Session.query(model.Resource.package_id).filter(
            model.Resource.url == url, model.Resource.state == "active").limit(20):
        package = model.Package.get(package_id)
        if _counted(package) and access.may_have_data(viewer, package):
            return url
    return None


@tracking.route("/_tracking", methods=["POST"])
def record() -> Response:
    """400 for a malformed count; 204 otherwise, storing it only when it is one the portal
    counts (a dataset page, a download of a resource), so a script on any page may send it."""
    kind = request.form.get("type", "")
    url = request.form.get("url", "")
    if kind not in ("page", "resource") or not url or len(url) > MAX_URL:
        return Response(status=400)
    if not usage.is_visitor(request.headers.get("User-Agent", "")):
        return Response(status=204)  # crawlers and scripts are not counted
    stored = page_url(url) if kind == "page" else download_url(url)
    if stored is not None:
        # One row per visitor, URL and moment; the daily sum counts a visitor once per day.
        model.Session.add(TrackingRaw(user_key=visitor_key(), url=stored, tracking_type=kind))
        model.Session.commit()
    return Response(status=204)


def _latest(key: Any, *columns: Any, keys: list[str] | None = None) -> Any:
    """The latest summary row of each ``key`` (a dataset or a URL; only those in ``keys`` if
    given), as a subquery whose rows numbered 1 are the latest."""
    query = model.Session.query(
        key.label("key"), *columns,
        func.row_number().over(partition_by=key,
                               order_by=TrackingSummary.tracking_date.desc()).label("n"),  # pyright: ignore[reportAttributeAccessIssue]  # ckanext-tracking annotates its columns as values
    )
    return (query if keys is None else query.filter(key.in_(keys))).subquery()


def summaries(package_ids: list[str], urls: list[str]) -> tuple[dict[str, dict[str, int]],
                                                               dict[str, dict[str, int]]]:
    """The latest summary of each dataset and of each resource URL, in two queries."""
    def latest(column: Any, keys: list[str]) -> dict[str, dict[str, int]]:
        if not keys:
            return {}
        ranked = _latest(column, TrackingSummary.running_total, TrackingSummary.recent_views,
                         keys=keys)
        rows = model.Session.query(ranked).filter(ranked.c.n == 1)
        return {row.key: {"total": row.running_total, "recent": row.recent_views}
                for row in rows}

    return (latest(TrackingSummary.package_id, package_ids),
            latest(TrackingSummary.url, urls))


def first_day_to_sum() -> str | None:
    """The start date for ``ckan tracking update`` without one: None (the stock default, two days
    before the latest summary) once there are summaries, else the day of the first recorded view
    or download (today if there is none), instead of the stock 2011-01-01."""
    if model.Session.query(TrackingSummary.url).first() is not None:
        return None
    first = model.Session.query(func.min(TrackingRaw.access_timestamp)).scalar()
    return (first or dt.datetime.now()).strftime("%Y-%m-%d")


@click.group(name="tracking", short_help="Update tracking statistics")
def tracking_cli() -> None:
    pass


def update_all(start_date: str | None) -> None:
    """The stock daily summaries (per URL: a resource's counts in the API, the most-viewed
    list) from ``start_date`` (default: ``first_day_to_sum``), then the usage statistics'
    roll-up, which re-indexes the datasets whose counts changed (the stock command re-indexes
    every dataset viewed since the start instead), and the monthly CSVs due."""
    first = start_date or first_day_to_sum()
    if first:
        day = dt.datetime.strptime(first, "%Y-%m-%d")
    else:
        latest = model.Session.query(func.max(TrackingSummary.tracking_date)).scalar()
        day = dt.datetime.combine(latest - dt.timedelta(days=2), dt.time())
    now = dt.datetime.now()
    while day < now:
        stock_cli.update_tracking(day)
        day += dt.timedelta(days=1)
    rolled = usage.roll_up(dt.datetime.strptime(start_date, "%Y-%m-%d").date()
                           if start_date else None)
    click.echo(f"usage summed for {len(rolled.days)} day(s), "
               f"{len(rolled.changed)} dataset(s) re-indexed")
    for month, outcome in usage.publish_due().items():
        click.echo(f"usage statistics of {month}: {outcome}")


@tracking_cli.command()
@click.argument("start_date", required=False)
def update(start_date: str | None) -> None:
    update_all(start_date)


@tracking_cli.command()
@click.argument("output_file", type=click.Path())
@click.argument("start_date", required=False)
def export(output_file: str, start_date: str | None) -> None:
    update_all(start_date)
    stock_cli.export_tracking(output_file)


class YantaiTrackingPlugin(TrackingPlugin):
    """CKAN's tracking with the recorder and the search-result summaries above."""

    p.implements(p.IBlueprint)
    p.implements(p.IActions)

    def update_config(self, config: CKANConfig) -> None:
        # No stock script or templates: the portal's base template loads yantai/tracking and
        # shows the counts where the portal shows them.
        pass

    def make_middleware(self, app: Any, config: CKANConfig) -> Any:
        # API calls per dataset and per user (usage.py), as the answers leave
        app.after_request(usage.after_request)
        return app

    def get_commands(self) -> list[click.Command]:
        return [tracking_cli]

    def get_actions(self) -> dict[str, Any]:
        # what each API answer was about, for the usage statistics' API calls
        return usage.chained_actions()

    def get_blueprint(self) -> list[Blueprint]:
        from ckanext.yantai.views import usage as usage_views

        return [tracking, *usage_views.blueprints()]

    def before_dataset_index(self, pkg_dict: dict[str, Any]) -> dict[str, Any]:
        """The counts search sorts by (views, recent views, downloads, API calls), from the
        usage statistics."""
        pkg_dict.pop("tracking_summary", None)
        for res in pkg_dict.get("resources") or []:
            res.pop("tracking_summary", None)
        pkg_dict.update(usage.index_fields(pkg_dict["id"]))
        return pkg_dict

    def after_dataset_show(self, context: Any, pkg_dict: dict[str, Any]) -> dict[str, Any]:
        if "id" in pkg_dict:
            self.after_dataset_search({"results": [pkg_dict]}, {})
        return pkg_dict

    def after_dataset_search(self, search_results: dict[str, Any],
                             search_params: dict[str, Any]) -> dict[str, Any]:
        results = [r for r in search_results["results"] if "id" in r]
        urls = [res["url"] for r in results for res in r.get("resources") or [] if res.get("url")]
        packages, resources = summaries([r["id"] for r in results], urls)
        zero = {"total": 0, "recent": 0}
        for pkg in results:
            pkg["tracking_summary"] = packages.get(pkg["id"], zero)
            for res in pkg.get("resources") or []:
                if "url" in res:
                    res["tracking_summary"] = resources.get(res["url"], zero)
        return search_results


def totals() -> dict[str, int]:
    """Views of dataset pages and downloads of resources counted so far (of the datasets the
    public may find, as of the last ``ckan tracking update``)."""
    return usage.totals()
