"""The ``yantai_datastore`` plugin: CKAN's DataStore, searching in Chinese.

Listed after ``datastore`` in ``ckan.plugins``: CKAN calls the plugins' ``datastore_search``
hooks in that order, and this one rewrites the query the DataStore's own hook built.
"""
from __future__ import annotations

from typing import Any

import ckan.plugins as p
from ckan.types import Context
from ckanext.datastore.interfaces import IDatastore
from ckanext.datastore.plugin import sql_functions_allowlist_file

from ckanext.yantai.datastore import search

ALLOWED_FUNCTIONS = "ckan.datastore.sqlsearch.allowed_functions_file"


class YantaiDatastorePlugin(p.SingletonPlugin):
    p.implements(p.IConfigurer)
    p.implements(IDatastore, inherit=True)

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
