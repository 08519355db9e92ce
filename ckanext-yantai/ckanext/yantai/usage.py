"""Usage statistics (数据使用统计): views, downloads and API calls per dataset and day, summed by
department and domain, on the dataset pages, the public statistics page (``/statistics``), the
departments' desks and, each month, as an open dataset of the portal itself.

What is counted, and how:

- **Views and downloads** are what ``tracking.py`` records (a visitor's dataset page, a click on
  a resource's download), one per visitor, URL and day, as CKAN's tracking counts them. Crawlers
  are not counted: the recorder drops requests whose User-Agent is no browser's (``Mozilla/…``)
  or one CrawlerDetect knows (search engines, scrapers, headless browsers, HTTP libraries).
- **API calls** are the Action API's (and the DCAT endpoints') successful answers about one
  dataset or one of its resources (``package_show``, ``resource_show``, ``datastore_search`` …)
  to anyone but the portal's operators (sysadmins),
  counted as they are answered in a Redis hash per day (every web worker and node adds to the
  same one). A program is the API's normal client, so HTTP libraries count; web crawlers (whose
  User-Agent CrawlerDetect knows and that are no HTTP library) do not. The same hash counts each
  logged-in user's calls for their API token page (kept 40 days, never published).
- ``roll_up`` (``ckan tracking update``) sums both, day by day, into ``yantai_usage_daily``
  (dataset, day, views, downloads, API calls) and re-indexes the datasets whose totals changed,
  so that search sorts by them. It is idempotent: a day summed again is set, not added to.

No address is stored anywhere: the visitor key of a view is a keyed hash that changes every day
(``tracking.visitor_key``), and an API call adds to a counter without saying who, except the
caller's own per-user counter.

What is shown is decided at reading time: the public figures (statistics page, the published
CSV, the home page) cover the datasets an anonymous visitor may find *now*; a department's desk
shows its own datasets, any tier.
"""
from __future__ import annotations

import calendar
import csv
import datetime as dt
import functools
import hashlib
import io
import logging
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

import ckan.model as model
import ckan.plugins.toolkit as tk
import sqlalchemy as sa
from ckan.types import Context, ErrorDict
from crawlerdetect import CrawlerDetect
from flask import Response, g, request
from sqlalchemy.orm import selectinload

from ckanext.yantai import access, domains, tiers, vocabularies

log = logging.getLogger(__name__)

# Redis: one hash per day, kept long enough for a late roll-up and for a month of a user's calls.
KEEP_DAYS = 40
_DCAT_DATASET = "dcat.read_dataset"
_REF = re.compile(r"^[A-Za-z0-9_-]{2,100}$")
# Programs calling the API through a general HTTP library: clients, not crawlers.
_HTTP_LIBRARY = re.compile(
    r"^(python-requests|python-urllib[0-9.]*|python-httpx|httpx|aiohttp|ckanapi|curl|wget|"
    r"go-http-client|okhttp|java|apache-httpclient|axios|node-fetch|undici|node|"
    r"postmanruntime|insomnia|libwww-perl|php|guzzlehttp|ruby|faraday|libcurl|httr|"
    r"powershell|dart|reqwest|rest-client)/[0-9]", re.IGNORECASE)
# What a crawler says of itself, whatever library it is built on.
_CRAWLER_WORDS = re.compile(r"bot\b|crawl|spider|scrap|slurp|archiver", re.IGNORECASE)
RECENT_DAYS = 14  # views_recent, as CKAN's tracking sorts "popular"


@functools.lru_cache(maxsize=4096)
def is_bot(user_agent: str) -> bool:
    """A crawler, scraper, headless browser or script by its User-Agent (CrawlerDetect); none
    given counts as one (every browser sends one)."""
    agent = (user_agent or "").strip()
    return not agent or _DETECTOR.isCrawler(agent)


def is_visitor(user_agent: str) -> bool:
    """A person's browser: every one names itself ``Mozilla/5.0 (…)`` (desktop, phone, WeChat's
    and the other in-app browsers), and is no crawler."""
    agent = (user_agent or "").strip()
    return agent.startswith("Mozilla/") and not is_bot(agent)


