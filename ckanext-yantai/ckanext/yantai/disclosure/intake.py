"""双公示 records: parsing and checking them against the rules, as pure functions.

``check`` is the rule engine's one entry point: a record in, its findings, deadline, timeliness
and publication status out. It reads like the rules it implements:

- 发改办财金〔2018〕424号: online within 7 working days of the decision (``workdays``);
- the data standard's required fields (``standard``), with the conditions seen in practice (the
  party's category decides which codes it needs; fines need amounts; 文书号 or 许可编号);
- GB 32100-2015 credit codes and GB 11643-1999 identity numbers;
- publicity periods: 发改办财金〔2019〕527号 for decisions before 2026-04-01, the 信用修复管理办法
  from that day; 总局令第45号: market-regulation penalties of a warning only are not published;
  minors' cases are not published; a revoked decision is withdrawn.

``normalise`` puts a record's columns under the standard's names; ``record_key`` is the record's
identity within a resource.

Everything here is pure (no CKAN, no database, no clock): the caller passes ``now`` and the
working-day calendar.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from ckanext.yantai import codes
from ckanext.yantai.disclosure.standard import (
    AUTHORITY_CODES,
    CATEGORY,
    CATEGORY_ORG,
    CATEGORY_PERSON,
    CATEGORY_SOLE,
    CONFISCATED,
    DATE_FIELDS,
    DECISION_DATE,
    DOC_NUMBER,
    FIELDS,
    FINE,
    ID_NUMBER,
    ID_TYPE,
    ID_TYPES,
    LEGACY_DROPPED,
    LEGACY_PENALTY_CATEGORIES,
    LICENCE_REVOKED,
    LICENSE_CATEGORIES,
    LICENSE_CATEGORY,
    LICENSE_DOC_NO,
    LICENSE_NO,
    NAME,
    PARTY_CATEGORIES,
    PARTY_CODES,
    PENALTY_AUTHORITY,
    PENALTY_CATEGORIES,
    PENALTY_CATEGORY,
    PENALTY_DATE,
    PENALTY_VALID_TO,
    PUBLICITY_END,
    RECORD_TYPES,
    REMARK,
    REP_ID,
    REP_ID_TYPE,
    REQUIRED,
    STATUS,
    STATUSES,
    USCC,
    VALID_FROM,
    VALID_TO,
    canonical_field,
    header_key,
    iso,
    term,
)
from ckanext.yantai.workdays import SHANGHAI, Calendar, CalendarMissing, disclosure_deadline

# -- findings -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Finding:
    """One broken rule: the field it is about, an error code (messages.py) and message
    parameters."""

    field: str
    code: str
    # dataclasses.field: the name field is this class's own
    params: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "code": self.code, **({"params": dict(self.params)}
                                                          if self.params else {})}


@dataclass(frozen=True)
class Normalised:
    """A record under the standard's field names.

    Attributes:
        fields: The standard's fields that the record has, values as text, trimmed.
        extra: Columns the standard does not have (kept with the record, never published).
        findings: Problems of the columns themselves (two columns for one field).
        unknown: Headers that are not the standard's, for a warning.
    """

    fields: dict[str, str]
    extra: dict[str, str]
    findings: tuple[Finding, ...] = ()
    unknown: tuple[str, ...] = ()


def as_text(value: Any) -> str:
    """A cell's value as text: trimmed; dates from spreadsheets as YYYY-MM-DD; 5.0 as 5."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(SHANGHAI)
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def normalise(record_type: str, record: Mapping[str, Any]) -> Normalised:
    """The record under the standard's names, whatever headers it came with.

    Raises:
        ValueError: ``record_type`` is not ``license`` or ``penalty``.
    """
    if record_type not in FIELDS:
        raise ValueError(f"record_type must be one of {RECORD_TYPES}, not {record_type!r}")
    fields: dict[str, str] = {}
    extra: dict[str, str] = {}
    findings: list[Finding] = []
    unknown: list[str] = []
    legacy_categories: list[str] = []
    for header, raw in record.items():
        value = as_text(raw)
        name = canonical_field(record_type, header)
        if name is None:
            key = header_key(header)
            if record_type == "penalty" and key in LEGACY_PENALTY_CATEGORIES:
                legacy_categories += [value] if value else []
                continue
            extra[str(header)] = value
            if key not in LEGACY_DROPPED:
                unknown.append(str(header))
            continue
        if fields.get(name) and value and fields[name] != value:
            findings.append(Finding(name, "duplicate_field"))
            continue
        if value or name not in fields:
            fields[name] = value
    if legacy_categories and not fields.get(PENALTY_CATEGORY):
        fields[PENALTY_CATEGORY] = ";".join(legacy_categories)
    if fields.get(ID_NUMBER) and not fields.get(ID_TYPE) and any(
            header_key(h) in ("居民身份证号", "身份证号", "身份证号码") for h in record):
        fields[ID_TYPE] = "身份证"
    return Normalised(fields, extra, tuple(findings), tuple(unknown))


