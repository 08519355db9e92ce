"""双公示 records on the portal: intake, checks, the public DataStore table, pushes to 信用烟台.

A department sends records to a resource whose ``record_type`` is ``license`` or ``penalty``
(``yantai_disclosure_submit``, or a CSV/XLSX file uploaded to such a resource). Each record is
kept in full in ``yantai_disclosure_record`` with what the rules (``intake.check``) say about
it. The resource's DataStore table is the public form of the records that may be public: valid,
publishable, masked (``privacy.mask``). It is written only from here, so ``datastore_search``,
the DataStore dump and every other channel that reads it see masked values only.

The portal keeps its own clock: ``first_public_at`` is when a record first went online here, and
timeliness is measured by it, not by what the department claims.

A record that leaves the public (revoked, expired, corrected into an invalid one) is deleted from
the DataStore table and a withdrawal is pushed; its row and audit trail stay.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import marshal
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, cast

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.types import Context, ErrorDict

from ckanext.yantai import (
    classified,
    config,
    credit,
    firewall_guards,
    messages,
    workdays,
)
from ckanext.yantai.disclosure import privacy, standard
from ckanext.yantai.disclosure.intake import LONG_TERM, Finding, check_fields, normalise, record_key
from ckanext.yantai.model import CreditPush, DisclosureRecord

log = logging.getLogger(__name__)

KEY_COLUMN = "记录标识"
FIRST_PUBLIC_COLUMN = "首次公开时间"
MAX_RECORDS = 5000  # per submission; larger files go in parts
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


# -- intake ---------------------------------------------------------------------------------------

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


def submit(context: Mapping[str, Any], resource_id: str | None, records: Any,
           now: dt.datetime | None = None) -> dict[str, Any]:
    """Take a department's records for a 双公示 resource (see ``yantai_disclosure_submit``).

    A record sent again (same document number and party) replaces the stored one; its
    first-public time stays.

    Raises:
        tk.ObjectNotFound: No such resource.
        tk.ValidationError: Not a 双公示 resource, or ``records`` is not a list of objects.
    """
    resource = model.Resource.get(resource_id or "")
    if resource is None or resource.state != "active":
        raise tk.ObjectNotFound(tk._("Resource not found"))
    record_type = record_type_of(resource)
    if record_type is None:
        raise tk.ValidationError({"resource_id": [tk._(
            "Not a disclosure resource: set its record type (行政许可 or 行政处罚) first")]})
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise tk.ValidationError({"records": [tk._("Give a list of records (JSON objects)")]})
    if len(records) > MAX_RECORDS:
        raise tk.ValidationError({"records": [tk._(
            "At most {limit} records per submission: send them in parts").format(
                limit=MAX_RECORDS)]})
    refuse_bad_shapes(records)
    marking = classified.records_rule(records)
    if marking is not None:  # the firewall holds for 双公示 records as for every other text
        firewall_guards.refuse(cast(Context, dict(context)), {"records": marking},
                               resource.package_id,
                               resource.package.owner_org, object="disclosure")
    now = now or utcnow()
    calendar = config.calendar()
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
    sync_datastore(resource.id, record_type, changed.values())
    plan_pushes(changed.values(), now)
    model.Session.commit()
    enqueue_push()
    return {"resource_id": resource.id, "record_type": record_type, "received": len(records),
            "public": sum(1 for r in changed.values() if r.public),
            "invalid": sum(1 for r in changed.values() if not r.valid), "records": answers}


# -- the public table -----------------------------------------------------------------------------

def _sync_context() -> Context:
    site_user = tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]
    # An internal call: record_tables lets only such calls write a 双公示 table.
    return {"ignore_auth": True, "user": site_user}


def datastore_fields(record_type: str) -> list[dict[str, Any]]:
    return ([{"id": KEY_COLUMN, "type": "text"}, {"id": FIRST_PUBLIC_COLUMN, "type": "timestamp"}]
            + [{"id": name, "type": "text"} for name in standard.FIELDS[record_type]])


def public_row(row: DisclosureRecord) -> dict[str, Any]:
    assert row.first_public_at is not None  # a public row has been public since then
    first = row.first_public_at.astimezone(workdays.SHANGHAI).replace(tzinfo=None)
    return {KEY_COLUMN: row.record_key, FIRST_PUBLIC_COLUMN: first.isoformat(timespec="seconds"),
            **privacy.mask(row.record_type, row.fields)}


def sync_datastore(resource_id: str, record_type: str, rows: Iterable[DisclosureRecord]) -> None:
    """Make the resource's DataStore table show exactly the public rows among ``rows``."""
    rows = list(rows)
    context = _sync_context()
    resource = model.Resource.get(resource_id)
    assert resource is not None  # the records' own resource
    if not (resource.extras or {}).get("datastore_active"):
        tk.get_action("datastore_create")(context.copy(), {
            "resource_id": resource_id, "force": True, "primary_key": KEY_COLUMN,
            "fields": datastore_fields(record_type), "records": []})
    public = [public_row(r) for r in rows if r.public]
    gone = [r.record_key for r in rows if not r.public]
    for start in range(0, len(public), 1000):
        tk.get_action("datastore_upsert")(context.copy(), {
            "resource_id": resource_id, "force": True, "method": "upsert",
            "records": public[start:start + 1000]})
    for start in range(0, len(gone), 1000):
        tk.get_action("datastore_delete")(context.copy(), {  # with filters: rows only
            "resource_id": resource_id, "force": True,
            "filters": {KEY_COLUMN: gone[start:start + 1000]}})


# -- pushes to 信用烟台 ----------------------------------------------------------------------------

