"""Every table file of the catalogue into the DataStore, in the background.

A resource in a table format (``tabular.FORMATS``) is loaded when it is created, when its file or
URL changes (an upload, an edit, a harvest) and when its dataset's 信息项 change its columns'
types: ``enqueue`` (called as a dataset is saved) notes it as pending in CKAN's ``task_status``
and queues ``yantai_datastore_load`` on CKAN's background jobs once the change is committed.

The job reads the portal's own file from the file store, or downloads a remote one through
``netguard`` (the resource-check policy: no internal addresses, a size limit), then:

1. reads every row once (``tabular``): the columns' types are decided (``columns``), markings
   of classified data looked for (``classified``, as for every text the portal stores), and the
   rows written to a temporary file. A file that cannot be read, or holds a marking, stops here
   with its reason and the row where it happened, and the table already loaded stays as it was;
2. writes the rows in their columns' types, in parts;
3. replaces the table: ``datastore_create`` with the columns and their Data Dictionary (labels
   and notes kept from the table before; the whole header as label when it was shortened), the
   parts copied in with PostgreSQL's COPY on two connections (CKAN's trigger fills ``_full_text``
   for Chinese search), and the full-text index built after the rows are in.

Its state (``status``) is shown on the resource page: 等待载入, 载入中, 已载入 N 行, or 载入失败
with the reason and row.
"""
from __future__ import annotations

import concurrent.futures
import contextlib
import csv
import datetime as dt
import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO, cast

import ckan.model as model
import ckan.plugins.toolkit as tk
import sqlalchemy as sa
from ckan.lib import search
from ckan.lib.uploader import get_resource_uploader
from ckan.types import Context
from sqlalchemy import event

from ckanext.yantai import classified, config, netguard
from ckanext.yantai.datastore import columns, tabular

log = logging.getLogger(__name__)

TASK_TYPE = "yantai_datastore"
TASK_KEY = "load"
PENDING, RUNNING, COMPLETE, ERROR = "pending", "running", "complete", "error"
SCAN_ROWS = 1000  # rows scanned for markings at a time
COPY_PARTS = 2  # connections copying rows at once (the trigger's work is the bulk of a load)
MAX_BYTES_DEFAULT = 512 * 1024 * 1024


# -- which resources, and when -------------------------------------------------------------------

def format_of(resource: dict[str, Any]) -> str | None:
    """The table format of a resource loaded into the DataStore, or None: not a table, a
    双公示 resource (its table is the records' sync's) or a table written through the API."""
    if str(resource.get("record_type") or "").strip():
        return None
    if resource.get("url_type") not in (None, "", "upload"):
        return None
    url = str(resource.get("url") or "")
    if not url:
        return None
    return tabular.format_of(resource.get("format"), url.rsplit("/", 1)[-1])


def fingerprint(resource: dict[str, Any], info_items: Any) -> str:
    """What a load depends on: the file (its URL, upload time, size, format) and the types the
    dataset's 信息项 give the columns."""
    facts = [resource.get(k) for k in ("url", "url_type", "last_modified", "size", "format")]
    facts.append(sorted(columns.item_types(info_items if isinstance(info_items, list)
                                           else None).items()))
    return hashlib.sha256(json.dumps(facts, default=str, ensure_ascii=False).encode()
                          ).hexdigest()


def enqueue_package(pkg_dict: dict[str, Any]) -> list[str]:
    """After a dataset was saved (not yet committed): the resources to load again, noted as
    pending, and their jobs queued when the change commits. A queue that cannot take them
    (Redis down) loses nothing: ``ckan yantai datastore-load --pending`` queues them later.

    The resources are read from the saved dataset (a new one has its id only there)."""
    if not config.datastore_load_on_update():
        return []
    pkg = model.Package.get(pkg_dict.get("id") or "") if pkg_dict.get("id") else None
    if pkg is None or pkg.state == "deleted":
        return []
    return enqueue([facts(r) for r in pkg.resources], pkg_dict.get("info_items"))


def facts(resource: model.Resource) -> dict[str, Any]:
    """What ``format_of`` and ``fingerprint`` read of a resource, as stored."""
    return {"id": resource.id, "url": resource.url, "url_type": resource.url_type,
            "format": resource.format, "last_modified": resource.last_modified,
            "size": resource.size, "record_type": (resource.extras or {}).get("record_type")}


