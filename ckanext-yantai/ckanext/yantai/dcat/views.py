"""DCAT on the web: the concept schemes at ``/def/...``, the licence agreements at
``/licence/...``, and ckanext-dcat's catalogue and dataset endpoints with their holes mended.

ckanext-dcat's endpoints answer an unknown format (``/catalog.foo``) with a 500 (a KeyError on
its content-type table), send RDF without a charset (browsers show Turtle's Chinese garbled), and
answer a bad page number with a 409. Its views are wrapped (``install``): an unknown format or
a malformed page is a 404 or 400 in CKAN's way, and the content type says UTF-8.
"""
from __future__ import annotations

import functools
import urllib.parse
from typing import Any

import ckan.plugins.toolkit as tk
from ckanext.dcat import logic as dcat_logic
from ckanext.dcat import utils as dcat_utils
from flask import Blueprint, Response, make_response

from ckanext.yantai.dcat import terms

definitions = Blueprint("yantai_dcat", __name__)

# RDF formats of the /def/ pages: extension → (rdflib format, content type).
RDF_FORMATS = {"ttl": ("turtle", "text/turtle"), "rdf": ("xml", "application/rdf+xml"),
               "xml": ("xml", "application/rdf+xml"), "jsonld": ("json-ld", "application/ld+json"),
               "n3": ("n3", "text/n3")}
SCHEME_OF_PATH = {path: vocabulary for vocabulary, path in terms.SCHEMES.items()}
LICENCES = ("conditional-1.0", "government-1.0")


def _scheme(scheme: str, code: str | None = None, _format: str | None = None) -> Any:
    vocabulary = SCHEME_OF_PATH.get(scheme)
    if vocabulary is None or (code is not None and terms.code_of(
            vocabulary, terms.concept_uri(vocabulary, code)) is None):
        return tk.abort(404, tk._("Not found"))
    negotiated = _format is None
    if _format is None:
        _format = dcat_utils.check_access_header() or "ttl"
    if _format not in RDF_FORMATS:
        return tk.abort(404, tk._("Not found"))
    rdf_format, content_type = RDF_FORMATS[_format]
    body = terms.concept_scheme(vocabulary).serialize(format=rdf_format)
    response = Response(body, content_type=f"{content_type}; charset=utf-8")
    if negotiated:  # the same URL answers Turtle, JSON-LD or RDF/XML: caches must tell them apart
        response.vary.add("Accept")
    return response


def scheme(scheme: str) -> Any:
    name, _, _format = scheme.partition(".")
    return _scheme(name, None, _format or None)


def concept(scheme: str, code: str) -> Any:
    code, _, _format = code.partition(".")
    return _scheme(scheme, code, _format or None)


def index() -> Any:
    schemes = [{"path": path, "uri": str(terms.scheme_uri(vocabulary)),
                "title": terms.SCHEME_TITLES[vocabulary]}
               for vocabulary, path in terms.SCHEMES.items()]
    return tk.render("yantai/dcat/definitions.html", {"schemes": schemes})


def licence(name: str) -> Any:
    if name not in LICENCES:
        return tk.abort(404, tk._("Not found"))
    return tk.render(f"yantai/dcat/licence-{name}.html", {})


definitions.add_url_rule("/def/", view_func=index, endpoint="index")
definitions.add_url_rule("/def/<scheme>", view_func=scheme, endpoint="scheme")
definitions.add_url_rule("/def/<scheme>/<code>", view_func=concept, endpoint="concept")
definitions.add_url_rule("/licence/<name>", view_func=licence, endpoint="licence")


def blueprints() -> list[Blueprint]:
    return [definitions]


# -- ckanext-dcat's endpoints, mended -----------------------------------------------------------

def _mended(view: Any) -> Any:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _format = kwargs.get("_format")
        if _format is not None and _format not in dcat_utils.CONTENT_TYPES:
            return tk.abort(404, tk._("Not found"))
        page = tk.request.args.get("page")
        if page is not None and not (page.isascii() and page.isdigit() and int(page) > 0):
            return tk.abort(400, tk._("Page must be a positive whole number"))
        response = make_response(view(*args, **kwargs))
        if response.mimetype in dcat_utils.CONTENT_TYPES.values():
            response.headers["Content-Type"] = f"{response.mimetype}; charset=utf-8"
        response.vary.add("Accept")  # the same URL answers HTML or RDF
        return response

    return wrapper


def _encoded_pages(original: Any) -> Any:
    """ckanext-dcat's paging links carry the query's parameters as decoded text (a space or a
    quote in ``q`` makes an IRI Turtle cannot write: a 500); here they are URL-encoded."""
    @functools.wraps(original)
    def pagination_info(query: Any, data_dict: Any) -> Any:
        info = original(query, data_dict)
        base = dcat_utils.catalog_uri() + tk.request.path
        params = [(k, v) for k, v in tk.request.args.items(multi=True)
                  if k in ("modified_since", "profiles", "q", "fq")]
        for key in ("current", "first", "last", "next", "previous"):
            url = info.get(key)
            if isinstance(url, str) and "page=" in url:
                page = url.rsplit("page=", 1)[1]
                info[key] = f"{base}?{urllib.parse.urlencode([*params, ('page', page)])}"
        return info

    pagination_info.yantai_encoded = True  # type: ignore[attr-defined]
    return pagination_info


def install(app: Any) -> None:
    if not getattr(dcat_logic._pagination_info, "yantai_encoded", False):
        dcat_logic._pagination_info = _encoded_pages(dcat_logic._pagination_info)
    for endpoint in ("dcat.read_catalog", "dcat.read_dataset", "dcat.read_dataset_series"):
        if endpoint in app.view_functions:
            app.view_functions[endpoint] = _mended(app.view_functions[endpoint])
