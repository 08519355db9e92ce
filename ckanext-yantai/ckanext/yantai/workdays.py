"""Working days of the State Council's holiday schedule (放假调休), for deadlines counted in them.

Two deadlines of the portal count working days: a 双公示 record is published online within 7 working
days of the administrative decision (发改办财金〔2018〕424号), and an access request is reviewed
within 5 working days (configurable) of its submission. Counting follows 民法典 §201 and §203 and
行政许可法 §82: the starting day is not counted; weekends and holidays are off, but the make-up
workdays (调休, usually a Saturday or Sunday) are worked. Dates are Chinese dates: a timestamp is
converted to Asia/Shanghai before its date is taken (``local_date``).

The schedule is a table of years (``config/calendars/cn-workdays.yaml``, see the README there): for
each year the notice it comes from, the weekdays off and the weekend days worked. A year that the
table lacks is never guessed from weekends: asking about it raises ``CalendarMissing``, so that the
missing notice gets added instead of a deadline coming out wrong.

Everything here is pure: ``config.calendar()`` names the tables (the shipped one and the configured
override) and ``calendar_of`` reads them.
"""
from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

SHANGHAI = ZoneInfo("Asia/Shanghai")
# The canonical table: config/calendars/ at the top of the repository, reached through the
# package's symlink ``calendars`` and carried in the wheel as package data.
SHIPPED_TABLE = Path(__file__).resolve().parent / "calendars" / "cn-workdays.yaml"

DISCLOSURE_WORKDAYS = 7  # 双公示: 自作出行政决定之日起7个工作日内上网公开


class CalendarMissing(LookupError):
    """The table has no schedule for a year that a computation needs.

    Attributes:
        year: The year to add (from the State Council's notice for it).
    """

    def __init__(self, year: int) -> None:
        self.year = year
        super().__init__(
            f"The working-day calendar has no schedule for {year}: add the State Council's notice "
            f"for {year} (config/calendars/README.md)"
        )


class CalendarError(ValueError):
    """A calendar table that cannot be used as it is (the message says where and why)."""


@dataclass(frozen=True)
class Notice:
    """A document that a year's schedule comes from.

    Attributes:
        title: The notice's title, e.g. 国务院办公厅关于2024年部分节假日安排的通知.
        number: Its document number (国办发明电〔2023〕7号), None when not verified.
        url: Where it is published (gov.cn), None when not known.
        note: What it changed, for notices that amend another year's schedule.
    """

    title: str
    number: str | None = None
    url: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class YearSchedule:
    """One year of the table.

    Attributes:
        year: The calendar year; every date below falls in it.
        holidays: Weekdays (Monday to Friday) that are off, with the holiday's name.
        workdays: Weekend days that are worked (调休上班), with the holiday they make up for.
        source: The year's notice.
        amended_by: Later or other notices that changed days of this year (a mid-year change,
            or the next year's notice moving days at the end of December).
        version: Raised whenever the year's days or sources change.
        updated: When this year's entry last changed.
    """

    year: int
    holidays: Mapping[dt.date, str]
    workdays: Mapping[dt.date, str]
    source: Notice
    amended_by: tuple[Notice, ...] = ()
    version: int = 1
    updated: dt.date | None = None


