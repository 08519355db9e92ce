"""双公示 records kept: each record in full in ``yantai_disclosure_record``, with what the rules
(``intake.check_fields``) say about it.

A record sent again (same document number and party, ``intake.record_key``) replaces the stored
one. The portal keeps its own clock: ``first_public_at`` is when a record first went online here,
and timeliness is measured by it, not by what the department claims. A record that leaves the
public (revoked, expired, corrected into an invalid one) keeps its row and audit trail; its
withdrawals delivered to 信用烟台 count its generations (``generation``).

The stages after this one publish the public rows (``publish``) and push them (``push``);
``submission`` runs a department's records through all of them.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import marshal
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, cast

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.types import ErrorDict

from ckanext.yantai import messages, workdays
from ckanext.yantai.disclosure import parties, standard
from ckanext.yantai.disclosure.intake import LONG_TERM, Finding, check_fields, normalise, record_key
from ckanext.yantai.model import CreditPush, DisclosureRecord

log = logging.getLogger(__name__)

WITHDRAW_REASON = {"revoked": "revoked", "expired": "expired",
                   "not_for_publication": "not_for_publication"}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def record_type_of(resource: model.Resource | None) -> str | None:
    if resource is None or resource.state != "active":
        return None
    value = (resource.extras or {}).get("record_type")
    return value if value in standard.RECORD_TYPES else None


def finding_dicts(findings: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Findings with their message (in the request's language; Chinese by default)."""
    out = []
    for f in findings:
        params = dict(f.get("params") or {})
        out.append({"field": f["field"], "code": f["code"],
                    "message": messages.message(f["code"], **params)})
    return out


# -- checking a stored record ---------------------------------------------------------------------

RESULT_COLUMNS = ("valid", "errors", "decision_date", "deadline", "timeliness",
                  "working_days_late", "publish", "publicity_end", "missing_year", "public",
                  "first_public_at", "withdrawn_at")


def outcome(record_type: str, fields: Mapping[str, str], *, first_public_at: dt.datetime | None,
            was_public: bool, withdrawn_at: dt.datetime | None, warnings: Sequence[str],
            intake: Sequence[Finding], now: dt.datetime,
            calendar: workdays.Calendar) -> dict[str, Any]:
    """The stored columns that the rules decide for a record (pure; see ``evaluate``)."""
    result = check_fields(record_type, fields, now=now, calendar=calendar,
                          published_at=first_public_at, findings=intake,
                          warnings=warnings)
    if first_public_at is None and result.valid and result.publish == "allowed":
        first_public_at = now  # it goes online now: the portal's clock starts
        result = check_fields(record_type, fields, now=now, calendar=calendar,
                              published_at=now, findings=intake, warnings=warnings)
    public = result.valid and result.publish == "allowed"
    if public:
        withdrawn_at = None
    elif was_public:
        withdrawn_at = now
    columns = {
        "valid": result.valid, "errors": [f.as_dict() for f in result.findings],
        "decision_date": result.decision_date, "deadline": result.deadline,
        "timeliness": result.timeliness, "working_days_late": result.working_days_late,
        "publish": result.publish,
        "publicity_end": None if result.publicity_end == LONG_TERM
        else result.publicity_end,
        "missing_year": result.missing_year, "public": public,
        "first_public_at": first_public_at, "withdrawn_at": withdrawn_at,
    }
    columns["result_digest"] = digest(columns)
    return columns


def digest(columns: Mapping[str, Any]) -> int:
    """A signed 64-bit digest of the result columns: equal digests, equal results."""
    c = columns
    first, withdrawn = c["first_public_at"], c["withdrawn_at"]
    # dates by ordinal and timestamps by their instant (a value read back may carry another
    # zone object), serialised by marshal's version 2, which writes no back-references and so
    # gives the same bytes for equal values in any process; written out for speed, the
    # recheck computes a million of these
    data = (c["valid"], c["public"], c["timeliness"], c["publish"], c["working_days_late"],
            _ordinal(c["decision_date"]), _ordinal(c["deadline"]),
            _ordinal(c["publicity_end"]), c["missing_year"],
            first.timestamp() if first else None, withdrawn.timestamp() if withdrawn else None,
            c["errors"])
    return int.from_bytes(hashlib.blake2b(marshal.dumps(data, 2), digest_size=8).digest(),
                          "big", signed=True)