def enqueue(resources: list[dict[str, Any]], info_items: Any) -> list[str]:
    """``enqueue_package`` for these resources (of a dataset with these 信息项)."""
    due = []
    for resource in resources:
        if not resource.get("id") or format_of(resource) is None:
            continue
        mark = fingerprint(resource, info_items)
        current = status(resource["id"])
        if current and current.get("fingerprint") == mark and current["state"] != ERROR:
            continue
        if current and current.get("fingerprint") == mark and current.get("tried") == mark:
            continue  # failed on this very file: a new file (or a reload) tries again
        _set_status(resource["id"], PENDING, fingerprint=mark, keep=current)
        due.append(resource["id"])
    if due:
        def queue(_session: Any) -> None:
            for resource_id in due:
                try:
                    submit(resource_id)
                except Exception:  # noqa: BLE001 — any queue failure, after the commit
                    log.warning("could not queue the DataStore load of resource %s; "
                                "`ckan yantai datastore-load --pending` will", resource_id,
                                exc_info=True)

        event.listen(model.Session(), "after_commit", queue, once=True)
    return due


def queue_reload(resource_id: str) -> None:
    """Load the resource again even if its file did not change."""
    _save_status(resource_id, PENDING)
    submit(resource_id, force=True)


def submit(resource_id: str, force: bool = False) -> None:
    tk.enqueue_job(yantai_datastore_load, [resource_id], {"force": force} if force else {},
                   title=f"load resource {resource_id} into the DataStore",
                   rq_kwargs={"timeout": config.datastore_load_timeout()})


# What the resource page says of a load that failed (message ids; Chinese in i18n/).
ERRORS = {
    "format": "This file format is not loaded into the DataStore",
    "empty": "The file is empty",
    "no_header": "The file has no header row",
    "no_rows": "The file has a header but no rows",
    "binary": "The file is not a text table (it holds binary data)",
    "undecodable": ("The file's text encoding cannot be read: save it as UTF-8 or GB18030 "
                    "(GBK)"),
    "unreadable": "The file cannot be read as {format}: open it and save it again in that format",
    "malformed": "The file is malformed",
    "not_tabular": "The JSON file is not a list of records",
    "too_many_values": ("This row has {values} values but the header has {columns} columns: a "
                        "value holding a comma must be in double quotes"),
    "classified": ("The file carries a classification marking: this portal is a non-classified "
                   "system, and the file was not loaded"),
    "download": "The file could not be downloaded from its address",
    "missing_file": "The uploaded file is missing from the file store",
    "internal": "The table could not be loaded because of a fault of the portal; it is logged",
}


def error_message(error: dict[str, Any] | None) -> str:
    """A failed load's reason in the user's language, with its row."""
    if not error:
        return ""
    details = {k: v for k, v in (error.get("details") or {}).items() if isinstance(v, (str, int))}
    try:
        text = tk._(ERRORS.get(error.get("reason") or "", ERRORS["internal"])).format(**details)
    except (KeyError, IndexError):
        text = tk._(ERRORS.get(error.get("reason") or "", ERRORS["internal"]))
    if error.get("row"):
        text = tk._("Row {row}: {message}").format(row=error["row"], message=text)
    return text


# -- status ----------------------------------------------------------------------------------------

def _task(resource_id: str) -> model.TaskStatus | None:
    return model.Session.query(model.TaskStatus).filter_by(
        entity_id=resource_id, task_type=TASK_TYPE, key=TASK_KEY).first()


def status(resource_id: str) -> dict[str, Any] | None:
    """The resource's last load: ``state`` and what it found (rows, columns, error…)."""
    task = _task(resource_id)
    if task is None:
        return None
    try:
        value = json.loads(task.value or "{}")
    except ValueError:
        value = {}
    value["state"] = task.state
    value["updated"] = task.last_updated.replace(tzinfo=dt.UTC).isoformat() \
        if task.last_updated else None
    return value


