"""The DataStore: rows are the data, so reading a table (by search, info or SQL) needs the right
to the dataset's data, and a table the caller may not know of answers as missing. Writes: the
tables of 双公示 records are written by their sync only (``disclosure.tables``), and a table of a
dataset the caller may not see answers as missing."""
from __future__ import annotations

from typing import Any, cast

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.types import (
    Action,
    AuthFunction,
    AuthResult,
    ChainedAction,
    ChainedAuthFunction,
    Context,
    DataDict,
)

from ckanext.yantai import access, audit
from ckanext.yantai.disclosure import tables as record_tables
from ckanext.yantai.guards.absence import (
    Check,
    auth_chains,
    hide,
    not_found_instead,
    package,
    resource_package,
    unseen,
)

# The DataStore's own words for a table that does not exist, per action.
MISSING = {"datastore_search": 'Resource "{0}" was not found.',
           "datastore_info": 'Resource/Alias "{0}" was not found.'}
# The DataStore's catalogue of every table and alias: sysadmins only.
TABLE_METADATA = "_table_metadata"


def _read_chain(name: str) -> ChainedAction:
    def missing(resource_id: Any) -> Exception:
        return tk.ObjectNotFound(tk._(MISSING[name].format(resource_id)))

    @tk.chained_action
    @tk.side_effect_free
    def chained(next_action: Action, context: Context, data_dict: DataDict) -> Any:
        resource_id = data_dict.get("resource_id") or data_dict.get("id")
        viewer = access.context_viewer(context)
        if resource_id == TABLE_METADATA and viewer is not None and not viewer.sysadmin:
            raise missing(resource_id)
        pkg = None
        if isinstance(resource_id, str) and model.Resource.get(resource_id) is not None:
            try:
                pkg = access.check_data_access(context, resource_id)
            except tk.ObjectNotFound:
                raise missing(resource_id) from None
        result = not_found_instead(next_action, context, data_dict,
                                   lambda: missing(resource_id))
        if pkg is not None:  # found for a string id only
            _audit_read(context, pkg, cast(str, resource_id))
        return result

    chained.__name__ = name
    return chained


def _audit_read(context: Context, pkg: model.Package, resource_id: str) -> None:
    if access.is_restricted(pkg) and not context.get("ignore_auth"):
        audit.record("datastore_read", context.get("user") or None, pkg.id, pkg.owner_org,
                     resource_id)


@tk.chained_auth_function
@tk.auth_allow_anonymous_access
def datastore_search_sql_auth(next_auth: AuthFunction, context: Context,
                              data_dict: DataDict | None) -> AuthResult:
    """Every table a query reads must be data the caller may have."""
    for name in context.get("table_names") or []:
        try:
            access.check_data_access(context, name)
        except tk.ObjectNotFound:
            if model.Resource.get(name) is not None:
                return {"success": False, "msg": "Not authorized to read resource."}
    return next_auth(context, data_dict)  # pyright: ignore[reportArgumentType]  # passed on data_dict as given, None too


def _datastore_create(context: Context, data_dict: DataDict) -> None:
    resource = data_dict.get("resource")
    if isinstance(resource, dict) and resource.get("package_id"):
        hide(lambda d: package(resource.get("package_id")))(context, data_dict)
    elif unseen(context, resource_package(data_dict.get("resource_id"))):
        # what resource_id_exists, in the action's schema, says of a missing table
        raise tk.ValidationError({"resource_id": [f"{tk._('Not found')}: {tk._('Resource')}"]})


def _checks() -> dict[str, tuple[Check, bool]]:
    table = hide(lambda d: resource_package(d.get("resource_id") or d.get("id")))
    return {"datastore_create": (_datastore_create, False),
            **{name: (table, False) for name in ("datastore_upsert", "datastore_delete",
                                                 "datastore_records_delete")}}


def chained_actions() -> dict[str, ChainedAction]:
    return {**{name: _read_chain(name) for name in ("datastore_search", "datastore_info")},
            **record_tables.chained_actions()}


def auth_functions() -> dict[str, ChainedAuthFunction]:
    return {"datastore_search_sql": datastore_search_sql_auth, **auth_chains(_checks())}