def _ordinal(day: dt.date | None) -> int | None:
    return day.toordinal() if day is not None else None


def evaluate(row: DisclosureRecord, calendar: workdays.Calendar, now: dt.datetime,
             intake: Sequence[Finding] = ()) -> bool:
    """Apply the rules to a stored record; start the portal's clock when it goes online.

    Args:
        row: The record (fields already under the standard's names).
        calendar: The working days.
        now: The present moment (aware).
        intake: Findings about the columns the record came with (kept from its arrival).

    Returns:
        Whether the record's public state changed (it went online or left).
    """
    was_public = bool(row.public)
    columns = outcome(row.record_type, row.fields, first_public_at=row.first_public_at,
                      was_public=was_public, withdrawn_at=row.withdrawn_at,
                      warnings=row.warnings or (), intake=intake, now=now, calendar=calendar)
    for name, value in columns.items():
        setattr(row, name, value)
    row.checked_at = now
    return was_public != row.public


def intake_findings(errors: Iterable[Mapping[str, Any]]) -> list[Finding]:
    """Of a record's stored errors, those about the columns it arrived with, which a recheck
    cannot see again (the columns are gone once the fields are under the standard's names)."""
    return [Finding(e["field"], e["code"], e.get("params") or {})
            for e in errors if e["code"] == "duplicate_field"]


# -- what the store can take ----------------------------------------------------------------------

# What PostgreSQL cannot store (NUL, lone surrogates) or no department means to send (control
# characters); tab and line breaks are text in a value, never in a column name.
_BAD_IN_KEY = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_BAD_IN_VALUE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# what a JSON body, a CSV or an XLSX cell gives for one value
_SCALARS = (str, int, float, Decimal, dt.date, dt.time, dt.timedelta, type(None))
MAX_KEY_LENGTH = 200
_SHOWN_PROBLEMS = 10


def record_shape_problems(records: Sequence[Any]) -> list[tuple[int, str]]:
    """Records whose shape the store cannot take: (index, problem) for each, a column name
    reported once. Problems: ``key_type``, ``key_characters``, ``key_length``,
    ``value_characters``, ``value_type``."""
    problems: list[tuple[int, str]] = []
    bad_keys: set[Any] = set()
    for index, record in enumerate(records):
        found = None
        for key, value in record.items():
            if key in bad_keys:
                break
            if not isinstance(key, str):
                found = "key_type"
            elif _BAD_IN_KEY.search(key):
                found = "key_characters"
            elif len(key) > MAX_KEY_LENGTH:
                found = "key_length"
            if found:
                bad_keys.add(key)
                break
            if not isinstance(value, _SCALARS):
                found = "value_type"
            elif isinstance(value, str) and _BAD_IN_VALUE.search(value):
                found = "value_characters"
            if found:
                break
        if found:
            problems.append((index, found))
    return problems