def _set_status(resource_id: str, state: str, keep: dict[str, Any] | None = None,
                **value: Any) -> None:
    """Note the load's state in the current transaction. ``keep``: an earlier status whose
    findings (rows, columns) stay shown while a new load is pending or running."""
    task = _task(resource_id)
    if task is None:
        task = model.TaskStatus(entity_id=resource_id, entity_type="resource",
                                task_type=TASK_TYPE, key=TASK_KEY)
        model.Session.add(task)
    merged = {k: v for k, v in (keep or {}).items() if k not in ("state", "updated", "error")}
    merged.update(value)
    task.state = state
    task.value = json.dumps(merged, ensure_ascii=False, default=str)
    task.error = json.dumps(value.get("error"), ensure_ascii=False) if value.get("error") else ""
    task.last_updated = dt.datetime.now(dt.UTC).replace(tzinfo=None)


def conforms(status: dict[str, Any]) -> bool:
    """Whether a finished load found the table as the catalogue describes it: loaded, no value
    unfit for its column's type, every column a 信息项. (A dataset's tables may share out its
    信息项, a table of routes and one of stops: an item lacking from every table is the
    dataset's matter, ``quality_index.table_conformance``.)"""
    return status["state"] == COMPLETE and not (status.get("items") or {}).get("extra") and \
        not any(c.get("misfits") for c in status.get("columns") or [])


def _save_status(resource_id: str, state: str, **value: Any) -> None:
    _set_status(resource_id, state, keep=status(resource_id), **value)
    model.Session.commit()


# -- the job ---------------------------------------------------------------------------------------

def yantai_datastore_load(resource_id: str, force: bool = False) -> dict[str, Any]:
    """Load the resource's file into its DataStore table (see the module's text); with
    ``force``, even when the table is of this very file already."""
    try:
        resource = tk.get_action("resource_show")(_context(), {"id": resource_id})
        pkg = tk.get_action("package_show")(_context(), {"id": resource["package_id"]})
    except tk.ObjectNotFound:
        return {"state": "gone"}
    fmt = format_of(resource)
    if fmt is None:  # no longer a table file: nothing to show
        model.Session.query(model.TaskStatus).filter_by(
            entity_id=resource_id, task_type=TASK_TYPE, key=TASK_KEY).delete()
        model.Session.commit()
        return {"state": "skipped"}
    with _one_load_at_a_time(resource_id):
        model.Session.expire_all()
        stored = model.Resource.get(resource_id)
        assert stored is not None  # resource_show found it
        mark = fingerprint(facts(stored), pkg.get("info_items"))
        current = status(resource_id)
        if not force and current and current["state"] == COMPLETE and \
                current.get("fingerprint") == mark:
            return {"state": "unchanged"}  # loaded by a job queued for the same change
        return _load(resource_id, resource, pkg, fmt, mark)


@contextlib.contextmanager
def _one_load_at_a_time(resource_id: str) -> Iterator[None]:
    """Jobs for one resource (two quick edits, two workers) run one after the other."""
    from ckanext.datastore.backend.postgres import get_write_engine

    key = int.from_bytes(hashlib.sha256(resource_id.encode()).digest()[:8], "big", signed=True)
    with get_write_engine().connect() as conn:
        conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": key})  # a session lock
        try:
            yield
        finally:
            conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": key})


def _load(resource_id: str, resource: dict[str, Any], pkg: dict[str, Any], fmt: str,
          mark: str) -> dict[str, Any]:
    started = time.monotonic()
    _save_status(resource_id, RUNNING, fingerprint=mark, started=_now())
    try:
        with _source_file(resource) as path:
            result = load_file(resource_id, path, fmt, pkg, resource)
    except tabular.Unloadable as exc:
        model.Session.rollback()
        error = {"reason": exc.reason, "row": exc.row, "details": exc.details}
        _save_status(resource_id, ERROR, fingerprint=mark, tried=mark, error=error,
                     finished=_now())
        search.rebuild(resource["package_id"])  # its quality score counts the failure
        log.info("resource %s not loaded: %s (row %s)", resource_id, exc.reason, exc.row)
        return {"state": ERROR, "error": error}
    except Exception:
        model.Session.rollback()
        _save_status(resource_id, ERROR, fingerprint=mark, tried=mark,
                     error={"reason": "internal", "row": None, "details": {}}, finished=_now())
        raise
    result.update(fingerprint=mark, finished=_now(), format=fmt,
                  seconds=round(time.monotonic() - started, 1))
    _save_status(resource_id, COMPLETE, **result)
    search.rebuild(resource["package_id"])  # its quality score counts the table
    return {"state": COMPLETE, **result}


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _context() -> Context:
    site_user = tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]
    return cast(Context, {"ignore_auth": True, "user": site_user})


