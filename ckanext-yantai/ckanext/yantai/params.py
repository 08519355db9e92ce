"""Strict reading of API parameters: dates, date-times, months and whole numbers.

A value is read whole or not at all: ``"2027-01-01'; drop"`` is not a date, ``"1e3"`` and
``True`` are not numbers, ``"２０２６-０１"`` is not a month. Years outside ``YEARS`` are refused
as absurd (and the working-day calendar, PostgreSQL and ``datetime`` all end somewhere).
Pure functions: each answers the value or None; the caller words the error.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

YEARS = range(1900, 2101)
ANY_YEAR = range(dt.MINYEAR, dt.MAXYEAR + 1)
# ASCII digits only (``\d`` matches full-width and other scripts' digits too).
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})?")
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
_WHOLE = re.compile(r"[+-]?[0-9]{1,18}")
# The largest number PostgreSQL's LIMIT and OFFSET take (bigint).
MAX_BIGINT = 2 ** 63 - 1


def flag(value: Any) -> bool:
    """A yes/no parameter: true, "true", "1", "yes" or "on" (any case) are yes; anything else no."""
    return value is True or str(value).strip().lower() in ("true", "1", "yes", "on")


def date(value: Any, years: range = YEARS) -> dt.date | None:
    """A date given as exactly ``YYYY-MM-DD`` (or a ``datetime.date``) in ``years``."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value if value.year in years else None
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return None
    return day if day.year in years else None


def datetime(value: Any) -> dt.datetime | None:
    """A date (midnight) or a date and time in ISO 8601 (``T`` or a space, optional seconds,
    fraction and zone), read whole, in ``YEARS``. Aware values are given in UTC, naive."""
    if not isinstance(value, str):
        return None
    if _DATE.fullmatch(value):
        day = date(value)
        return dt.datetime.combine(day, dt.time()) if day else None
    if not _DATETIME.fullmatch(value):
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is not None:
        try:
            moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
        except OverflowError:  # 9999-12-31T23:59-01:00
            return None
    return moment if moment.year in YEARS else None


def aware_datetime(value: Any) -> dt.datetime | None:
    """A date and time in ISO 8601 with its zone (``Z`` or ``+08:00``), read whole, in
    ``YEARS`` (also in UTC), given in UTC."""
    if not isinstance(value, str) or not _DATETIME.fullmatch(value) or not re.search(
            r"(Z|[+-][0-9]{2}:[0-9]{2})$", value):
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        utc = moment.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        return None
    return utc if moment.year in YEARS and utc.year in YEARS else None


def month(value: Any) -> dt.date | None:
    """The first day of a month given as exactly ``YYYY-MM``, in ``YEARS``."""
    match = _MONTH.fullmatch(value) if isinstance(value, str) else None
    if match is None or not 1 <= int(match[2]) <= 12 or int(match[1]) not in YEARS:
        return None
    return dt.date(int(match[1]), int(match[2]), 1)


def whole(value: Any, low: int = 0, high: int = MAX_BIGINT) -> int | None:
    """A whole number (an int, not a bool, or its decimal text) between ``low`` and ``high``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and _WHOLE.fullmatch(value.strip()):
        value = int(value.strip())
    if not isinstance(value, int) or not low <= value <= high:
        return None
    return value


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later (the month's last day where it is shorter)."""
    index = day.year * 12 + day.month - 1 + months
    year, month_ = divmod(index, 12)
    if not dt.MINYEAR <= year <= dt.MAXYEAR:
        raise OverflowError(f"year {year} is out of range")
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month_ + 1, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


MAX_DEPTH = 64  # lists and objects inside each other in one request (CKAN's own go 4 deep)


# What no text column of PostgreSQL (nor UTF-8) can hold: NUL and lone UTF-16 surrogates
# (JSON's "\u0000" and "\ud800" decode to them).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable(value: Any) -> bool:
    """Whether a string anywhere in ``value`` (keys of objects too) holds a character no text
    column can store (walked without recursion, like ``too_deep``)."""
    stack = [value]
    while stack:
        current = stack.pop()
        if isinstance(current, str):
            if _UNSTORABLE.search(current):
                return True
        elif isinstance(current, dict):
            stack.extend(current.keys())
            stack.extend(current.values())
        elif isinstance(current, (list, tuple)):
            stack.extend(current)
    return False


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether lists and dicts nest more than ``limit`` deep (counted without recursion: a value
    nested thousands deep breaks every recursive walk after it, json's and the validators')."""
    stack = [(value, 1)]
    while stack:
        current, depth = stack.pop()
        if isinstance(current, dict):
            current = list(current.values())
        if isinstance(current, list):
            if depth > limit:
                return True
            stack.extend((inner, depth + 1) for inner in current)
    return False
