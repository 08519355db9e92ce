"""What API clients and harvesters expect of the Action API and DCAT, beyond stock CKAN:

- **errors in CKAN's wrapper**: CKAN answers an unknown action, a body that is not JSON and a GET
  on an action that changes data with a bare JSON string ("Bad request - ..." in English). They
  get ``{"help", "success": false, "error": {"__type", "message"}}`` with a Chinese message, as
  every other error: 400 for an unknown action or bad JSON, 405 (``Allow: POST``) for a GET on
  an action that changes data;
- **conditional requests**: GETs of ``package_show``, ``package_search`` and the DCAT endpoints
  carry an ``ETag`` (of the body, so per caller), ``package_show`` also ``Last-Modified`` (when
  the caller's answer last changed, remembered in Redis);
  ``If-None-Match`` / ``If-Modified-Since`` get a 304 (werkzeug's ``make_conditional``);
- **CORS**: CKAN's own (``ckan.cors.*``: no credentials); the headers a script needs to read
  (ETag, Retry-After, the quota headers) are exposed;
- **compression**: gzip or brotli of text answers (Flask-Compress), in the local stack as
  behind nginx in production; streamed downloads are left alone;
- **unstorable text**: a request whose path, query, form or JSON body holds NUL or a lone
  surrogate (JSON's ``\u0000``, ``\ud800``), which no text column nor UTF-8 can hold, is a 400
  before any view runs (CKAN's own views answered 500 when PostgreSQL refused it). A form-encoded
  API body nested thousands deep (CKAN parses it itself) is a 400 too.
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import re
from typing import Any, cast

import ckan.plugins.toolkit as tk
from flask import Response, abort, make_response, request
from flask_compress import Compress
from werkzeug.exceptions import HTTPException

from ckanext.yantai import config, params
from ckanext.yantai.messages import message

CONDITIONAL_ACTIONS = frozenset({"package_show", "package_search"})
DCAT_ENDPOINTS = frozenset({"dcat.read_catalog", "dcat.read_dataset", "dcat.read_dataset_series",
                            "yantai_dcat.scheme", "yantai_dcat.concept"})
EXPOSED = "ETag, Last-Modified, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, " \
          "X-RateLimit-Reset"
COMPRESSED = ["text/html", "text/css", "text/plain", "text/javascript", "application/javascript",
              "application/json", "text/turtle", "text/n3", "application/ld+json",
              "application/rdf+xml", "image/svg+xml", "application/xml"]


def error_response(status: int, kind: str, text: str, action: str | None = None,
                   headers: dict[str, str] | None = None) -> Response:
    """An error in the Action API's wrapper."""
    body: dict[str, Any] = {"success": False, "error": {"__type": kind, "message": text}}
    if action:
        body["help"] = tk.url_for("api.action", logic_function="help_show", ver=3, name=action,
                                  _external=True)
    response = make_response(json.dumps(body, ensure_ascii=False), status)
    response.headers["Content-Type"] = "application/json;charset=utf-8"
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def wrapped_errors(view: Any) -> Any:
    @functools.wraps(view)
    def action(logic_function: str, *args: Any, **kwargs: Any) -> Any:
        try:
            function = tk.get_action(logic_function)
        except (KeyError, AttributeError):
            return error_response(400, "Bad Request Error",
                                  message("api_unknown_action", name=logic_function[:100]))
        if request.method == "GET" and not getattr(function, "side_effect_free", False):
            return error_response(405, "Method Not Allowed Error",
                                  message("api_post_only", name=logic_function),
                                  logic_function, {"Allow": "POST"})
        try:
            response = make_response(view(logic_function, *args, **kwargs))
        except RecursionError:  # a form-encoded body nested thousands deep (CKAN's json.loads)
            return error_response(400, "Bad Request Error", message("api_bad_json"),
                                  logic_function)
        except HTTPException as error:  # e.g. 415 for a body that is not JSON: an HTML page
            if error.code is None or error.code >= 500:
                raise
            if error.code in (400, 415):
                return error_response(400, "Bad Request Error", message("api_bad_json"),
                                      logic_function)
            return http_error(error)
        if response.status_code == 400 and response.is_json:
            body = response.get_json(silent=True)
            if isinstance(body, str):  # CKAN's bare "Bad request - JSON Error: ..." (English)
                text = message("api_bad_json") if "JSON" in body or request.method == "POST" \
                    else message("api_bad_request")
                return error_response(400, "Bad Request Error", text, logic_function)
        return response

    return action


def refuse_unstorable() -> Response | None:
    """(before_request) NUL or a lone surrogate anywhere in what the request gives: a 400."""
    given: list[Any] = [request.view_args or {}, request.args.to_dict(flat=False),
                        request.form.to_dict(flat=False)]
    if request.is_json:
        given.append(request.get_json(silent=True))  # bad JSON is the view's to answer
    if not params.unstorable(given):
        return None
    if request.path.startswith("/api/") or request.blueprint == "yantai_federation":
        return error_response(400, "Bad Request Error", message("request_unstorable"))
    abort(400, description=message("request_unstorable"))


def http_error(error: HTTPException) -> Response:
    """An HTTP error of the API's paths in the wrapper ("Not Found Error", ...)."""
    code = error.code or 500
    kinds = {404: ("Not Found Error", "api_no_such_path"),
             405: ("Method Not Allowed Error", "api_method"),
             413: ("Request Entity Too Large Error", "api_too_large")}
    kind, key = kinds.get(code, (f"{error.name} Error", "api_http_error"))
    return error_response(code, kind, message(
        key, code=str(code), method=request.method,
        mb=str(tk.config.get("ckan.max_resource_size"))))


