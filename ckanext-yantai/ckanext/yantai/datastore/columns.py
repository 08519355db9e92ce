"""The type of each DataStore column, and each value as that type (pure).

A column's type is, in this order: the editor's correction in CKAN's Data Dictionary
(``type_override``); the 数据类型 of the dataset's 信息项 of that name (数值型 numeric, 日期型 date,
日期时间型 timestamptz, 布尔型 boolean, 字符型 and 二进制 text); else what its values are, when
every one of them is a number (not a code: no leading zero, at most 15 digits), a date or a date
and time. A column whose values do not all fit the type it was given is loaded as text, as
written, so that nothing is lost, and its misfits are reported (the quality check counts them).

Values are written as PostgreSQL reads them: numbers without thousands separators, dates in ISO
form (2026年3月1日 is 2026-03-01), times with their offset (a time without one is Beijing time).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from ckanext.yantai.disclosure.intake import BadValue, parse_date
from ckanext.yantai.workdays import SHANGHAI

# 信息项 数据类型 → column type
ITEM_TYPES = {"number": "numeric", "date": "date", "datetime": "timestamptz",
              "boolean": "boolean", "string": "text", "binary": "text"}
# the types the Data Dictionary's correction may set (CKAN's and these)
OVERRIDES = ("text", "numeric", "date", "timestamptz", "timestamp", "boolean")
INFERRED = ("numeric", "date", "timestamptz")  # tried in this order for a column of no type
MAX_MISFITS = 20  # reported per column

_NUMBER = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$|^[+-]?\.\d+$")
_DATETIME = re.compile(
    r"^(?P<y>\d{4})[-/.年](?P<m>\d{1,2})[-/.月](?P<d>\d{1,2})日?[ T]+"
    r"(?P<H>\d{1,2})[:时](?P<M>\d{1,2})(?:[:分](?P<S>\d{1,2})(?:\.(?P<f>\d{1,6}))?秒?)?"
    r"\s*(?P<z>Z|[+-]\d{2}:?\d{2})?$")
_TRUE = frozenset({"是", "true", "t", "yes", "y", "1", "真"})
_FALSE = frozenset({"否", "false", "f", "no", "n", "0", "假"})


def item_key(name: str) -> str:
    """A column or 信息项 name as matched: NFKC, without spaces, case-folded."""
    return "".join(unicodedata.normalize("NFKC", name).split()).casefold()


def item_types(info_items: Iterable[Mapping[str, Any]] | None) -> dict[str, str]:
    """Column type by ``item_key`` of the dataset's 信息项."""
    types = {}
    for item in info_items or ():
        if isinstance(item, Mapping) and item.get("name"):
            kind = ITEM_TYPES.get(str(item.get("data_type") or ""))
            if kind:
                types[item_key(str(item["name"]))] = kind
    return types


class Misfit(ValueError):
    pass


def number(text: str) -> str:
    value = unicodedata.normalize("NFKC", text).strip()
    if not _NUMBER.match(value):
        raise Misfit(text)
    try:
        return str(Decimal(value.replace(",", "")))
    except InvalidOperation:
        raise Misfit(text) from None


def date(text: str) -> str:
    try:
        return parse_date(text).isoformat()
    except BadValue:
        raise Misfit(text) from None


def timestamp(text: str) -> str:
    value = unicodedata.normalize("NFKC", text).strip()
    match = _DATETIME.match(value)
    try:
        if match:
            moment = dt.datetime(int(match["y"]), int(match["m"]), int(match["d"]),
                                 int(match["H"]), int(match["M"]), int(match["S"] or 0),
                                 int((match["f"] or "0").ljust(6, "0")))
            if match["z"]:
                moment = dt.datetime.fromisoformat(moment.isoformat() + (
                    "+00:00" if match["z"] == "Z" else match["z"]))
        else:
            moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise Misfit(text) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=SHANGHAI)
    return moment.isoformat()


def boolean(text: str) -> str:
    value = unicodedata.normalize("NFKC", text).strip().casefold()
    if value in _TRUE:
        return "true"
    if value in _FALSE:
        return "false"
    raise Misfit(text)


def naive_timestamp(text: str) -> str:
    """For CKAN's ``timestamp`` columns (no zone): Beijing time."""
    try:
        moment = dt.datetime.fromisoformat(timestamp(text)).astimezone(SHANGHAI)
    except OverflowError:  # 9999-12-31T23:59:59-12:00 is past the last year in Beijing time
        raise Misfit(text) from None
    return moment.replace(tzinfo=None).isoformat()


CONVERT = {"numeric": number, "date": date, "timestamptz": timestamp, "boolean": boolean,
           "timestamp": naive_timestamp}


def inferable_number(text: str) -> bool:
    """A value that reads as a quantity, not a code written in digits (0535, a credit code)."""
    value = unicodedata.normalize("NFKC", text).strip().lstrip("+-")
    digits = value.split(".")[0].replace(",", "")
    return not (len(digits) > 1 and digits.startswith("0")) and len(digits) <= 15


@dataclasses.dataclass
class ColumnState:
    """What one column's values were, read once: for its declared type, or for each type it
    may yet be."""
    name: str
    declared: str | None  # the Data Dictionary's or the 信息项's type
    candidates: list[str] = dataclasses.field(default_factory=list)
    misfits: list[tuple[int, str]] = dataclasses.field(default_factory=list)
    misfit_count: int = 0
    filled: int = 0

    def __post_init__(self) -> None:
        self.candidates = [] if self.declared else list(INFERRED)

    def take(self, row: int, text: str) -> None:
        """Note a value of the column (in row ``row`` of the file)."""
        if not text.strip():
            return
        self.filled += 1
        if self.declared and self.declared != "text":
            try:
                CONVERT[self.declared](text)
            except Misfit:
                self.misfit_count += 1
                if len(self.misfits) < MAX_MISFITS:
                    self.misfits.append((row, text))
            return
        if self.candidates:
            kept = []
            for kind in self.candidates:
                try:
                    CONVERT[kind](text)
                except Misfit:
                    continue
                if kind != "numeric" or inferable_number(text):
                    kept.append(kind)
            self.candidates = kept

    @property
    def type(self) -> str:
        """The column's type, all values read."""
        if self.declared:
            return "text" if self.misfit_count else self.declared
        if self.filled and self.candidates:
            return self.candidates[0]
        return "text"


def final_value(kind: str, text: str) -> str:
    """A value in its column's type's form (every value of a typed column fits: ``type``)."""
    if kind == "text":
        return text
    if not text.strip():
        return ""  # NULL
    return CONVERT[kind](text)