def refuse_bad_shapes(records: Sequence[Any], key: str = "records",
                      header_row: bool = False) -> None:
    """Refuse, before anything reaches the database, records with a column name that is not text
    or holds NUL or another control character, or a value that is a list, an object or holds
    such a character: PostgreSQL would fail on them (and its error would quote the record).

    Args:
        records: The records (mappings).
        key: The error's field: ``records`` for the API, ``upload`` for a file.
        header_row: Number the records as the rows of a file after its header row.

    Raises:
        tk.ValidationError: Which records and why (no values quoted).
    """
    problems = record_shape_problems(records)
    if not problems:
        return
    texts = {
        "key_type": tk._("a column name is not text"),
        "key_characters": tk._("a column name contains a control character (such as NUL) "
                               "or an invalid character"),
        "key_length": tk._("a column name is longer than {limit} characters").format(
            limit=MAX_KEY_LENGTH),
        "value_characters": tk._("a value contains a control character (such as NUL) or an "
                                 "invalid character"),
        "value_type": tk._("a value is a list or an object: give text or a number"),
    }
    where = (tk._("Row {number}: {problem}") if header_row
             else tk._("Record {number}: {problem}"))
    errors = [where.format(number=index + (2 if header_row else 1), problem=texts[problem])
              for index, problem in problems[:_SHOWN_PROBLEMS]]
    if len(problems) > _SHOWN_PROBLEMS:
        errors.append(tk._("{count} more records with such problems").format(
            count=len(problems) - _SHOWN_PROBLEMS))
    raise tk.ValidationError(cast(ErrorDict, {key: errors}))


# -- keeping records ------------------------------------------------------------------------------

def store(resource: model.Resource, record_type: str, records: Sequence[Mapping[str, Any]], *,
          now: dt.datetime,
          calendar: workdays.Calendar) -> tuple[list[DisclosureRecord], list[dict[str, Any]]]:
    """Keep a department's records (already refused when their shape is bad) and commit them.

    Returns:
        The stored rows (one per record key) and the answer for each record, in order: ``index,
        record_key, valid, errors, warnings, public, publish, timeliness, deadline,
        first_public_at``.
    """
    package = resource.package
    normalised_records = [normalise(record_type, raw) for raw in records]
    keys = [record_key(record_type, n.fields) for n in normalised_records]
    # only this submission's records: a resource may hold hundreds of thousands
    existing = {r.record_key: r for r in model.Session.query(DisclosureRecord).filter(
        DisclosureRecord.resource_id == resource.id, DisclosureRecord.record_key.in_(keys))}
    changed: dict[str, DisclosureRecord] = {}
    answers: list[dict[str, Any]] = []
    for index, (normalised, key) in enumerate(zip(normalised_records, keys, strict=True)):
        row = existing.get(key)
        if row is None:
            row = DisclosureRecord(id=str(uuid.uuid4()), resource_id=resource.id,
                                   record_type=record_type, record_key=key, received_at=now,
                                   public=False, push_status="none", working_days_late=0)
            existing[key] = row
            model.Session.add(row)
        row.package_id = package.id
        row.organization_id = package.owner_org
        row.fields = normalised.fields
        (row.party_code, row.party_name, row.party_search,
         row.document_number) = parties.keys(record_type, normalised.fields)
        row.extra = normalised.extra
        row.warnings = list(normalised.unknown)
        row.updated_at = now
        evaluate(row, calendar, now, normalised.findings)
        changed[key] = row
        answers.append({"index": index, "record_key": key, "valid": row.valid,
                        "errors": finding_dicts(row.errors), "warnings": row.warnings,
                        "public": row.public, "publish": row.publish,
                        "timeliness": row.timeliness, "deadline": standard.iso(row.deadline),
                        "first_public_at": standard.iso(row.first_public_at)})
    model.Session.commit()
    for answer in answers:  # keys and rule codes only: values are personal data
        if answer["errors"]:
            log.debug("record %s of resource %s fails %s", answer["record_key"], resource.id,
                      ", ".join(f"{e['field']}:{e['code']}" for e in answer["errors"]))
    log.info("resource %s: %d 双公示 records received, %d public, %d failing the rules",
             resource.id, len(records), sum(1 for r in changed.values() if r.public),
             sum(1 for r in changed.values() if not r.valid))
    return list(changed.values()), answers


# -- generations and withdrawals ------------------------------------------------------------------

def generation(delivered: Iterable[CreditPush]) -> int:
    """The record's generation: how many of its withdrawals the credit site has taken."""
    return sum(1 for p in delivered if p.kind == "withdraw")


def withdraw_reason(row: DisclosureRecord) -> str:
    return WITHDRAW_REASON.get(row.publish, "invalid")
