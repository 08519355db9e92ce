"""What the portal adds to CKAN's search: catalogue fields as facets, labelled in the user's
language; bounded parameters; clear answers when a search is refused or Solr is away.

Scheming stores a multiple-choice field as a JSON string; the index gets it as a list so that a
facet counts each value, not each combination.
"""
from __future__ import annotations

import contextlib
import json
from collections import OrderedDict
from typing import Any, cast

import ckan.plugins.toolkit as tk
from ckan.lib.search import common as search_common
from ckan.lib.search import query as solr_query
from ckan.lib.search.common import SearchQueryError
from ckan.types import Action, ChainedAction, Context, DataDict, ErrorDict

from ckanext.yantai import codes, config, domains, quality, search_limits, vocabularies

# Facet field -> vocabulary of its values (None: CKAN's own display names).
FACETS: OrderedDict[str, str | None] = OrderedDict([
    ("domain", "domain"),
    ("organization", None),
    ("region", "region"),
    ("open_type", "open_type"),
    ("share_type", "share_type"),
    ("update_cycle", "update_cycle"),
    ("res_format", None),
    ("record_type", "record_type"),
    ("tags", None),
    ("license_id", None),
    ("quality_issues", "quality_issues"),
])

FACET_TITLES = {
    "domain": "Policy domain", "organization": "Department", "region": "Area",
    "open_type": "Open type", "share_type": "Share type", "update_cycle": "Update cycle",
    "res_format": "Format", "record_type": "Disclosure records", "tags": "Tags",
    "license_id": "Licence", "quality_issues": "Metadata quality",
}


def facet_titles() -> OrderedDict[str, Any]:
    return OrderedDict((name, tk._(FACET_TITLES[name])) for name in FACETS)


def index_fields(pkg_dict: dict[str, Any]) -> dict[str, Any]:
    """Adjust a dataset's Solr document: lists for multi-valued fields, resources' record types."""
    if "domain" in pkg_dict:
        pkg_dict["domain"] = domains.parse_domains(pkg_dict["domain"])
    if "related_resource_codes" in pkg_dict:
        pkg_dict["related_resource_codes"] = domains.parse_domains(
            pkg_dict["related_resource_codes"])
    pkg_dict.pop("info_items", None)  # structured: searchable as text via extras_*, not a facet
    pinyin = codes.pinyin_search_terms(str(pkg_dict.get("title") or ""))
    if pinyin:
        text = pkg_dict.get("text") or []
        pkg_dict["text"] = (text if isinstance(text, list) else [text]) + [" ".join(pinyin)]
    data = json.loads(pkg_dict.get("data_dict") or "{}")
    record_types = sorted({r["record_type"] for r in data.get("resources", [])
                           if r.get("record_type")})
    if record_types:
        pkg_dict["record_type"] = record_types
    return pkg_dict


def _lang() -> str:
    try:
        return tk.h.lang() or "zh_Hans_CN"
    except (RuntimeError, AttributeError, TypeError):
        return config.default_locale()


def label_facets(search_results: dict[str, Any]) -> dict[str, Any]:
    """Give catalogue facet items their label (e.g. open → 无条件开放) as display_name."""
    lang = _lang()
    for name, facet in (search_results.get("search_facets") or {}).items():
        if name == "license_id":  # the register's titles are English: the catalogue's Chinese
            for item in facet.get("items", []):
                item["display_name"] = tk._(item.get("display_name") or item["name"])
            continue
        vocabulary = FACETS.get(name)
        if not vocabulary:
            continue
        for item in facet.get("items", []):
            if vocabulary == "quality_issues":
                item["display_name"] = tk._(quality.ISSUE_LABELS.get(item["name"], item["name"]))
            else:
                item["display_name"] = vocabularies.label(vocabulary, item["name"], lang)
    return search_results


# -- bounds on search parameters (search_limits' rules, applied to every search) -----------------

# Facets other than the catalogue's own: CKAN's defaults, ckanext-harvest's (harvest source
# pages) and those the portal's code asks for (num_resources: the home page adds up resources).
OTHER_FACET_FIELDS = frozenset({"groups", "organization", "tags", "res_format", "license_id",
                                "owner_org", "dataset_type", "quality_score", "frequency",
                                "source_type", "num_resources"})
# Indexed single-valued fields that CKAN's and the portal's pages sort by.
SORT_FIELDS = frozenset({"score", "metadata_modified", "metadata_created", "title_string", "name",
                         "id", "views_recent", "views_total", "quality_score",
                         "downloads_total", "api_calls_total",  # usage.index_fields
                         "view_recent"})  # CKAN's home page sorts by view_recent
QUERY_PARSERS = frozenset({"dismax", "edismax", "lucene"})
# Keys of a package_search that CKAN itself handles before Solr (include_*, extras, ...).
CKAN_KEYS = frozenset({"include_private", "include_drafts", "include_deleted",
                       "use_default_schema", "abort_search", "extras"})
