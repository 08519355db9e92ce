"""Demo resource files: readable in their format and byte-identical from one build to the next."""
from __future__ import annotations

import csv
import io
import json
import time

import openpyxl
import pytest

from demo import files

COLUMNS = ["线路名称", "站点序号", "站点名称", "经度"]
ROWS = [["1路", 1, "烟台火车站", 121.3921], ["䶮字路", 2, "芝罘区政府", 121.4004]]


def test_csv_has_bom_and_round_trips():
    data, ext = files.render("csv", COLUMNS, ROWS)
    assert ext == "csv"
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == COLUMNS
    assert rows[2] == ["䶮字路", "2", "芝罘区政府", "121.4004"]


def test_json_is_a_list_of_records():
    data, ext = files.render("JSON", COLUMNS, ROWS)
    assert ext == "json"
    assert json.loads(data)[1] == {"线路名称": "䶮字路", "站点序号": 2, "站点名称": "芝罘区政府",
                                   "经度": 121.4004}


def test_xlsx_round_trips_and_is_deterministic():
    first, ext = files.render("xlsx", COLUMNS, ROWS)
    time.sleep(1.1)  # zip entries and document properties carry seconds
    second, _ = files.render("xlsx", COLUMNS, ROWS)
    assert ext == "xlsx"
    assert first == second
    sheet = openpyxl.load_workbook(io.BytesIO(first)).active
    assert sheet is not None
    assert list(sheet.values) == [tuple(COLUMNS), *map(tuple, ROWS)]


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="unsupported demo resource format 'PDF'"):
        files.render("PDF", COLUMNS, ROWS)
