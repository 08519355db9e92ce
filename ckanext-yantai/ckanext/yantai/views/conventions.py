"""What API clients and harvesters expect of the Action API and DCAT, beyond stock CKAN:

- **errors in CKAN's wrapper**: CKAN answers an unknown action, a body that is not JSON and a GET
  on an action that changes data with a bare JSON string ("Bad request - ..." in English). They
  get ``{"help", "success": false, "error": {"__type", "message"}}`` with a Chinese message, as
  every other error: 400 for an unknown action or bad JSON, 405 (``Allow: POST``) for a GET on
  an action that changes data;
- **conditional requests**: GETs of ``package_show``, ``package_search`` and the DCAT endpoints
  carry an ``ETag`` (of the body, so per caller), ``package_show`` also ``Last-Modified``;
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
            return error_response(400 if error.code == 415 else error.code, "Bad Request Error",
                                  message("api_bad_json"), logic_function)
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


def _last_modified(response: Response) -> dt.datetime | None:
    """When the dataset of a package_show last changed (CKAN's times are UTC). Not for lists: a
    dataset that leaves a search result changes no date of those that stay, so a date would
    answer 304 to a harvester that must learn of the withdrawal (the ETag does)."""
    if (request.view_args or {}).get("logic_function") != "package_show":
        return None
    body = response.get_json(silent=True) if response.is_json else None
    result = body.get("result") if isinstance(body, dict) else None
    stamp = result.get("metadata_modified") if isinstance(result, dict) else None
    if not isinstance(stamp, str):
        return None
    try:
        return dt.datetime.fromisoformat(stamp).replace(tzinfo=dt.UTC, microsecond=0)
    except ValueError:
        return None


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
    response.set_etag(hashlib.sha256(body).hexdigest()[:32])
    if (modified := _last_modified(response)) is not None:
        response.last_modified = modified
    response.vary.add("Authorization")
    return cast(Response, response.make_conditional(request))


def expose_headers(response: Response) -> Response:
    """(CKAN's CORS headers come after this, when the origin is allowed.)"""
    if request.headers.get("Origin"):
        response.headers["Access-Control-Expose-Headers"] = EXPOSED
    return response


def install(app: Any) -> None:
    for endpoint, view in list(app.view_functions.items()):
        if endpoint == "api.action" or endpoint.startswith("api.action"):
            app.view_functions[endpoint] = wrapped_errors(view)
    # Flask runs these last first: conditional requests, then compression (which keeps the
    # ETag apart per encoding and answers 304 itself), then the CORS exposure.
    app.before_request(refuse_unstorable)
    app.after_request(expose_headers)
    if config.compress_responses():
        app.config.update(COMPRESS_MIMETYPES=COMPRESSED, COMPRESS_STREAMS=False,
                          COMPRESS_ALGORITHM=["gzip", "br"], COMPRESS_MIN_SIZE=500)
        Compress(app)
    app.after_request(conditional)
