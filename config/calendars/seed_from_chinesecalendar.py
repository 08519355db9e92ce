"""Write cn-workdays.yaml from the pinned `chinesecalendar` package, with each year's notice.

    .venv/bin/python config/calendars/seed_from_chinesecalendar.py          # write the table
    .venv/bin/python config/calendars/seed_from_chinesecalendar.py --check  # exit 1 if stale

Idempotent: the years the package covers are rebuilt from it, and a year keeps its ``version`` and
``updated`` date unless its days or sources changed. Years the package does not cover (added by
hand, see README.md) are kept as they are. Every year the package covers needs its notice in
NOTICES below: the script refuses to write a year without provenance.
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Any

import chinese_calendar as cc
import yaml

TABLE = Path(__file__).resolve().with_name("cn-workdays.yaml")

# The State Council's notice for each year: (document number, URL). Numbers only where independent
# transcriptions of the notice agree; None otherwise. URLs as chinesecalendar's data script
# cites them (2026: the gov.cn policy library).
TITLE = "国务院办公厅关于{year}年部分节假日安排的通知"
NOTICES: dict[int, tuple[str | None, str | None]] = {
    2004: (None, "https://zh.wikisource.org/zh-hans/国务院办公厅关于2004年部分节假日安排的通知"),
    2005: (None, None),
    2006: (None, "http://www.gov.cn/jrzg/2005-12/22/content_133837.htm"),
    2007: (None, "http://www.gov.cn/fwxx/sh/2006-12/18/content_471877.htm"),
    2008: (None, "http://www.gov.cn/zwgk/2007-12/18/content_837184.htm"),
    2009: (None, "http://www.gov.cn/zwgk/2008-12/10/content_1174014.htm"),
    2010: (None, "http://www.gov.cn/zwgk/2009-12/08/content_1482691.htm"),
    2011: (None, "http://www.gov.cn/zwgk/2010-12/10/content_1762643.htm"),
    2012: (None, "http://www.gov.cn/zwgk/2011-12/06/content_2012097.htm"),
    2013: (None, "http://www.gov.cn/zwgk/2012-12/10/content_2286598.htm"),
    2014: (None, "http://www.gov.cn/zwgk/2013-12/11/content_2546204.htm"),
    2015: (None, "http://www.gov.cn/zhengce/content/2014-12/16/content_9302.htm"),
    2016: ("国办发明电〔2015〕18号",
           "http://www.gov.cn/zhengce/content/2015-12/10/content_10394.htm"),
    2017: ("国办发明电〔2016〕17号",
           "http://www.gov.cn/zhengce/content/2016-12/01/content_5141603.htm"),
    2018: ("国办发明电〔2017〕12号",
           "http://www.gov.cn/zhengce/content/2017-11/30/content_5243579.htm"),
    2019: ("国办发明电〔2018〕15号", "http://www.gov.cn/xinwen/2018-12/06/content_5346287.htm"),
    2020: ("国办发明电〔2019〕16号",
           "http://www.gov.cn/zhengce/content/2019-11/21/content_5454164.htm"),
    2021: ("国办发明电〔2020〕27号",
           "http://www.gov.cn/zhengce/content/2020-11/25/content_5564127.htm"),
    2022: ("国办发明电〔2021〕11号",
           "http://www.gov.cn/zhengce/content/2021-10/25/content_5644835.htm"),
    2023: ("国办发明电〔2022〕16号",
           "http://www.gov.cn/zhengce/content/2022-12/08/content_5730844.htm"),
    2024: ("国办发明电〔2023〕7号",
           "https://www.gov.cn/zhengce/content/202310/content_6911527.htm"),
    2025: ("国办发明电〔2024〕12号",
           "https://www.gov.cn/zhengce/content/202411/content_6986382.htm"),
    2026: ("国办发明电〔2025〕7号",
           "https://www.gov.cn/zhengce/zhengceku/202511/content_7047091.htm"),
}
NOTES: dict[int, str] = {
    2004: "Not found on gov.cn; the text as copied on Wikisource.",
    2005: "Not found on gov.cn; the dates as chinesecalendar has them from a copy of the text.",
}
# Notices that changed a year after its schedule was published.
AMENDMENTS: dict[int, list[dict[str, Any]]] = {
    2015: [{
        "title": "国务院关于中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日调休放假的通知",
        "number": None,
        "url": "http://www.gov.cn/zhengce/content/2015-05/13/content_9742.htm",
        "note": "3 to 5 September off (Thursday 3 September the anniversary, Friday 4 September "
                "in lieu); Sunday 6 September worked.",
    }],
    2019: [{
        "title": "国务院办公厅关于调整2019年劳动节假期安排的通知",
        "number": None,
        "url": "http://www.gov.cn/zhengce/content/2019-03/22/content_5375877.htm",
        "note": "Labour Day 1 to 4 May; Sundays 28 April and 5 May worked.",
    }],
    2020: [{
        "title": "国务院办公厅关于延长2020年春节假期的通知",
        "number": None,
        "url": "http://www.gov.cn/zhengce/content/2020-01/27/content_5472352.htm",
        "note": "Spring Festival extended to Sunday 2 February, so Friday 31 January off and "
                "Saturday 1 February no longer worked; work resumed Monday 3 February.",
    }],
}
# chinesecalendar's short names to the names of the holidays in the notices.
NAMES = {"清明": "清明节", "端午": "端午节", "中秋": "中秋节"}


def package_years() -> range:
    days = list(cc.holidays) + list(cc.workdays)
    return range(min(days).year, max(days).year + 1)


def holiday_name(english: str) -> str:
    chinese = cc.Holiday(english).chinese
    return NAMES.get(chinese, chinese)


def year_content(year: int) -> dict[str, Any]:
    """The year as the package has it: weekdays off, weekend days worked, and the notices."""
    if year not in NOTICES:
        sys.exit(f"No notice for {year}: add its title, number and URL to NOTICES first.")
    holidays = {d: holiday_name(n) for d, n in cc.holidays.items()
                if d.year == year and d.weekday() < 5}
    workdays = {d: holiday_name(n) for d, n in cc.workdays.items() if d.year == year}
    number, url = NOTICES[year]
    source = {"title": TITLE.format(year=year), "number": number, "url": url}
    if year in NOTES:
        source["note"] = NOTES[year]
    amended_by = list(AMENDMENTS.get(year, []))
    # The next year's notice sets the days around its New Year's Day, some in this December.
    if any(d.month == 12 for d in (*holidays, *workdays)):
        number, url = NOTICES.get(year + 1, (None, None))
        amended_by.append({
            "title": TITLE.format(year=year + 1), "number": number, "url": url,
            "note": f"Days at the end of December {year} arranged for New Year's Day "
                    f"{year + 1}.",
        })
    return {
        "year": year,
        "source": source,
        "amended_by": amended_by,
        "holidays": [{"date": d, "name": n} for d, n in sorted(holidays.items())],
        "workdays": [{"date": d, "name": n} for d, n in sorted(workdays.items())],
    }


def scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    return yaml.safe_dump([value], allow_unicode=True, width=1000).strip()[2:]


def render_year(entry: dict[str, Any]) -> str:
    lines = [f"  - year: {entry['year']}",
             f"    version: {entry['version']}",
             f"    updated: {scalar(entry['updated'])}",
             "    source:"]
    lines += [f"      {k}: {scalar(v)}" for k, v in entry["source"].items()]
    if entry.get("amended_by"):
        lines.append("    amended_by:")
        for notice in entry["amended_by"]:
            prefix = "      - "
            for k, v in notice.items():
                lines.append(f"{prefix}{k}: {scalar(v)}")
                prefix = "        "
    else:
        lines.append("    amended_by: []")
    for key in ("holidays", "workdays"):
        if entry[key]:
            lines.append(f"    {key}:")
            lines += [f"      - {{date: {scalar(d['date'])}, name: {scalar(d['name'])}}}"
                      for d in entry[key]]
        else:
            lines.append(f"    {key}: []")
    return "\n".join(lines) + "\n"


HEADER = """\
# Working days of the State Council's holiday schedules (放假调休), one entry per year.
# holidays: weekdays off; workdays: weekend days worked (调休上班). Any other weekday is worked and
# any other weekend day is off. A year missing here is not guessed: deadlines that need it fail.
# Years {first}-{last} are generated from chinesecalendar {version} by seed_from_chinesecalendar.py;
# see README.md for the sources and for adding a year.
schema: 1
years:
"""


def render(existing: str | None, today: dt.date) -> str:
    """The table: the package's years rebuilt, hand-added years kept, versions kept if unchanged."""
    old = {e["year"]: e for e in (yaml.safe_load(existing)["years"] if existing else [])}
    entries: dict[int, dict[str, Any]] = {y: e for y, e in old.items()
                                          if y not in package_years()}
    for year in package_years():
        content = year_content(year)
        previous = old.get(year)
        entry = {"year": year, "version": 1, "updated": today, **content}
        if previous:
            same = yaml.safe_load(render_year({**entry, "version": previous["version"],
                                               "updated": previous["updated"]}))
            if same == [previous]:
                entry.update(version=previous["version"], updated=previous["updated"])
            else:
                entry["version"] = previous["version"] + 1
        entries[year] = entry
    years = package_years()
    text = HEADER.format(first=years[0], last=years[-1], version=cc.__version__)
    return text + "".join(render_year(entries[y]) for y in sorted(entries))


def cross_check(text: str) -> None:
    """Refuse a table that disagrees with the package on any day it covers."""
    from ckanext.yantai.workdays import Calendar, parse_table

    calendar = Calendar({s.year: s for s in parse_table(yaml.safe_load(text), str(TABLE))})
    for year in package_years():
        day = dt.date(year, 1, 1)
        while day.year == year:
            if calendar.is_workday(day) != cc.is_workday(day):
                sys.exit(f"{day}: the table and chinesecalendar disagree")
            day += dt.timedelta(days=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the table is stale")
    args = parser.parse_args()
    existing = TABLE.read_text(encoding="utf-8") if TABLE.exists() else None
    text = render(existing, dt.date.today())
    cross_check(text)
    if text == existing:
        print(f"{TABLE.name} is up to date")
        return
    if args.check:
        sys.exit(f"{TABLE.name} is stale: run {Path(__file__).name}")
    TABLE.write_text(text, encoding="utf-8")
    print(f"wrote {TABLE.name}")


if __name__ == "__main__":
    main()