@contextlib.contextmanager
def _source_file(resource: dict[str, Any]) -> Iterator[str]:
    """The path of the resource's file: the file store's, or a download of its URL."""
    if resource.get("url_type") == "upload":
        path = get_resource_uploader(resource).get_path(resource["id"])
        if not os.path.exists(path):
            raise tabular.Unloadable("missing_file")
        yield path
        return
    with tempfile.NamedTemporaryFile(prefix="yantai-load-", suffix=".download") as target:
        try:
            netguard.download(resource["url"], cast(BinaryIO, target),
                              max_bytes=config.datastore_max_bytes(),
                              policy=config.linkcheck_policy(),
                              read_timeout=config.linkcheck_timeout())
        except netguard.Refused as refused:
            raise tabular.Unloadable("download", None, code=refused.code,
                                     status=refused.params.get("status", ""),
                                     limit=refused.params.get("limit", "")) from None
        target.flush()
        yield target.name


def load_file(resource_id: str, path: str, fmt: str, pkg: dict[str, Any],
              resource: dict[str, Any]) -> dict[str, Any]:
    """Load the table file at ``path`` as the resource's DataStore table; what was loaded.

    Raises:
        tabular.Unloadable: The file is not loaded (and the table before it is kept).
    """
    existing = _existing_fields(resource_id)
    by_item = columns.item_types(pkg.get("info_items"))
    with tempfile.TemporaryDirectory(prefix="yantai-load-") as work:
        raw_path = os.path.join(work, "raw.csv")
        with tabular.open_table(path, fmt) as table:
            states = []
            for column in table.columns:
                override = (existing.get(column.name) or {}).get("info", {}).get("type_override")
                declared = override if override in columns.OVERRIDES else \
                    by_item.get(columns.item_key(column.name)) or \
                    by_item.get(columns.item_key(column.header))
                states.append(columns.ColumnState(column.name, declared))
            count = _first_pass(table, states, raw_path)
            names = [c.name for c in table.columns]
            headers = {c.name: c.header for c in table.columns}
            encoding = table.encoding
        if not count:
            raise tabular.Unloadable("no_rows")
        types = [state.type for state in states]
        parts = _second_pass(raw_path, types, work)
        fields = [_field(name, kind, headers[name], existing.get(name))
                  for name, kind in zip(names, types, strict=True)]
        _replace_table(resource_id, fields, names, parts)
    return {"rows": count, "encoding": encoding,
            "columns": [_column_report(s, headers[s.name]) for s in states],
            "items": _catalogue_check(names, headers, pkg.get("info_items"))}


def _first_pass(table: tabular.Table, states: list[columns.ColumnState], raw_path: str) -> int:
    count = 0
    batch: list[list[str]] = [[c.header for c in table.columns]]
    with open(raw_path, "w", encoding="utf-8", newline="") as raw:
        writer = csv.writer(raw)
        for number, cells in table.rows:
            for state, text in zip(states, cells, strict=True):
                state.take(number, text)
            writer.writerow([number, *cells])
            batch.append(cells)
            count += 1
            if len(batch) >= SCAN_ROWS:
                _scan(batch, number)
                batch = []
        _scan(batch, None)
    return count


def _scan(rows: list[list[str]], row: int | None) -> None:
    rule = classified.records_rule(rows) if rows else None
    if rule:
        raise tabular.Unloadable("classified", row=row, rule=rule)


def _second_pass(raw_path: str, types: list[str], work: str) -> list[str]:
    """The rows in their columns' types, in ``COPY_PARTS`` files, each row led by its ``_id``
    (its place in the file: the parts are copied at once, so the sequence would mix them)."""
    paths = [os.path.join(work, f"part{i}.csv") for i in range(COPY_PARTS)]
    with contextlib.ExitStack() as stack:
        writers = [csv.writer(stack.enter_context(open(p, "w", encoding="utf-8", newline="")))
                   for p in paths]
        with open(raw_path, encoding="utf-8", newline="") as raw:
            for index, (_number, *cells) in enumerate(csv.reader(raw)):
                writers[index % COPY_PARTS].writerow(
                    [index + 1, *(columns.final_value(kind, text) if kind != "text" else text
                                  for kind, text in zip(types, cells, strict=True))])
    return paths


