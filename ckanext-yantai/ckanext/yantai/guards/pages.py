"""Web pages that hand out data or old versions outside the API: CKAN's resource download and
the activity plugin's old versions and changes. Each is wrapped (from the plugin's IMiddleware)
so that it answers as the API does: only those who may have the data get it, the rest get the
page of something that does not exist."""
from __future__ import annotations

import functools
import re
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.types import Context
from ckanext.activity.model import Activity

from ckanext.yantai import access, audit


def guarded_download(original: Any) -> Any:
    """CKAN's resource download (file store or redirect), for those who may have the data only;
    others get the page of a resource that does not exist. Handing out conditional or closed
    data is audited."""

    @functools.wraps(original)
    def download(package_type: str, id: str, resource_id: str, filename: str | None = None) -> Any:
        context: Context = {"user": tk.current_user.name, "auth_user_obj": tk.current_user}
        try:
            pkg = access.check_data_access(context, resource_id)
        except tk.ObjectNotFound:
            return tk.abort(404, tk._("Resource not found"))
        response = original(package_type, id, resource_id, filename)
        if access.is_restricted(pkg) and getattr(response, "status_code", 500) < 400:
            audit.record("download", tk.current_user.name or None, pkg.id, pkg.owner_org,
                         resource_id)
        return response

    return download


def guarded_resource_history(original: Any) -> Any:
    """The activity plugin's old version of a resource reads any activity by id, unchecked: only
    one of this dataset, and only for those who may have its data (it shows the old URL)."""

    @functools.wraps(original)
    def resource_history(id: str, resource_id: str, activity_id: str) -> Any:
        pkg = model.Package.get(id)
        activity = model.Session.get(Activity, activity_id)
        viewer = access.viewer_for(tk.current_user if tk.current_user.is_authenticated else None)
        if pkg is None or activity is None or activity.object_id != pkg.id \
                or not (access.may_see(viewer, pkg) and access.may_have_data(viewer, pkg)):
            return tk.abort(404, tk._("Dataset not found"))
        return original(id, resource_id, activity_id)

    return resource_history


ACTIVITY_ID = re.compile(r"[0-9a-fA-F-]{1,64}")
CHANGES_MULTIPLE = ("activity.package_changes_multiple", "activity.group_changes_multiple",
                    "activity.organization_changes_multiple")


def guarded_changes_multiple(original: Any) -> Any:
    """The activity plugin's changes between two versions reads ``new_id`` and ``old_id``
    unchecked (missing, unknown or another object's: 500, or a walk through every version):
    two versions of one object, else the page of versions that do not exist."""

    @functools.wraps(original)
    def changes_multiple(*args: Any, **kwargs: Any) -> Any:
        found = []
        for key in ("new_id", "old_id"):
            value = tk.request.args.get(key, "")
            found.append(model.Session.get(Activity, value)
                         if ACTIVITY_ID.fullmatch(value) else None)
        new, old = found
        if new is None or old is None or new.object_id != old.object_id:
            return tk.abort(404, tk._("Activity not found"))
        if new.timestamp <= old.timestamp and not ACTIVITY_ID.fullmatch(
                tk.request.args.get("current_new_id", "")):
            return tk.abort(404, tk._("Activity not found"))
        try:
            return original(*args, **kwargs)
        except (tk.ObjectNotFound, tk.ValidationError):
            return tk.abort(404, tk._("Activity not found"))
        except tk.NotAuthorized:
            return tk.abort(403, tk._("Unauthorized to view activity data"))

    return changes_multiple


def install(app: Any) -> None:
    """The resource download behind the access tiers under every blueprint that serves it, and
    the activity plugin's pages of old versions."""
    for endpoint, view in list(app.view_functions.items()):
        # By name: CKAN executes its view modules afresh when it registers their blueprints.
        if (getattr(view, "__module__", None), getattr(view, "__name__", None)) == (
                "ckan.views.resource", "download"):
            app.view_functions[endpoint] = guarded_download(view)
    if "activity.resource_history" in app.view_functions:
        app.view_functions["activity.resource_history"] = guarded_resource_history(
            app.view_functions["activity.resource_history"])
    for endpoint in CHANGES_MULTIPLE:
        if endpoint in app.view_functions:
            app.view_functions[endpoint] = guarded_changes_multiple(app.view_functions[endpoint])
