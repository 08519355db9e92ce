"""双公示 records published: a resource's DataStore table is the public form of its records.

The table holds the records that may be public (valid and publishable, ``store``), each in its
masked form (``privacy.mask``), with the record's key and when it first went online. Its columns
are typed: amounts numeric (万元), dates as dates (长期 is ``infinity``), the first public time
with its offset; other fields text, as sent. It is
written only here (``sync_datastore``; ``tables`` refuses every other write), so
``datastore_search``, the DataStore dump and every other channel that reads it see masked values
only.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.types import Context

from ckanext.yantai.disclosure import intake, privacy, standard
from ckanext.yantai.model import DisclosureRecord

KEY_COLUMN = "记录标识"
FIRST_PUBLIC_COLUMN = "首次公开时间"
# The context key that marks the sync's own DataStore writes: ``tables`` refuses every other write
# to a 双公示 table, internal ones included. CKAN builds an action's context itself, so no request
# can set it.
SYNC = "yantai_disclosure_sync"


def sync_context() -> Context:
    """The context of the sync's DataStore writes: an internal call, marked as the sync's."""
    site_user = tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]
    return cast(Context, {"ignore_auth": True, "user": site_user, SYNC: True})


AMOUNT_FIELDS = (standard.FINE, standard.CONFISCATED)
LONG_TERM_FIELDS = (standard.VALID_TO, standard.PENALTY_VALID_TO)


def column_type(name: str) -> str:
    if name in AMOUNT_FIELDS:
        return "numeric"
    if any(name in dates for dates in standard.DATE_FIELDS.values()):
        return "date"
    return "text"


def datastore_fields(record_type: str) -> list[dict[str, Any]]:
    return ([{"id": KEY_COLUMN, "type": "text"},
             {"id": FIRST_PUBLIC_COLUMN, "type": "timestamptz"}]
            + [{"id": name, "type": column_type(name)} for name in standard.FIELDS[record_type]])


def _typed(name: str, value: Any) -> Any:
    """A public record's value for its column (it passed intake, so it reads as its type)."""
    kind = column_type(name)
    if kind == "text" or value is None or (isinstance(value, str) and not value.strip()):
        return value if kind == "text" else None
    if kind == "numeric":
        return str(intake.parse_amount(str(value)))
    day = intake.parse_date(str(value), long_term=name in LONG_TERM_FIELDS)
    return "infinity" if day == intake.LONG_TERM else day.isoformat()


def public_row(row: DisclosureRecord) -> dict[str, Any]:
    assert row.first_public_at is not None  # a public row has been public since then
    masked = privacy.mask(row.record_type, row.fields)
    return {KEY_COLUMN: row.record_key,
            FIRST_PUBLIC_COLUMN: row.first_public_at.isoformat(timespec="seconds"),
            **{name: _typed(name, value) for name, value in masked.items()}}


def _current_types(resource_id: str) -> dict[str, str] | None:
    """The table's column types, None without a table."""
    try:
        info = tk.get_action("datastore_info")(sync_context(), {"id": resource_id})
    except tk.ObjectNotFound:
        return None
    return {f["id"]: f["type"] for f in info["fields"] if not f["id"].startswith("_")}


def retype(resource_id: str, record_type: str) -> bool:
    """Rebuild a table whose columns are not (or no longer) those of ``datastore_fields`` from
    the resource's public records (tables made before columns were typed). Whether it was."""
    current = _current_types(resource_id)
    wanted = {f["id"]: f["type"] for f in datastore_fields(record_type)}
    if current is None or current == wanted:
        return False
    tk.get_action("datastore_delete")(sync_context(), {"resource_id": resource_id, "force": True})
    rows = model.Session.query(DisclosureRecord).filter(
        DisclosureRecord.resource_id == resource_id).all()
    _create(resource_id, record_type)
    _write(resource_id, rows)
    return True


def _create(resource_id: str, record_type: str) -> None:
    tk.get_action("datastore_create")(sync_context(), {
        "resource_id": resource_id, "force": True, "primary_key": KEY_COLUMN,
        "fields": datastore_fields(record_type), "records": []})


def sync_datastore(resource_id: str, record_type: str, rows: Iterable[DisclosureRecord]) -> None:
    """Make the resource's DataStore table show exactly the public rows among ``rows``."""
    rows = list(rows)
    resource = model.Resource.get(resource_id)
    assert resource is not None  # the records' own resource
    if not (resource.extras or {}).get("datastore_active"):
        _create(resource_id, record_type)
    elif retype(resource_id, record_type):
        return  # rebuilt from all its records, these included
    _write(resource_id, rows)


def _write(resource_id: str, rows: list[DisclosureRecord]) -> None:
    context = sync_context()
    public = [public_row(r) for r in rows if r.public]
    gone = [r.record_key for r in rows if not r.public]
    for start in range(0, len(public), 1000):
        tk.get_action("datastore_upsert")(context.copy(), {
            "resource_id": resource_id, "force": True, "method": "upsert",
            "records": public[start:start + 1000]})
    for start in range(0, len(gone), 1000):
        tk.get_action("datastore_delete")(context.copy(), {  # with filters: rows only
            "resource_id": resource_id, "force": True,
            "filters": {KEY_COLUMN: gone[start:start + 1000]}})