SOLR_ERRORS = ("Search Index Error", "Search Connection Error")  # __type of CKAN's API errors
SEARCH_UNAVAILABLE = ("The search service is temporarily unavailable, so nothing was saved. "
                      "Please try again in a minute.")


class SearchLimitError(tk.ValidationError, SearchQueryError):
    """Search parameters refused before Solr: a ValidationError (structured, per parameter) for
    the Action API and DCAT's pages, a SearchQueryError for CKAN's search pages, which answer 400
    (/dataset) or show a search error (group and organization pages)."""

    def __str__(self) -> str:
        return "; ".join(f"{key}: {' '.join(map(str, msgs))}"
                         for key, msgs in cast("dict[str, list[str]]", self.error_dict).items()
                         if not key.startswith("__"))


def _ckan_refuses(value: str) -> bool:
    """CKAN's own rule for local parameters and magic fields (ckan.lib.search.query, which runs
    it just before Solr and answers with a SearchError): asked here, early, of every value."""
    value = value.strip()
    if solr_query.MAGIC_FIELD_RE.search(value):
        return True
    found = solr_query.QUERY_PARSER_RE.findall(value)
    if not found:
        return False
    if len(found) > 1 or not value.startswith("{!"):
        return True
    try:
        parser = solr_query._get_local_query_parser(value)  # noqa: SLF001 (CKAN's own parser)
    except SearchQueryError:
        return True
    return parser not in config.search_query_parsers()


def _rules() -> search_limits.Rules:
    allowed = config.search_query_parsers()
    return search_limits.Rules(
        known_params=frozenset(solr_query.VALID_SOLR_PARAMETERS) | CKAN_KEYS,
        facet_fields=frozenset(FACETS) | OTHER_FACET_FIELDS,
        sort_fields=SORT_FIELDS, query_parsers=QUERY_PARSERS | allowed,
        local_params=_ckan_refuses)


def refuse(findings: list[search_limits.Finding]) -> None:
    """Raise the findings as one error, each parameter with its messages in the user's language,
    and mark the request so that whichever page or API call caught it answers 400."""
    errors: dict[str, list[str]] = {}
    for key, code, args in findings:
        message = tk._(search_limits.MESSAGES[code])  # some show Solr's braces: format if asked
        errors.setdefault(key, []).append(message.format(**args) if args else message)
    with contextlib.suppress(RuntimeError, AttributeError):  # no request (CLI, jobs)
        tk.g.yantai_search_refused = True
    raise SearchLimitError(cast(ErrorDict, errors))


def bound_search(search_params: dict[str, Any]) -> dict[str, Any]:
    """before_dataset_search: every package_search (API, pages, DCAT, feeds, group pages) goes to
    Solr only within the bounds of ``search_limits``; rows is capped by CKAN's own schema
    (``ckan.search.rows_max``)."""
    findings = search_limits.check(search_params, config.search_limits(), _rules())
    if findings:
        refuse(findings)
    return search_params


@tk.chained_action
@tk.side_effect_free
def package_autocomplete(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    """package_autocomplete queries Solr directly (not through package_search): the same bound on
    q, and its ``limit`` (Solr's rows) within CKAN's rows_max."""
    q = data_dict.get("q")
    findings = search_limits.check({} if q is None else {"q": q}, config.search_limits(),
                                   _rules())
    limit = data_dict.get("limit")
    rows_max = config.search_rows_max()
    try:
        too_many = limit is not None and int(limit) > rows_max
    except (TypeError, ValueError):
        too_many = False  # CKAN's own schema answers that one
    if too_many:
        findings.append(("limit", "too_many_rows", {"limit": rows_max}))
    if findings:
        refuse(findings)
    return next_action(context, data_dict)


def chained_actions() -> dict[str, ChainedAction]:
    return {"package_autocomplete": package_autocomplete}


# -- answers: a refused search is a 400; Solr away is a 503 that says nothing was saved ----------

def _answer(response: Any) -> Any:
    try:
        refused = bool(tk.g.get("yantai_search_refused"))
    except (RuntimeError, AttributeError):
        refused = False
    if refused:
        # CKAN's views answer a refused search as 409 (API, DCAT) or a page with a search error.
        response.status_code = 400
    elif response.status_code == 500 and response.mimetype == "application/json":
        body = response.get_json(silent=True)
        error = body.get("error") if isinstance(body, dict) else None
        error_type = error.get("__type") if isinstance(error, dict) else None
        # CKAN answers a write while Solr is down with a 500 that quotes Solr's address; the
        # write was not committed (the index is updated before the commit). A document that a
        # running Solr refuses stays a 500: a defect, which trying again would not mend.
        solr_error = error_type in SOLR_ERRORS
        if solr_error and not search_common.is_available():
            message = tk._(SEARCH_UNAVAILABLE)
            body["error"] = {"__type": error_type, "message": message,
                             "search": [message]}
            response.set_data(json.dumps(body))
            response.status_code = 503
            response.headers["Retry-After"] = "30"
    return response


def install(app: Any) -> Any:
    """Called from IMiddleware with CKAN's Flask app."""
    app.after_request(_answer)
    return app
