"""Bounds on search parameters, checked before a query reaches Solr.

Solr's cost grows with the query, not with the catalogue: one anonymous ``package_search`` with a
1 MB ``q`` (500,000 terms) ran 21 s and exhausted Solr's heap. Every parameter that ends in Solr
is bounded here, on its NFKC form (so that full-width look-alikes count as what they resemble):
sizes, known fields and directions only, no function queries, no local parameters. Plain rules,
parameters in, findings out; ``search.bound_search`` applies them to every package_search and
``package_autocomplete``, and turns the findings into a ValidationError.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# (parameter, message code, arguments of the message)
Finding = tuple[str, str, dict[str, Any]]

MESSAGES = {
    "not_text": "Must be text",
    "not_list": "Must be a list of texts",
    "too_long": "At most {limit} characters",
    "too_many_terms": "At most {limit} search terms",
    "too_many_filters": "At most {limit} filter terms in all",
    "start_too_large": ("Results beyond the first {limit} cannot be paged to: "
                        "narrow the search instead"),
    "facet_limit": "Between -1 (all values) and {limit}",
    "too_many_facets": "At most {limit} facet fields",
    "unknown_facet": "Not a facet field: {value}",
    "sort_format": ("Sort by known fields, each followed by asc or desc "
                    "(e.g. metadata_modified desc), at most {limit}"),
    "unknown_sort": "Results cannot be sorted by {value}",
    "field_list": "Not a field name: {value}",
    "local_params": ("Solr local parameters ({!…}), magic fields (_query_, _val_) and "
                     "function queries are not allowed"),
    "query_parser": "Not an allowed query parser: {value}",
    "not_allowed": "This search parameter is not allowed",
    "too_many_rows": "At most {limit} results per request",
    "bad_value": "Not a valid value for this parameter",
}


@dataclass(frozen=True)
class Limits:
    q_length: int = 500
    q_terms: int = 100
    fq_length: int = 2000  # fq and every fq_list entry together
    fq_terms: int = 200
    start: int = 100_000
    facet_fields: int = 20
    facet_limit: int = 1000


@dataclass(frozen=True)
class Rules:
    """What the search may name: CKAN's own lists, handed in so this module stays CKAN-free."""

    known_params: frozenset[str]  # keys a package_search may carry to Solr (and CKAN's own)
    facet_fields: frozenset[str]
    sort_fields: frozenset[str]
    query_parsers: frozenset[str]  # defType values
    local_params: Callable[[str], bool]  # CKAN's rule: True when the value is refused


# Dismax clause options: field names with an optional boost; mm and tie as Solr documents them.
_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\*?|\*")
_QF_ITEM = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\^[0-9]{1,3}(\.[0-9]{1,3})?)?")
_MM = re.compile(r"[0-9<>%\- ]{1,40}")
_TIE = re.compile(r"(0(\.[0-9]{1,3})?|1(\.0{1,3})?)")
_WORD = re.compile(r"\w+")
_SORT_PAIR = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s+(asc|desc)", re.IGNORECASE)
_MAX_SORT_KEYS = 3
_MAX_FL = 50
_MAX_QF = 20
# Parameters that only run functions in Solr: nothing a catalogue search needs.
_FUNCTIONS = ("bf", "boost")


def normal(value: str) -> str:
    return unicodedata.normalize("NFKC", value)


def terms(value: str) -> int:
    """Words as Solr's parsers split them (a run of Han characters counts once)."""
    return len(_WORD.findall(normal(value)))


def check(params: Mapping[str, Any], limits: Limits, rules: Rules) -> list[Finding]:
    """Findings for every parameter of a package_search (after CKAN's schema) that is out of
    bounds; none when the search may go to Solr."""
    findings: list[Finding] = []
    for key in params:
        if key not in rules.known_params:
            findings.append((key, "not_allowed", {}))
    findings += _check_q(params.get("q"), limits)
    findings += _check_filters(params.get("fq"), params.get("fq_list"), limits)
    start = params.get("start")
    if isinstance(start, int) and start > limits.start:
        findings.append(("start", "start_too_large", {"limit": limits.start}))
    findings += _check_facets(params, limits, rules)
    findings += _check_sort(params.get("sort"), rules)
    findings += _check_field_lists(params)
    for key in _FUNCTIONS:
        if params.get(key) not in (None, ""):
            findings.append((key, "not_allowed", {}))
    def_type = params.get("defType")
    if def_type is not None and normal(str(def_type)).strip() not in rules.query_parsers:
        findings.append(("defType", "query_parser", {"value": str(def_type)[:40]}))
    wt = params.get("wt")
    if wt is not None and wt != "json":  # CKAN reads Solr's answer as JSON
        findings.append(("wt", "bad_value", {}))
    for key, value in params.items():
        if any(rules.local_params(text) for text in _texts(value)):
            findings.append((key, "local_params", {}))
    return _unique(findings)


