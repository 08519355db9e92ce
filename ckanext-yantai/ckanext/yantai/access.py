"""Access tiers in CKAN: who is asking, what a dataset's tier is, and keeping data from those who
may not have it. The rules themselves are in ``tiers.py``."""
from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any, cast

import ckan.authz as authz
import ckan.model as model
import ckan.plugins.toolkit as tk
import flask
import sqlalchemy as sa
from ckan.lib.plugins import DefaultPermissionLabels
from ckan.types import Context

from ckanext.yantai import config, tiers, workdays
from ckanext.yantai.model import AccessRequest

RESTRICTED_URL = ""  # what a resource URL reads as for those who may not have the data


def today() -> dt.date:
    """Today in Asia/Shanghai: access ends at the end of its expiry day there."""
    return workdays.local_date(dt.datetime.now(dt.UTC))


def _user_obj(user: Any) -> model.User | None:
    """A user object from an object, a proxy (current_user), a name or an id."""
    if user is None or getattr(user, "is_anonymous", False):
        return None
    if hasattr(user, "_get_current_object"):
        user = user._get_current_object()
    if isinstance(user, model.User):
        return user
    return model.User.get(user) if isinstance(user, str) and user else None


def viewer_for(user: Any) -> tiers.Viewer:
    """The viewer for a user object, name or id (None: anonymous); computed once per request."""
    user_obj = _user_obj(user)
    if user_obj is None or user_obj.is_anonymous or user_obj.state != "active":
        return tiers.ANONYMOUS
    if not flask.has_request_context():
        return _load_viewer(user_obj)
    cache = flask.g.setdefault("yantai_viewers", {})
    if user_obj.id not in cache:
        cache[user_obj.id] = _load_viewer(user_obj)
    return cache[user_obj.id]


def forget_viewers() -> None:
    """After a change of memberships or grants within a request."""
    if flask.has_request_context():
        flask.g.pop("yantai_viewers", None)


def _load_viewer(user_obj: model.User) -> tiers.Viewer:
    memberships = (
        model.Session.query(model.Member.group_id, model.Member.capacity, model.Group.name)
        .join(model.Group, model.Group.id == model.Member.group_id)
        .filter(model.Member.table_name == "user", model.Member.table_id == user_obj.id,
                model.Member.state == "active", model.Group.state == "active",
                model.Group.is_organization.is_(True))
        .all())
    authority = config.access_authority_org()
    reviewer = any(name == authority and capacity in ("admin", "editor")
                   for _, capacity, name in memberships)
    grants: set[str] = set()
    share_grants: set[str] = set()
    approved = (model.Session.query(AccessRequest.package_id, AccessRequest.kind)
                .filter(AccessRequest.user_id == user_obj.id,
                        AccessRequest.status == "approved",
                        AccessRequest.expires >= today()))
    for package_id, kind in approved:
        (share_grants if kind == "share" else grants).add(package_id)
    return tiers.Viewer(user_id=user_obj.id, sysadmin=bool(user_obj.sysadmin),
                        orgs=frozenset(group_id for group_id, _, _ in memberships),
                        reviewer=reviewer, grants=frozenset(grants),
                        share_grants=frozenset(share_grants),
                        admin_orgs=frozenset(group_id for group_id, capacity, _ in memberships
                                             if capacity == "admin"),
                        editor_orgs=frozenset(group_id for group_id, capacity, _ in memberships
                                              if capacity in ("admin", "editor")))


def context_viewer(context: Context) -> tiers.Viewer | None:
    """The viewer of an action call; None for internal calls (``ignore_auth``), which see all."""
    if context.get("ignore_auth"):
        return None
    return viewer_for(context.get("auth_user_obj") or context.get("user"))


def dataset_of(pkg: model.Package | dict[str, Any]) -> tiers.Dataset:
    if isinstance(pkg, dict):
        return tiers.Dataset(id=pkg["id"], owner_org=pkg.get("owner_org"),
                             open_type=pkg.get("open_type") or "closed",
                             share_type=pkg.get("share_type") or "none",
                             active=pkg.get("state", "active") == "active",
                             private=bool(pkg.get("private")))
    extras = pkg.extras
    # A dataset without a tier (never through our schema) counts as the most closed.
    return tiers.Dataset(id=pkg.id, owner_org=pkg.owner_org,
                         open_type=extras.get("open_type") or "closed",
                         share_type=extras.get("share_type") or "none",
                         active=pkg.state == "active", private=bool(pkg.private))


def _is_dataset(pkg: model.Package | dict[str, Any]) -> bool:
    kind = pkg.get("type") if isinstance(pkg, dict) else pkg.type
    return kind in (None, "dataset")


