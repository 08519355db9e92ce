"""Activity streams, snapshots and diffs: activities of what the caller may not see are left
out, and a dataset's snapshot keeps no data the caller may not have (``access.guard_activity``)."""
from __future__ import annotations

from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.types import Action, ChainedAction, Context, DataDict
from ckanext.activity.model import Activity

from ckanext.yantai import access
from ckanext.yantai.guards.absence import not_found_instead

ACTIVITY_LISTS = ("package_activity_list", "user_activity_list", "group_activity_list",
                  "organization_activity_list", "recently_changed_packages_activity_list",
                  "dashboard_activity_list")


def _guard_activities(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    activities = next_action(context, data_dict)
    viewer = access.context_viewer(context)
    guarded = (access.guard_activity(viewer, a) for a in activities)
    return [a for a in guarded if a is not None]


def _list_chain(name: str) -> ChainedAction:
    @tk.chained_action
    @tk.side_effect_free
    def chained(next_action: Action, context: Context, data_dict: DataDict) -> Any:
        return not_found_instead(
            lambda c, d: _guard_activities(next_action, c, d), context, data_dict,
            tk.ObjectNotFound)

    chained.__name__ = name
    return chained


@tk.chained_action
@tk.side_effect_free
def activity_show(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    # CKAN's auth reads include_data without a default (a KeyError, answered as a server error).
    data_dict = {"include_data": False, **data_dict}
    activity = not_found_instead(next_action, context, data_dict, tk.ObjectNotFound)
    guarded = access.guard_activity(access.context_viewer(context), activity)
    if guarded is None:
        raise tk.ObjectNotFound()
    return guarded


@tk.chained_action
@tk.side_effect_free
def activity_data_show(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    data = not_found_instead(next_action, context, data_dict, tk.ObjectNotFound)
    activity = model.Session.get(Activity, data_dict.get("id"))
    viewer = access.context_viewer(context)
    if activity is None or viewer is None:
        return data
    wrapped = data if data_dict.get("object_type") is None else {
        data_dict["object_type"]: data}
    guarded = access.guard_activity(viewer, {"object_id": activity.object_id, "data": wrapped})
    if guarded is None:
        raise tk.ObjectNotFound()
    return guarded["data"] if data_dict.get("object_type") is None else \
        guarded["data"][data_dict["object_type"]]


@tk.chained_action
@tk.side_effect_free
def activity_diff(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    """Raw diffs of a dataset show its resource URLs: only for those who may have its data."""
    activity = model.Session.get(Activity, data_dict.get("id")) if data_dict.get("id") else None
    pkg = model.Package.get(activity.object_id) if activity is not None else None
    if pkg is not None and not access.may_have_data(access.context_viewer(context), pkg):
        raise tk.ObjectNotFound()
    return not_found_instead(next_action, context, data_dict, tk.ObjectNotFound)


def chained_actions() -> dict[str, ChainedAction]:
    return {"activity_show": activity_show, "activity_data_show": activity_data_show,
            "activity_diff": activity_diff,
            **{name: _list_chain(name) for name in ACTIVITY_LISTS}}
