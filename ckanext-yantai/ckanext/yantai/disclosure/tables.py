"""The DataStore tables of 双公示 resources are the public, masked form of the records: only the
portal's own sync (``publish.sync_datastore``) writes them.

A department sends records through ``yantai_disclosure_submit`` (checked, masked); written
directly, a forged row with an unmasked identity number would be public at once. So:

- every DataStore write naming such a table is refused, whatever key names it (CKAN accepts
  ``resource_id``, ``id`` and, for datastore_create, a ``resource`` dict) and for everyone,
  sysadmins and other internal calls included; only the sync's own writes pass, which carry
  ``publish.SYNC`` in their context (a key CKAN never takes from a request);
- a resource that holds records keeps its record type (clearing it would let the table be
  written directly, and setting it back would publish what was written);
- a resource whose DataStore table already holds data cannot become a 双公示 resource.
"""
from __future__ import annotations

import uuid
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.types import Action, ChainedAction, Context, DataDict

from ckanext.yantai import classified
from ckanext.yantai.disclosure import publish
from ckanext.yantai.guards import firewall
from ckanext.yantai.model import DisclosureRecord

DATASTORE_WRITES = ("datastore_create", "datastore_upsert", "datastore_delete",
                    "datastore_records_delete")


def _datastore_backend() -> Any:
    # Imported late: ckanext.datastore is a plugin that may load after this module.
    from ckanext.datastore.backend import DatastoreBackend

    return DatastoreBackend.get_active_backend()


def named_tables(data_dict: DataDict) -> set[str]:
    """Every resource id a DataStore write may act on, by any key CKAN reads it from, with
    aliases resolved to the table they stand for."""
    names: set[str] = set()
    resource = data_dict.get("resource")
    for value in (data_dict.get("resource_id"), data_dict.get("id"),
                  resource.get("id") if isinstance(resource, dict) else None):
        if isinstance(value, str) and value:
            names.update({value, value.strip()})
    backend = _datastore_backend()
    for name in list(names):
        found, real_id = backend.resource_id_from_alias(name)
        if found and real_id:
            names.add(real_id)
    return names


def holds_records(resource_id: str) -> bool:
    """A resource with a record type, or with records sent to it (whatever its state)."""
    resource = model.Session.get(model.Resource, resource_id)
    if resource is not None and str((resource.extras or {}).get("record_type") or "").strip():
        return True
    return model.Session.query(
        model.Session.query(DisclosureRecord.id)
        .filter(DisclosureRecord.resource_id == resource_id).exists()).scalar()


def _refuse_resource_aliases(aliases: Any) -> None:
    """An alias is another name for a table: never the id of a resource, which would then show
    that table as its own (a 双公示 resource before its first records, forged rows and all)."""
    names = aliases.split(",") if isinstance(aliases, str) else aliases
    if not isinstance(names, list):
        return  # CKAN's own schema answers that
    for name in names:
        if isinstance(name, str) and name.strip() and (
                model.Resource.get(name.strip()) is not None or _looks_like_an_id(name.strip())):
            raise tk.ValidationError({"aliases": [tk._(
                "An alias cannot be a resource's id: choose a name of words")]})


def _looks_like_an_id(name: str) -> bool:
    try:
        uuid.UUID(name)
    except ValueError:
        return False
    return True


def _refusal() -> tk.ValidationError:
    return tk.ValidationError({"resource_id": [tk._(
        "This resource holds administrative licensing or penalty records: send them "
        "with yantai_disclosure_submit, which checks them and masks personal data")]})


