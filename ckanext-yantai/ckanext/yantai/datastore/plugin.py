"""The ``yantai_datastore`` plugin: CKAN's DataStore, searching in Chinese.

Listed after ``datastore`` in ``ckan.plugins``: CKAN calls the plugins' ``datastore_search``
hooks in that order, and this one rewrites the query the DataStore's own hook built.
"""
from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Callable
from typing import Any

import ckan.plugins as p
import ckan.plugins.toolkit as tk
from ckan.types import Context
from ckanext.datastore.interfaces import IDatastore
from ckanext.datastore.plugin import sql_functions_allowlist_file
from flask import Response, request
from werkzeug.datastructures import ImmutableMultiDict

from ckanext.yantai import params
from ckanext.yantai.datastore import search
from ckanext.yantai.messages import message

ALLOWED_FUNCTIONS = "ckan.datastore.sqlsearch.allowed_functions_file"


class YantaiDatastorePlugin(p.SingletonPlugin):
    p.implements(p.IConfigurer)
    p.implements(IDatastore, inherit=True)
    p.implements(p.IResourceController, inherit=True)
    p.implements(p.IMiddleware, inherit=True)

    # IMiddleware

    def make_middleware(self, app: Any, config: Any) -> Any:
        """The data table view's search box and its filtered download search in Chinese
        (``search.datatables_token``), and their bad requests answered (``_answered``). Called
        once the blueprints are registered."""
        views = getattr(app, "view_functions", {})
        for endpoint in ("datatablesview.ajax", "datatablesview.filtered_download"):
            if endpoint in views:
                views[endpoint] = _answered(_chinese_search_box(views[endpoint]))
        if "datastore.dump" in views:
            views["datastore.dump"] = _checked_dump(views["datastore.dump"])
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
_NUMBERS = re.compile(r"draw|start|length|order\[\d+\]\[column\]")
log = logging.getLogger(__name__)


def _answered(view: Callable[..., Any]) -> Callable[..., Any]:
    """CKAN's data table view (its rows as the table pages, and the filtered download) answering
    a request it cannot read with a 400 and a view or table the visitor may not know of with a
    404, as JSON in Chinese; the stock view answered 500 (a page or a sort column that is not a
    number or out of the table, unreadable download parameters, a view that does not exist) or
    403 for a table of a dataset it may not see."""
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        for key, values in request.form.lists():
            if _NUMBERS.fullmatch(key) and any(params.whole(value) is None for value in values):
                return _table_error(400, message("table_number", key=key))
        try:
            answer = view(*args, **kwargs)
        except (tk.ObjectNotFound, tk.NotAuthorized):
            return _table_error(404, message("table_not_found"))
        except (LookupError, ValueError, TypeError, AttributeError, RecursionError) as error:
            log.info("a data table request it cannot read: %r", error)
            return _table_error(400, message("table_request"))
        if isinstance(answer, tuple) and len(answer) == 2 and isinstance(answer[0], str):
            body, status = answer  # the rows, sent by CKAN as text/html
            if status in (403, 404):  # (CKAN's own texts are English)
                return _table_error(404, message("table_not_found"))
            if status >= 400:
                return _table_error(400, message("table_request"))
            return Response(body, status=status, mimetype="application/json")
        return answer
    return wrapped


_DUMP_SEARCH = ("filters", "q", "distinct", "plain", "language", "fields")


def _checked_dump(view: Callable[..., Any]) -> Callable[..., Any]:
    """CKAN's DataStore dump (where the data table's filtered download leads) asked first,
    without rows, what it will ask for page after page: the stock view streams, so a sort or a
    field the table does not have, or a negative offset, failed inside the stream (a 500 and a
    cut file). Now that is a 400 in Chinese before anything is sent."""
    @functools.wraps(view)
    def wrapped(resource_id: str, *args: Any, **kwargs: Any) -> Any:
        from ckan.lib.navl import dictization_functions
        from ckanext.datastore.blueprint import dump_schema

        data, errors = dictization_functions.validate(request.args.to_dict(), dump_schema())
        if not errors:
            probe = {"resource_id": resource_id, "limit": 0, "include_total": False,
                     "offset": data["offset"], "sort": data["sort"],
                     **{key: data[key] for key in _DUMP_SEARCH if key in data}}
            try:
                tk.get_action("datastore_search")({}, probe)
            except tk.ValidationError:
                return tk.abort(400, message("table_request"))
            except (tk.ObjectNotFound, tk.NotAuthorized):
                pass  # the view's own 404
        return view(resource_id, *args, **kwargs)
    return wrapped


def _table_error(status: int, text: str) -> Response:
    return Response(json.dumps({"error": text}, ensure_ascii=False), status=status,
                    mimetype="application/json")


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
            except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
                pass  # left to the view, which answers a bad request as before
        request.form = ImmutableMultiDict(form)  # type: ignore[misc]
        return view(*args, **kwargs)
    return wrapped
