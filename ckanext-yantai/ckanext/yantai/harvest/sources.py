"""Harvest sources as saved: every source type's URL is checked before ckanext-harvest stores it
(from the portal's package_create and package_update guards: harvest_source_create, _update and
_patch, and the ``ckan harvester source create`` command, all go through them).

http(s) to a public address, or one an admin allow-listed; ``drop:<folder>`` only for the portal's
own feed types. The check runs again at every download (a name may resolve elsewhere later).
"""
from __future__ import annotations

import ckan.plugins.toolkit as tk
from ckan.types import DataDict

from ckanext.yantai.harvest import base

FEED_TYPES = ("yantai_release", "yantai_disclosure", "yantai_catalogue")


def check(data_dict: DataDict) -> None:
    """Raises tk.ValidationError (on ``url``) for a URL the portal would not fetch."""
    url = str(data_dict.get("url") or "").strip()
    if not url:
        return  # ckanext-harvest's own validation asks for it
    if url.startswith(base.DROP_SCHEME) and data_dict.get("source_type") not in FEED_TYPES:
        raise tk.ValidationError({"url": [tk._(
            "Only the portal's own feed types (yantai_release, yantai_disclosure, "
            "yantai_catalogue) can read a drop folder")]})
    try:
        base.check_source_url(url)
    except base.SourceError as error:
        raise tk.ValidationError({"url": [str(error)]}) from None
