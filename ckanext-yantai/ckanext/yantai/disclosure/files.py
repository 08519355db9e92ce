"""双公示 records uploaded as a file (CSV or XLSX) to a resource whose record type is 行政许可 or
行政处罚: read into records, submitted like ``yantai_disclosure_submit``, and the file itself
never stored (it holds personal data in full; the resource's public form is its DataStore table).

Two steps of one ``resource_create`` or ``resource_update``, with nothing handed from one to the
other through the context:

- before the resource is saved (``take_upload``, the plugin's IResourceController hook, after the
  classified firewall has read the file): a bad file is refused with what is wrong in which row,
  so that nothing is saved; a good one is dropped from the resource, so that the file store never
  holds it;
- once the resource is saved (``chained_actions``, around the action): the file, which the
  chained action kept a hold of, is read again and its records submitted to the new resource.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from typing import Any, BinaryIO

import ckan.plugins.toolkit as tk
import flask
from ckan.types import Action, ChainedAction, Context, DataDict
from openpyxl import load_workbook

from ckanext.yantai import feedsafety, text_encoding
from ckanext.yantai.disclosure import standard, store, submission
from ckanext.yantai.messages import message

MAX_BYTES = 50 * 1024 * 1024
MAX_ROWS = 100_000
MAX_COLUMNS = 200  # a record has a few dozen fields
# Read into memory whole (every cell a Python object): bounded while the sheet streams, before
# openpyxl holds a row (a row of a million cells took 826 MB).
SHEETS = feedsafety.SheetLimits(max_rows=2 * MAX_ROWS, max_columns=MAX_COLUMNS,
                                max_cells=4_000_000)


def read_records(stream: BinaryIO, filename: str) -> list[dict[str, Any]]:
    """The records of a CSV (UTF-8, with or without BOM, or GB18030) or XLSX file: the first
    non-empty row is the header; empty rows are skipped.

    Raises:
        tk.ValidationError: Not a CSV or XLSX file, too large (bytes, rows, columns, cells),
            without a header or records.
    """
    data = stream.read(MAX_BYTES + 1)
    stream.seek(0)
    if len(data) > MAX_BYTES:
        raise _error(tk._("The file is larger than 50 MB: send it in parts"))
    if feedsafety.is_zip(data[:4]):
        rows = _xlsx_rows(data)
    elif filename.lower().endswith((".csv", ".txt")) or not filename:
        rows = _csv_rows(_decode(data))
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
    return [{h: v for h, v in zip(header, row, strict=False) if h} for row in rows[1:]]


def _decode(data: bytes) -> str:
    """The CSV file's text: binary data, other encodings and an encoding that cannot be told
    (Big5 reads as GB18030 too, into mojibake) are refused."""
    try:
        return text_encoding.decode(data)
    except text_encoding.Undecodable as error:
        if error.reason == "ambiguous":
            raise _error(tk._("The file's encoding cannot be told (GB18030 or Big5?): save it "
                              "as UTF-8 and upload it again")) from None
        raise _error(tk._("The file is not text in UTF-8, GB18030 or Big5")) from None


def _csv_rows(text: str) -> list[list[str]]:
    # A line of millions of commas would be one row of millions of cells: refused before the
    # csv module builds it (quoted commas count too: an upper bound).
    if re.search(rf"^(?:[^,\n]*,){{{MAX_COLUMNS}}}", text, re.MULTILINE):
        raise _error(message("harvest_sheet_columns", limit=str(MAX_COLUMNS)))
    try:
        # strict: an unclosed quote would otherwise swallow every record after it, silently
        return list(csv.reader(io.StringIO(text), strict=True))
    except csv.Error:
        raise _error(tk._("The file cannot be read as CSV")) from None


def _xlsx_rows(data: bytes) -> list[list[Any]]:
    try:
        feedsafety.check_archive(data, 4 * MAX_BYTES, sheets=SHEETS)
    except feedsafety.Unsafe as unsafe:
        if unsafe.code == "archive_bad":
            raise _error(tk._("The file cannot be read as an XLSX workbook")) from None
        raise _error(message(f"harvest_{unsafe.code}", **unsafe.params)) from None
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:
        raise _error(tk._("The file cannot be read as an XLSX workbook")) from None
    try:
        sheet = book.worksheets[0]
        sheet.reset_dimensions()  # rows as they are, not padded to a declared size
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    except Exception:
        raise _error(tk._("The file cannot be read as an XLSX workbook")) from None
    finally:
        book.close()


def _error(text: str) -> tk.ValidationError:
    return tk.ValidationError({"upload": [text]})


def _records_upload(resource: Mapping[str, Any]) -> Any:
    """The file uploaded to a 双公示 resource (a werkzeug FileStorage or the like), or None."""
    if resource.get("record_type") not in standard.RECORD_TYPES:
        return None
    upload = resource.get("upload")
    stream = getattr(upload, "stream", None)
    if stream is None or not hasattr(stream, "read"):
        return None
    return upload


def read_upload(upload: Any) -> list[dict[str, Any]]:
    """The records of an uploaded file.

    Raises:
        tk.ValidationError: A bad file (see ``read_records``) or records the store cannot take,
            under ``upload``, with the row of each problem.
    """
    records = read_records(upload.stream, getattr(upload, "filename", "") or "")
    store.refuse_bad_shapes(records, key="upload", header_row=True)
    return records


def take_upload(resource: dict[str, Any]) -> None:
    """Before a 双公示 resource is saved: refuse a bad file (nothing is saved then) and drop a good
    one, so that the file store never holds it. Its records are submitted once the resource is
    saved (``chained_actions``)."""
    upload = _records_upload(resource)
    if upload is None:
        return
    read_upload(upload)
    resource.pop("upload")
    resource["url"] = "_datastore_only_resource"
    resource["url_type"] = "datastore"  # its data is the DataStore table, as CKAN's own do
    resource["format"] = "CSV"  # what it downloads as (the table; the file is not kept)


def submit_records(context: Context, resource_id: str,
                   records: list[dict[str, Any]]) -> dict[str, int]:
    """Submit the records of a file to its saved resource, in parts; the totals."""
    totals = {"received": 0, "public": 0, "invalid": 0}
    for start in range(0, len(records), submission.MAX_RECORDS):
        result = submission.submit(context, resource_id,
                                   records[start:start + submission.MAX_RECORDS])
        for key in totals:
            totals[key] += result[key]
    return totals


def report_upload(totals: dict[str, int]) -> None:
    """Tell the department on its next page what became of the records of its file (a web
    upload; an API caller gets the records' outcome from the compliance actions)."""
    if not flask.has_request_context() or flask.request.path.startswith("/api/"):
        return
    tk.h.flash_notice(tk._(
        "{received} records received: {public} published, {invalid} failing the rules (see the "
        "department's disclosure compliance page)").format(**totals))


def _submitting_uploads(name: str) -> ChainedAction:
    @tk.chained_action
    def chained(next_action: Action, context: Context, data_dict: DataDict) -> Any:
        # Held here: ``take_upload`` drops the file from the resource before it is saved.
        upload = _records_upload(data_dict)
        resource = next_action(context, data_dict)
        if upload is not None:
            records = read_upload(upload)
            report_upload(submit_records(context, resource["id"], records))
        return resource

    chained.__name__ = name
    return chained


def chained_actions() -> dict[str, ChainedAction]:
    """``resource_create`` and ``resource_update``: the records of a file uploaded to a 双公示
    resource submitted once the resource is saved."""
    return {name: _submitting_uploads(name) for name in ("resource_create", "resource_update")}
