"""Working days of the State Council's schedule and the deadlines counted in them (no services)."""
from __future__ import annotations

import datetime as dt
import importlib.util
import os

import chinese_calendar
import pytest

from ckanext.yantai import config, workdays
from ckanext.yantai.workdays import Calendar, CalendarError, CalendarMissing

D = dt.date
UTC = dt.UTC


@pytest.fixture(scope="module")
def cal() -> Calendar:
    return Calendar.from_files(workdays.SHIPPED_TABLE)


def table(*years: str) -> str:
    """A calendar table with the given year entries (YAML)."""
    return "schema: 1\nyears:\n" + "".join(years)


YEAR_2027 = """\
  - year: 2027
    source: {title: test data (not the 2027 notice)}
    holidays:
      - {date: 2027-01-01, name: 元旦}
    workdays: []
"""


class TestShippedTable:
    def test_covers_2004_to_2026(self, cal):
        assert cal.years == tuple(range(2004, 2027))
        assert not cal.covers(2003)
        assert not cal.covers(2027)

    def test_every_day_agrees_with_chinesecalendar(self, cal):
        day, disagree = D(2004, 1, 1), []
        while day <= D(2026, 12, 31):
            if cal.is_workday(day) != chinese_calendar.is_workday(day):
                disagree.append(day)
            day += dt.timedelta(days=1)
        assert disagree == []

    def test_is_what_the_seed_script_writes(self):
        script = workdays.SHIPPED_TABLE.parent / "seed_from_chinesecalendar.py"
        spec = importlib.util.spec_from_file_location("seed_from_chinesecalendar", script)
        assert spec and spec.loader
        seed = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(seed)
        committed = workdays.SHIPPED_TABLE.read_text(encoding="utf-8")
        # Unchanged years keep their version and date, whatever day the script runs.
        assert seed.render(committed, D(2099, 1, 1)) == committed

    def test_every_year_names_its_notice(self, cal):
        for year in cal.years:
            source = cal.schedule(year).source
            assert f"{year}年部分节假日安排的通知" in source.title
            assert source.url or source.note, year
        assert cal.schedule(2025).source.number == "国办发明电〔2024〕12号"
        assert cal.schedule(2026).source.number == "国办发明电〔2025〕7号"

    def test_2020_spring_festival_extension(self, cal):
        # Friday 31 January off, Saturday 1 February (a make-up workday before) off, back on 3rd.
        assert [cal.is_workday(D(2020, 1, d)) for d in (30, 31)] == [False, False]
        assert [cal.is_workday(D(2020, 2, d)) for d in (1, 2, 3)] == [False, False, True]
        assert any("延长2020年春节假期" in n.title for n in cal.schedule(2020).amended_by)

    def test_2019_labour_day_change(self, cal):
        assert not cal.is_workday(D(2019, 5, 3))
        assert cal.is_workday(D(2019, 4, 28)) and cal.is_workday(D(2019, 5, 5))


class TestMakeUpWorkdays:
    def test_spring_festival_2024(self, cal):
        assert cal.is_workday(D(2024, 2, 4))  # Sunday, worked
        assert cal.is_workday(D(2024, 2, 18))  # Sunday, worked
        assert not any(cal.is_workday(D(2024, 2, d)) for d in range(10, 18))
        assert cal.is_workday(D(2024, 2, 9))  # the eve: encouraged off, not given
        assert not cal.is_workday(D(2024, 2, 24))  # an ordinary Saturday

    def test_end_of_december_set_by_the_next_years_notice(self, cal):
        assert cal.is_workday(D(2018, 12, 29))  # Saturday, worked for New Year's Day 2019
        assert not cal.is_workday(D(2018, 12, 31))  # Monday, off


class TestDisclosureDeadline:
    """双公示: the 7th working day after the decision."""

    def test_friday_before_national_day(self, cal):
        # 28 Sep off, 29 Sep (Sunday) worked, 1-7 Oct off, 12 Oct (Saturday) worked.
        assert workdays.disclosure_deadline(cal, D(2024, 9, 27)) == D(2024, 10, 12)
        assert workdays.disclosure_deadline(cal, D(2025, 9, 26)) == D(2025, 10, 13)

    def test_crossing_the_year(self, cal):
        # 26, 29, 30, 31 Dec; 1-3 Jan off; 4 Jan 2026 (Sunday) worked; 5, 6 Jan.
        assert workdays.disclosure_deadline(cal, D(2025, 12, 25)) == D(2026, 1, 6)

    def test_a_year_the_table_lacks_is_not_guessed(self, cal):
        with pytest.raises(CalendarMissing) as missing:
            workdays.disclosure_deadline(cal, D(2026, 12, 25))
        assert missing.value.year == 2027
        assert "2027" in str(missing.value)
        with pytest.raises(CalendarMissing):
            cal.is_workday(D(2003, 12, 31))


