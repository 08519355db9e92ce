"""The ``yantai_datastore`` plugin: CKAN's DataStore, searching in Chinese.

Listed after ``datastore`` in ``ckan.plugins``: CKAN calls the plugins' ``datastore_search``
hooks in that order, and this one rewrites the query the DataStore's own hook built.
"""
from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from typing import Any

import ckan.plugins as p
import ckan.plugins.toolkit as tk
from ckan.types import Context
from ckanext.datastore.interfaces import IDatastore
from ckanext.datastore.plugin import sql_functions_allowlist_file
from flask import request
from werkzeug.datastructures import ImmutableMultiDict

from ckanext.yantai.datastore import search

ALLOWED_FUNCTIONS = "ckan.datastore.sqlsearch.allowed_functions_file"


class YantaiDatastorePlugin(p.SingletonPlugin):
    p.implements(p.IConfigurer)
    p.implements(IDatastore, inherit=True)
    p.implements(p.IResourceController, inherit=True)
    p.implements(p.IMiddleware, inherit=True)

    # IMiddleware

    def make_middleware(self, app: Any, config: Any) -> Any:
        """The data table view's search box and its filtered download search in Chinese
        (``search.datatables_token``). Called once the blueprints are registered."""
        views = getattr(app, "view_functions", {})
        for endpoint in ("datatablesview.ajax", "datatablesview.filtered_download"):
            if endpoint in views:
                views[endpoint] = _chinese_search_box(views[endpoint])
        return app

    # IResourceController

    def before_resource_show(self, resource_dict: dict[str, Any]) -> dict[str, Any]:
        """A resource whose data is its DataStore table (a 双公示 resource, a table written through
        the API) downloads as the table in CSV with a byte-order mark, named by its dataset's
        title (the DataStore's own dump, which CKAN links, has neither). After the DataStore's
        hook, which links its dump; never for a resource whose data the viewer may not have
        (its URL is withheld)."""
        # (a 双公示 resource created with its records, no file: its URL is CKAN's placeholder;
        # one with a file of its own keeps that file's URL)
        table_only = resource_dict.get("url_type") == "datastore" or (
            str(resource_dict.get("record_type") or "").strip()
            and resource_dict.get("url") in (None, "", "_datastore_only_resource"))
        if table_only and resource_dict.get("package_id") and resource_dict.get("id") \
                and not resource_dict.get("yantai_restricted"):
            resource_dict["url"] = tk.url_for(
                "yantai_datastore.download", id=resource_dict["package_id"],
                resource_id=resource_dict["id"], fmt="csv", _external=True)
        return resource_dict

    # IConfigurer

    def update_config(self, config: Any) -> None:
        # datastore_search_sql may call the search functions too, unless the site has a list
        # of its own
        if config.get(ALLOWED_FUNCTIONS) in (None, "", sql_functions_allowlist_file()):
            config[ALLOWED_FUNCTIONS] = search.allowed_functions_file()

    # IDatastore

    def datastore_search(self, context: Context, data_dict: dict[str, Any],
                         fields_types: dict[str, str],
                         query_dict: dict[str, Any]) -> dict[str, Any]:
        return search.rewrite_query(data_dict, query_dict)


_COLUMN_SEARCH = re.compile(r"columns\[\d+\]\[search\]\[value\]")


def _chinese_search_box(view: Callable[..., Any]) -> Callable[..., Any]:
    """The view, reading a form whose search texts are passed as tokens it keeps."""
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        form = request.form.to_dict(flat=False)
        for key, values in form.items():
            if key == "search[value]" or _COLUMN_SEARCH.fullmatch(key):
                form[key] = [search.datatables_token(v) for v in values]
        if "params" in form:  # the filtered download sends the table's state as JSON
            try:
                params = json.loads(form["params"][0])
                params["search"]["value"] = search.datatables_token(
                    str(params["search"]["value"]))
                for column in params.get("columns") or []:
                    column["search"]["value"] = search.datatables_token(
                        str(column["search"]["value"] or ""))
                form["params"] = [json.dumps(params)]
            except (ValueError, TypeError, KeyError, AttributeError):
                pass  # left to the view, which answers a bad request as before
        request.form = ImmutableMultiDict(form)  # type: ignore[misc]
        return view(*args, **kwargs)
    return wrapped
