"""Harvest sources as saved: every source type's URL is checked before ckanext-harvest stores it
(from the portal's package_create and package_update guards: harvest_source_create, _update and
_patch, and the ``ckan harvester source create`` command, all go through them).

http(s) to a public address, or one an admin allow-listed; ``drop:<folder>`` only for the portal's
own feed types. The check runs again at every download (a name may resolve elsewhere later).
"""
from __future__ import annotations

from typing import Any

import ckan.authz as authz
import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.types import Action, Context, DataDict
from ckanext.harvest.model import HarvestSource

from ckanext.yantai.harvest import base
from ckanext.yantai.messages import message

FEED_TYPES = ("yantai_release", "yantai_disclosure", "yantai_catalogue")
REMOTE_TYPES = ("ckan", "dcat_rdf")  # other portals: mapped into a department by their config


def check(data_dict: DataDict) -> None:
    """Raises tk.ValidationError (on ``url``) for a URL the portal would not fetch; on
    ``config`` or ``owner_org`` for another portal's source without its mapping or department."""
    url = str(data_dict.get("url") or "").strip()
    if url:  # (if not, ckanext-harvest's own validation asks for it)
        _check_url(url, data_dict)
    if data_dict.get("source_type") in REMOTE_TYPES:
        if not str(data_dict.get("config") or "").strip():
            raise tk.ValidationError({"config": [message("harvest_mapping_missing")]})
        if not data_dict.get("owner_org"):
            raise tk.ValidationError({"owner_org": [message("harvest_remote_department")]})


def _check_url(url: str, data_dict: DataDict) -> None:
    if url.startswith(base.DROP_SCHEME) and data_dict.get("source_type") not in FEED_TYPES:
        raise tk.ValidationError({"url": [tk._(
            "Only the portal's own feed types (yantai_release, yantai_disclosure, "
            "yantai_catalogue) can read a drop folder")]})
    owner = data_dict.get("owner_org")
    organization = model.Group.get(owner) if owner else None
    problem = base.drop_owner_problem(url, organization.id if organization else None)
    if problem:
        raise tk.ValidationError({"url": [problem]})
    try:
        base.check_source_url(url)
    except base.SourceError as error:
        raise tk.ValidationError({"url": [str(error)]}) from None


@tk.chained_action
def source_clear(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    """A 双公示 source is never cleared: clearing deletes the datasets its objects point to, here
    the department's 双公示 dataset with every record it holds (and its pushes to 信用烟台)."""
    package = model.Package.get(str(data_dict.get("id") or ""))
    source = model.Session.get(HarvestSource, package.id) if package is not None else None
    if source is not None and source.type == "yantai_disclosure":
        raise tk.ValidationError({"id": [tk._(
            "A 双公示 source cannot be cleared: its records belong to the department's 双公示 "
            "resource. Deactivate or delete the source instead")]})
    return next_action(context, data_dict)



@tk.chained_action
def abort_failed_jobs(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    """ckanext-harvest's harvest_abort_failed_jobs checks no permission at all (anyone could
    stop every running harvest through the API): system administrators only."""
    if not context.get("ignore_auth") and not authz.is_sysadmin(context.get("user")):
        raise tk.NotAuthorized(tk._("Only system administrators may abort harvest jobs"))
    return next_action(context, data_dict)
