"""User-facing messages of the catalogue rules, keyed by the error codes of ``codes.py``.

The texts are i18n message ids; the zh_Hans_CN catalogue (i18n/) gives their Chinese, which is what
users see by default, in the UI and in API error responses alike.
"""
from __future__ import annotations

import ckan.plugins.toolkit as tk

MESSAGES = {
    "uscc_length": "A unified social credit code has 18 characters",
    "uscc_characters": "A unified social credit code has digits and capital letters other than I, O, Z, S and V",
    "uscc_checksum": "This unified social credit code fails its check digit (GB 32100-2015)",
    "resource_code_format": "A resource code is the classification code, a slash and a sequence number of 4 to 8 digits, e.g. 2-02-003/0001",
    "resource_code_category": "The resource code must begin with the resource's classification code",
    "resource_code_taken": "Another dataset already has this resource code",
    "category_format": "A classification code is class (1 base, 2 thematic, 3 departmental), item, catalogue and optional sub-catalogue, e.g. 2-02-003",
    "phone_mobile": "Give a department office's phone number, not a mobile phone",
    "phone_format": "This is not a phone number (e.g. 0535-6788888 or 12345)",
    "required_when": "Required when {field} is {value}",
    "required_unless": "Required unless {field} is {value}",
    "classified_marking": "Classification markings (such as 秘密★, 机密 or 绝密) are not allowed: this portal is a non-classified system, and classified data belongs on an isolated network",
    "classified": "This portal is a non-classified system: classified data must not be published here",
    "temporal_order": "The end of the time range is before its start",
    "not_in_vocabulary": "Value must be one of {choices}",
    "info_items_missing": "List at least one information item (the fields of the data)",
    "uscc_org_code": "The organisation code inside this unified social credit code (positions 9-17) fails its check digit (GB 11714)",
    "ric_checksum": "This resident identity number fails its check digit (GB 11643-1999)",
    "ric_format": "A resident identity number has 18 characters (or 15 digits for old numbers) with a valid birth date",
    "required": "Missing value",
    "license_number_required": "Give the licensing decision's document number or the licence number",
    "person_with_org_code": "A natural person has no organisation code: leave the party's codes empty and give the identity document",
    "duplicate_field": "Two columns give different values for this field",
    "date_format": "Not a date (e.g. 2026-03-01)",
    "date_order": "This date is before the date it must follow",
    "decision_in_future": "The decision date is in the future",
    "published_before_decision": "Published before the decision was taken",
    "publicity_too_short": "The publicity period is shorter than the {months} months that {rule} requires",
    "publicity_too_long": "The publicity period is longer than the {months} months that {rule} allows",
    "other_unnamed": "\"其他\" must name the category, e.g. 其他-备案",
    "amount_format": "An amount is a number in 10,000 yuan (万元), e.g. 0.5",
    "amount_unit": "Amounts are in 10,000 yuan (万元), not in yuan: divide by 10,000",
    "amount_negative": "An amount cannot be negative",
    "amount_zero": "A fine needs its amount",
    "provider_code_missing": "Give the provider's unified social credit code (the department has none on record)",
}


def message(code: str, **params: str) -> str:
    return tk._(MESSAGES[code]).format(**params)