def _api_errors(app: Any, code: int) -> None:
    """The error pages of ``code`` (CKAN's HTML) as JSON in the wrapper for the API's paths."""
    page = (app.error_handler_spec.get(None, {}).get(code) or {})
    ckan_handler = next(iter(page.values()), None)

    def handler(error: HTTPException) -> Any:
        if request.path.startswith(("/api/", "/federation/")) or \
                re.match(r"^/[A-Za-z_]+/api/", request.path):
            return http_error(error)
        return ckan_handler(error) if ckan_handler else error

    app.register_error_handler(code, handler)


LAST_MODIFIED_TTL = 30 * 24 * 3600  # how long the portal remembers when an answer last changed


def _last_modified(response: Response, etag: str) -> dt.datetime | None:
    """When this caller's answer to this package_show last changed: the time the portal first
    gave the body it gives now (remembered in Redis per URL and caller, and never the same
    second as the body before). Not the dataset's metadata_modified: the answer also changes
    without it (a caller's access request approved or expired, the department renamed, the
    view counts updated). None for lists (a dataset that leaves a search result changes no date
    of those that stay; the ETag tells) and when Redis cannot be reached."""
    if (request.view_args or {}).get("logic_function") != "package_show":
        return None
    from ckan.lib.redis import connect_to_redis

    user = tk.current_user.id if tk.current_user.is_authenticated else "anonymous"
    digest = hashlib.sha256(f"{user} {request.full_path}".encode()).hexdigest()[:32]
    key = f"{tk.config.get('ckan.site_id')}:yantai:last-modified:{digest}"
    try:
        redis = connect_to_redis()
        stored = redis.get(key)
        known_etag, _, since = (stored.decode() if isinstance(stored, bytes) else "").partition(
            " ")
        if known_etag == etag and since.isdigit():
            seconds = int(since)
        else:
            seconds = max(int(dt.datetime.now(dt.UTC).timestamp()),
                          int(since) + 1 if since.isdigit() else 0)
        redis.set(key, f"{etag} {seconds}", ex=LAST_MODIFIED_TTL)
    except Exception:  # noqa: BLE001 (Redis away: the ETag alone)
        return None
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


_BLANK_NODE = re.compile(rb"N[0-9a-f]{32}")


def _stable_blank_nodes(body: bytes) -> bytes:
    """RDF with its blank-node labels (rdflib: N + a random UUID) numbered by first appearance,
    so that the same graph hashes to the same ETag."""
    seen: dict[bytes, bytes] = {}
    return _BLANK_NODE.sub(lambda m: seen.setdefault(m.group(0), b"b%d" % len(seen)), body)


def conditional(response: Response) -> Response:
    """ETag and Last-Modified on the answers harvesters poll; 304 when the caller has it."""
    endpoint = request.endpoint or ""
    if request.method != "GET" or response.status_code != 200 or response.is_streamed:
        return response
    if endpoint in ("api.action", "yantai_federation.action"):
        if (request.view_args or {}).get("logic_function") not in CONDITIONAL_ACTIONS:
            return response
    elif endpoint not in DCAT_ENDPOINTS or not (response.mimetype or "").startswith(
            ("text/turtle", "text/n3", "application/")):
        return response
    body = response.get_data()
    if endpoint in DCAT_ENDPOINTS:  # rdflib names blank nodes anew on every request
        body = _stable_blank_nodes(body)
    etag = hashlib.sha256(body).hexdigest()[:32]
    response.set_etag(etag)
    if (modified := _last_modified(response, etag)) is not None:
        response.last_modified = modified
    response.vary.add("Authorization")
    return cast(Response, response.make_conditional(request))


def expose_headers(response: Response) -> Response:
    """(CKAN's CORS headers come after this, when the origin is allowed.)"""
    if request.headers.get("Origin"):
        response.headers["Access-Control-Expose-Headers"] = EXPOSED
    return response


def allow_conditional_headers(response: Response) -> Response:
    """(after CKAN's CORS headers) A script on another site may send the headers of a
    conditional request: its preflight allows them besides CKAN's two."""
    allowed = response.headers.get("Access-Control-Allow-Headers")
    if allowed:
        response.headers["Access-Control-Allow-Headers"] = \
            f"{allowed}, If-None-Match, If-Modified-Since"
    return response


def install(app: Any) -> None:
    for endpoint, view in list(app.view_functions.items()):
        if endpoint == "api.action" or endpoint.startswith("api.action"):
            app.view_functions[endpoint] = wrapped_errors(view)
    # Flask runs these last first: conditional requests, then compression (which keeps the
    # ETag apart per encoding and answers 304 itself), then the CORS exposure.
    for code in (404, 405, 413):  # 413: a form field over werkzeug's MAX_FORM_MEMORY_SIZE
        _api_errors(app, code)
    app.before_request(refuse_unstorable)
    app.after_request(expose_headers)
    # Flask runs after_request functions last registered first: first in the list runs last,
    # after CKAN's (which sets the CORS headers).
    app.after_request_funcs.setdefault(None, []).insert(0, allow_conditional_headers)
    if config.compress_responses():
        app.config.update(COMPRESS_MIMETYPES=COMPRESSED, COMPRESS_STREAMS=False,
                          COMPRESS_ALGORITHM=["gzip", "br"], COMPRESS_MIN_SIZE=500)
        Compress(app)
    app.after_request(conditional)
