"""Per-client quotas on the Action API, DCAT and table exports (the ``limits`` library, counted in
Redis so that every web worker and every CKAN node shares one count).

A client is its user when it sends a token or a session, else its address (as the trusted
proxies report it). Each request counts against one class:

- ``sql``: ``datastore_search_sql`` (it runs SQL on the DataStore);
- ``export``: the DataStore dump and the table downloads (whole tables as CSV, XLSX or JSON), and
  a ``datastore_search`` (or a data table page of the previews) asking for more rows than
  ``ckanext.yantai.quota.export_rows``: a table taken a large page at a time is an export;
- ``api``: every other Action API call (also at the federation address), the data tables of the
  previews, and the DCAT endpoints (``/catalog.ttl``, ``/dataset/<id>.<format>``, and
  ``/dataset/<id>`` or ``/`` when the client asks for RDF).

CORS preflights (``OPTIONS``) are not counted: the browser sends them, not the script.

Anonymous callers and users have their own limits (``ckanext.yantai.quota.*``, in the
``limits`` notation, e.g. ``300/minute``). Over a limit the answer is a 429 in the API's error
wrapper with ``Retry-After``; every counted answer carries ``X-RateLimit-Limit``,
``X-RateLimit-Remaining`` and ``X-RateLimit-Reset``. Sysadmins are not counted. If Redis cannot
be reached, requests pass (and the log says so): a quota is not worth an outage.
"""
from __future__ import annotations

import logging
import math
import time
from typing import Any, NamedTuple

import ckan.plugins.toolkit as tk
from flask import Response, g, request
from limits import RateLimitItem, parse, storage, strategies

from ckanext.yantai import config
from ckanext.yantai.messages import message

log = logging.getLogger(__name__)

EXPORT_ENDPOINTS = frozenset({"datastore.dump", "yantai_datastore.download"})
DCAT_ENDPOINTS = frozenset({"dcat.read_catalog", "dcat.read_dataset",
                            "dcat.read_dataset_series"})
API_ENDPOINTS = frozenset({"yantai_federation.action", "datatablesview.ajax"})


class Counted(NamedTuple):
    limit: RateLimitItem
    remaining: int
    reset: int  # epoch seconds


_limiter: strategies.FixedWindowRateLimiter | None = None
_limiter_url: str | None = None


def limiter() -> strategies.FixedWindowRateLimiter:
    global _limiter, _limiter_url
    url = str(tk.config.get("ckan.redis.url"))
    if _limiter is None or _limiter_url != url:
        _limiter = strategies.FixedWindowRateLimiter(storage.storage_from_string(url))
        _limiter_url = url
    return _limiter


def _rows_asked() -> int:
    """The rows a datastore_search (``limit``, query or body) or a data table page
    (``length``) asks for; 0 when it does not say or says something else."""
    given: dict[str, Any] = {**request.args.to_dict(), **request.form.to_dict()}
    if request.is_json:
        body = request.get_json(silent=True)
        if isinstance(body, dict):
            given.update(body)
    value = given.get("limit", given.get("length"))
    try:
        return int(value) if value is not None and not isinstance(value, bool) else 0
    except (TypeError, ValueError, OverflowError):
        return 0


def _asks_for_rdf() -> bool:
    from ckanext.dcat.utils import parse_accept_header

    return bool((request.view_args or {}).get("_format")
                or parse_accept_header(request.headers.get("Accept", "")))


def quota_class() -> str | None:
    """The class of the current request, or None when it is not counted."""
    if request.method == "OPTIONS":
        return None
    endpoint = request.endpoint or ""
    name = (request.view_args or {}).get("logic_function")
    if endpoint.startswith("api.action") or endpoint in API_ENDPOINTS:
        if name == "datastore_search_sql":
            return "sql"
        if (name == "datastore_search" or endpoint == "datatablesview.ajax") \
                and _rows_asked() > config.quota_export_rows():
            return "export"
        return "api"
    if endpoint in EXPORT_ENDPOINTS:
        return "export"
    if endpoint in DCAT_ENDPOINTS and _asks_for_rdf():
        return "api"
    return None


def _client() -> tuple[str, bool] | None:
    """(key, whether a user) of the caller; None for those not counted (sysadmins)."""
    user = tk.current_user
    if user is not None and user.is_authenticated:
        if getattr(user, "sysadmin", False):
            return None
        return f"user:{user.id}", True
    return f"addr:{request.remote_addr or '-'}", False


def check() -> Response | None:
    """Before the view: count the request; a 429 when over the limit."""
    if not config.quotas_enabled():
        return None
    kind = quota_class()
    if kind is None:
        return None
    client = _client()
    if client is None:
        return None
    key, is_user = client
    limit = parse(config.quota(kind, is_user))
    identifiers = (str(tk.config.get("ckan.site_id") or "ckan"), kind, key)
    try:
        allowed = limiter().hit(limit, *identifiers)
        reset, remaining = limiter().get_window_stats(limit, *identifiers)
    except Exception:  # noqa: BLE001 (any storage failure: count nothing, serve)
        log.warning("quotas: Redis not reachable, request not counted", exc_info=True)
        return None
    counted = Counted(limit, remaining, int(math.ceil(reset)))
    g.yantai_quota = counted
    if allowed:
        return None
    from ckanext.yantai.views.conventions import error_response

    wait = max(1, min(limit.get_expiry(), math.ceil(reset - time.time())))
    response = error_response(429, "Rate Limit Error", message(
        "quota_exceeded", limit=str(limit.amount), seconds=str(wait)), headers={
        "Retry-After": str(wait)})
    return add_headers(response)


def add_headers(response: Response) -> Response:
    counted: Counted | None = g.get("yantai_quota")
    if counted is not None:
        response.headers["X-RateLimit-Limit"] = str(counted.limit.amount)
        response.headers["X-RateLimit-Remaining"] = str(counted.remaining)
        response.headers["X-RateLimit-Reset"] = str(counted.reset)
    return response


def install(app: Any) -> None:
    app.before_request(check)  # after CKAN's identify_user (registered first)
    app.after_request(add_headers)




def describe(notation: str) -> str:
    """A quota in the ``limits`` notation (``1200/minute``, ``10 per 2 hours``) in words of the
    reader's language (每分钟 1200 次)."""
    try:
        item = parse(notation)
    except ValueError:
        return notation
    unit = {"second": tk._("second"), "minute": tk._("minute"), "hour": tk._("hour"),
            "day": tk._("day"), "month": tk._("month"), "year": tk._("year")}.get(
        item.GRANULARITY.name, item.GRANULARITY.name)
    if item.multiples == 1:
        return tk._("{amount} per {unit}").format(amount=item.amount, unit=unit)
    return tk._("{amount} per {multiples} {unit}").format(amount=item.amount,
                                                           multiples=item.multiples, unit=unit)
