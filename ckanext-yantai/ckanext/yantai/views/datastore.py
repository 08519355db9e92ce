"""The DataStore table of a resource, on its page: its downloads, and a reload asked for by its
editors.

Downloads: the whole table as CSV (UTF-8 with a byte-order mark, which Excel on Chinese Windows
needs to read it as UTF-8), XLSX or JSON, named by the dataset's title and the resource's name
(``filename*``, RFC 6266). Only to those who may have the data (others get a 404, as for a
table that does not exist); a read of 有条件开放 or 不予开放 data is written to the audit log.
Rows are read in a stream (a server-side cursor), never all at once.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import re
import tempfile
import urllib.parse
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, cast

import ckan.model as model
import ckan.plugins.toolkit as tk
import openpyxl
import sqlalchemy as sa
from ckan.types import Context
from flask import Blueprint, Response, send_file
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from ckanext.yantai import access, audit

datastore = Blueprint("yantai_datastore", __name__)

FORMATS = {"csv": "text/csv; charset=utf-8", "json": "application/json; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
XLSX_MAX_ROWS = 1_048_575  # a sheet's rows, less the header
FETCH_ROWS = 5000


def _file_name(pkg: model.Package, resource: model.Resource, ext: str) -> str:
    parts = [pkg.title or pkg.name]
    if resource.name and resource.name != pkg.title:
        parts.append(re.sub(r"\.(csv|tsv|xlsx?|json)$", "", resource.name, flags=re.I))
    name = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "_", "-".join(parts)).strip(" .") or resource.id
    return f"{name[:120]}.{ext}"


def _disposition(file_name: str) -> str:
    return (f'attachment; filename="table.{file_name.rsplit(".", 1)[1]}"; '
            f"filename*=UTF-8''{urllib.parse.quote(file_name)}")


def _columns(resource_id: str) -> list[str]:
    info = tk.get_action("datastore_info")(
        cast(Context, {"ignore_auth": True}), {"id": resource_id})
    return [f["id"] for f in info["fields"] if not f["id"].startswith("_")]


def _rows(resource_id: str, names: list[str]) -> Iterator[tuple[Any, ...]]:
    from ckanext.datastore.backend.postgres import get_read_engine

    columns = ", ".join('"' + n.replace('"', '""') + '"' for n in names)
    table = resource_id.replace('"', '""')
    with get_read_engine().connect() as conn:
        result = conn.execution_options(stream_results=True).execute(
            sa.text(f'SELECT {columns} FROM "{table}" ORDER BY _id'))
        while chunk := result.fetchmany(FETCH_ROWS):
            yield from (tuple(row) for row in chunk)


def _text(value: Any) -> Any:
    """A value as JSON writes it (PostgreSQL's ``infinity`` as the DataStore API gives it)."""
    if value is None or isinstance(value, (str, int, bool)) or (
            isinstance(value, float) and math.isfinite(value)):
        return value
    if isinstance(value, Decimal):
        if not value.is_finite():
            return str(value)  # NaN, Infinity: JSON has no number for them
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, float):  # not finite: JSON has no number for it
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)) and value.year == dt.MAXYEAR:
        return "infinity"
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    return str(value)


# Excel runs a CSV cell that starts with these as a formula (=HYPERLINK(…), +cmd|…): a text
# value from a department's or a harvested file is never one (OWASP's CSV injection advice).
_FORMULA_START = re.compile(r"[=+@\t\r]|-(?![\d.]*$)")


def _sheet_value(value: Any) -> Any:
    """A value as a spreadsheet shows it: 长期 for an open-ended date."""
    if isinstance(value, (dt.date, dt.datetime)) and value.year == dt.MAXYEAR:
        return "长期"
    return _text(value)


def _csv_value(value: Any) -> Any:
    """A CSV cell: a text that would start a formula behind an apostrophe."""
    value = "" if value is None else _sheet_value(value)
    if isinstance(value, str) and _FORMULA_START.match(value):
        return "'" + value
    return value


def _xlsx_row(sheet: Any, row: Iterator[Any]) -> list[Any]:
    """An XLSX row: openpyxl writes a text starting with = as a formula; here it stays text."""
    cells = []
    for value in map(_sheet_value, row):
        if isinstance(value, str):  # a sheet holds no control characters
            value = ILLEGAL_CHARACTERS_RE.sub("", value)
        if isinstance(value, str) and value.startswith("="):
            cell = WriteOnlyCell(sheet, value)
            cell.data_type = "s"
            value = cell
        cells.append(value)
    return cells


