"""The ``yantai_datastore`` plugin: CKAN's DataStore, searching in Chinese.

Listed after ``datastore`` in ``ckan.plugins``: CKAN calls the plugins' ``datastore_search``
hooks in that order, and this one rewrites the query the DataStore's own hook built.
"""
from __future__ import annotations

from typing import Any

import ckan.plugins as p
import ckan.plugins.toolkit as tk
from ckan.types import Context
from ckanext.datastore.interfaces import IDatastore
from ckanext.datastore.plugin import sql_functions_allowlist_file

from ckanext.yantai.datastore import search

ALLOWED_FUNCTIONS = "ckan.datastore.sqlsearch.allowed_functions_file"


class YantaiDatastorePlugin(p.SingletonPlugin):
    p.implements(p.IConfigurer)
    p.implements(IDatastore, inherit=True)
    p.implements(p.IResourceController, inherit=True)

    # IResourceController

    def before_resource_show(self, resource_dict: dict[str, Any]) -> dict[str, Any]:
        """A resource whose data is its DataStore table (a 双公示 resource, a table written through
        the API) downloads as the table in CSV with a byte-order mark, named by its dataset's
        title (the DataStore's own dump, which CKAN links, has neither). After the DataStore's
        hook, which links its dump; never for a resource whose data the viewer may not have
        (its URL is withheld)."""
        table_only = resource_dict.get("url_type") == "datastore" or \
            str(resource_dict.get("record_type") or "").strip()
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