@dataclass(frozen=True)
class Calendar:
    """Working days for the years of a table; any other year raises ``CalendarMissing``."""

    schedules: Mapping[int, YearSchedule] = field(default_factory=dict)

    @classmethod
    def from_files(cls, *paths: str | os.PathLike[str]) -> Calendar:
        """Load tables; a year in a later file replaces the same year of an earlier one.

        Args:
            *paths: YAML tables, e.g. the shipped table and then an administrator's override.

        Raises:
            CalendarError: A table is malformed.
            OSError: A file cannot be read.
        """
        schedules: dict[int, YearSchedule] = {}
        for path in paths:
            with open(path, encoding="utf-8") as f:
                data = yaml.safe_load(f)
            for schedule in parse_table(data, origin=str(path)):
                schedules[schedule.year] = schedule
        return cls(schedules)

    @property
    def years(self) -> tuple[int, ...]:
        return tuple(sorted(self.schedules))

    def covers(self, year: int) -> bool:
        """Whether the table has the schedule of ``year``."""
        return year in self.schedules

    def schedule(self, year: int) -> YearSchedule:
        """The schedule of ``year``.

        Raises:
            CalendarMissing: The table does not cover ``year``.
        """
        try:
            return self.schedules[year]
        except KeyError:
            raise CalendarMissing(year) from None

    def is_workday(self, day: dt.date) -> bool:
        """Whether ``day`` is a working day: a weekday that is not off, or a make-up workday.

        Raises:
            CalendarMissing: The table does not cover the day's year.
            TypeError: ``day`` is a datetime (take its Chinese date with ``local_date`` first).
        """
        _check_date(day)
        schedule = self.schedule(day.year)
        if day.weekday() >= 5:
            return day in schedule.workdays
        return day not in schedule.holidays

    def add_workdays(self, start: dt.date, n: int) -> dt.date:
        """The ``n``-th working day after ``start``; ``start`` itself is not counted.

        Args:
            start: The day the period runs from (a decision, a submission), working day or not.
            n: How many working days; 0 gives ``start``.

        Raises:
            CalendarMissing: A year that the count runs through is not covered.
            ValueError: ``n`` is negative.
        """
        _check_date(start)
        if n < 0:
            raise ValueError(f"cannot count {n} working days")
        day = start
        while n:
            if day == dt.date.max:  # the count would run past datetime's last year
                raise CalendarMissing(day.year)
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                n -= 1
        return day

    def workdays_between(self, a: dt.date, b: dt.date) -> int:
        """Working days after ``a`` up to and including ``b`` (0 unless ``b`` is after ``a``).

        With ``a`` a deadline and ``b`` the day something happened: how many working days late.

        Raises:
            CalendarMissing: A year between the two days is not covered.
        """
        # Memoised on the instance: a million records have a few thousand (deadline, day) pairs.
        memo = self.__dict__.setdefault("_between", {})
        key = (a, b)
        count = memo.get(key)
        if count is None:
            if len(memo) > 200_000:
                memo.clear()
            count = memo[key] = self._workdays_between(a, b)
        return count

    def _workdays_between(self, a: dt.date, b: dt.date) -> int:
        _check_date(a)
        _check_date(b)
        if b <= a:
            return 0
        if a.year == b.year:
            return self._running(b) - self._running(a)
        count = self._running(dt.date(a.year, 12, 31)) - self._running(a)
        for year in range(a.year + 1, b.year):
            count += self._running(dt.date(year, 12, 31))
        return count + self._running(b)

    def _running(self, day: dt.date) -> int:
        """Working days from 1 January of ``day``'s year up to and including ``day``.

        Raises:
            CalendarMissing: The table does not cover the year.
        """
        # Counted once per year and kept on the instance (the dataclass is frozen, its __dict__
        # is not): a million records count late days without walking the calendar each time.
        running = self.__dict__.setdefault("_running_counts", {})
        year = running.get(day.year)
        if year is None:
            schedule = self.schedule(day.year)
            counts, total = [], 0
            first = dt.date(day.year, 1, 1)
            for offset in range((dt.date(day.year + 1, 1, 1) - first).days):
                current = first + dt.timedelta(days=offset)
                if current.weekday() >= 5:
                    total += current in schedule.workdays
                else:
                    total += current not in schedule.holidays
                counts.append(total)
            year = running[day.year] = (first.toordinal(), counts)
        return year[1][day.toordinal() - year[0]]


def local_date(moment: dt.datetime) -> dt.date:
    """The date in China (Asia/Shanghai) of an aware datetime.

    Raises:
        ValueError: ``moment`` is naive: which day it was in China cannot be told.
        TypeError: ``moment`` is not a datetime.
    """
    if not isinstance(moment, dt.datetime):
        raise TypeError(f"expected a datetime, got {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: give its time zone")
    return moment.astimezone(SHANGHAI).date()


def disclosure_deadline(calendar: Calendar, decision_date: dt.date) -> dt.date:
    """Last day to publish a 双公示 record online: the 7th working day after the decision."""
    return calendar.add_workdays(decision_date, DISCLOSURE_WORKDAYS)


def review_deadline(calendar: Calendar, submitted: dt.datetime, workdays: int) -> dt.date:
    """Last day to review an access request: the n-th working day after its submission date.

    Args:
        calendar: The working days.
        submitted: When the request was submitted (aware).
        workdays: The review period (``config.access_review_workdays()``, 5 by default).
    """
    return calendar.add_workdays(local_date(submitted), workdays)


# -- the table ------------------------------------------------------------------------------------

