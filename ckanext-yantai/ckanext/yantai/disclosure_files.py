"""双公示 records uploaded as a file (CSV or XLSX) to a resource whose record type is 行政许可 or
行政处罚: read into records, submitted like ``yantai_disclosure_submit``, and the file itself
never stored (it holds personal data in full; the resource's public form is its DataStore table).
"""
from __future__ import annotations

import csv
import io
from typing import Any, BinaryIO

import ckan.plugins.toolkit as tk

from ckanext.yantai import classified, compliance

MAX_BYTES = 50 * 1024 * 1024
MAX_ROWS = 100_000
PENDING = "yantai_disclosure_upload"  # context key: records read before the resource is saved


def read_records(stream: BinaryIO, filename: str) -> list[dict[str, Any]]:
    """The records of a CSV (UTF-8, with or without BOM, or GB18030) or XLSX file: the first
    non-empty row is the header; empty rows are skipped.

    Raises:
        tk.ValidationError: Not a CSV or XLSX file, too large, without a header or records.
    """
    data = stream.read(MAX_BYTES + 1)
    stream.seek(0)
    if len(data) > MAX_BYTES:
        raise _error(tk._("The file is larger than 50 MB: send it in parts"))
    if data[:4] == b"PK\x03\x04":
        rows = _xlsx_rows(data)
    elif filename.lower().endswith((".csv", ".txt")) or not filename:
        rows = list(csv.reader(io.StringIO(classified.decode_text(data))))
    else:
        raise _error(tk._("Upload the records as a CSV or XLSX file"))
    rows = [r for r in rows if any(str(c).strip() for c in r if c is not None)]
    if len(rows) < 2:
        raise _error(tk._("The file has no records: a header row and at least one record"))
    if len(rows) - 1 > MAX_ROWS:
        raise _error(tk._("At most {limit} records per file: send them in parts").format(
            limit=MAX_ROWS))
    header = [str(c).strip() if c is not None else "" for c in rows[0]]
    if len(set(h for h in header if h)) < len([h for h in header if h]):
        raise _error(tk._("The header row names a column twice"))
    return [{h: v for h, v in zip(header, row) if h} for row in rows[1:]]


def _xlsx_rows(data: bytes) -> list[list[Any]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:
        raise _error(tk._("The file cannot be read as an XLSX workbook")) from None
    try:
        return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()


def _error(text: str) -> tk.ValidationError:
    return tk.ValidationError({"upload": [text]})


def take_upload(context: dict[str, Any], resource: dict[str, Any]) -> None:
    """Before a 双公示 resource is saved: read its uploaded file into records (kept in the
    context for ``submit_upload``) and drop the file, so that the file store never holds it."""
    if resource.get("record_type") not in ("license", "penalty"):
        return
    upload = resource.get("upload")
    stream = getattr(upload, "stream", None)
    if stream is None or not hasattr(stream, "read"):
        return
    context[PENDING] = read_records(stream, getattr(upload, "filename", "") or "")
    resource.pop("upload")
    resource["url"] = "_datastore_only_resource"
    resource["url_type"] = "datastore"  # its data is the DataStore table, as CKAN's own do


def submit_upload(context: dict[str, Any], resource: dict[str, Any]) -> dict[str, Any] | None:
    """After the resource is saved: submit the records read from its file, in parts."""
    records = context.pop(PENDING, None)
    if records is None:
        return None
    totals = {"received": 0, "public": 0, "invalid": 0}
    for start in range(0, len(records), compliance.MAX_RECORDS):
        result = compliance.submit(context, resource["id"],
                                   records[start:start + compliance.MAX_RECORDS])
        for key in totals:
            totals[key] += result[key]
    return totals
