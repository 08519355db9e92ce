"""What the portal adds to CKAN's search: catalogue fields as facets, labelled in the user's language.

Scheming stores a multiple-choice field as a JSON string; the index gets it as a list so that a
facet counts each value, not each combination.
"""
from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any

import ckan.plugins.toolkit as tk

from ckanext.yantai import codes, domains, quality, vocabularies

# Facet field -> vocabulary of its values (None: CKAN's own display names).
FACETS: "OrderedDict[str, str | None]" = OrderedDict([
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


def facet_titles() -> "OrderedDict[str, Any]":
    return OrderedDict((name, tk._(FACET_TITLES[name])) for name in FACETS)


def index_fields(pkg_dict: dict[str, Any]) -> dict[str, Any]:
    """Adjust a dataset's Solr document: lists for multi-valued fields, resources' record types."""
    if "domain" in pkg_dict:
        pkg_dict["domain"] = domains.parse_domains(pkg_dict["domain"])
    if "related_resource_codes" in pkg_dict:
        pkg_dict["related_resource_codes"] = domains.parse_domains(pkg_dict["related_resource_codes"])
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
        return tk.config.get("ckan.locale_default") or "zh_Hans_CN"


def label_facets(search_results: dict[str, Any]) -> dict[str, Any]:
    """Give catalogue facet items their label (e.g. open → 无条件开放) as display_name."""
    lang = _lang()
    for name, facet in (search_results.get("search_facets") or {}).items():
        vocabulary = FACETS.get(name)
        if not vocabulary:
            continue
        for item in facet.get("items", []):
            if vocabulary == "quality_issues":
                item["display_name"] = tk._(quality.ISSUE_LABELS.get(item["name"], item["name"]))
            else:
                item["display_name"] = vocabularies.label(vocabulary, item["name"], lang)
    return search_results
