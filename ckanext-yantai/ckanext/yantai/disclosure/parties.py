"""Who a 双公示 record is about, as the credit lookup finds it (pure).

A market entity (a 法人及非法人组织 or a 个体工商户) is known by its unified social credit code:
its records from every department gather under that code, and its name, in the public form
every channel shows, is found by any fragment. A natural person is never listed or found by
name: the record has no party code, and only its decision document number finds it.

The stage after ``intake``: ``store`` keeps these keys with each record, from which the
database keeps one row per market entity (``yantai_credit_party``, its triggers in the
migration ``credit_parties``).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from ckanext.yantai import codes
from ckanext.yantai.disclosure.privacy import mask
from ckanext.yantai.disclosure.standard import (
    CATEGORY,
    CATEGORY_ORG,
    CATEGORY_SOLE,
    DOC_NUMBER,
    LICENSE_NO,
    NAME,
    USCC,
    term,
)

MARKET_ENTITIES = (CATEGORY_ORG, CATEGORY_SOLE)


class Keys(NamedTuple):
    """``code``: the party's unified social credit code (None for a natural person or a record
    without a well-formed code); ``name``: the party's name as every channel shows it;
    ``search``: that name as searched (``codes.search_text``); ``document``: the decision
    document number as compared (``codes.document_number``), None without one."""

    code: str | None
    name: str
    search: str
    document: str | None


def keys(record_type: str, fields: Mapping[str, str]) -> Keys:
    """The lookup keys of a record (its fields as kept)."""
    name = mask(record_type, {NAME: fields.get(NAME) or "",
                              CATEGORY: fields.get(CATEGORY) or ""}).get(NAME, "").strip()
    code = None
    if term(fields.get(CATEGORY) or "") in MARKET_ENTITIES:
        normalised = codes.normalise_uscc(fields.get(USCC) or "")
        code = normalised if normalised and codes.uscc_error(normalised) is None else None
    document = fields.get(DOC_NUMBER[record_type]) or (
        fields.get(LICENSE_NO) if record_type == "license" else None) or ""
    return Keys(code, name, codes.search_text(name), codes.document_number(document) or None)
