"""A table file read row by row, whatever its size: CSV and TSV (UTF-8 with or without BOM, GBK,
GB18030, Big5, as ``text_encoding`` tells), XLSX, XLS and JSON (an array of records or of rows).

``open_table`` gives the columns and an iterator of rows, each with its number as people count
it in the file (the line of a CSV, the row of a sheet, the place in a JSON array), so that an
error can name it. Title and note rows above the header (a sheet that starts with
"烟台市……名录" in one merged cell) are skipped: the header is the first row with two or more
values, in a table that has such a row. Cells are text; spreadsheet numbers and dates come as
people read them (12, not 12.0; 2026-03-01, 2026-03-01 08:30:00).

A CSV or TSV file is never read whole; a JSON file is read twice, by ``ijson``, to learn every
record's keys first. XLSX sheets are read by ``openpyxl`` in read-only mode, XLS by ``xlrd``.
"""
from __future__ import annotations

import codecs
import contextlib
import csv
import dataclasses
import datetime as dt
import json
import unicodedata
from collections.abc import Iterator
from decimal import Decimal
from typing import IO, Any

import ijson
import openpyxl
import xlrd

from ckanext.yantai import text_encoding

FORMATS = ("CSV", "TSV", "XLSX", "XLS", "JSON")
# A sample this large tells the encoding; a file that is ASCII that far is sampled again where
# its first other byte is.
SAMPLE_BYTES = 1024 * 1024
HEADER_SEARCH_ROWS = 20
# PostgreSQL cuts names at 63 bytes (21 Chinese characters); a longer header is shortened and
# keeps its whole text as the column's label.
MAX_NAME_BYTES = 63