class TestCounting:
    def test_start_day_is_not_counted(self, cal):
        assert cal.add_workdays(D(2024, 3, 4), 1) == D(2024, 3, 5)
        assert cal.add_workdays(D(2024, 3, 9), 1) == D(2024, 3, 11)  # from a Saturday
        assert cal.add_workdays(D(2024, 3, 4), 0) == D(2024, 3, 4)

    def test_negative_counts_are_refused(self, cal):
        with pytest.raises(ValueError):
            cal.add_workdays(D(2024, 3, 4), -1)

    def test_datetimes_are_refused_where_dates_are_meant(self, cal):
        with pytest.raises(TypeError):
            cal.is_workday(dt.datetime(2024, 3, 4, 12, tzinfo=UTC))

    def test_working_days_late(self, cal):
        deadline = D(2024, 10, 12)
        assert cal.workdays_between(deadline, D(2024, 10, 15)) == 2  # 13th is a Sunday
        assert cal.workdays_between(deadline, deadline) == 0
        assert cal.workdays_between(deadline, D(2024, 10, 1)) == 0
        assert cal.workdays_between(D(2024, 9, 30), D(2024, 10, 8)) == 1

    @pytest.mark.parametrize("start", [D(2024, 9, 27), D(2020, 1, 20), D(2015, 9, 2)])
    def test_counting_back_gives_n(self, cal, start):
        assert cal.workdays_between(start, cal.add_workdays(start, 7)) == 7


    def test_counts_across_years_agree_with_walking_the_days(self, cal):
        # The counts come from per-year running totals; walking day by day must agree.
        import random

        rng = random.Random(2026)
        for _ in range(300):
            a = D(2004, 1, 1) + dt.timedelta(days=rng.randrange(8000))
            b = a + dt.timedelta(days=rng.randrange(-30, 900))
            if b.year > 2026:
                continue
            walked = sum(cal.is_workday(a + dt.timedelta(days=n))
                         for n in range(1, (b - a).days + 1))
            assert cal.workdays_between(a, b) == walked, (a, b)

    def test_counting_into_a_missing_year_raises(self, cal):
        with pytest.raises(CalendarMissing):
            cal.workdays_between(D(2026, 12, 30), D(2027, 1, 4))


class TestChineseDates:
    def test_utc_evening_is_the_next_day_in_shanghai(self):
        assert workdays.local_date(dt.datetime(2025, 9, 30, 17, tzinfo=UTC)) == D(2025, 10, 1)
        beijing = dt.timezone(dt.timedelta(hours=8))
        assert workdays.local_date(dt.datetime(2025, 9, 30, 0, 30, tzinfo=beijing)) == \
            D(2025, 9, 30)

    def test_naive_datetimes_are_refused(self):
        with pytest.raises(ValueError):
            workdays.local_date(dt.datetime(2025, 9, 30, 17))

    def test_review_deadline_counts_from_the_chinese_date(self, cal):
        # 23:59 on Sunday 28 Sep 2025 (a make-up workday) in Shanghai, then one minute later.
        before = dt.datetime(2025, 9, 28, 15, 59, tzinfo=UTC)
        after = dt.datetime(2025, 9, 28, 16, 0, tzinfo=UTC)
        assert workdays.review_deadline(cal, before, 5) == D(2025, 10, 11)
        assert workdays.review_deadline(cal, after, 5) == D(2025, 10, 13)


class TestOverride:
    def test_an_extra_year_is_covered(self, tmp_path):
        extra = tmp_path / "extra.yaml"
        extra.write_text(table(YEAR_2027), encoding="utf-8")
        cal = Calendar.from_files(workdays.SHIPPED_TABLE, extra)
        assert cal.covers(2027) and cal.covers(2026)
        # 28-31 Dec; 1 Jan 2027 off (test data); 4, 5, 6 Jan.
        assert workdays.disclosure_deadline(cal, D(2026, 12, 25)) == D(2027, 1, 6)

    def test_a_year_is_replaced_whole(self, tmp_path):
        extra = tmp_path / "extra.yaml"
        extra.write_text(table("  - year: 2024\n    source: {title: test}\n"), encoding="utf-8")
        cal = Calendar.from_files(workdays.SHIPPED_TABLE, extra)
        assert cal.is_workday(D(2024, 2, 12))  # Spring Festival gone with the replaced year
        assert not cal.is_workday(D(2025, 1, 28))  # other years as shipped

    def test_the_portals_calendar_follows_the_configured_file(self, tmp_path, ckan_config,
                                                              monkeypatch):
        assert not config.calendar().covers(2027)
        extra = tmp_path / "extra.yaml"
        extra.write_text(table(), encoding="utf-8")
        monkeypatch.setitem(ckan_config, "ckanext.yantai.calendar.path", str(extra))
        first = config.calendar()
        assert first is config.calendar()  # cached while the file is unchanged
        assert not first.covers(2027) and first.covers(2026)

        extra.write_text(table(YEAR_2027), encoding="utf-8")
        os.utime(extra, ns=(extra.stat().st_atime_ns, extra.stat().st_mtime_ns + 10**9))
        assert config.calendar().covers(2027)  # no restart

    @pytest.mark.parametrize("entry, reason", [
        ("  - year: 2027\n    source: {title: t}\n    holidays: [{date: 2027-01-02}]\n",
         "weekend day"),
        ("  - year: 2027\n    source: {title: t}\n    workdays: [{date: 2027-01-04}]\n",
         "weekday"),
        ("  - year: 2027\n    source: {title: t}\n    holidays: [{date: 2028-01-03}]\n",
         "not in 2027"),
        ("  - year: 2027\n    holidays: []\n", "source"),
        ("  - year: 2027\n    source: {title: t}\n" * 2, "listed twice"),
    ])
    def test_malformed_tables_are_refused(self, tmp_path, entry, reason):
        bad = tmp_path / "bad.yaml"
        bad.write_text(table(entry), encoding="utf-8")
        with pytest.raises(CalendarError, match=reason):
            Calendar.from_files(bad)