# -- values ---------------------------------------------------------------------------------------

LONG_TERM = dt.date.max  # 有效期至 长期
_LONG_TERM_WORDS = frozenset({"长期", "长期有效", "永久", "永久有效", "无固定期限", "9999-12-31"})
_DATE_FORMS = (
    re.compile(r"^(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})$"),
    re.compile(r"^(?P<y>\d{4})年(?P<m>\d{1,2})月(?P<d>\d{1,2})日?$"),
    re.compile(r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$"),
)


class BadValue(ValueError):
    """A value that does not parse (the finding's code says which kind)."""


def parse_date(value: str, long_term: bool = False) -> dt.date:
    """A date as departments write it: 2026-03-01, 2026/3/1, 2026.3.1, 2026年3月1日, 20260301, or
    an ISO timestamp (taken in Asia/Shanghai when it has a zone). With ``long_term``, 长期 and its
    kind are ``LONG_TERM``.

    Raises:
        BadValue: Not a date.
    """
    if len(value) == 10:  # the usual 2026-03-01, parsed in C
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    text = codes.fold_width(value).strip()
    if long_term and text in _LONG_TERM_WORDS:
        return LONG_TERM
    for form in _DATE_FORMS:
        match = form.match(text)
        if match:
            try:
                return dt.date(int(match["y"]), int(match["m"]), int(match["d"]))
            except ValueError:
                raise BadValue(value) from None
    try:
        moment = dt.datetime.fromisoformat(text)
        if moment.tzinfo is not None:
            moment = moment.astimezone(SHANGHAI)
    except (ValueError, OverflowError):  # 9999-12-31T23:59:59-12:00 is past the last year
        raise BadValue(value) from None
    return moment.date()


_AMOUNT_UNIT = re.compile(r"^(?P<number>[-+]?[\d,]*\.?\d+)\s*(?P<unit>万元|万|元)?$")


@functools.lru_cache(maxsize=16384)
def parse_amount(value: str) -> Decimal:
    """An amount in 万元: a plain number (thousands separators allowed), or one ending in 万元.

    Raises:
        BadValue: Not a number, negative, or given in 元 (the standard counts in 万元).
    """
    match = _AMOUNT_UNIT.match(codes.fold_width(value).strip())
    if not match:
        raise BadValue("amount_format")
    if match["unit"] == "元":
        raise BadValue("amount_unit")
    try:
        amount = Decimal(match["number"].replace(",", ""))
    except InvalidOperation:
        raise BadValue("amount_format") from None
    if amount < 0:
        raise BadValue("amount_negative")
    return amount


_SPLIT = re.compile(r"[;；、,，/]+")


@functools.lru_cache(maxsize=4096)
def split_categories(value: str) -> tuple[str, ...]:
    # Cached, as the other helpers of a vocabulary value below: the same few texts recur in
    # every department's records, and a recheck reads a million of them.
    return tuple(p.strip() for p in _SPLIT.split(codes.fold_width(value)) if p.strip())


def _names_other(value: str) -> bool:
    """其他 must say what: 其他-备案, 其他:备案, 其他（备案）."""
    text = codes.fold_width(value).strip()
    return bool(re.match(r"^其他\s*[-:(]\s*[^)\s]+", text))


@functools.lru_cache(maxsize=65536)
def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    if not dt.MINYEAR <= year <= dt.MAXYEAR:  # a date typed wrong (9999-12-31 + 6 months)
        return dt.date.max if year > dt.MAXYEAR else dt.date.min
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


# -- publicity periods ----------------------------------------------------------------------------

# 信用修复管理办法 (adopted 2025-11-19): decisions from this day follow its periods.
CREDIT_REPAIR_RULES_FROM = dt.date(2026, 4, 1)
SEVERE_CATEGORIES = frozenset({"吊销许可证件", "责令关闭", "限制从业", "责令停产停业", "行政拘留"})
MINOR_CATEGORIES = frozenset({"警告", "通报批评"})


@dataclass(frozen=True)
class PublicityRule:
    """How long a penalty stays public, counted from its decision date, in months."""

    name: str  # the document that sets it
    severity: str  # 轻微 / 一般 / 严重
    min_months: int
    max_months: int
    published: bool = True


@functools.lru_cache(maxsize=1024)
def severity(categories: tuple[str, ...]) -> str:
    """失信程度 from the kinds of penalty: 严重 for closure, revocation of licences, bans and
    detention; 轻微 for a warning or a notice of criticism only; 一般 otherwise."""
    kinds = {c.split("-")[0].split("(")[0] for c in categories}
    if kinds & SEVERE_CATEGORIES:
        return "严重"
    if kinds and kinds <= MINOR_CATEGORIES:
        return "轻微"
    return "一般"


def publicity_rule(decision: dt.date, level: str) -> PublicityRule:
    """The publicity period in force at the decision date for a penalty of that severity."""
    return _publicity_rule(decision >= CREDIT_REPAIR_RULES_FROM, level)


@functools.lru_cache(maxsize=16)
def _publicity_rule(credit_repair_rules: bool, level: str) -> PublicityRule:
    if credit_repair_rules:
        name = "信用修复管理办法"
        if level == "轻微":
            return PublicityRule(name, level, 0, 3, published=False)
        if level == "严重":
            return PublicityRule(name, level, 12, 36)
        return PublicityRule(name, level, 3, 12)
    name = "发改办财金〔2019〕527号"
    if level == "严重":
        return PublicityRule(name, level, 6, 36)
    return PublicityRule(name, "一般" if level == "轻微" else level, 3, 12)


# -- the check ------------------------------------------------------------------------------------

@dataclass(slots=True)  # not frozen: a recheck builds a million, and frozen ones cost more
class Result:
    """What the rules say about one record.

    Attributes:
        valid: No finding.
        findings: The broken rules.
        warnings: Columns the standard does not have (kept, never published).
        decision_date: The decision's date (Chinese date), None when missing or unreadable.
        deadline: The 7th working day after the decision, None without a decision date or when
            the calendar does not cover the years it runs through.
        timeliness: on_time, late, pending, overdue or calendar_missing; None without a decision
            date.
        working_days_late: Working days from the deadline to the publication (0 when on time).
        publish: allowed, not_for_publication, expired or revoked.
        publicity_end: The last day the record may stay public (None: no limit).
        missing_year: The year the calendar lacks, when timeliness is calendar_missing.
    """

    valid: bool
    findings: tuple[Finding, ...]
    warnings: tuple[str, ...]
    decision_date: dt.date | None
    deadline: dt.date | None
    timeliness: str | None
    working_days_late: int
    publish: str
    publicity_end: dt.date | None = None
    missing_year: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "errors": [f.as_dict() for f in self.findings],
            "warnings": list(self.warnings),
            "decision_date": iso(_finite(self.decision_date)),
            "deadline": iso(_finite(self.deadline)),
            "timeliness": self.timeliness,
            "working_days_late": self.working_days_late,
            "publish": self.publish,
            "publicity_end": iso(_finite(self.publicity_end)),
            "missing_year": self.missing_year,
        }