def _existing_fields(resource_id: str) -> dict[str, dict[str, Any]]:
    try:
        info = tk.get_action("datastore_info")(_context(), {"id": resource_id})
    except tk.ObjectNotFound:
        return {}
    return {f["id"]: f for f in info.get("fields", [])}


def _field(name: str, kind: str, header: str, before: dict[str, Any] | None) -> dict[str, Any]:
    info = dict((before or {}).get("info") or {})
    if header != name and not info.get("label"):
        info["label"] = header
    field: dict[str, Any] = {"id": name, "type": kind}
    if info:
        field["info"] = info
    return field


def _column_report(state: columns.ColumnState, header: str) -> dict[str, Any]:
    return {"name": state.name, "header": header, "type": state.type,
            "declared": state.declared, "filled": state.filled,
            "misfits": state.misfit_count,
            "misfit_examples": [{"row": r, "value": v} for r, v in state.misfits]}


def _catalogue_check(names: Iterable[str], headers: dict[str, str],
                     info_items: Any) -> dict[str, list[str]]:
    """The table against the dataset's 信息项: items it lacks, and columns no item names."""
    items = [str(i.get("name")) for i in info_items or []
             if isinstance(i, dict) and i.get("name")]
    item_keys = {columns.item_key(i): i for i in items}
    column_keys = {columns.item_key(n) for n in names} | \
        {columns.item_key(h) for h in headers.values()}
    return {"missing": [i for k, i in item_keys.items() if k not in column_keys],
            "extra": [n for n in names if columns.item_key(n) not in item_keys
                      and columns.item_key(headers[n]) not in item_keys] if items else []}


def _replace_table(resource_id: str, fields: list[dict[str, Any]], names: list[str],
                   parts: list[str]) -> None:
    """The table replaced by the rows of ``parts`` (in ``names`` order)."""
    context = _context()
    with contextlib.suppress(tk.ObjectNotFound):
        tk.get_action("datastore_delete")(context.copy(), {"resource_id": resource_id,
                                                           "force": True})
    tk.get_action("datastore_create")(context.copy(), {
        "resource_id": resource_id, "force": True, "fields": fields, "records": []})
    from ckanext.datastore.backend.postgres import get_write_engine

    engine = get_write_engine()
    table = sa.sql.quoted_name(resource_id, True)
    with engine.begin() as conn:  # the full-text index, built again once the rows are in
        indexes = [r[0] for r in conn.execute(sa.text(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = :t "
            "AND indexdef LIKE '%_full_text%'"), {"t": resource_id})]
        for name, in conn.execute(sa.text(
                "SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND "
                "tablename = :t AND indexdef LIKE '%_full_text%'"), {"t": resource_id}):
            conn.execute(sa.text(f'DROP INDEX "{name}"'))
    column_list = ", ".join('"' + n.replace('"', '""') + '"' for n in ["_id", *names])
    copy = f'COPY "{table}" ({column_list}) FROM STDIN WITH (FORMAT csv)'

    def copy_part(path: str) -> None:
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            with open(path, encoding="utf-8") as rows:
                cursor.copy_expert(copy, rows, size=1024 * 1024)  # type: ignore[attr-defined]
            cursor.close()
            connection.commit()
        finally:
            connection.close()

    with concurrent.futures.ThreadPoolExecutor(len(parts)) as pool:
        for done in [pool.submit(copy_part, p) for p in parts]:
            done.result()
    with engine.begin() as conn:
        conn.execute(sa.text("SET LOCAL maintenance_work_mem = '256MB'"))
        for definition in indexes:
            conn.execute(sa.text(definition))
        # rows added later through the API follow the file's
        conn.execute(sa.text(
            f"SELECT setval(pg_get_serial_sequence(:t, '_id'), coalesce(max(_id), 0) + 1, "
            f'false) FROM "{table}"'), {"t": f'"{table}"'})
        conn.execute(sa.text(f'ANALYZE "{table}"'))
