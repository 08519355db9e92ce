"""DCAT: the catalogue endpoints and feeds are built from ``package_search``, which the permission
labels and ``access.guard_search_result`` already guard; DCAT's own dataset endpoint answers a
dataset the caller may not see as a missing one.

The ``profiles`` a caller may ask for are the configured ones and schema.org: the stock
``euro_dcat_ap_*`` profiles would bypass the portal's (and write a traceback per checksum to the
log); a comma-separated string (as a query string gives it) is a list, not its letters.
"""
from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk
from ckan.types import Action, ChainedAction, Context, DataDict

from ckanext.yantai.guards.absence import not_found_instead
from ckanext.yantai.messages import message

EXTRA_PROFILES = ("schemaorg",)


def allowed_profiles() -> list[str]:
    return [*tk.aslist(tk.config.get("ckanext.dcat.rdf.profiles") or []), *EXTRA_PROFILES]


def checked_profiles(data_dict: DataDict) -> DataDict:
    """The request with ``profiles`` as a list of allowed names.

    Raises:
        tk.ValidationError: A profile that is not offered, or not names.
    """
    value = data_dict.get("profiles")
    if value in (None, "", []):
        return {k: v for k, v in data_dict.items() if k != "profiles"}
    names = value.split(",") if isinstance(value, str) else value
    allowed = allowed_profiles()
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names) \
            or any(n.strip() not in allowed for n in names):
        raise tk.ValidationError({"profiles": [message("dcat_profiles",
                                                       choices="、".join(allowed))]})
    return {**data_dict, "profiles": [n.strip() for n in names]}


def _chain(name: str, hide: bool) -> ChainedAction:
    @tk.chained_action
    @tk.side_effect_free
    def chained(next_action: Action, context: Context, data_dict: DataDict) -> Any:
        # ckanext-dcat hands its data_dict to package_show and package_search: their form is
        # the portal's (the profiles read it), whatever the caller adds
        data_dict = {k: v for k, v in checked_profiles(data_dict).items()
                     if k != "use_default_schema"}
        if hide:
            return not_found_instead(next_action, context, data_dict, tk.ObjectNotFound)
        return next_action(context, data_dict)

    chained.__name__ = name
    return chained


def chained_actions() -> dict[str, ChainedAction]:
    return {"dcat_dataset_show": _chain("dcat_dataset_show", hide=True),
            "dcat_catalog_show": _chain("dcat_catalog_show", hide=False),
            "dcat_catalog_search": _chain("dcat_catalog_search", hide=False)}