def _finite(day: dt.date | None) -> dt.date | None:
    """None for 长期 (no end)."""
    return None if day == LONG_TERM else day


def check(record_type: str, record: Mapping[str, Any], *, now: dt.datetime,
          calendar: Calendar, published_at: dt.datetime | None = None) -> Result:
    """Check one record against the 双公示 rules.

    Args:
        record_type: ``license`` or ``penalty``.
        record: The record's columns, under the standard's names or any header ``normalise`` maps.
        now: The present moment (aware): decides pending versus overdue, and expiry.
        calendar: The working days.
        published_at: When the record went online on the portal (aware); None while it is not
            public.

    Raises:
        ValueError: An unknown record type, or a naive ``now`` / ``published_at``.
    """
    normalised = normalise(record_type, record)
    return check_fields(record_type, normalised.fields, now=now, calendar=calendar,
                        published_at=published_at, findings=normalised.findings,
                        warnings=normalised.unknown)


def check_fields(record_type: str, fields: Mapping[str, str], *, now: dt.datetime,
                 calendar: Calendar, published_at: dt.datetime | None = None,
                 findings: Iterable[Finding] = (), warnings: Iterable[str] = ()) -> Result:
    """``check`` for a record already under the standard's names (the stored records)."""
    if now.tzinfo is None or (published_at is not None and published_at.tzinfo is None):
        raise ValueError("now and published_at need a time zone")
    found: list[Finding] = list(findings)
    today = _today(now)
    published = _shanghai_date(published_at) if published_at else None

    get = fields.get

    def value(name: str) -> str:
        return get(name) or ""

    for name in REQUIRED[record_type]:
        if not get(name):
            found.append(Finding(name, "required"))
    if record_type == "license" and not (value(LICENSE_DOC_NO) or value(LICENSE_NO)):
        found.append(Finding(LICENSE_DOC_NO, "license_number_required"))

    found += _party_findings(fields)
    for name in AUTHORITY_CODES[record_type]:
        code = get(name)
        if code and (error := codes.uscc_error(code, embedded=True)):
            found.append(Finding(name, error))

    if get(STATUS) and term(get(STATUS)) not in STATUSES:
        found.append(Finding(STATUS, "not_in_vocabulary", {"choices": "正常、撤销、异议、其他"}))

    dates: dict[str, dt.date] = {}
    for name in DATE_FIELDS[record_type]:
        text = get(name)
        if text:
            try:
                dates[name] = parse_date(text, long_term=name in (VALID_TO, PENALTY_VALID_TO))
            except BadValue:
                found.append(Finding(name, "date_format"))
    decision = dates.get(DECISION_DATE[record_type])
    if decision is not None:
        if decision > today:
            found.append(Finding(DECISION_DATE[record_type], "decision_in_future"))
        elif published is not None and published < decision:
            found.append(Finding(DECISION_DATE[record_type], "published_before_decision"))

    rule: PublicityRule | None = None
    categories: tuple[str, ...] = ()
    if record_type == "license":
        found += _license_findings(fields, dates)
    else:
        categories = split_categories(value(PENALTY_CATEGORY))
        found += _penalty_findings(fields, categories, dates)
        if decision is not None:
            rule = publicity_rule(decision, severity(categories))
            end = dates.get(PUBLICITY_END)
            if end is not None and rule.published:
                if end < add_months(decision, rule.min_months):
                    found.append(Finding(PUBLICITY_END, "publicity_too_short",
                                         {"months": str(rule.min_months), "rule": rule.name}))
                elif end > add_months(decision, rule.max_months):
                    found.append(Finding(PUBLICITY_END, "publicity_too_long",
                                         {"months": str(rule.max_months), "rule": rule.name}))

    deadline: dt.date | None = None
    timeliness: str | None = None
    late = 0
    missing_year: int | None = None
    if decision is not None:
        try:
            deadline = _deadline(calendar, decision)
            if published is not None:
                late = calendar.workdays_between(deadline, published)
                timeliness = "late" if published > deadline else "on_time"
            else:
                timeliness = "overdue" if today > deadline else "pending"
        except CalendarMissing as missing:
            deadline, late, timeliness, missing_year = None, 0, "calendar_missing", missing.year

    publish, publicity_end = _publication(record_type, fields, dates, decision, rule, today,
                                          categories)
    return Result(
        valid=not found,
        findings=tuple(found),
        warnings=tuple(warnings),
        decision_date=decision,
        deadline=deadline,
        timeliness=timeliness,
        working_days_late=late,
        publish=publish,
        publicity_end=publicity_end,
        missing_year=missing_year,
    )