HARVEST_SOURCE = "harvest"  # the dataset type of ckanext-harvest's sources


def _is_source(pkg: model.Package | dict[str, Any]) -> bool:
    return (pkg.get("type") if isinstance(pkg, dict) else pkg.type) == HARVEST_SOURCE


def sees_source(viewer: tiers.Viewer, pkg: model.Package | dict[str, Any]) -> bool:
    """``tiers.sees_source`` for a harvest source of the model or as a dict."""
    return tiers.sees_source(viewer, pkg.get("owner_org") if isinstance(pkg, dict)
                             else pkg.owner_org)


def source_labels(pkg: model.Package) -> list[str]:
    """The same rule as permission labels (CKAN gives sysadmins every organization's)."""
    return [f"member-{pkg.owner_org}"] if pkg.owner_org else []


def may_have_data(viewer: tiers.Viewer | None, pkg: model.Package | dict[str, Any]) -> bool:
    return viewer is None or not _is_dataset(pkg) or tiers.sees_data(dataset_of(pkg), viewer)


class PermissionLabels(DefaultPermissionLabels):
    """CKAN's labels (public, creator-, member-, collaborator-) plus the tiers' (search, counts,
    facets and activity streams all filter by these)."""

    def get_dataset_labels(self, dataset_obj: model.Package) -> list[str]:
        if _is_source(dataset_obj):
            return source_labels(dataset_obj)
        if (dataset_obj.state != "active" or dataset_obj.private
                or not _is_dataset(dataset_obj)):
            return super().get_dataset_labels(dataset_obj)
        return tiers.dataset_labels(dataset_of(dataset_obj))

    def get_user_dataset_labels(self, user_obj: model.User) -> list[str]:
        labels = super().get_user_dataset_labels(user_obj)
        return labels + tiers.viewer_labels(viewer_for(user_obj))


# -- keeping data back ----------------------------------------------------------------------------

URL_KEYS = ("url", "download_url", "access_url", "original_url")


def scrub_resource(resource: dict[str, Any]) -> dict[str, Any]:
    """A resource as those who may not have its data see it: no URL, no DataStore pointer."""
    for key in URL_KEYS:
        if key in resource:
            resource[key] = RESTRICTED_URL
    resource["yantai_restricted"] = True
    resource["datastore_active"] = False
    return resource


def scrub_package(pkg_dict: dict[str, Any]) -> dict[str, Any]:
    for resource in pkg_dict.get("resources") or []:
        scrub_resource(resource)
    pkg_dict["yantai_restricted"] = True
    return pkg_dict


def guard_package(context: Context, pkg_dict: dict[str, Any]) -> dict[str, Any]:
    """The package dict as the caller may have it (in place). Calls that read in order to write
    back (``for_update``: resource_create, package_patch...) are left whole; their auth has let
    only those through who may change the dataset."""
    if context.get("for_update"):
        return pkg_dict
    if not may_have_data(context_viewer(context), pkg_dict):
        scrub_package(pkg_dict)
    return pkg_dict


def request_viewer() -> tiers.Viewer | None:
    """The viewer of the current web or API request; None outside requests (CLI, workers)."""
    if not flask.has_request_context():
        return None
    return viewer_for(tk.current_user if tk.current_user.is_authenticated else None)


def guard_search_result(viewer: tiers.Viewer | None, result: dict[str, Any]) -> dict[str, Any]:
    """A package_search result: a package dict, or fields chosen with ``fl`` (which may be the
    stored JSON of the dataset)."""
    if viewer is None or viewer.sysadmin or result.get("open_type") == "open":
        return result
    pkg_id = result.get("id")
    pkg = model.Package.get(pkg_id) if pkg_id else None
    if pkg is not None and may_have_data(viewer, pkg):
        return result
    if "resources" in result:
        scrub_package(result)
    for key in ("res_url", "urls"):
        if key in result:
            result[key] = []
    for key in STORED_JSON:
        if isinstance(result.get(key), str):
            result[key] = scrub_stored(result[key])
    return result


STORED_JSON = ("data_dict", "validated_data_dict")


def scrub_stored(stored: str) -> str:
    """A dataset's JSON as stored in the index (``data_dict`` holds ``validated_data_dict``)."""
    pkg_dict = scrub_package(json.loads(stored))
    for key in STORED_JSON:
        if isinstance(pkg_dict.get(key), str):
            pkg_dict[key] = scrub_stored(pkg_dict[key])
    return json.dumps(pkg_dict)