def is_api_crawler(user_agent: str) -> bool:
    """A web crawler calling the API (not a program using an HTTP library, named with its
    version, that says nothing of crawling)."""
    agent = (user_agent or "").strip()
    if not agent:
        return False
    if _CRAWLER_WORDS.search(agent):
        return True
    return not _HTTP_LIBRARY.match(agent) and is_bot(agent)


_DETECTOR = CrawlerDetect()


# -- counting API calls ---------------------------------------------------------------------------

def _redis() -> Any:
    from ckan.lib.redis import connect_to_redis

    return connect_to_redis()


def key_prefix() -> str:
    return f"yantai:{tk.config.get('ckan.site_id') or 'ckan'}:usage:"


def _key(day: dt.date) -> str:
    return key_prefix() + day.isoformat()


def _subject_of(action: str, data_dict: dict[str, Any], result: Any) -> str | None:
    """What an action answered about: ``p:<dataset id>`` or ``r:<resource id or alias>``."""
    if not isinstance(result, dict):
        return None
    if action == "package_show":
        ref = result.get("id")
        return f"p:{ref}" if isinstance(ref, str) else None
    if action == "resource_show":
        ref = result.get("package_id")
        return f"p:{ref}" if isinstance(ref, str) else None
    ref = result.get("resource_id") if action == "datastore_search" else (
        data_dict.get("id") or data_dict.get("resource_id"))
    return f"r:{ref}" if isinstance(ref, str) and _REF.match(ref) else None


def _counting(action: str) -> Any:
    """A chained action that notes, for the API request that called it, what it answered about
    (the answer's own ids, not what the request said: those may name anything)."""
    @tk.chained_action
    @tk.side_effect_free
    def counted(next_action: Any, context: Any, data_dict: Any) -> Any:
        result = next_action(context, data_dict)
        try:
            own = ((request.endpoint or "").startswith("api.action")
                   or request.endpoint == "yantai_federation.action") and (
                (request.view_args or {}).get("logic_function") == action)
        except RuntimeError:  # no request: a command or a job
            return result
        if own and not g.get("yantai_usage_subject"):
            g.yantai_usage_subject = _subject_of(action, data_dict or {}, result)
        return result

    counted.__name__ = action
    return counted


COUNTED_ACTIONS = ("package_show", "resource_show", "datastore_search", "datastore_info")


def chained_actions() -> dict[str, Any]:
    return {name: _counting(name) for name in COUNTED_ACTIONS}


def api_subject(response: Response) -> str | None:
    """What a successful API answer was about, if one dataset or resource."""
    if response.status_code != 200:
        return None
    if request.endpoint == _DCAT_DATASET:
        ref = str((request.view_args or {}).get("_id") or "")
        return f"p:{ref}" if _REF.match(ref) else None
    return g.get("yantai_usage_subject")


def count_request(response: Response, quota_class: str | None) -> None:
    """After an answer: add an API call to the day's counters (of its dataset when it answered
    about one, of the user when logged in). Never fails the request."""
    if quota_class is None or request.method == "OPTIONS":
        return
    agent = request.headers.get("User-Agent", "")
    if is_api_crawler(agent):
        return
    fields: list[str] = []
    user = tk.current_user
    signed_in = user is not None and user.is_authenticated
    # The portal's operators (sysadmins: loaders, maintenance scripts) are no use of the data.
    operator = signed_in and bool(getattr(user, "sysadmin", False))
    subject = None if operator else api_subject(response)
    if subject:
        fields.append(subject)
    if signed_in and user is not None:
        fields.append(f"u:{user.id}")
    if not fields:
        return
    key = _key(dt.date.today())
    try:
        pipe = _redis().pipeline(transaction=False)
        for name in fields:
            pipe.hincrby(key, name, 1)
        pipe.expire(key, KEEP_DAYS * 86400)
        pipe.execute()
    except Exception:  # noqa: BLE001 (Redis away: the call is served, not counted)
        log.warning("usage: Redis not reachable, API call not counted", exc_info=True)


