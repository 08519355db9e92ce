"""Schemas of the API actions' parameters, checked with CKAN's navl validation
(``tk.navl_validate``) before an action does anything with them."""
from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk
from ckan.types import Schema, Validator

from ckanext.yantai import applications, data_requests
from ckanext.yantai.disclosure import lookup, report, standard
from ckanext.yantai.logic.validators import one_of, text_value, whole_number

AUDIT_MAX_LIMIT = 1000


@tk.validator_args
def quality_summary(ignore_missing: Validator, yantai_department_ref: Validator) -> Schema:
    return {"organization": [ignore_missing, yantai_department_ref]}


@tk.validator_args
def audit_log_list(ignore_missing: Validator, ignore_empty: Validator,
                   yantai_iso_datetime: Validator) -> Schema:
    """The page and period of a department's audit log (the department is asked first, by
    the auth function)."""
    return {
        "organization": [ignore_missing],
        "since": [ignore_empty, yantai_iso_datetime],
        "until": [ignore_empty, yantai_iso_datetime],
        "limit": [whole_number(1, tk._("Give a whole number from 1 to {n}").format(
            n=AUDIT_MAX_LIMIT), default=100, at_most=AUDIT_MAX_LIMIT)],
        "offset": [whole_number(0, tk._("Give a whole number, 0 or more"), default=0)],
    }


@tk.validator_args
def compliance_records(ignore_missing: Validator, ignore_empty: Validator,
                       yantai_month: Validator, yantai_yes_no: Validator) -> Schema:
    """The filters and page of a department's 双公示 records (the department is looked up by
    the action, among those the caller follows)."""
    return {
        "organization": [ignore_missing],
        "timeliness": [ignore_empty, one_of(report.TIMELINESS)],
        "late_days": [ignore_empty, one_of(bucket[0] for bucket in report.LATE_BUCKETS)],
        "publish": [ignore_empty, one_of(report.PUBLISH)],
        "error": [ignore_empty, text_value(tk._("Give an error code, e.g. uscc_checksum"))],
        "valid": [ignore_empty, yantai_yes_no],
        "push_status": [ignore_empty, one_of(report.PUSH_STATUSES)],
        "record_type": [ignore_empty, one_of(standard.RECORD_TYPES)],
        "month": [ignore_empty, yantai_month],
        "limit": [whole_number(1, tk._("Give a whole number from 1 to {n}").format(
            n=report.RECORDS_MAX_LIMIT), default=50, at_most=report.RECORDS_MAX_LIMIT)],
        "offset": [whole_number(0, tk._("Give a whole number, 0 or more"), default=0)],
    }


def validated(data_dict: dict[str, Any], schema: Schema, context: Any) -> dict[str, Any]:
    """``data_dict`` checked against ``schema``: the clean values, or a ValidationError with
    every field's errors."""
    data, errors = tk.navl_validate(data_dict, schema, context)
    if errors:
        raise tk.ValidationError(errors)
    return data


@tk.validator_args
def credit_search(ignore_missing: Validator) -> Schema:
    """The text and page of a credit lookup (the text is read by ``lookup.read_query``)."""
    return {
        "q": [ignore_missing],
        "rows": [whole_number(1, tk._("Give a whole number from 1 to {n}").format(
            n=lookup.ROWS_MAX), default=20, at_most=lookup.ROWS_MAX)],
        "start": [whole_number(0, tk._("Give a whole number, 0 or more"), default=0)],
    }


@tk.validator_args
def application_list(ignore_missing: Validator, ignore_empty: Validator,
                     yantai_yes_no: Validator) -> Schema:
    """The filters and page of the list of applications built on the data."""
    return {
        "q": [ignore_empty, text_value(tk._("Give words to search for"))],
        "kind": [ignore_empty, one_of(applications.KINDS)],
        "status": [ignore_empty, one_of(applications.STATUSES)],
        "dataset": [ignore_empty, text_value(tk._("Give the dataset's id or name"))],
        "organization": [ignore_empty, text_value(tk._("Give the department's id or name"))],
        "mine": [ignore_empty, yantai_yes_no],
        "limit": [whole_number(1, tk._("Give a whole number from 1 to {n}").format(
            n=applications.LIST_MAX), default=20, at_most=applications.LIST_MAX)],
        "offset": [ignore_missing, whole_number(0, tk._("Give a whole number, 0 or more"))],
        "page": [ignore_missing, whole_number(1, tk._("Give a whole number, 1 or more"))],
    }


@tk.validator_args
def data_request_list(ignore_missing: Validator, ignore_empty: Validator,
                      yantai_yes_no: Validator) -> Schema:
    """The filters and page of the list of data requests and error reports."""
    return {
        "q": [ignore_empty, text_value(tk._("Give words to search for"))],
        "kind": [ignore_empty, one_of(data_requests.KINDS)],
        "status": [ignore_empty, one_of(data_requests.STATUSES)],
        "organization": [ignore_empty, text_value(tk._("Give the department's id or name"))],
        "following": [ignore_empty, yantai_yes_no],
        "mine": [ignore_empty, yantai_yes_no],
        "limit": [whole_number(1, tk._("Give a whole number from 1 to {n}").format(
            n=data_requests.LIST_MAX), default=20, at_most=data_requests.LIST_MAX)],
        "offset": [whole_number(0, tk._("Give a whole number, 0 or more"), default=0)],
    }
