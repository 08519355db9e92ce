"""DCAT: the catalogue endpoints and feeds are built from ``package_search``, which the permission
labels and ``access.guard_search_result`` already guard; DCAT's own dataset endpoint answers a
dataset the caller may not see as a missing one."""
from __future__ import annotations

from ckan.types import ChainedAction

from ckanext.yantai.guards.absence import not_found_chain


def chained_actions() -> dict[str, ChainedAction]:
    return {"dcat_dataset_show": not_found_chain("dcat_dataset_show")}