def after_request(response: Response) -> Response:
    from ckanext.yantai import quotas

    count_request(response, quotas.quota_class())
    return response


def user_calls(user_id: str, today: dt.date | None = None) -> dict[str, int]:
    """A user's API calls today and this month (from the day counters; None-safe)."""
    today = today or dt.date.today()
    days = [today.replace(day=d) for d in range(1, today.day + 1)]
    try:
        pipe = _redis().pipeline(transaction=False)
        for day in days:
            pipe.hget(_key(day), f"u:{user_id}")
        values = [int(v or 0) for v in pipe.execute()]
    except Exception:  # noqa: BLE001
        log.warning("usage: Redis not reachable, no call counts", exc_info=True)
        return {"today": 0, "month": 0, "available": 0}
    return {"today": values[-1], "month": sum(values), "available": 1}


# -- rolling up -----------------------------------------------------------------------------------

_UPSERT = sa.text("""
    INSERT INTO yantai_usage_daily (day, package_id, views, downloads, api_calls)
    SELECT :day, id, 0, 0, 0 FROM package WHERE id = ANY(:ids)
    ON CONFLICT (day, package_id) DO NOTHING""")

_VIEWS = sa.text("""
    SELECT p.id, count(DISTINCT t.user_key)
    FROM tracking_raw t JOIN package p ON t.url = '/dataset/' || p.name
    WHERE t.tracking_type = 'page' AND t.access_timestamp >= :start
      AND t.access_timestamp < :end
    GROUP BY p.id""")

# A download is recorded by the resource's URL: an upload's download route names the resource;
# a link is its URL (a link two resources share counts for both datasets).
_DOWNLOADS = sa.text("""
    WITH d AS (SELECT DISTINCT url, user_key FROM tracking_raw
               WHERE tracking_type = 'resource' AND access_timestamp >= :start
                 AND access_timestamp < :end),
    hit AS (
      SELECT r.package_id, d.url, d.user_key FROM d JOIN resource r
        ON r.id = substring(d.url from '/resource/([0-9a-f-]{36})/download')
      UNION
      SELECT r.package_id, d.url, d.user_key FROM d JOIN resource r ON r.url = d.url
        WHERE r.state = 'active')
    SELECT package_id, count(*) FROM hit GROUP BY package_id""")


@dataclass
class RollUp:
    days: list[dt.date] = field(default_factory=list)
    changed: set[str] = field(default_factory=set)  # datasets whose totals changed


def _first_day() -> dt.date:
    """Two days before the last summed day (late views and calls), else the first recorded
    view or the oldest day Redis may still hold, whichever is earlier."""
    last = model.Session.execute(sa.text("SELECT max(day) FROM yantai_usage_daily")).scalar()
    oldest = dt.date.today() - dt.timedelta(days=KEEP_DAYS)
    if last is not None:
        start = last - dt.timedelta(days=2)
        if start >= oldest:
            return start
        # Summed long ago (or only imported): Redis has nothing older than KEEP_DAYS, so from
        # there on, or from the first view recorded since, whichever is earlier.
        first = model.Session.execute(sa.text(
            "SELECT min(access_timestamp) FROM tracking_raw WHERE access_timestamp >= :start"),
            {"start": dt.datetime.combine(start, dt.time())}).scalar()
        return min(oldest, first.date()) if first is not None else oldest
    first = model.Session.execute(sa.text("SELECT min(access_timestamp) FROM tracking_raw")
                                  ).scalar()
    return min(first.date(), oldest) if first is not None else oldest