def _check_q(q: Any, limits: Limits) -> list[Finding]:
    if q is None:
        return []
    if not isinstance(q, str):
        return [("q", "not_text", {})]
    if len(q) > limits.q_length:  # before anything scans the whole text
        return [("q", "too_long", {"limit": limits.q_length})]
    if terms(q) > limits.q_terms:
        return [("q", "too_many_terms", {"limit": limits.q_terms})]
    return []


def _check_filters(fq: Any, fq_list: Any, limits: Limits) -> list[Finding]:
    findings: list[Finding] = []
    if fq is not None and not isinstance(fq, str):
        findings.append(("fq", "not_text", {}))
        fq = None
    # A string here would reach Solr as one filter per character (CKAN extends a list with it).
    if fq_list is not None and not (isinstance(fq_list, list)
                                    and all(isinstance(f, str) for f in fq_list)):
        findings.append(("fq_list", "not_list", {}))
        fq_list = None
    filters = [f for f in [fq, *(fq_list or [])] if f]
    # Reported under fq_list once that takes the filters past the bound.
    key = "fq_list" if fq_list and len(fq or "") <= limits.fq_length else "fq"
    if sum(len(f) for f in filters) > limits.fq_length:
        findings.append((key, "too_long", {"limit": limits.fq_length}))
    elif sum(terms(f) for f in filters) > limits.fq_terms:
        findings.append((key, "too_many_filters", {"limit": limits.fq_terms}))
    return findings


def _check_facets(params: Mapping[str, Any], limits: Limits, rules: Rules) -> list[Finding]:
    findings: list[Finding] = []
    fields = params.get("facet.field")
    if fields is not None:
        if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
            findings.append(("facet.field", "not_list", {}))
        elif len(fields) > limits.facet_fields:
            findings.append(("facet.field", "too_many_facets", {"limit": limits.facet_fields}))
        else:
            unknown = [f for f in fields if normal(f).strip() not in rules.facet_fields]
            if unknown:
                findings.append(("facet.field", "unknown_facet", {"value": unknown[0][:40]}))
    limit = params.get("facet.limit")
    # -1 (every value) is allowed: Solr counts every value of the field whatever the limit, and
    # the facet fields are the catalogue's own, whose values the catalogue bounds.
    if limit is not None and not (isinstance(limit, int) and -1 <= limit <= limits.facet_limit):
        findings.append(("facet.limit", "facet_limit", {"limit": limits.facet_limit}))
    facet = params.get("facet")
    if facet is not None and str(facet).lower() not in ("true", "false", "on", "off"):
        findings.append(("facet", "bad_value", {}))
    return findings


def _check_sort(sort: Any, rules: Rules) -> list[Finding]:
    if sort in (None, "", "rank"):
        return []
    if not isinstance(sort, str) or len(sort) > 200:
        return [("sort", "sort_format", {"limit": _MAX_SORT_KEYS})]
    keys = [k.strip() for k in normal(sort).split(",")]
    pairs = [_SORT_PAIR.fullmatch(k) for k in keys]
    if len(keys) > _MAX_SORT_KEYS or not all(pairs):
        return [("sort", "sort_format", {"limit": _MAX_SORT_KEYS})]
    unknown = [p[1] for p in pairs if p and p[1] not in rules.sort_fields]
    if unknown:
        return [("sort", "unknown_sort", {"value": unknown[0]})]
    return []


def _check_field_lists(params: Mapping[str, Any]) -> list[Finding]:
    """fl and qf name fields only: no functions, transformers ([child], [subquery]) or globs
    beyond a trailing *."""
    findings: list[Finding] = []
    fl = params.get("fl")
    if fl is not None:
        names = _split(fl)
        bad = [n for n in names or [] if not _FIELD.fullmatch(n)]
        if names is None or len(names) > _MAX_FL:
            findings.append(("fl", "not_list", {}))
        elif bad:
            findings.append(("fl", "field_list", {"value": bad[0][:40]}))
    qf = params.get("qf")
    if qf is not None:
        names = _split(qf)
        if names is None or len(names) > _MAX_QF or not all(_QF_ITEM.fullmatch(n) for n in names):
            findings.append(("qf", "bad_value", {}))
    mm = params.get("mm")
    if mm is not None and not (isinstance(mm, str) and _MM.fullmatch(normal(mm))):
        findings.append(("mm", "bad_value", {}))
    tie = params.get("tie")
    if tie is not None and not _TIE.fullmatch(normal(str(tie))):
        findings.append(("tie", "bad_value", {}))
    return findings


def _split(value: Any) -> list[str] | None:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        return None
    return [n for item in items for n in re.split(r"[\s,]+", normal(item)) if n]


def _texts(value: Any) -> Iterable[str]:
    """Every text in a parameter's value, as given and in NFKC form."""
    items = value if isinstance(value, (list, tuple)) else [value]
    for item in items:
        if isinstance(item, str):
            yield item
            yield normal(item)


def _unique(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[str, str]] = set()
    out = []
    for key, code, args in findings:
        if (key, code) not in seen:
            seen.add((key, code))
            out.append((key, code, args))
    return out
