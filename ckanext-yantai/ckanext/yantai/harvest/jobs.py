"""Harvest jobs through the API: ckanext-harvest answers a job asked for while one waits or runs,
a job for an inactive source, and a job list without a source with bare exceptions (500). These
chained actions answer them as the structured errors they are."""
from __future__ import annotations

from typing import Any

import ckan.authz as authz
import ckan.plugins.toolkit as tk
from ckan.types import Action, Context, DataDict
from ckanext.harvest.logic import HarvestJobExists, HarvestSourceInactiveError


class JobExists(HarvestJobExists, tk.ValidationError):
    """Both: ckanext-harvest's scheduler and CLI go on catching HarvestJobExists, and the Action
    API answers a ValidationError (409) with the message."""

    def __init__(self) -> None:
        tk.ValidationError.__init__(self, {"source_id": [tk._(
            "This source already has a harvest job waiting or running: wait until it "
            "finishes")]})


class SourceInactive(HarvestSourceInactiveError, tk.ValidationError):
    def __init__(self) -> None:
        tk.ValidationError.__init__(self, {"source_id": [tk._(
            "This harvest source is inactive: activate it to harvest")]})


def _source_id(data_dict: DataDict) -> str:
    source_id = data_dict.get("source_id")
    if not isinstance(source_id, str) or not source_id.strip():
        raise tk.ValidationError({"source_id": [tk._("Give the harvest source's id or name")]})
    return source_id


@tk.chained_action
def job_create(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    _source_id(data_dict)
    try:
        return next_action(context, data_dict)
    except HarvestJobExists:
        raise JobExists() from None
    except HarvestSourceInactiveError:
        raise SourceInactive() from None


@tk.chained_action
def job_list(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    """Every source's jobs at once for system administrators only; others name the source
    (ckanext-harvest's auth function reads ``source_id`` unchecked)."""
    if "source_id" in data_dict or not (context.get("ignore_auth")
                                        or authz.is_sysadmin(context.get("user"))):
        _source_id(data_dict)
    status = data_dict.get("status")
    if status is not None and not isinstance(status, str):
        raise tk.ValidationError({"status": [tk._("Give a job status, e.g. Finished")]})
    return next_action(context, data_dict)