def _api_counts(day: dt.date) -> dict[str, int] | None:
    """API calls per dataset id on ``day`` from its Redis hash; None when Redis has none."""
    try:
        raw = _redis().hgetall(_key(day))
    except Exception:  # noqa: BLE001
        log.warning("usage: Redis not reachable, API calls of %s not summed", day, exc_info=True)
        return None
    if not raw:
        return None
    by_ref: dict[str, dict[str, int]] = {"p": {}, "r": {}}
    for key, value in raw.items():
        field_name = key.decode() if isinstance(key, bytes) else str(key)
        kind, _, ref = field_name.partition(":")
        if kind in by_ref:
            by_ref[kind][ref] = int(value)
    counts: dict[str, int] = defaultdict(int)
    if by_ref["p"]:
        for pkg_id, name in model.Session.query(model.Package.id, model.Package.name).filter(
                sa.or_(model.Package.id.in_(by_ref["p"]), model.Package.name.in_(by_ref["p"]))):
            counts[pkg_id] += by_ref["p"].get(pkg_id, 0) + (
                by_ref["p"].get(name, 0) if name != pkg_id else 0)
    if by_ref["r"]:
        for res_id, pkg_id in model.Session.query(model.Resource.id, model.Resource.package_id
                                                  ).filter(model.Resource.id.in_(by_ref["r"])):
            counts[pkg_id] += by_ref["r"][res_id]
    return dict(counts)


def _counts(query: Any, window: dict[str, Any]) -> dict[str, int]:
    return {str(r[0]): int(r[1]) for r in model.Session.execute(query, window)}


def _totals(ids: Iterable[str]) -> dict[str, tuple[int, int, int]]:
    ids = list(ids)
    if not ids:
        return {}
    rows = model.Session.execute(sa.text(
        "SELECT package_id, sum(views), sum(downloads), sum(api_calls) FROM yantai_usage_daily "
        "WHERE package_id = ANY(:ids) GROUP BY package_id"), {"ids": ids})
    return {r[0]: (int(r[1]), int(r[2]), int(r[3])) for r in rows}


def roll_up(since: dt.date | None = None, reindex: bool = True) -> RollUp:
    """Sum the days from ``since`` (default: see ``_first_day``) to today into
    ``yantai_usage_daily``; re-index the datasets whose totals changed."""
    today = dt.date.today()
    day = max(since or _first_day(), dt.date(2000, 1, 1))
    result = RollUp()
    while day <= today:
        window = {"start": dt.datetime.combine(day, dt.time()),
                  "end": dt.datetime.combine(day + dt.timedelta(days=1), dt.time())}
        # A day with nothing recorded (before counting began, or its rows pruned) keeps what
        # it has: figures imported from an earlier system, or summed before.
        recorded = model.Session.execute(sa.text(
            "SELECT 1 FROM tracking_raw WHERE access_timestamp >= :start "
            "AND access_timestamp < :end LIMIT 1"), window).first() is not None
        views = _counts(_VIEWS, window) if recorded else None
        downloads = _counts(_DOWNLOADS, window) if recorded else None
        calls = _api_counts(day)
        before: dict[str, tuple[int, int, int]] = {
            str(r[0]): (int(r[1]), int(r[2]), int(r[3])) for r in model.Session.execute(sa.text(
            "SELECT package_id, views, downloads, api_calls FROM yantai_usage_daily "
            "WHERE day = :day"), {"day": day})}
        ids = set(views or {}) | set(downloads or {}) | set(calls or {}) | set(before)
        if ids:
            model.Session.execute(_UPSERT, {"day": day, "ids": list(ids)})
            for pkg_id in ids:
                old = before.get(pkg_id, (0, 0, 0))
                new = (old[0] if views is None else views.get(pkg_id, 0),
                       old[1] if downloads is None else downloads.get(pkg_id, 0),
                       old[2] if calls is None else calls.get(pkg_id, 0))
                if new != old:
                    model.Session.execute(sa.text(
                        "UPDATE yantai_usage_daily SET views = :v, downloads = :d, "
                        "api_calls = :a WHERE day = :day AND package_id = :id"),
                        {"v": new[0], "d": new[1], "a": new[2], "day": day, "id": pkg_id})
                    result.changed.add(pkg_id)
            model.Session.execute(sa.text(
                "DELETE FROM yantai_usage_daily WHERE day = :day AND views = 0 "
                "AND downloads = 0 AND api_calls = 0"), {"day": day})
        model.Session.commit()
        result.days.append(day)
        day += dt.timedelta(days=1)
    if reindex and result.changed:
        from ckan.lib.search import rebuild

        for pkg_id in sorted(result.changed):
            rebuild(pkg_id)  # a dataset's rows go with it (ON DELETE CASCADE)
    return result


