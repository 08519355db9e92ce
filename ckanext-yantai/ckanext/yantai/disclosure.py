"""双公示 records: the national data standard's fields and the compliance rules, as pure functions.

A department publishes its administrative licensing (行政许可, ``license``) and penalty (行政处罚,
``penalty``) decisions as records of the national 双公示 data standard. ``check`` is the rule
engine's one entry point: a record in, its findings, deadline, timeliness and publication status
out. It reads like the rules it implements:

- 发改办财金〔2018〕424号: online within 7 working days of the decision (``workdays``);
- the data standard's required fields, with the conditions seen in practice (the party's category
  decides which codes it needs; fines need amounts; 文书号 or 许可编号);
- GB 32100-2015 credit codes and GB 11643-1999 identity numbers;
- publicity periods: 发改办财金〔2019〕527号 for decisions before 2026-04-01, the 信用修复管理办法
  from that day; 总局令第45号: market-regulation penalties of a warning only are not published;
  minors' cases are not published; a revoked decision is withdrawn.

``mask`` gives the public form of a record: what every public channel shows.

Everything here is pure (no CKAN, no database, no clock): the caller passes ``now`` and the
working-day calendar.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from stdnum.cn import ric as stdnum_ric

from ckanext.yantai import codes
from ckanext.yantai.workdays import SHANGHAI, Calendar, CalendarMissing, disclosure_deadline

RECORD_TYPES = ("license", "penalty")

# -- the standard's fields ------------------------------------------------------------------------

NAME = "行政相对人名称"
CATEGORY = "行政相对人类别"
USCC = "行政相对人代码_1"
PARTY_CODES = (USCC, "行政相对人代码_2", "行政相对人代码_3", "行政相对人代码_4",
               "行政相对人代码_5", "行政相对人代码_6")
LEGAL_REP = "法定代表人"
REP_ID_TYPE = "法定代表人证件类型"
REP_ID = "法定代表人证件号码"
ID_TYPE = "证件类型"
ID_NUMBER = "证件号码"
STATUS = "当前状态"
SOURCE = "数据来源单位"
SOURCE_CODE = "数据来源单位统一社会信用代码"
REMARK = "备注"

LICENSE_DOC_NAME = "行政许可决定文书名称"
LICENSE_DOC_NO = "行政许可决定文书号"
LICENSE_CATEGORY = "许可类别"
LICENSE_NO = "许可编号"
LICENSE_DATE = "许可决定日期"
VALID_FROM = "有效期自"
VALID_TO = "有效期至"
LICENSE_AUTHORITY = "许可机关"
LICENSE_AUTHORITY_CODE = "许可机关统一社会信用代码"

PENALTY_DOC_NO = "行政处罚决定书文号"
PENALTY_CATEGORY = "处罚类别"
FINE = "罚款金额(万元)"
CONFISCATED = "没收违法所得、没收非法财物的金额(万元)"
LICENCE_REVOKED = "暂扣或吊销证照名称及编号"
PENALTY_DATE = "处罚决定日期"
PENALTY_VALID_TO = "处罚有效期"
PUBLICITY_END = "公示截止期"
PENALTY_AUTHORITY = "处罚机关"
PENALTY_AUTHORITY_CODE = "处罚机关统一社会信用代码"

PARTY_FIELDS = (NAME, CATEGORY, *PARTY_CODES, LEGAL_REP, REP_ID_TYPE, REP_ID, ID_TYPE, ID_NUMBER)

FIELDS: Mapping[str, tuple[str, ...]] = {
    "license": (*PARTY_FIELDS, LICENSE_DOC_NAME, LICENSE_DOC_NO, LICENSE_CATEGORY, "许可证书名称",
                LICENSE_NO, "许可内容", LICENSE_DATE, VALID_FROM, VALID_TO, LICENSE_AUTHORITY,
                LICENSE_AUTHORITY_CODE, STATUS, SOURCE, SOURCE_CODE, REMARK),
    "penalty": (*PARTY_FIELDS, PENALTY_DOC_NO, "违法行为类型", "违法事实", "处罚依据",
                PENALTY_CATEGORY, "处罚内容", FINE, CONFISCATED, LICENCE_REVOKED, PENALTY_DATE,
                PENALTY_VALID_TO, PUBLICITY_END, PENALTY_AUTHORITY, PENALTY_AUTHORITY_CODE, STATUS,
                SOURCE, SOURCE_CODE, REMARK),
}

REQUIRED: Mapping[str, tuple[str, ...]] = {
    "license": (NAME, CATEGORY, LICENSE_DOC_NAME, LICENSE_CATEGORY, "许可内容", LICENSE_DATE,
                VALID_FROM, VALID_TO, LICENSE_AUTHORITY, LICENSE_AUTHORITY_CODE, SOURCE,
                SOURCE_CODE),
    "penalty": (NAME, CATEGORY, PENALTY_DOC_NO, "违法行为类型", "违法事实", "处罚依据",
                PENALTY_CATEGORY, "处罚内容", PENALTY_DATE, PENALTY_AUTHORITY,
                PENALTY_AUTHORITY_CODE, SOURCE, SOURCE_CODE),
}

DECISION_DATE = {"license": LICENSE_DATE, "penalty": PENALTY_DATE}
AUTHORITY_CODES = {"license": (LICENSE_AUTHORITY_CODE, SOURCE_CODE),
                   "penalty": (PENALTY_AUTHORITY_CODE, SOURCE_CODE)}
DATE_FIELDS = {"license": (LICENSE_DATE, VALID_FROM, VALID_TO),
               "penalty": (PENALTY_DATE, PENALTY_VALID_TO, PUBLICITY_END)}
DOC_NUMBER = {"license": LICENSE_DOC_NO, "penalty": PENALTY_DOC_NO}

CATEGORY_ORG = "法人及非法人组织"
CATEGORY_PERSON = "自然人"
CATEGORY_SOLE = "个体工商户"
PARTY_CATEGORIES = (CATEGORY_ORG, CATEGORY_PERSON, CATEGORY_SOLE)
LICENSE_CATEGORIES = ("普通", "特许", "认可", "核准", "登记", "其他")
# 行政处罚法 (2021) 第九条
PENALTY_CATEGORIES = ("警告", "通报批评", "罚款", "没收违法所得", "没收非法财物", "暂扣许可证件",
                      "降低资质等级", "吊销许可证件", "限制开展生产经营活动", "责令停产停业",
                      "责令关闭", "限制从业", "行政拘留", "其他")
ID_TYPES = ("身份证", "护照", "港澳居民来往内地通行证", "台湾居民来往大陆通行证",
            "外国人永久居留身份证", "港澳台居民居住证", "其他")
# 当前状态: the standard's codes 0-3 or their names.
STATUSES = {"0": "正常", "1": "撤销", "2": "异议", "3": "其他",
            "正常": "正常", "有效": "正常", "撤销": "撤销", "已撤销": "撤销", "异议": "异议",
            "其他": "其他"}

# Headers that older (2016-era) feeds and the templates use for the standard's fields.
LEGACY_NAMES: Mapping[str, str] = {
    "统一社会信用代码": USCC,
    "工商登记码": "行政相对人代码_2", "工商注册号": "行政相对人代码_2",
    "组织机构代码": "行政相对人代码_3",
    "税务登记号": "行政相对人代码_4",
    "事业单位证书号": "行政相对人代码_5",
    "社会组织登记证号": "行政相对人代码_6",
    "居民身份证号": ID_NUMBER, "身份证号": ID_NUMBER, "身份证号码": ID_NUMBER,
    "法定代表人姓名": LEGAL_REP,
    "行政许可决定书文号": LICENSE_DOC_NO,
    "项目名称": LICENSE_DOC_NAME,
    "审批类别": LICENSE_CATEGORY,
    "许可截止期": VALID_TO,
    "处罚名称": "违法行为类型",
    "处罚事由": "违法事实",
    "处罚结果": "处罚内容",
    "公示期限": PUBLICITY_END,
    "罚款金额": FINE,
    "没收违法所得、没收非法财物的金额": CONFISCATED,
    "没收违法所得金额": CONFISCATED, "没收金额": CONFISCATED,
}
# Older categories in two columns; joined into 处罚类别.
LEGACY_PENALTY_CATEGORIES = ("处罚类别1", "处罚类别2")
# Known older columns that the standard dropped: kept with the record, not published.
LEGACY_DROPPED = frozenset({"地方编码", "数据更新时间戳"})


def _header_key(header: str) -> str:
    return re.sub(r"\s+", "", codes.fold_width(str(header)))


_ALIASES: dict[str, dict[str, str]] = {}
for _type, _fields in FIELDS.items():
    _table = {_header_key(f): f for f in _fields}
    for _old, _new in LEGACY_NAMES.items():
        if _new in _fields:
            _table.setdefault(_header_key(_old), _new)
    _ALIASES[_type] = _table
_DESCRIPTION = re.compile(r"^(?P<base>.+?)\((?P<description>[^()]*)\)$")


def canonical_field(record_type: str, header: str) -> str | None:
    """The standard's name of a column header, None for a column the standard does not have.

    Headers come as the standard writes them, with the template's description in half- or
    full-width brackets (行政相对人代码_1（统一社会信用代码）), with stray spaces, or by their
    2016-era names (统一社会信用代码, 处罚事由).
    """
    aliases = _ALIASES[record_type]
    key = _header_key(header)
    if key in aliases:
        return aliases[key]
    match = _DESCRIPTION.match(key)
    if match:
        return aliases.get(match["base"])
    return None


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
            key = _header_key(header)
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
            _header_key(h) in ("居民身份证号", "身份证号", "身份证号码") for h in record):
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
    except ValueError:
        raise BadValue(value) from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(SHANGHAI)
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


@functools.lru_cache(maxsize=4096)
def _term(value: str) -> str:
    """A vocabulary value as compared: half-width, without surrounding spaces."""
    return codes.fold_width(value).strip()


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
            "decision_date": _iso(self.decision_date),
            "deadline": _iso(self.deadline),
            "timeliness": self.timeliness,
            "working_days_late": self.working_days_late,
            "publish": self.publish,
            "publicity_end": _iso(self.publicity_end),
            "missing_year": self.missing_year,
        }


def _iso(day: dt.date | None) -> str | None:
    return None if day is None or day == LONG_TERM else day.isoformat()


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

    if get(STATUS) and _term(get(STATUS)) not in STATUSES:
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
    category = _term(fields.get(CATEGORY) or "")
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
        id_type = _term(fields.get(type_field) or "")
        if id_type and id_type not in ID_TYPES and id_type != "居民身份证":
            found.append(Finding(type_field, "not_in_vocabulary",
                                 {"choices": "、".join(ID_TYPES)}))
        if (fields.get(number_field) and id_type in ("身份证", "居民身份证")
                and (error := codes.ric_error(fields[number_field]))):
            found.append(Finding(number_field, error))
    return found


def _license_findings(fields: Mapping[str, str], dates: Mapping[str, dt.date]) -> list[Finding]:
    found: list[Finding] = []
    kind = _term(fields.get(LICENSE_CATEGORY) or "")
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
    if STATUSES.get(_term(fields.get(STATUS) or "")) == "撤销":
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
    if _term(fields.get(CATEGORY) or "") != CATEGORY_PERSON:
        return False
    birth = codes.ric_birth_date(fields.get(ID_NUMBER) or "") if fields.get(ID_NUMBER) else None
    return bool(birth and decision and add_months(birth, 18 * 12) > decision)


# -- the public form ------------------------------------------------------------------------------
#
# Masking decides on a normalised view of the text: NFKC (full-width digits are digits), format
# characters (zero-width spaces and joiners, soft hyphens, BOM, direction marks) dropped, every
# dash a '-' and every space a ' '; and up to three spaces, dashes or dots may stand between the
# digits of a number, so that 370602 19680722 3341, 139-8765-4321 and +86 139 8765 4321 are the
# numbers they are. What it finds is replaced in the text as written; the rest is kept as is.

_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63",
                                      "-"))
# \uXXXX, \xXX escapes as repr() and JSON write them in log lines
_ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|x([0-9a-fA-F]{2})|U([0-9a-fA-F]{8}))")


def _view(text: str, escapes: bool = False) -> tuple[str, list[int], list[int]]:
    """The normalised view of ``text``, and for each of its characters the span of the original
    characters it comes from (start and end index lists)."""
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    index, length = 0, len(text)
    while index < length:
        char, end = text[index], index + 1
        if escapes and char == "\\" and (escape := _ESCAPE.match(text, index)):
            code = int(escape[1] or escape[2] or escape[3], 16)
            if code < 0x110000:
                decoded = chr(code)
                if unicodedata.category(decoded) == "Cf" or decoded.isspace() or \
                        unicodedata.normalize("NFKC", decoded).isalnum():
                    char, end = decoded, escape.end()
        if char.isascii():
            folded = " " if char.isspace() else char
        elif unicodedata.category(char) == "Cf":
            index = end
            continue
        else:
            folded = unicodedata.normalize("NFKC", char).translate(_DASHES)
        for c in folded:
            chars.append(" " if c.isspace() else c)
            starts.append(index)
            ends.append(end)
        index = end
    return "".join(chars), starts, ends


_SEP = r"[ .\-]{0,3}"  # between the digits of a number
_NOT_BEFORE = r"(?<![0-9A-Za-z])"
_NOT_AFTER = r"(?![0-9A-Za-z])"
_ID18 = re.compile(rf"{_NOT_BEFORE}\d(?:{_SEP}\d){{16}}{_SEP}[\dXx]{_NOT_AFTER}")
_ID15 = re.compile(rf"{_NOT_BEFORE}\d(?:{_SEP}\d){{14}}{_NOT_AFTER}")
# +86 / 0086 / (+86) / 86 before a mobile: the country code stays, the number is masked
_MOBILE = re.compile(rf"(?<![0-9A-Za-z+])(?:(?:\+|00){_SEP}86{_SEP}|\({_SEP}(?:\+|00)?86{_SEP}\)"
                     rf"{_SEP}|86{_SEP})?(?P<number>1{_SEP}[3-9](?:{_SEP}\d){{9}}){_NOT_AFTER}")
_LANDLINE = re.compile(rf"{_NOT_BEFORE}(?P<area>\({_SEP}0\d{{2,3}}{_SEP}\)|0\d{{2,3}}){_SEP}"
                       rf"[2-9](?:{_SEP}\d){{6,7}}{_NOT_AFTER}")
_CARD = re.compile(rf"{_NOT_BEFORE}(?:\d{{16,19}}|\d{{4}}(?:[ \-]{{1,3}}\d{{4}}){{3}}"
                   rf"(?:[ \-]{{0,3}}\d{{1,3}})?){_NOT_AFTER}")
_ACCOUNT = re.compile(rf"(?:银行卡|银行账户|银行账号|银行帐号|账号|帐号|账户|卡号)(?:号码|号)?"
                      rf"[:：为是]?{_SEP}(?P<number>\d(?:{_SEP}\d){{7,29}}){_NOT_AFTER}")

# Addresses: a sequence of place components, from the province down to the room. Names are CJK
# without the words that join a sentence (的, 在, 于, 住 …) and without 省市区县, so that an
# address starts where the sentence hands over to it.
_CJK = "\u3400-\u4dbf\u4e00-\u9fff"
_NAME = rf"(?:(?![的在于住是了将向从到和与及等其被把对经因为系称该并且而或由自至省市区县])[{_CJK}])"
_ADMIN_KEPT = r"特别行政区|自治区|自治州|自治县|自治旗|开发区|高新区|新区|地区|省|市|州|盟|区|县|旗"
_ADMIN = rf"{_NAME}{{1,8}}(?:{_ADMIN_KEPT}|街道|镇|乡)"
# a street or estate that names an office, a court, a market … is not a home
_NOT_ORGANISATION = (r"(?![道办委局院所处队站厅会派政店村]"
                     r"|中心|公司|医院|学校|市场|商场|超市|酒店|宾馆)")
_STREET = (rf"{_NAME}{{1,8}}"
           r"(?:大街|大道|胡同|新村|小区|社区|花园|公寓|大厦|家园|路|街|巷|弄|村|屯|苑)")
_NUMBER = (r"(?:\d+(?:-\d+)*|[一二三四五六七八九十百零〇两]+|[A-Za-z])"
           r"(?:号院|号楼|号|栋|幢|座|单元|楼|层|室|户|组)(?:(?<=[元楼栋幢])\d{1,5}(?![\d年月日元万时分秒室户号]))?")
# each component atomic: a text of many place-like words cannot make the search backtrack
_LOW = rf"(?>{_STREET}{_NOT_ORGANISATION}|{_NUMBER})"
_ADDRESS = rf"(?>{_ADMIN}){{1,6}}{_LOW}+|{_LOW}{{2,}}"
_ADDRESS_IN_TEXT = re.compile(_ADDRESS)
_KEPT_PREFIX = re.compile(rf"{_NAME}{{1,8}}(?:{_ADMIN_KEPT})")
_PERSONAL_CUES = (r"家庭住址|家庭地址|现住址|住址|户籍地址|户籍所在地|户籍地|户籍|"
                  r"居住地址|居住地|现住|家住|暂住|居住于|居住在|住在")
_NEUTRAL_CUES = r"联系地址|通讯地址|通信地址|地址|住所地|住所"
_CUE_BODY = (rf"(?P<body>(?>{_ADMIN}|{_LOW})+"
             r"|(?:(?![的在于])[^，。；;,、()\[\]【】<>《》\"'“”‘’\s#])"
             r"{1,20})")
_PERSONAL_CUE = re.compile(rf"(?:{_PERSONAL_CUES})[:：为是在于]?\s*{_CUE_BODY}"
                           rf"|(?<![居暂现家])住[在于]?(?P<address>{_ADDRESS})")
_NEUTRAL_CUE = re.compile(rf"(?:{_NEUTRAL_CUES})[:：为是在于]?\s*{_CUE_BODY}")
_ADDRESS_CHARS = frozenset("省市区县镇乡街道路巷弄村屯苑号栋幢座单元楼层室户组址住所籍")


def _number(text: str) -> str:
    return re.sub(r"[^0-9Xx]", "", text).upper()


def _valid_date(year: str, month: str, day: str) -> bool:
    try:
        dt.date(int(year), int(month), int(day))
    except ValueError:
        return False
    return True


def _identity_number(number: str, strict: bool) -> bool:
    """Whether 18 or 15 digits are a resident identity number: a birth date where it belongs; with
    ``strict`` (fields of codes and document numbers, which have long numbers of their own) the
    check character too. A valid credit code made of digits is not one."""
    if len(number) == 15:
        return _valid_date("19" + number[6:8], number[8:10], number[10:12]) and (
            not strict or codes.ric_error(number) is None)
    if number[6:8] not in ("18", "19", "20") or not _valid_date(number[6:10], number[10:12],
                                                                  number[12:14]):
        return False
    checked = number[17] == stdnum_ric.calc_check_digit(number)
    if strict:
        return checked
    return checked or codes.uscc_error(number) is not None


def _masked_id(number: str) -> str:
    """370602********123X: region and last four kept, the birth date hidden; 15 digits:
    370602******123."""
    if len(number) == 15:
        return number[:6] + "*" * 6 + number[-3:]
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


class _Masking:
    """One text being masked: what was found (spans of the view and their replacements)."""

    def __init__(self, text: str, escapes: bool = False) -> None:
        self.text = text
        self.view, self.starts, self.ends = _view(text, escapes)
        self.found: list[tuple[int, int, str]] = []

    def claim(self, start: int, end: int, replacement: str) -> None:
        self.found.append((start, end, replacement))
        # claimed characters are no digits or names for the kinds searched after them
        self.view = self.view[:start] + "#" * (end - start) + self.view[end:]

    def scan(self, pattern: re.Pattern[str], replace: Any, group: int | str = 0) -> None:
        """Every match of ``pattern`` that ``replace`` accepts (a replacement, or None), trying
        each position so that a rejected candidate never hides one that overlaps it."""
        position = 0
        while (match := pattern.search(self.view, position)) is not None:
            replacement = replace(match)
            if replacement is None:
                position = match.start() + 1
                continue
            start, end = match.span(group)
            self.claim(start, end, replacement)
            position = match.end()

    def result(self) -> str:
        if not self.found:
            return self.text
        out, position = [], 0
        for start, end, replacement in sorted(self.found):
            begin = self.starts[start]
            if begin < position:  # a view character of several original ones, already out
                continue
            out += [self.text[position:begin], replacement]
            position = self.ends[end - 1]
        out.append(self.text[position:])
        return "".join(out)


def _identities(masking: _Masking, strict: bool) -> None:
    def identity(match: re.Match[str]) -> str | None:
        number = _number(match[0])
        return _masked_id(number) if _identity_number(number, strict) else None

    masking.scan(_ID18, identity)
    masking.scan(_ID15, identity)


def _mobiles(masking: _Masking) -> None:
    def mobile(match: re.Match[str]) -> str:
        number = _number(match["number"])
        return number[:3] + "****" + number[-4:]

    masking.scan(_MOBILE, mobile, "number")


def _cards(masking: _Masking) -> None:
    def card(match: re.Match[str]) -> str:
        number = _number(match["number"] if "number" in match.re.groupindex else match[0])
        return "*" * (len(number) - 4) + number[-4:]

    masking.scan(_ACCOUNT, card, "number")
    masking.scan(_CARD, card)


def _landlines(masking: _Masking) -> None:
    masking.scan(_LANDLINE, lambda m: _number(m["area"]) + "-********")


def _addresses(masking: _Masking, person: bool, places: bool = True) -> None:
    if not _ADDRESS_CHARS.intersection(masking.view):
        return

    def cue(match: re.Match[str]) -> str:
        return "***"

    def address(match: re.Match[str]) -> str:
        # the city and district stay (烟台市芝罘区***), the rest is hidden
        kept, position = [], match.start()
        while (part := _KEPT_PREFIX.match(masking.view, position, match.end())) is not None \
                and part.end() < match.end():
            kept.append(part[0])
            position = part.end()
        return "".join(kept) + "***"

    masking.scan(_PERSONAL_CUE, lambda m: cue(m) if m["body"] else None, "body")
    masking.scan(_PERSONAL_CUE, lambda m: cue(m) if m["address"] else None, "address")
    if person:  # a firm's address, with or without 地址/住所, is public
        masking.scan(_NEUTRAL_CUE, cue, "body")
        if places:
            masking.scan(_ADDRESS_IN_TEXT, address)


def _has_digits_or_places(text: str) -> bool:
    return any(c.isdigit() for c in text) or not text.isascii()


def mask_id(value: str) -> str:
    """An identity document's number: 370602********123X (region and last four kept, the birth
    date hidden), 370602******123 for a 15-digit one; another document's number keeps its first
    and last two characters."""
    text = _view(value)[0]
    number = re.sub(r"[ .\-]", "", text).upper()
    if re.fullmatch(r"\d{17}[\dX]|\d{15}", number):
        return _masked_id(number)
    if len(number) > 4:
        return number[:1] + "*" * (len(number) - 3) + number[-2:]
    return "*" * len(number)


def mask_text(text: str, *, person: bool = True, places: bool = True) -> str:
    """Free text with identity numbers, mobiles, bank cards, and (``person``: in the record of a
    natural person, who is the default) landlines and addresses hidden; home addresses after 住址,
    家住, 户籍 … are hidden in any record. Without ``places``, an address needs such a word (a
    个体工商户's name, 芝罘区幸福路老张烧烤店, names its street)."""
    if not text or not _has_digits_or_places(text):
        return text
    masking = _Masking(text)
    _identities(masking, strict=False)
    _cards(masking)
    _mobiles(masking)
    if person:
        _landlines(masking)
    _addresses(masking, person, places)
    return masking.result()


def mask_identifiers(text: str) -> str:
    """Identity numbers and mobile phones hidden, in any form (for log lines: narrower than
    ``mask_text``, so that timestamps and other long numbers of a log stay readable; escapes
    such as \\u200b that repr() and JSON write are read as the characters they stand for)."""
    if not text or not any(c.isdigit() for c in text):
        return text
    masking = _Masking(text, escapes=True)
    _identities(masking, strict=False)
    _mobiles(masking)
    return masking.result()


def _mask_identifier_field(text: str) -> str:
    """Codes and document numbers: identity numbers (with a valid check character, as these
    fields have long numbers of their own) and mobiles hidden, nothing else touched."""
    if not text or not any(c.isdigit() for c in text):
        return text
    masking = _Masking(text)
    _identities(masking, strict=True)
    _mobiles(masking)
    return masking.result()


def _mask_authority_field(text: str) -> str:
    """The authority's name: identity numbers, mobiles and cards hidden; its own landline and
    address (a 街道办事处's name reads like one) are public."""
    if not text or not any(c.isdigit() for c in text):
        return text
    masking = _Masking(text)
    _identities(masking, strict=False)
    _cards(masking)
    _mobiles(masking)
    return masking.result()


_ID_FIELDS = frozenset({ID_NUMBER, REP_ID})
_IDENTIFIER_FIELDS = frozenset({*PARTY_CODES, LICENSE_DOC_NO, PENALTY_DOC_NO, LICENSE_NO,
                                LICENSE_AUTHORITY_CODE, PENALTY_AUTHORITY_CODE, SOURCE_CODE})
_AUTHORITY_FIELDS = frozenset({LICENSE_AUTHORITY, PENALTY_AUTHORITY, SOURCE})


def mask(record_type: str, fields: Mapping[str, str]) -> dict[str, str]:
    """The public form of a record: the standard's fields only, personal data hidden in every one.

    Identity numbers of parties and legal representatives are masked whatever the category (a
    个体工商户's operator is a person too). Every other field loses any identity number, mobile or
    bank card written into it, in any form; codes and document numbers keep their own long
    numbers, the authority and the party their names. Landlines and addresses are a person's in
    the record of a natural person or a 个体工商户 (or of a party of unknown category) and hidden
    there; in the record of a 法人及非法人组织 they are the firm's and public, except a home
    address (住址, 家住, 户籍 …). Columns the standard does not have are not part of the public
    form at all.
    """
    person = _term(fields.get(CATEGORY) or "") != CATEGORY_ORG
    public: dict[str, str] = {}
    for name in FIELDS[record_type]:
        value = fields.get(name) or ""
        if not value:
            pass
        elif name in _ID_FIELDS:
            value = mask_id(value)
        elif name in _IDENTIFIER_FIELDS:
            value = _mask_identifier_field(value)
        elif name in _AUTHORITY_FIELDS:
            value = _mask_authority_field(value)
        elif name in (NAME, LEGAL_REP):
            value = mask_text(value, person=person, places=False)
        else:
            value = mask_text(value, person=person)
        public[name] = value
    return public


def record_key(record_type: str, fields: Mapping[str, str]) -> str:
    """The record's identity within a resource: its document number and party, so that a record
    sent again (corrected or not) replaces itself. Without a document number: its whole content."""
    number = fields.get(DOC_NUMBER[record_type]) or (
        fields.get(LICENSE_NO) if record_type == "license" else "")
    if number:
        party = fields.get(USCC) or fields.get(ID_NUMBER) or fields.get(NAME) or ""
        basis = "\x1f".join((record_type, _header_key(number), codes.normalise_uscc(party)))
    else:
        basis = "\x1f".join((record_type, *(f"{k}={fields[k]}" for k in sorted(fields))))
    return hashlib.sha256(basis.encode()).hexdigest()[:32]
