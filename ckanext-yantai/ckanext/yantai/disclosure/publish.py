"""双公示 records published: a resource's DataStore table is the public form of its records.

The table holds the records that may be public (valid and publishable, ``store``), each in its
masked form (``privacy.mask``), with the record's key and when it first went online. It is
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

from ckanext.yantai import workdays
from ckanext.yantai.disclosure import privacy, standard
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


def datastore_fields(record_type: str) -> list[dict[str, Any]]:
    return ([{"id": KEY_COLUMN, "type": "text"}, {"id": FIRST_PUBLIC_COLUMN, "type": "timestamp"}]
            + [{"id": name, "type": "text"} for name in standard.FIELDS[record_type]])


def public_row(row: DisclosureRecord) -> dict[str, Any]:
    assert row.first_public_at is not None  # a public row has been public since then
    first = row.first_public_at.astimezone(workdays.SHANGHAI).replace(tzinfo=None)
    return {KEY_COLUMN: row.record_key, FIRST_PUBLIC_COLUMN: first.isoformat(timespec="seconds"),
            **privacy.mask(row.record_type, row.fields)}


def sync_datastore(resource_id: str, record_type: str, rows: Iterable[DisclosureRecord]) -> None:
    """Make the resource's DataStore table show exactly the public rows among ``rows``."""
    rows = list(rows)
    context = sync_context()
    resource = model.Resource.get(resource_id)
    assert resource is not None  # the records' own resource
    if not (resource.extras or {}).get("datastore_active"):
        tk.get_action("datastore_create")(context.copy(), {
            "resource_id": resource_id, "force": True, "primary_key": KEY_COLUMN,
            "fields": datastore_fields(record_type), "records": []})
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