def index_fields(package_id: str) -> dict[str, int]:
    """The counts search sorts by: totals, and views of the last ``RECENT_DAYS`` days."""
    row = model.Session.execute(sa.text("""
        SELECT coalesce(sum(views), 0), coalesce(sum(downloads), 0),
               coalesce(sum(api_calls), 0),
               coalesce(sum(views) FILTER (WHERE day > :recent), 0)
        FROM yantai_usage_daily WHERE package_id = :id"""), {
        "id": package_id, "recent": dt.date.today() - dt.timedelta(days=RECENT_DAYS)}).one()
    return {"views_total": int(row[0]), "downloads_total": int(row[1]),
            "api_calls_total": int(row[2]), "views_recent": int(row[3])}


# -- reading --------------------------------------------------------------------------------------

@dataclass
class Figures:
    views: int = 0
    downloads: int = 0
    api_calls: int = 0

    def add(self, other: Figures) -> None:
        self.views += other.views
        self.downloads += other.downloads
        self.api_calls += other.api_calls

    def as_dict(self) -> dict[str, int]:
        return {"views": self.views, "downloads": self.downloads, "api_calls": self.api_calls}


def month_of(value: Any, today: dt.date | None = None) -> dt.date | None:
    """The first day of a month given as ``YYYY-MM`` (None when not one, or in the future);
    this month when not given."""
    today = today or dt.date.today()
    if value in (None, ""):
        return today.replace(day=1)
    if not isinstance(value, str):
        return None
    match = re.fullmatch(r"\s*([0-9]{4})-([0-9]{1,2})\s*", unicodedata.normalize("NFKC", value))
    if match is None or not 2000 <= int(match.group(1)) <= today.year \
            or not 1 <= int(match.group(2)) <= 12:
        return None
    month = dt.date(int(match.group(1)), int(match.group(2)), 1)
    return month if month <= today else None


def month_end(month: dt.date) -> dt.date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def _per_package(start: dt.date, end: dt.date) -> dict[str, Figures]:
    rows = model.Session.execute(sa.text(
        "SELECT package_id, sum(views), sum(downloads), sum(api_calls) FROM yantai_usage_daily "
        "WHERE day BETWEEN :start AND :end GROUP BY package_id"), {"start": start, "end": end})
    return {r[0]: Figures(int(r[1]), int(r[2]), int(r[3])) for r in rows}


def _packages(ids: Iterable[str]) -> dict[str, model.Package]:
    ids = list(ids)
    if not ids:
        return {}
    # the extras (tiers, domains) with them: two queries for any number of datasets
    return {p.id: p for p in model.Session.query(model.Package).options(
        selectinload(model.Package._extras)).filter(  # pyright: ignore[reportPrivateUsage]
        model.Package.id.in_(ids))}


def _public(packages: dict[str, model.Package]) -> dict[str, model.Package]:
    """The datasets an anonymous visitor may find now."""
    return {i: p for i, p in packages.items()
            if p.type == "dataset" and p.state == "active" and not p.private
            and access.may_see(tiers.ANONYMOUS, p)}


def dataset_figures(package_id: str) -> dict[str, Any]:
    """A dataset's totals and this month's figures (its page)."""
    month = dt.date.today().replace(day=1)
    total = _totals([package_id]).get(package_id, (0, 0, 0))
    this = _per_package(month, month_end(month)).get(package_id, Figures())
    return {"total": Figures(*total).as_dict(), "month": this.as_dict()}


def _domain_labels() -> dict[str, str]:
    return {t.value: t.zh for t in vocabularies.DOMAINS}