@functools.lru_cache(maxsize=16)
def _today(now: dt.datetime) -> dt.date:
    # A recheck passes the same moment for every record.
    return now.astimezone(SHANGHAI).date()


_CST = dt.timezone(dt.timedelta(hours=8))
_CST_FROM = dt.datetime(1992, 1, 1, tzinfo=_CST)  # China has kept UTC+8 without DST since 1992


def _shanghai_date(moment: dt.datetime) -> dt.date:
    # The fixed offset where it is exact: several times faster than the zone database.
    if moment >= _CST_FROM:
        return moment.astimezone(_CST).date()
    return moment.astimezone(SHANGHAI).date()


# The calendar the deadlines below were computed with (held, so that it is compared by identity
# and its place in memory cannot go to a reloaded calendar), and the deadline of each decision day.
_deadlines: tuple[Calendar, dict[dt.date, dt.date]] | None = None


def _deadline(calendar: Calendar, decision: dt.date) -> dt.date:
    # Memoised per day: a million records have a few thousand decision dates.
    global _deadlines
    if _deadlines is None or _deadlines[0] is not calendar:
        _deadlines = (calendar, {})
    memo = _deadlines[1]
    if decision not in memo:
        if len(memo) > 100_000:
            memo.clear()
        memo[decision] = disclosure_deadline(calendar, decision)
    return memo[decision]