class Unloadable(ValueError):
    """Why a file cannot be loaded: ``reason`` (a key of ``messages.LOAD_ERRORS``), the ``row``
    it happened at when there is one, and the details its message names."""

    def __init__(self, reason: str, row: int | None = None, **details: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.row = row
        self.details = details


@dataclasses.dataclass
class Column:
    name: str  # the DataStore column
    header: str  # as the file writes it


@dataclasses.dataclass
class Table:
    columns: list[Column]
    rows: Iterator[tuple[int, list[str]]]
    encoding: str | None  # of a text file


def format_of(fmt: str | None, filename: str | None) -> str | None:
    """The table format of a resource, by its format field or else its file name."""
    wanted = (fmt or "").strip().upper().lstrip(".")
    if wanted in FORMATS:
        return wanted
    if not wanted and filename and "." in filename:
        ext = filename.rsplit(".", 1)[1].split("?")[0].upper()
        return ext if ext in FORMATS else None
    return None


@contextlib.contextmanager
def open_table(path: str, fmt: str) -> Iterator[Table]:
    """The table in the file at ``path``.

    Raises:
        Unloadable: The file is not a table of that format, is empty, or a row cannot be read.
    """
    if fmt in ("CSV", "TSV"):
        with _text_table(path, "\t" if fmt == "TSV" else None) as table:
            yield table
    elif fmt == "XLSX":
        with _xlsx_table(path) as table:
            yield table
    elif fmt == "XLS":
        yield _xls_table(path)
    elif fmt == "JSON":
        yield _json_table(path)
    else:
        raise Unloadable("format", format=fmt)


# -- headers ---------------------------------------------------------------------------------------

def _header_at(rows: list[list[str]]) -> int:
    """The header's place among the first rows: the first with two or more values (rows above
    it are a title or notes), or the first row of a one-column table."""
    for index, row in enumerate(rows):
        if sum(1 for cell in row if cell.strip()) >= 2:
            return index
    for index, row in enumerate(rows):
        if any(cell.strip() for cell in row):
            return index
    raise Unloadable("empty")


def _columns(header: list[str], row: int) -> list[Column]:
    """The columns of a header row: names as written (trimmed, NFKC), a blank one named by its
    place, a repeated one numbered, one too long for PostgreSQL shortened."""
    columns: list[Column] = []
    taken: set[str] = set()
    while header and not header[-1].strip():
        header = header[:-1]  # trailing empty cells, as spreadsheets write them
    for place, text in enumerate(header, start=1):
        written = " ".join(unicodedata.normalize("NFKC", text).split())
        name = written or f"列{place}"
        if name.startswith("_") or '"' in name:  # CKAN's rule for column names
            name = name.lstrip("_").replace('"', "") or f"列{place}"
        name = _shorten(name)
        base, number = name, 1
        while name.casefold() in taken:
            number += 1
            name = _shorten(base, suffix=f"_{number}")
        taken.add(name.casefold())
        columns.append(Column(name, written or name))
    if not columns:
        raise Unloadable("no_header", row=row)
    return columns


def _shorten(name: str, suffix: str = "") -> str:
    while len((name + suffix).encode("utf-8")) > MAX_NAME_BYTES:
        name = name[:-1]
    return name + suffix


def _fit(cells: list[str], width: int, number: int) -> list[str]:
    """A row as wide as the header: short rows padded, empty cells past it dropped."""
    if len(cells) > width:
        extra = [c for c in cells[width:] if c.strip()]
        if extra:
            raise Unloadable("too_many_values", row=number, values=len(cells), columns=width)
        cells = cells[:width]
    return cells + [""] * (width - len(cells))


def _rows(numbered: Iterator[tuple[int, list[str]]]) -> Table:
    """A table from numbered rows: the header found, the rows after it fitted to it."""
    head: list[tuple[int, list[str]]] = []
    for item in numbered:
        head.append(item)
        if len(head) >= HEADER_SEARCH_ROWS:
            break
    if not head:
        raise Unloadable("empty")
    at = _header_at([cells for _, cells in head])
    header_number, header = head[at]
    columns = _columns(header, header_number)
    width = len(columns)

    def rows() -> Iterator[tuple[int, list[str]]]:
        for number, cells in [*head[at + 1:]]:
            if any(c.strip() for c in cells):
                yield number, _fit(cells, width, number)
        for number, cells in numbered:
            if any(c.strip() for c in cells):
                yield number, _fit(cells, width, number)

    return Table(columns, rows(), None)


# -- CSV and TSV -----------------------------------------------------------------------------------

def _sample(stream: IO[bytes]) -> tuple[bytes, bool]:
    """Bytes that tell the file's encoding, and whether they are the whole file."""
    head = stream.read(SAMPLE_BYTES)
    if len(head) < SAMPLE_BYTES:
        return head, True
    if not head.isascii():
        return head, False
    while chunk := stream.read(SAMPLE_BYTES):
        if not chunk.isascii():
            start = chunk.find(b"\n") + 1 if any(b > 0x7F for b in chunk[:8]) else 0
            return chunk[start:], False
    return head, True


@contextlib.contextmanager
def _text_table(path: str, delimiter: str | None) -> Iterator[Table]:
    with open(path, "rb") as raw:
        sample, whole = _sample(raw)
    try:
        encoding = text_encoding.encoding_of(sample, complete=whole)
    except text_encoding.Undecodable as exc:
        raise Unloadable("undecodable" if exc.reason != "binary" else "binary") from None
    if not sample.strip():
        raise Unloadable("empty")
    codec = codecs.lookup(encoding).name
    if delimiter is None:
        delimiter = _delimiter(sample.decode(codec, errors="ignore"))
    with open(path, encoding="utf-8-sig" if codec == "utf-8" else codec, newline="",
              errors="strict") as text:
        reader = csv.reader(text, delimiter=delimiter)

        def numbered() -> Iterator[tuple[int, list[str]]]:
            number = 0
            try:
                for cells in reader:
                    number = reader.line_num
                    if text_encoding.BINARY.search("".join(cells)):
                        raise Unloadable("binary", row=number)
                    yield number, cells
            except UnicodeDecodeError:
                raise Unloadable("undecodable", row=number + 1, encoding=encoding) from None
            except csv.Error as exc:
                raise Unloadable("malformed", row=reader.line_num, error=str(exc)) from None

        table = _rows(numbered())
        table.encoding = encoding
        yield table


def _delimiter(sample: str) -> str:
    """The separator of a CSV file: the comma, unless its first lines are clearly separated by
    semicolons, tabs or bars."""
    lines = [line for line in sample.splitlines()[:20] if line.strip()]
    if not lines:
        return ","
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


# -- spreadsheets ----------------------------------------------------------------------------------

def cell_text(value: Any) -> str:
    """A spreadsheet cell as people read it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return format(Decimal(repr(value)).normalize(), "f")
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


@contextlib.contextmanager
def _xlsx_table(path: str) -> Iterator[Table]:
    stream = open(path, "rb")  # noqa: SIM115 — open while the rows are read; a file, as the
    # file store's have no .xlsx name, which openpyxl asks of a path
    try:
        book = openpyxl.load_workbook(stream, read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 — zip, XML or openpyxl errors alike: not an XLSX file
        stream.close()
        raise Unloadable("unreadable", format="XLSX") from None
    try:
        sheet = next((s for s in book.worksheets if s.max_row and s.max_row > 0), None)
        if sheet is None:
            raise Unloadable("empty")

        def numbered() -> Iterator[tuple[int, list[str]]]:
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                yield number, [cell_text(v) for v in values]

        yield _rows(numbered())
    finally:
        book.close()
        stream.close()


def _xls_table(path: str) -> Table:
    try:
        book = xlrd.open_workbook(path, on_demand=True)
        sheet = book.sheet_by_index(0)
    except Exception:  # noqa: BLE001 — xlrd's errors: not an XLS file it reads
        raise Unloadable("unreadable", format="XLS") from None

    def value(cell: Any) -> str:
        if cell.ctype == xlrd.XL_CELL_DATE:
            return cell_text(xlrd.xldate.xldate_as_datetime(cell.value, book.datemode))
        if cell.ctype == xlrd.XL_CELL_BOOLEAN:
            return cell_text(bool(cell.value))
        if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_ERROR):
            return ""
        return cell_text(cell.value)

    def numbered() -> Iterator[tuple[int, list[str]]]:
        for index in range(sheet.nrows):
            yield index + 1, [value(c) for c in sheet.row(index)]

    return _rows(numbered())


# -- JSON ------------------------------------------------------------------------------------------

def _json_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _json_items(path: str) -> Iterator[Any]:
    """The items of the file's array: the top level, or the ``data``/``records`` of an object."""
    with open(path, "rb") as stream:
        first = stream.read(SAMPLE_BYTES).lstrip(b"\xef\xbb\xbf \t\r\n")
    prefix = "item"
    if first.startswith(b"{"):
        with open(path, "rb") as stream:
            keys = [k for k, event, _ in ijson.parse(stream) if event == "start_array"]
        for key in ("data.item", "records.item", "rows.item", "result.records.item"):
            if key.rsplit(".", 1)[0] in keys:
                prefix = key
                break
        else:
            raise Unloadable("not_tabular")
    elif not first.startswith(b"["):
        raise Unloadable("not_tabular")
    with open(path, "rb") as stream:
        try:
            yield from ijson.items(stream, prefix, use_float=False)
        except ijson.JSONError as exc:
            raise Unloadable("malformed", error=str(exc)) from None


def _json_table(path: str) -> Table:
    keys: dict[str, None] = {}
    first_kind = None
    count = 0
    for item in _json_items(path):
        count += 1
        kind = "object" if isinstance(item, dict) else "array" if isinstance(item, list) else None
        if kind is None or (first_kind and kind != first_kind):
            raise Unloadable("not_tabular", row=count)
        first_kind = kind
        if kind == "object":
            keys.update(dict.fromkeys(str(k) for k in item))
    if not count:
        raise Unloadable("empty")
    if first_kind == "array":
        def numbered_arrays() -> Iterator[tuple[int, list[str]]]:
            for number, item in enumerate(_json_items(path), start=1):
                yield number, [_json_text(v) for v in item]
        return _rows(numbered_arrays())
    names = list(keys)
    columns = _columns(names, 0)

    def numbered_objects() -> Iterator[tuple[int, list[str]]]:
        for number, item in enumerate(_json_items(path), start=1):
            yield number, [_json_text(item.get(k)) for k in names]

    return Table(columns, numbered_objects(), None)
