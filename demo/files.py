"""Resource files of the demo catalogue, generated from its tables so that each build is
byte-identical.

Identical bytes give an identical sha256, which is how the loader knows that a resource is
unchanged.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile
from collections.abc import Sequence
from typing import Any

import openpyxl

Row = Sequence[Any]
FIXED_TIME = dt.datetime(2025, 1, 1)
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def to_csv(columns: Sequence[str], rows: Sequence[Row]) -> bytes:
    """UTF-8 with BOM, CRLF: what Excel in a Chinese locale opens without mojibake."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8")


def to_json(columns: Sequence[str], rows: Sequence[Row]) -> bytes:
    records = [dict(zip(columns, row, strict=True)) for row in rows]
    return json.dumps(records, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"


def to_xlsx(columns: Sequence[str], rows: Sequence[Row], sheet: str = "数据") -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None  # a new workbook has its one sheet
    ws.title = sheet[:31]
    ws.append(list(columns))
    for row in rows:
        ws.append(list(row))
    wb.properties.creator = "烟台市公共数据开放网"
    wb.properties.created = wb.properties.modified = FIXED_TIME
    raw = io.BytesIO()
    wb.save(raw)
    return _normalise_zip(raw.getvalue())


MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def _normalise_zip(data: bytes) -> bytes:
    """Rewrite a zip with fixed times: openpyxl stamps the save time on each entry and on the
    document's `modified` property."""
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = MODIFIED.sub(rb"\g<1>" + stamp + rb"\g<2>", content)
            fixed = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed, content)
    return out.getvalue()


WRITERS = {"CSV": (to_csv, "csv"), "JSON": (to_json, "json"), "XLSX": (to_xlsx, "xlsx")}


def render(fmt: str, columns: Sequence[str], rows: Sequence[Row]) -> tuple[bytes, str]:
    """Return the file's bytes and its extension for a format named in the catalogue."""
    try:
        writer, ext = WRITERS[fmt.upper()]
    except KeyError:
        raise ValueError(f"unsupported demo resource format {fmt!r}") from None
    return writer(columns, rows), ext