def _party_findings(fields: Mapping[str, str]) -> list[Finding]:
    found: list[Finding] = []
    category = term(fields.get(CATEGORY) or "")
    if category and category not in PARTY_CATEGORIES:
        found.append(Finding(CATEGORY, "not_in_vocabulary",
                             {"choices": "、".join(PARTY_CATEGORIES)}))
    if category in (CATEGORY_ORG, CATEGORY_SOLE) and not fields.get(USCC):
        found.append(Finding(USCC, "required_when", {"field": CATEGORY, "value": category}))
    if (fields.get(USCC) and category != CATEGORY_PERSON
            and (error := codes.uscc_error(fields[USCC], embedded=True))):
        found.append(Finding(USCC, error))
    if category == CATEGORY_PERSON:
        for name in PARTY_CODES:
            if fields.get(name):
                found.append(Finding(name, "person_with_org_code"))
        for name in (ID_TYPE, ID_NUMBER):
            if not fields.get(name):
                found.append(Finding(name, "required_when", {"field": CATEGORY,
                                                              "value": CATEGORY_PERSON}))
    for type_field, number_field in ((ID_TYPE, ID_NUMBER), (REP_ID_TYPE, REP_ID)):
        id_type = term(fields.get(type_field) or "")
        if id_type and id_type not in ID_TYPES and id_type != "居民身份证":
            found.append(Finding(type_field, "not_in_vocabulary",
                                 {"choices": "、".join(ID_TYPES)}))
        if (fields.get(number_field) and id_type in ("身份证", "居民身份证")
                and (error := codes.ric_error(fields[number_field]))):
            found.append(Finding(number_field, error))
    return found


def _license_findings(fields: Mapping[str, str], dates: Mapping[str, dt.date]) -> list[Finding]:
    found: list[Finding] = []
    kind = term(fields.get(LICENSE_CATEGORY) or "")
    if kind:
        if kind.startswith("其他"):
            if not _names_other(kind):
                found.append(Finding(LICENSE_CATEGORY, "other_unnamed"))
        elif kind not in LICENSE_CATEGORIES:
            found.append(Finding(LICENSE_CATEGORY, "not_in_vocabulary",
                                 {"choices": "、".join(LICENSE_CATEGORIES)}))
    start, end = dates.get(VALID_FROM), dates.get(VALID_TO)
    if start and end and start > end:
        found.append(Finding(VALID_TO, "date_order"))
    return found


