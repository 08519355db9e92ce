"""The first rows of an uploaded table file (CSV, TSV, XLSX, JSON), bounded, for its preview.

A preview reads at most ``Limits.text_bytes`` of a text file (a CSV of any size shows its first
rows), and whole files (XLSX, JSON) only up to ``Limits.file_bytes``; it holds at most
``max_rows`` rows of ``max_columns`` columns, each cell cut to ``max_cell_chars``. Cells are
plain text: escaping is the template's.
Pure: bytes in, a ``Table`` or ``Unpreviewable`` out.
"""
from __future__ import annotations

import csv
import dataclasses
import io
import itertools
import json
from collections.abc import Callable, Iterable
from typing import Any

import openpyxl

from ckanext.yantai import feedsafety, text_encoding

TEXT_FORMATS = {"CSV": ",", "TSV": "\t"}
FORMATS = (*TEXT_FORMATS, "XLSX", "JSON")
ELLIPSIS = "…"


@dataclasses.dataclass(frozen=True)
class Limits:
    max_rows: int = 100
    max_columns: int = 30
    max_cell_chars: int = 200
    text_bytes: int = 1024 * 1024  # read of a CSV or TSV file, from its start
    file_bytes: int = 10 * 1024 * 1024  # largest XLSX or JSON file read whole


@dataclasses.dataclass(frozen=True)
class Table:
    columns: list[str]
    rows: list[list[str]]
    more_rows: bool  # the file has rows beyond those shown
    more_columns: bool  # ... or columns


class Unpreviewable(ValueError):
    """``reason``: ``too_large``, ``undecodable``, ``unreadable`` (not the format it says),
    ``not_tabular`` (JSON that is no list of records) or ``empty``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def format_of(fmt: str | None, filename: str | None) -> str | None:
    """The table format of a resource, by its format field or else its file name."""
    wanted = (fmt or "").strip().upper().lstrip(".")
    if wanted in FORMATS:
        return wanted
    if not wanted and filename and "." in filename:
        ext = filename.rsplit(".", 1)[1].upper()
        return ext if ext in FORMATS else None
    return None


def table(fmt: str, read: Callable[[int], bytes], size: int, limits: Limits = Limits()) -> Table:
    """The preview of a file of ``size`` bytes whose start ``read(n)`` returns.

    Raises:
        Unpreviewable: Why there is no preview.
    """
    if fmt in TEXT_FORMATS:
        head = read(limits.text_bytes + 1)
        return text_table(head, TEXT_FORMATS[fmt], limits)
    if size > limits.file_bytes:
        raise Unpreviewable("too_large")
    data = read(limits.file_bytes + 1)
    if len(data) > limits.file_bytes:
        raise Unpreviewable("too_large")
    if fmt == "XLSX":
        return xlsx_table(data, limits)
    if fmt == "JSON":
        return json_table(data, limits)
    raise ValueError(f"no table preview of {fmt!r}")


def _cell(value: Any, limits: Limits) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = value if isinstance(value, str) else (
        json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else str(value))
    if len(text) > limits.max_cell_chars:
        return text[:limits.max_cell_chars] + ELLIPSIS
    return text


def _bounded(rows: Iterable[Iterable[Any]], limits: Limits) -> Table:
    """Header from the first row, then at most ``max_rows`` rows (one more is read to know
    whether there are more)."""
    header: list[str] | None = None
    body: list[list[str]] = []
    more_rows = more_columns = False
    for row in rows:
        cells = list(row)
        while cells and cells[-1] in (None, ""):
            cells.pop()
        if header is None:
            if not cells:
                continue
            more_columns = len(cells) > limits.max_columns
            header = [_cell(c, limits) for c in cells[:limits.max_columns]]
            continue
        if len(body) == limits.max_rows:
            more_rows = True
            break
        more_columns = more_columns or len(cells) > limits.max_columns
        body.append([_cell(c, limits) for c in cells[:limits.max_columns]])
    if header is None:
        raise Unpreviewable("empty")
    width = max([len(header), *(len(r) for r in body)])
    header += [""] * (width - len(header))
    return Table(header, [r + [""] * (width - len(r)) for r in body], more_rows, more_columns)


def text_table(head: bytes, delimiter: str, limits: Limits) -> Table:
    """The first rows of a CSV or TSV file from its first ``text_bytes`` (+1: more to come)."""
    cut = len(head) > limits.text_bytes
    if cut:
        # Whole lines only: a character cut in two would not decode. A line feed is a byte
        # of its own in UTF-8 and GB18030; in UTF-16 (LE) it is two.
        newline = b"\n\x00" if head.startswith(b"\xff\xfe") else b"\n"
        end = head.rfind(newline, 0, limits.text_bytes)
        if end <= 0:
            raise Unpreviewable("too_large")  # not one whole line in what is read
        head = head[:end + len(newline)]
    try:
        text = text_encoding.decode(head)
    except text_encoding.Undecodable as error:
        if error.reason != "ambiguous":
            raise Unpreviewable("undecodable") from None
        # Reads as GB18030 and as Big5 alike, and nothing tells which: a preview (unlike an
        # import) may show it as the mainland's encoding; the download is the file as it is.
        text = head.decode(text_encoding.LEGACY[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        found = _bounded(reader, limits)
    except csv.Error:
        raise Unpreviewable("unreadable") from None
    # Cut inside a quoted value that spans lines, the last record is not whole: not shown.
    if cut and not found.more_rows and found.rows and text.count('"') % 2:
        return dataclasses.replace(found, rows=found.rows[:-1], more_rows=True)
    return dataclasses.replace(found, more_rows=found.more_rows or cut)


def xlsx_table(data: bytes, limits: Limits) -> Table:
    """The first sheet's first rows; the archive is checked for bombs before openpyxl reads."""
    try:
        feedsafety.check_archive(data, max_bytes=limits.file_bytes * 20)
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # a bomb (feedsafety.Unsafe), or whatever openpyxl's parts raise
        raise Unpreviewable("unreadable") from None
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            raise Unpreviewable("empty")
        rows = sheet.iter_rows(max_col=limits.max_columns + 1, values_only=True)
        return _bounded(rows, limits)
    finally:
        book.close()


def json_table(data: bytes, limits: Limits) -> Table:
    """A list of records (objects), of rows (lists), or an object holding such a list."""
    try:
        value = json.loads(text_encoding.decode(data))
    except (text_encoding.Undecodable, ValueError, RecursionError):
        raise Unpreviewable("unreadable") from None
    if isinstance(value, dict):
        value = next((v for v in value.values() if isinstance(v, list) and v
                      and all(isinstance(i, dict) for i in v)), None)
    if not isinstance(value, list) or not value:
        raise Unpreviewable("not_tabular" if value is None or value else "empty")
    if all(isinstance(i, list) for i in value):
        return _bounded(value, limits)
    if not all(isinstance(i, dict) for i in value):
        raise Unpreviewable("not_tabular")
    columns: list[str] = []
    for record in value[:limits.max_rows]:
        for key in record:
            if key not in columns:
                columns.append(key)
    more_columns = len(columns) > limits.max_columns
    columns = columns[:limits.max_columns]
    records = ([r.get(c) for c in columns] for r in value)
    found = _bounded(itertools.chain([columns], records), limits)
    return dataclasses.replace(found, more_columns=found.more_columns or more_columns)