def _csv(resource_id: str, names: list[str]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")  # so that Excel reads UTF-8
    writer.writerow([_csv_value(n) for n in names])
    for count, row in enumerate(_rows(resource_id, names), start=1):
        writer.writerow([_csv_value(v) for v in row])
        if count % 1000 == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def _json(resource_id: str, names: list[str]) -> Iterator[bytes]:
    yield b'{"fields": ' + json.dumps(names, ensure_ascii=False).encode() + b', "records": ['
    for count, row in enumerate(_rows(resource_id, names)):
        record = dict(zip(names, (_text(v) for v in row), strict=True))
        yield (b"," if count else b"") + json.dumps(record, ensure_ascii=False).encode()
    yield b"]}"


@datastore.route("/dataset/<id>/resource/<resource_id>/table.<fmt>")
def download(id: str, resource_id: str, fmt: str) -> Any:
    if fmt not in FORMATS:
        return tk.abort(404, tk._("Resource not found"))
    context = cast(Context, {"user": tk.current_user.name if tk.current_user else ""})
    try:
        pkg = access.check_data_access(context, resource_id)
        names = _columns(resource_id)
    except tk.ObjectNotFound:
        return tk.abort(404, tk._("Resource not found"))
    resource = model.Resource.get(resource_id)
    assert resource is not None
    if id not in (pkg.id, pkg.name):
        return tk.abort(404, tk._("Resource not found"))
    if access.is_restricted(pkg):
        audit.record("datastore_read", context.get("user") or None, pkg.id, pkg.owner_org,
                     resource_id, format=fmt)
    file_name = _file_name(pkg, resource, fmt)
    headers = {"Content-Disposition": _disposition(file_name)}
    if fmt == "csv":
        return Response(_csv(resource_id, names), mimetype=FORMATS[fmt], headers=headers)
    if fmt == "json":
        return Response(_json(resource_id, names), mimetype=FORMATS[fmt], headers=headers)
    if _row_count(resource_id) > XLSX_MAX_ROWS:  # asked before a sheet is written
        tk.h.flash_error(tk._("The table has more rows than a spreadsheet holds: download "
                              "it as CSV"))
        return tk.redirect_to("resource.read", id=pkg.name, resource_id=resource_id)
    book = openpyxl.Workbook(write_only=True)
    spool = tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024)  # noqa: SIM115 — sent
    try:
        sheet = book.create_sheet("数据")
        sheet.append(_xlsx_row(sheet, iter(names)))
        for row in _rows(resource_id, names):
            sheet.append(_xlsx_row(sheet, iter(row)))
        book.save(spool)  # (removes the sheet's temporary file)
    except BaseException:
        spool.close()
        book.close()
        raise
    spool.seek(0)
    return send_file(spool, mimetype=FORMATS[fmt], as_attachment=True, download_name=file_name)


def _row_count(resource_id: str) -> int:
    from ckanext.datastore.backend.postgres import get_read_engine

    table = resource_id.replace('"', '""')
    with get_read_engine().connect() as conn:
        return int(conn.execute(sa.text(f'SELECT count(*) FROM "{table}"')).scalar() or 0)


@datastore.route("/dataset/<id>/resource/<resource_id>/datastore/reload", methods=["POST"])
def reload(id: str, resource_id: str) -> Any:
    context = cast(Context, {"user": tk.current_user.name if tk.current_user else ""})
    try:
        tk.get_action("yantai_datastore_submit")(context, {"resource_id": resource_id})
    except tk.NotAuthorized:
        return tk.abort(403, tk._("Not authorized to load this resource"))
    except tk.ObjectNotFound:
        return tk.abort(404, tk._("Resource not found"))
    except tk.ValidationError as error:
        tk.h.flash_error(" ".join(str(m) for msgs in error.error_dict.values()
                                  for m in (msgs if isinstance(msgs, list) else [msgs])))
    else:
        tk.h.flash_success(tk._("The table will be loaded again in a moment."))
    return tk.redirect_to("resource.read", id=id, resource_id=resource_id)


def blueprints() -> list[Blueprint]:
    return [datastore]