def credit_push_of(row: DisclosureRecord, kind: str, reason: str | None = None,
                   generation: int = 0) -> credit.Push:
    organization = model.Group.get(row.organization_id)
    record = {k: v for k, v in row.fields.items() if v} if kind == "publish" else {}
    return credit.Push(kind=kind, record_type=row.record_type, record_key=row.record_key,
                       record=record, reason=reason,
                       source=organization.name if organization else None,
                       generation=generation)


def generation(delivered: Iterable[CreditPush]) -> int:
    """The record's generation: how many of its withdrawals the credit site has taken."""
    return sum(1 for p in delivered if p.kind == "withdraw")


def withdraw_reason(row: DisclosureRecord) -> str:
    return WITHDRAW_REASON.get(row.publish, "invalid")


def plan_pushes(rows: Iterable[DisclosureRecord], now: dt.datetime) -> int:
    """File the pushes that bring the credit site to the records' state; returns how many.

    A public record whose content the site does not have yet gets a publish; a record that left
    the public after the site got it gets a withdrawal. A publish not yet delivered is superseded
    by the next one, or dropped when the record leaves the public before it was ever delivered.
    """
    rows = list(rows)
    history: dict[str, list[CreditPush]] = {row.id: [] for row in rows}
    ids = list(history)
    for start in range(0, len(ids), 1000):
        for push in (model.Session.query(CreditPush)
                     .filter(CreditPush.record_id.in_(ids[start:start + 1000]))
                     .order_by(CreditPush.created)):
            history[push.record_id].append(push)
    planned = 0
    for row in rows:
        pushes = history[row.id]
        undelivered = [p for p in pushes if p.status in ("pending", "failed")]
        delivered = [p for p in pushes if p.status == "sent"]
        if row.public:
            push = credit_push_of(row, "publish", generation=generation(delivered))
        elif delivered and delivered[-1].kind == "publish":
            push = credit_push_of(row, "withdraw", withdraw_reason(row),
                                  generation=generation(delivered))
        else:
            push = None
        key = credit.idempotency_key(push) if push else None
        for old in undelivered:
            if old.idempotency_key != key:
                old.status = "superseded"
        if push is not None and not any(p.idempotency_key == key for p in pushes):
            filed = CreditPush(id=str(uuid.uuid4()), record_id=row.id, kind=push.kind,
                               reason=push.reason, idempotency_key=key, status="pending",
                               attempts=0, created=now)
            model.Session.add(filed)
            pushes.append(filed)
            planned += 1
        row.push_status = push_status(pushes)
    return planned


def push_status(pushes: Sequence[CreditPush]) -> str:
    """A record's push status: that of its latest push still in force, else none."""
    live = [p for p in pushes if p.status != "superseded"]
    return live[-1].status if live else "none"


def client() -> credit.CreditClient | None:
    endpoint = config.credit_endpoint()
    if endpoint is None:
        return None
    return credit.CreditClient(endpoint, token=config.credit_token(),
                               timeout=config.credit_timeout(), attempts=config.credit_attempts())


def send_due(now: dt.datetime | None = None, sender: credit.CreditClient | None = None,
             limit: int | None = None,
             progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Send the pushes that are due; returns counts by outcome (sent, failed, rejected).

    Without a configured endpoint nothing is sent: the pushes wait.
    """
    now = now or utcnow()
    sender = sender or client()
    counts = {"sent": 0, "failed": 0, "rejected": 0}
    if sender is None:
        return counts
    query = (model.Session.query(CreditPush)
             .filter(CreditPush.status.in_(("pending", "failed")))
             .filter((CreditPush.next_attempt_at.is_(None)) | (CreditPush.next_attempt_at <= now))
             .order_by(CreditPush.created))
    if limit:
        query = query.limit(limit)
    for push in query.all():
        row = model.Session.get(DisclosureRecord, push.record_id)
        assert row is not None  # a push belongs to its record (a foreign key)
        delivered = (model.Session.query(CreditPush)
                     .filter(CreditPush.record_id == row.id, CreditPush.status == "sent"))
        message = credit_push_of(row, push.kind, push.reason, generation(delivered))
        if credit.idempotency_key(message) != push.idempotency_key:
            push.status = "superseded"  # the record changed since; its own push is filed
        else:
            push.attempts += 1
            try:
                receipt = sender.send(message)
            except credit.PushError as error:
                push.error = str(error)
                if error.retryable:
                    push.status = "failed"
                    push.next_attempt_at = now + dt.timedelta(
                        seconds=credit.retry_delay(push.attempts))
                    counts["failed"] += 1
                else:
                    push.status = "rejected"
                    counts["rejected"] += 1
                log.warning("push %s of record %s: %s", push.kind, row.record_key, error)
            else:
                push.status = "sent"
                push.sent_at = now
                push.receipt_id = receipt.receipt_id
                push.received_at = receipt.received_at
                push.error = None
                counts["sent"] += 1
        row.push_status = push_status(
            model.Session.query(CreditPush).filter(CreditPush.record_id == row.id)
            .order_by(CreditPush.created).all())
        model.Session.commit()
        if progress:
            progress(1)
    return counts


CREDIT_PUSH_JOB = "ckanext.yantai.jobs.yantai_credit_push"


def enqueue_push() -> None:
    """Send the due pushes in the background (the worker), not in the department's request."""
    if config.credit_endpoint() is None:
        return
    try:
        # By name: the jobs module runs this one's send_due, so it imports this module.
        tk.enqueue_job(CREDIT_PUSH_JOB, title="双公示 push to 信用烟台")  # pyright: ignore[reportArgumentType]  # RQ takes a function's dotted name too
    except Exception:  # Redis down: the daily run sends them
        log.exception("could not enqueue the credit push; the daily run will send it")