def guard_activity(viewer: tiers.Viewer | None,
                   activity: dict[str, Any]) -> dict[str, Any] | None:
    """An activity as the viewer may see it, judged by the dataset's tier now, not when it was
    written: None for a dataset the viewer may not see (resource view activities carry no labels
    of their own), and snapshots without resource URLs where the viewer may not have the data."""
    if viewer is None:
        return activity
    data = activity.get("data")
    package = data.get("package") if isinstance(data, dict) else None
    current = model.Package.get(activity.get("object_id") or "")
    if current is None and isinstance(package, dict):
        current = model.Package.get(package.get("id") or "")
    if current is None:
        return activity
    if not may_see(viewer, current):
        return None
    if isinstance(package, dict) and not may_have_data(viewer, current):
        activity = copy.deepcopy(activity)
        scrub_package(activity["data"]["package"])
    return activity


INDEX_URL_FIELDS = ("res_url", "urls")


def index_fields(pkg_dict: dict[str, Any]) -> dict[str, Any]:
    """before_dataset_index: resource URLs of data that is not open stay out of the searchable
    index (a search on them would reveal them bit by bit); the stored dataset JSON keeps them
    for package_show, which hands them out by the rules."""
    if pkg_dict.get("type", "dataset") == "dataset" and pkg_dict.get("open_type") != "open":
        for key in list(pkg_dict):
            if key in INDEX_URL_FIELDS or key.startswith("res_extras_"):
                pkg_dict.pop(key)
    return pkg_dict


def relabel_activities(pkg: model.Package) -> None:
    """Give the dataset's activities (old snapshots too) its current labels, so that a dataset
    made less open disappears from every activity stream at once."""
    labels = PermissionLabels().get_dataset_labels(pkg)
    activity = sa.table("activity", sa.column("object_id"), sa.column("permission_labels"))
    model.Session.execute(activity.update().where(activity.c.object_id == pkg.id)
                          .values(permission_labels=labels))


def package_of_resource(resource_id: str) -> model.Package | None:
    resource = model.Resource.get(resource_id)
    if resource is None or resource.state != "active":
        return None
    return resource.package


def check_data_access(context: Context, resource_id: str) -> model.Package:
    """The resource's dataset when the caller may have its data; NotFound otherwise (the same
    answer as for a resource that does not exist)."""
    pkg = package_of_resource(resource_id)
    if pkg is None:
        raise tk.ObjectNotFound(tk._("Resource was not found."))
    viewer = context_viewer(context)
    if not (may_see(viewer, pkg) and may_have_data(viewer, pkg)):
        raise tk.ObjectNotFound(tk._("Resource was not found."))
    return pkg


def may_see(viewer: tiers.Viewer | None, pkg: model.Package) -> bool:
    """Whether the viewer may know of the dataset (or harvest source) at all: CKAN's own rule
    for private and draft ones, the tiers (``tiers.sees_metadata``) for published ones. None:
    an internal call, which sees everything."""
    if viewer is None:
        return True
    if _is_source(pkg):
        return sees_source(viewer, pkg)
    if pkg.state != "active" or pkg.private:
        user = model.User.get(viewer.user_id) if viewer.user_id else None
        return authz.is_authorized_boolean(
            "package_show", {"user": user.name if user else "", "auth_user_obj": user,
                             "model": model}, {"id": pkg.id})
    return not _is_dataset(pkg) or tiers.sees_metadata(dataset_of(pkg), viewer)


def is_restricted(pkg: model.Package | dict[str, Any]) -> bool:
    """Whether the data needs an audit entry when handed out (conditional or closed)."""
    return _is_dataset(pkg) and dataset_of(pkg).open_type != "open"


def review_deadline(submitted: dt.datetime) -> dt.date | None:
    """The configured working days (``ckanext.yantai.access.review_workdays``) after submission
    (Chinese dates); None when the calendar lacks the year."""
    try:
        return workdays.review_deadline(config.calendar(),
                                        submitted.replace(tzinfo=dt.UTC),
                                        config.access_review_workdays())
    except workdays.CalendarMissing:
        return None


def visible_packages(viewer: tiers.Viewer | None, refs: list[str]) -> set[str]:
    """The ids and names among ``refs`` (dataset ids or names) of datasets the viewer may see;
    one query for any number."""
    if not refs:
        return set()
    rows = (model.Session.query(model.Package)
            .filter(sa.or_(model.Package.id.in_(refs), model.Package.name.in_(refs))).all())
    return {ref for pkg in rows if may_see(viewer, pkg) for ref in (pkg.id, pkg.name)}


def search_facet(context: Context, field: str) -> dict[str, int]:
    """Counts of a facet over the datasets the caller may find (labels applied)."""
    result = tk.get_action("package_search")(
        cast(Context, {"user": context.get("user"), "auth_user_obj": context.get("auth_user_obj")}),
        {"facet.field": [field], "facet.limit": -1, "rows": 0, "include_private": True})
    return dict(result["facets"].get(field, {}))