def parse_table(data: Any, origin: str = "<table>") -> list[YearSchedule]:
    """The schedules of a loaded YAML table (the format of config/calendars/cn-workdays.yaml).

    Args:
        data: The parsed document: a mapping with a ``years`` list.
        origin: Names the table in error messages (its path).

    Raises:
        CalendarError: The table is malformed: a day outside its year, a weekend day listed as
            off or a weekday as worked, a day listed twice, a year listed twice, a missing source.
    """
    if not isinstance(data, Mapping) or not isinstance(data.get("years") or [], list):
        raise CalendarError(f"{origin}: expected a mapping with a list `years`")
    schedules: list[YearSchedule] = []
    seen: set[int] = set()
    for entry in data.get("years") or []:
        schedule = _parse_year(entry, origin)
        if schedule.year in seen:
            raise CalendarError(f"{origin}: year {schedule.year} is listed twice")
        seen.add(schedule.year)
        schedules.append(schedule)
    return schedules


def _parse_year(entry: Any, origin: str) -> YearSchedule:
    if not isinstance(entry, Mapping) or not isinstance(entry.get("year"), int):
        raise CalendarError(f"{origin}: every entry of `years` needs an integer `year`")
    year: int = entry["year"]
    where = f"{origin}, year {year}"
    holidays = _parse_days(entry.get("holidays") or [], year, f"{where}, holidays")
    workdays = _parse_days(entry.get("workdays") or [], year, f"{where}, workdays")
    for day in holidays:
        if day.weekday() >= 5:
            raise CalendarError(f"{where}: {day} is a weekend day, off anyway; list only weekdays "
                                f"under `holidays`")
    for day in workdays:
        if day.weekday() < 5:
            raise CalendarError(f"{where}: {day} is a weekday, worked anyway; list only weekend "
                                f"days under `workdays`")
    if not isinstance(entry.get("source"), Mapping):
        raise CalendarError(f"{where}: give the `source` notice (title, number, url)")
    version = entry.get("version", 1)
    updated = entry.get("updated")
    if not isinstance(version, int) or not (updated is None or isinstance(updated, dt.date)):
        raise CalendarError(f"{where}: `version` is an integer and `updated` a date")
    return YearSchedule(
        year=year,
        holidays=holidays,
        workdays=workdays,
        source=_parse_notice(entry["source"], where),
        amended_by=tuple(_parse_notice(n, where) for n in entry.get("amended_by") or []),
        version=version,
        updated=updated,
    )


def _parse_days(items: Any, year: int, where: str) -> dict[dt.date, str]:
    if not isinstance(items, list):
        raise CalendarError(f"{where}: expected a list of {{date, name}}")
    days: dict[dt.date, str] = {}
    for item in items:
        if not isinstance(item, Mapping):
            raise CalendarError(f"{where}: expected {{date, name}}, got {item!r}")
        day = _as_date(item.get("date"), where)
        if day.year != year:
            raise CalendarError(f"{where}: {day} is not in {year}")
        if day in days:
            raise CalendarError(f"{where}: {day} is listed twice")
        days[day] = str(item.get("name") or "")
    return days


def _as_date(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise CalendarError(f"{where}: {value!r} is not a date (YYYY-MM-DD)") from None


def _parse_notice(value: Any, where: str) -> Notice:
    if not isinstance(value, Mapping) or not value.get("title"):
        raise CalendarError(f"{where}: a source needs at least its `title`")
    return Notice(
        title=str(value["title"]),
        number=value.get("number") or None,
        url=value.get("url") or None,
        note=value.get("note") or None,
    )


def _check_date(day: Any) -> None:
    if isinstance(day, dt.datetime) or not isinstance(day, dt.date):
        raise TypeError(f"expected a date, got {type(day).__name__} (use local_date() for "
                        f"timestamps)")


# -- the portal's calendar ------------------------------------------------------------------------

_loaded: tuple[tuple[tuple[str, int, int], ...], Calendar] | None = None


def calendar_of(*paths: Path) -> Calendar:
    """The calendar of these tables (a year in a later one replaces the same year of an earlier
    one), read again when one of the files changes, so that a year an administrator adds takes
    effect without a restart. ``config.calendar()`` gives the portal's.

    Raises:
        CalendarError: A table is malformed (the error names the file and the year).
        OSError: A table is missing or unreadable.
    """
    key = tuple((str(p), (s := p.stat()).st_mtime_ns, s.st_size) for p in paths)
    global _loaded
    if _loaded is None or _loaded[0] != key:
        _loaded = (key, Calendar.from_files(*paths))
    return _loaded[1]