def datastore_write_chain(name: str) -> ChainedAction:
    @tk.chained_action
    def chained(next_action: Action, context: Context, data_dict: DataDict) -> Any:
        if context.get(publish.SYNC):  # the sync: the one writer of the records tables
            return next_action(context, data_dict)
        if not context.get("ignore_auth"):
            resource = data_dict.get("resource")
            if isinstance(resource, dict) and str(resource.get("record_type") or "").strip():
                raise _refusal()
            _refuse_resource_aliases(data_dict.get("aliases"))
            tables = named_tables(data_dict)
            holding = any(holds_records(table) for table in tables)
            marking = _marking(data_dict)
            # A table that does not exist gets CKAN's own answer (nothing is written to it);
            # who may not write an existing one hears what CKAN would tell them (for a table
            # they may not see: that it does not exist), not why the write is refused.
            exists = any(model.Resource.get(t) is not None for t in tables) or \
                isinstance(data_dict.get("resource"), dict)
            if (holding or marking) and exists:
                tk.check_access(name, context.copy(), dict(data_dict))
                if holding:
                    raise _refusal()
                if marking:  # always, as (holding or marking) and not holding
                    _refuse_marking(context, marking, tables)
        elif _writes_records_table(data_dict):  # an internal call, but not the sync's
            raise _refusal()
        return next_action(context, data_dict)

    chained.__name__ = name
    return chained


def _writes_records_table(data_dict: DataDict) -> bool:
    """A write that would create a 双公示 resource's table or change one."""
    resource = data_dict.get("resource")
    if isinstance(resource, dict) and str(resource.get("record_type") or "").strip():
        return True
    return any(holds_records(table) for table in named_tables(data_dict))


def _marking(data_dict: DataDict) -> str | None:
    """The marking rule broken by the rows, field names or column descriptions written: any
    DataStore table is checked like every other text the portal stores."""
    rows: list[Any] = []
    for key in ("records", "fields"):
        value = data_dict.get(key)
        rows.extend(value if isinstance(value, list) else [value] if value else [])
    return classified.records_rule(rows)


def _refuse_marking(context: Context, rule: str, tables: set[str]) -> None:
    resource = next((r for r in map(model.Resource.get, tables) if r is not None), None)
    pkg = resource.package if resource is not None else None
    firewall.refuse(context, {"records": rule}, pkg.id if pkg else None,
                           pkg.owner_org if pkg else None, object="datastore")


def chained_actions() -> dict[str, ChainedAction]:
    return {name: datastore_write_chain(name) for name in DATASTORE_WRITES}


# -- record types of a dataset's resources, around a dataset update --------------------------------

def record_types(pkg: model.Package) -> dict[str, tuple[str, bool]]:
    """Each resource's stored record type and whether it holds records, before an update."""
    return {res.id: (str((res.extras or {}).get("record_type") or ""), holds_records(res.id))
            for res in pkg.resources_all}


def check_record_types(pkg: model.Package, before: dict[str, tuple[str, bool]]) -> None:
    """After an update is saved (not committed): refuse it when a resource that holds records
    was removed (a later update would purge it, and its records and pushes with it) or changed
    its record type, or when a resource whose id already names a DataStore table or alias of
    other data got one."""
    after = {res.id: res for res in pkg.resources_all}
    for resource_id, (_, holds) in before.items():
        res = after.get(resource_id)
        if holds and (res is None or res.state != "active"):
            raise _record_type_error(tk._(
                "This resource holds administrative licensing or penalty records and cannot be "
                "deleted: withdraw records by revoking them"))
    changed = False
    for res in after.values():
        now = str((res.extras or {}).get("record_type") or "")
        was, holds = before.get(res.id, ("", False))
        if now == was:
            continue
        if holds:
            changed = True
        elif now.strip() and _has_table(res.id):
            raise _record_type_error(tk._(
                "This resource already has a DataStore table of other data; create a new "
                "resource for administrative licensing or penalty records"))
    if changed:
        raise _record_type_error(tk._(
            "This resource holds administrative licensing or penalty records: its record type "
            "cannot be changed or removed"))


def _record_type_error(message: str) -> tk.ValidationError:
    # resource_create/update/delete answer with the last item of "resources" (and expect it).
    return tk.ValidationError({"record_type": [message], "resources": [{"record_type": [message]}]})


def _has_table(resource_id: str) -> bool:
    """A table, or an alias (a view over another table) by that name."""
    backend = _datastore_backend()
    return backend.resource_exists(resource_id) or backend.resource_id_from_alias(resource_id)[0]
