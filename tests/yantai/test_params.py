"""API parameters read whole and strictly (issue 13, items 11 and 12)."""
from __future__ import annotations

import datetime as dt

import pytest

from ckanext.yantai import params

pytestmark = pytest.mark.pure


def test_parameters_are_read_whole():
    assert params.date("2027-01-01") == dt.date(2027, 1, 1)
    for bad in ("2027-01-01'; drop", "2027-01-01 ", "20270101", "2027-W01-1", "２０２７-０１-０１",
                "2027-02-30", "0001-01-01", "9999-12-31", 20270101, True, None, ["2027-01-01"]):
        assert params.date(bad) is None, bad
    assert params.datetime("2026-09-18T10:00:00+08:00") == dt.datetime(2026, 9, 18, 2)
    assert params.datetime("2026-09-18") == dt.datetime(2026, 9, 18)
    for bad in ("2026-09-18T10:00:00+08:00x", "9999-12-31T23:59:59-12:00", "2026-09-18T25:00"):
        assert params.datetime(bad) is None, bad
    utc = dt.UTC
    assert params.aware_datetime("2026-09-18T10:00:00+08:00") == dt.datetime(2026, 9, 18, 2,
                                                                              tzinfo=utc)
    assert params.aware_datetime("2026-09-18T02:00:00Z") == dt.datetime(2026, 9, 18, 2, tzinfo=utc)
    for bad in ("2026-09-18T10:00:00", "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+08:00",
                "2026-09-18T10:00:00+08:00 ", 1, None):
        assert params.aware_datetime(bad) is None, bad
    assert params.too_deep([[[1]]], 2) and not params.too_deep([[1]], 2)
    nested: list = []
    for _ in range(100_000):
        nested = [nested]
    assert params.too_deep(nested) and not params.too_deep({"a": [{"b": 1}]})
    assert params.month("2026-09") == dt.date(2026, 9, 1)
    for bad in ("2026-13", "2026-1", "0001-01", "9999-12", " 2026-09", 202609):
        assert params.month(bad) is None, bad
    assert params.whole("12") == 12 and params.whole(0) == 0 and params.whole("-5", -10) == -5
    for bad in (-5, True, "1e3", 1.5, 10 ** 30, "", [1]):
        assert params.whole(bad) is None, bad