def _penalty_findings(fields: Mapping[str, str], categories: tuple[str, ...],
                      dates: Mapping[str, dt.date]) -> list[Finding]:
    found: list[Finding] = []
    kinds: set[str] = set()
    for category in categories:
        if category.startswith("其他"):
            kinds.add("其他")
            if not _names_other(category):
                found.append(Finding(PENALTY_CATEGORY, "other_unnamed"))
        elif category in PENALTY_CATEGORIES:
            kinds.add(category)
        else:
            found.append(Finding(PENALTY_CATEGORY, "not_in_vocabulary",
                                 {"choices": "、".join(PENALTY_CATEGORIES)}))
    amounts: dict[str, Decimal] = {}
    for name in (FINE, CONFISCATED):
        if fields.get(name):
            try:
                amounts[name] = parse_amount(fields[name])
            except BadValue as bad:
                found.append(Finding(name, str(bad)))
    if "罚款" in kinds and not fields.get(FINE):
        found.append(Finding(FINE, "required_when", {"field": PENALTY_CATEGORY, "value": "罚款"}))
    elif "罚款" in kinds and amounts.get(FINE) == 0:
        found.append(Finding(FINE, "amount_zero"))
    for kind in ("没收违法所得", "没收非法财物"):
        if kind in kinds and not fields.get(CONFISCATED):
            found.append(Finding(CONFISCATED, "required_when",
                                 {"field": PENALTY_CATEGORY, "value": kind}))
    for kind in ("暂扣许可证件", "吊销许可证件"):
        if kind in kinds and not fields.get(LICENCE_REVOKED):
            found.append(Finding(LICENCE_REVOKED, "required_when",
                                 {"field": PENALTY_CATEGORY, "value": kind}))
    decision, valid_to = dates.get(PENALTY_DATE), dates.get(PENALTY_VALID_TO)
    if decision and valid_to and valid_to < decision:
        found.append(Finding(PENALTY_VALID_TO, "date_order"))
    end = dates.get(PUBLICITY_END)
    if decision and end and end < decision:
        found.append(Finding(PUBLICITY_END, "date_order"))
    return found


_MARKET_REGULATOR = re.compile(r"市场监督管理|市场监管")


def _publication(record_type: str, fields: Mapping[str, str], dates: Mapping[str, dt.date],
                 decision: dt.date | None, rule: PublicityRule | None, today: dt.date,
                 categories: tuple[str, ...]) -> tuple[str, dt.date | None]:
    if STATUSES.get(term(fields.get(STATUS) or "")) == "撤销":
        return "revoked", None
    if _is_minor_case(fields, decision):
        return "not_for_publication", None
    if record_type == "penalty":
        kinds = set(categories)
        if kinds == {"警告"} and _MARKET_REGULATOR.search(fields.get(PENALTY_AUTHORITY) or ""):
            return "not_for_publication", None  # 总局令第45号: 仅受到警告的不予公示
        if rule is not None and not rule.published:
            return "not_for_publication", None
        end = dates.get(PUBLICITY_END)
        if end is None and rule is not None and decision is not None:
            end = add_months(decision, rule.max_months)
        if end is not None and today > end:
            return "expired", end
        return "allowed", end
    return "allowed", None


def _is_minor_case(fields: Mapping[str, str], decision: dt.date | None) -> bool:
    """A natural person under 18 at the decision: minors' cases are not published."""
    if "未成年" in (fields.get(REMARK) or ""):
        return True
    if term(fields.get(CATEGORY) or "") != CATEGORY_PERSON:
        return False
    birth = codes.ric_birth_date(fields.get(ID_NUMBER) or "") if fields.get(ID_NUMBER) else None
    return bool(birth and decision and add_months(birth, 18 * 12) > decision)



def record_key(record_type: str, fields: Mapping[str, str]) -> str:
    """The record's identity within a resource: its document number and party, so that a record
    sent again (corrected or not) replaces itself. Without a document number: its whole content."""
    number = fields.get(DOC_NUMBER[record_type]) or (
        fields.get(LICENSE_NO) if record_type == "license" else "")
    if number:
        party = fields.get(USCC) or fields.get(ID_NUMBER) or fields.get(NAME) or ""
        basis = "\x1f".join((record_type, header_key(number), codes.normalise_uscc(party)))
    else:
        basis = "\x1f".join((record_type, *(f"{k}={fields[k]}" for k in sorted(fields))))
    return hashlib.sha256(basis.encode()).hexdigest()[:32]