def report(month: dt.date, organization: model.Group | None = None,
           public: bool = True, months: int = 12) -> dict[str, Any]:
    """The figures of a month: totals, per department, per domain, the datasets (most viewed
    first), and the trend of the ``months`` months up to it. ``public``: only datasets an
    anonymous visitor may find; ``organization``: only its datasets."""
    end = month_end(month)
    back = month.year * 12 + month.month - 1 - (months - 1)
    start = dt.date(back // 12, back % 12 + 1, 1)
    rows = model.Session.execute(sa.text("""
        SELECT date_trunc('month', day)::date, package_id, sum(views), sum(downloads),
               sum(api_calls)
        FROM yantai_usage_daily WHERE day BETWEEN :start AND :end
        GROUP BY 1, 2"""), {"start": start, "end": end}).fetchall()
    packages = _packages({r[1] for r in rows})
    if public:
        packages = _public(packages)
    if organization is not None:
        packages = {i: p for i, p in packages.items() if p.owner_org == organization.id}
    trend: dict[dt.date, Figures] = {}
    current: dict[str, Figures] = {}
    for first, pkg_id, views, downloads, calls in rows:
        if pkg_id not in packages:
            continue
        figures = Figures(int(views), int(downloads), int(calls))
        trend.setdefault(first, Figures()).add(figures)
        if first == month:
            current[pkg_id] = figures
    orgs = {g.id: g for g in model.Session.query(model.Group).filter(
        model.Group.id.in_({p.owner_org for p in packages.values() if p.owner_org}))}
    labels = _domain_labels()
    by_org: dict[str, Figures] = defaultdict(Figures)
    by_domain: dict[str, Figures] = defaultdict(Figures)
    total = Figures()
    datasets = []
    for pkg_id, figures in current.items():
        pkg = packages[pkg_id]
        total.add(figures)
        if pkg.owner_org:
            by_org[pkg.owner_org].add(figures)
        pkg_domains = [d for d in domains.parse_domains(pkg.extras.get("domain"))
                       if d in labels]
        for code in pkg_domains:
            by_domain[code].add(figures)
        org = orgs.get(pkg.owner_org or "")
        datasets.append({"name": pkg.name, "title": pkg.title or pkg.name,
                         "organization": org.name if org else None,
                         "organization_title": (org.title or org.name) if org else None,
                         "domains": [labels[d] for d in pkg_domains], **figures.as_dict()})
    datasets.sort(key=lambda d: (-d["views"], -d["downloads"], -d["api_calls"], d["name"]))
    months_list = []
    cursor = start
    while cursor <= month:
        months_list.append({"month": cursor.strftime("%Y-%m"),
                            **trend.get(cursor, Figures()).as_dict()})
        cursor = (cursor + dt.timedelta(days=32)).replace(day=1)
    return {
        "month": month.strftime("%Y-%m"),
        "total": total.as_dict(),
        "departments": sorted(
            ({"name": orgs[i].name, "title": orgs[i].title or orgs[i].name, **f.as_dict()}
             for i, f in by_org.items() if i in orgs),
            key=lambda d: (-d["views"] - d["downloads"] - d["api_calls"], d["name"])),
        "domains": sorted(({"name": code, "title": labels[code], **f.as_dict()}
                           for code, f in by_domain.items()),
                          key=lambda d: (-d["views"] - d["downloads"] - d["api_calls"],
                                         d["name"])),
        "datasets": datasets,
        "trend": months_list,
    }


def totals() -> dict[str, int]:
    """Views and downloads of the datasets the public may find, since counting began."""
    rows = model.Session.execute(sa.text(
        "SELECT package_id, sum(views), sum(downloads) FROM yantai_usage_daily "
        "GROUP BY package_id")).fetchall()
    public = _public(_packages(r[0] for r in rows))
    return {"views": sum(int(r[1]) for r in rows if r[0] in public),
            "downloads": sum(int(r[2]) for r in rows if r[0] in public)}


# -- the open dataset -----------------------------------------------------------------------------

CSV_COLUMNS = ("统计月份", "数据集标识", "数据集名称", "提供部门", "数据领域", "浏览次数",
               "下载次数", "API调用次数")


def _cell(text: str) -> str:
    """A text a spreadsheet shows as text: one that begins like a formula gets a leading '."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def month_csv(month: dt.date) -> bytes:
    """The month's figures per public dataset as CSV (UTF-8 with BOM, as spreadsheets here
    expect), most viewed first."""
    figures = report(month, months=1)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in figures["datasets"]:
        writer.writerow([figures["month"], row["name"], _cell(row["title"]),
                         _cell(row["organization_title"] or ""), "、".join(row["domains"]),
                         row["views"], row["downloads"], row["api_calls"]])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


DATASET_NAME = "portal-usage-statistics"
# The catalogue entry of the statistics as a dataset of the data authority's department.
_DATASET = {
    "name": DATASET_NAME,
    "title": "烟台市公共数据开放网数据使用情况统计",
    "notes": ("按月统计烟台市公共数据开放网各开放数据集的浏览次数、下载次数和API调用次数，"
              "并注明提供部门和数据领域。每个自然月结束后发布上月统计表（CSV）。"
              "统计不含搜索引擎等网络爬虫的访问，不记录访问者的IP地址等个人信息；"
              "同一访问者一天内多次浏览同一数据集计为一次。"),
    "tags": [{"name": "数据开放"}, {"name": "使用统计"}, {"name": "数字政府"}],
    "resource_category": "2-08-009",
    "resource_code": "2-08-009/0001",
    "domain": ["science"],
    "region": "370600",
    "update_cycle": "monthly",
    "open_type": "open",
    "share_type": "unconditional",
    "share_method": "file",
    "info_items": [{"name": name, "data_type": "number" if name.endswith("次数") else "string"}
                   for name in CSV_COLUMNS],
}


def _site_context() -> Context:
    site_user = tk.get_action("get_site_user")({"ignore_auth": True}, {})
    return cast(Context, {"user": site_user["name"], "ignore_auth": True})


def publish(month: dt.date) -> str:
    """Publish (or refresh) the month's CSV as a resource of the statistics dataset, creating the
    dataset in the data authority's department the first time: "created", "updated",
    "unchanged", or why not."""
    from werkzeug.datastructures import FileStorage

    from ckanext.yantai import config

    org = model.Group.get(config.access_authority_org())
    if org is None or not org.is_organization or org.state != "active":
        return f"not published: no department {config.access_authority_org()}"
    content = month_csv(month)
    label = f"{month.year}年{month.month}月数据使用统计"
    context = _site_context()
    pkg = model.Package.get(DATASET_NAME)
    if pkg is None or pkg.state != "active":
        dataset = {**_DATASET, "owner_org": org.id,
                   "contact_office": org.title,
                   "contact_phone": org.extras.get("phone") or config.portal_contact() or "",
                   "release_date": dt.date.today().isoformat(), "resources": []}
        if pkg is not None:
            tk.get_action("dataset_purge")(context.copy(), {"id": pkg.id})
        pkg_dict = tk.get_action("package_create")(context.copy(), dataset)
    else:
        pkg_dict = tk.get_action("package_show")(context.copy(), {"id": pkg.id})
    existing = next((r for r in pkg_dict.get("resources") or [] if r.get("name") == label), None)
    upload = FileStorage(io.BytesIO(content), filename=f"usage-{month:%Y-%m}.csv",
                         content_type="text/csv")
    resource = {"name": label, "format": "CSV", "upload": upload,
                "description": (f"{month.year}年{month.month}月"
                                "各开放数据集的浏览、下载和API调用次数。"),
                "hash": hashlib.sha256(content).hexdigest()}
    if existing is not None:
        if existing.get("hash") == resource["hash"]:
            return "unchanged"
        tk.get_action("resource_patch")(context.copy(), {"id": existing["id"], **resource})
        return "updated"
    tk.get_action("resource_create")(context.copy(), {"package_id": pkg_dict["id"], **resource})
    return "created"


def publish_due(today: dt.date | None = None) -> dict[str, str]:
    """The CSVs of every ended month since counting began, published or brought up to date
    (a dataset no longer public leaves them; late roll-ups change them)."""
    today = today or dt.date.today()
    first = model.Session.execute(sa.text("SELECT min(day) FROM yantai_usage_daily")).scalar()
    if first is None:
        return {}
    last_ended = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    outcome: dict[str, str] = {}
    month = first.replace(day=1)
    while month <= last_ended:
        # every month again (unchanged ones stay as they are): a dataset closed since, or
        # figures summed late, change a month already published
        try:
            outcome[month.strftime("%Y-%m")] = publish(month)
        except tk.ValidationError as error:
            model.Session.rollback()
            outcome[month.strftime("%Y-%m")] = f"not published: {error.error_summary}"
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return outcome


# -- the action -----------------------------------------------------------------------------------

def statistics(context: Any, data: dict[str, Any]) -> dict[str, Any]:
    """``yantai_usage_statistics``: see its docstring."""
    from ckanext.yantai.messages import message

    viewer = access.viewer_for(context.get("auth_user_obj") or context.get("user"))
    errors: dict[str, list[str]] = {}
    month = month_of(data.get("month"))
    if month is None:
        errors["month"] = [message("usage_month")]
    org: model.Group | None = None
    ref = data.get("organization")
    if ref not in (None, ""):
        org = model.Group.get(ref.strip()) if isinstance(ref, str) else None
        if org is None or not org.is_organization or org.state != "active":
            errors["organization"] = [message("data_request_department")]
    pkg: model.Package | None = None
    ref = data.get("dataset")
    if ref not in (None, ""):
        pkg = model.Package.get(ref.strip()) if isinstance(ref, str) else None
        if pkg is None or pkg.type != "dataset" or not access.may_see(viewer, pkg):
            errors["dataset"] = [message("data_request_dataset")]
    if errors:
        raise tk.ValidationError(cast(ErrorDict, errors))
    if pkg is not None:
        return dataset_figures(pkg.id)
    assert month is not None
    own = org is not None and tiers.sees_department_usage(viewer, org.id)
    return {**report(month, organization=org, public=not own),
            "scope": "department" if own else "public"}


def import_rows(rows: Any) -> int:
    """``yantai_usage_import``: set the figures of past days (from an earlier portal's
    statistics); each row ``{"day", "dataset", "views", "downloads", "api_calls"}``."""
    from ckanext.yantai import params
    from ckanext.yantai.messages import message

    if not isinstance(rows, list) or not rows or len(rows) > 10000:
        raise tk.ValidationError(cast(ErrorDict, {"rows": [message("usage_rows")]}))
    today = dt.date.today()
    errors: dict[str, list[str]] = {}
    parsed: list[tuple[dt.date, str, int, int, int]] = []
    refs = {r.get("dataset") for r in rows if isinstance(r, dict)
            and isinstance(r.get("dataset"), str)}
    found = {ref: pkg_id for pkg_id, name in model.Session.query(
        model.Package.id, model.Package.name).filter(
        sa.or_(model.Package.id.in_(refs), model.Package.name.in_(refs)))
        for ref in (pkg_id, name)}
    for n, row in enumerate(rows):
        if not isinstance(row, dict):
            errors[f"rows[{n}]"] = [message("usage_rows")]
            continue
        day = params.date(row.get("day"))
        counts = [row.get(k, 0) for k in ("views", "downloads", "api_calls")]
        if day is None or day >= today:
            errors[f"rows[{n}].day"] = [message("usage_day")]
        elif not isinstance(row.get("dataset"), str) or row["dataset"] not in found:
            errors[f"rows[{n}].dataset"] = [message("data_request_dataset")]
        elif not all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 10**9
                     for c in counts):
            errors[f"rows[{n}]"] = [message("usage_count")]
        else:
            parsed.append((day, found[row["dataset"]], *counts))
        if len(errors) >= 20:
            break
    if errors:
        raise tk.ValidationError(cast(ErrorDict, errors))
    for day, pkg_id, views, downloads, calls in parsed:
        model.Session.execute(sa.text("""
            INSERT INTO yantai_usage_daily (day, package_id, views, downloads, api_calls)
            VALUES (:day, :id, :v, :d, :a)
            ON CONFLICT (day, package_id) DO UPDATE
              SET views = :v, downloads = :d, api_calls = :a"""),
            {"day": day, "id": pkg_id, "v": views, "d": downloads, "a": calls})
    model.Session.commit()
    from ckan.lib.search import rebuild

    for pkg_id in sorted({p[1] for p in parsed}):
        rebuild(pkg_id)
    return len(parsed)
