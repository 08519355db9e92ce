"""Datasets, resources and resource views: what a caller may not see answers as missing, on
reading and on writing; a dataset update keeps its published tier (a widening waits for a second
person, a narrowing reaches the index and every old activity at once)."""
from __future__ import annotations

from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.types import (
    Action,
    AuthFunction,
    AuthResult,
    ChainedAction,
    ChainedAuthFunction,
    Context,
    DataDict,
)

from ckanext.yantai import access, access_requests, audit, tier_changes, tiers
from ckanext.yantai.disclosure import tables as record_tables
from ckanext.yantai.guards.absence import (
    Check,
    absent_chain,
    all_of,
    as_missing,
    auth_chains,
    hide,
    key,
    nested_id,
    not_found_instead,
    package,
    package_by,
    resource_by,
    resource_package,
    sysadmin_only,
    unseen,
    view_package,
)

RESOURCE_NOT_FOUND = "Resource was not found."  # untranslated where CKAN raises it


# -- reading ---------------------------------------------------------------------------------------

@tk.chained_auth_function
@tk.auth_allow_anonymous_access
def package_show_auth(next_auth: AuthFunction, context: Context,
                      data_dict: DataDict | None) -> AuthResult:
    result = next_auth(context, data_dict)  # pyright: ignore[reportArgumentType]  # passed on data_dict as given, None too
    if not result.get("success"):
        return result
    pkg = context.get("package") or model.Package.get((data_dict or {}).get("id") or "")
    if pkg is not None and pkg.state == "active" and not pkg.private \
            and not access.may_see(access.context_viewer(context), pkg):
        return {"success": False, "msg": tk._("Not found")}
    return result


@tk.chained_action
@tk.side_effect_free
def package_show(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    # CKAN's own answer for a dataset that does not exist.
    return not_found_instead(next_action, context, data_dict, tk.ObjectNotFound)


@tk.chained_action
@tk.side_effect_free
def resource_show(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    # CKAN's own answer for a resource id that does not exist.
    return not_found_instead(next_action, context, data_dict, tk.ObjectNotFound)


# resource views show the data
@tk.chained_action
@tk.side_effect_free
def resource_view_list(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    views = not_found_instead(next_action, context, data_dict,
                              lambda: tk.ObjectNotFound(tk._("Resource was not found.")))
    pkg = access.package_of_resource(data_dict.get("id") or "")
    if pkg is not None and not access.may_have_data(access.context_viewer(context), pkg):
        return []
    return views


@tk.chained_action
@tk.side_effect_free
def resource_view_show(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    view = not_found_instead(next_action, context, data_dict, tk.ObjectNotFound)
    pkg = access.package_of_resource(view.get("resource_id") or "")
    if pkg is not None and not access.may_have_data(access.context_viewer(context), pkg):
        raise tk.ObjectNotFound()
    return view


# -- writing: the tiers ----------------------------------------------------------------------------

def _package(data_dict: DataDict) -> model.Package | None:
    return package(data_dict.get("id") or data_dict.get("name"))


@tk.chained_action
def package_create(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    result = next_action(context, data_dict)
    # Created as published: that is its tier's baseline (an editor sets a new dataset's tier).
    pkg = model.Package.get(result if isinstance(result, str) else result["id"])
    if pkg is not None and pkg.type == "dataset" and pkg.state == "active":
        tier_changes.record_published(pkg)
        if not context.get("defer_commit"):
            model.repo.commit()
    return result


@tk.chained_action
def package_update(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    """The update is saved without committing, then judged on the values as stored (after every
    validator normalised them, whatever key or path they came by): a widened tier is put back
    and proposed for review, a record type that must not change refuses the update."""
    pkg = _package(data_dict)
    if pkg is None or pkg.type != "dataset":
        return next_action(context, data_dict)
    approved = context.get(tier_changes.APPROVED) or None  # the approved fields, if any
    published = tier_changes.published_tier(pkg)
    if approved:  # the baseline moves by the approved fields, and by nothing else
        published = {**(published or tier_changes.LEAST_OPEN), **approved}
    labels_before = access.PermissionLabels().get_dataset_labels(pkg)
    record_types_before = record_tables.record_types(pkg)
    deferred = "defer_commit" in context
    context["defer_commit"] = True
    try:
        result = next_action(context, data_dict)
    finally:
        if not deferred:
            context.pop("defer_commit", None)
    updated = model.Package.get(pkg.id)
    assert updated is not None  # updated above, in this uncommitted transaction
    pkg = updated
    try:
        record_tables.check_record_types(pkg, record_types_before)
        proposed = tier_changes.hold_widening(pkg, published)
        tier_changes.record_published(pkg, approved, published)
        tier_changes.follow_owner(pkg)
        access_requests.follow_owner(pkg)
        change = (tier_changes.propose(context, pkg, {k: published[k] for k in proposed},
                                       proposed) if proposed and published else None)
        if access.PermissionLabels().get_dataset_labels(pkg) != labels_before:
            access.relabel_activities(pkg)
    except Exception:
        model.Session.rollback()
        raise
    after = tier_changes.current_tier(pkg)
    if not deferred:
        model.repo.commit()
    if published is not None and after != published and not tiers.widens(published, after) \
            and pkg.state == "active":
        audit.record("tier_narrowed", context.get("user") or None, pkg.id, pkg.owner_org,
                     before=published, after=after)
    if change is not None and published is not None:  # proposed against a published tier only
        announced = tier_changes.announce(change)
        if isinstance(result, dict):
            result.update({name: published[name] for name in proposed})  # what was kept
            result["license_id"] = pkg.license_id  # (hold_widening may have put it back)
            result["yantai_tier_change"] = announced
    return result


# -- writing: what the caller may not see answers as missing ---------------------------------------

def _member_object(context: Context, data_dict: DataDict) -> None:
    # member_create / member_delete: "%s was not found." % obj_type.title(), untranslated
    obj_type = data_dict.get("object_type")
    if isinstance(obj_type, str) and obj_type.lower() == "package" \
            and unseen(context, package(data_dict.get("object"))):
        raise tk.ObjectNotFound(f"{obj_type.title()} was not found.")


def _collaborators(message: str, refusal: str) -> Check:
    """package_collaborator_*: a missing dataset or an anonymous caller made CKAN's auth fail
    an assertion (a server error); the action's own answers instead."""
    def check(context: Context, data_dict: DataDict) -> None:
        pkg = package(data_dict.get("id"))
        if pkg is None or unseen(context, pkg):
            raise tk.ObjectNotFound(tk._(message))
        if not model.User.get(context.get("user") or ""):
            raise tk.NotAuthorized(tk._(refusal) % (context.get("user") or ""))

    return check


def _view_show(context: Context, data_dict: DataDict) -> None:
    """A view shows the data: absent for those who may not have it, too."""
    pkg = view_package(data_dict.get("id"))
    viewer = access.context_viewer(context)
    if pkg is not None and not (access.may_see(viewer, pkg)
                                and access.may_have_data(viewer, pkg)):
        raise tk.ObjectNotFound(tk._("Resource view not found, cannot check auth."))


def _checks() -> dict[str, tuple[Check, bool]]:
    dataset = package_by(key("id"))
    resource = resource_by(key("id"))
    return {
        "package_patch": (hide(dataset), False),
        "package_update": (hide(package_by(lambda d: d.get("id") or d.get("name")),
                                lambda d: tk._("Package was not found.")), False),
        "package_delete": (hide(dataset), False),
        "dataset_purge": (hide(dataset, "Dataset was not found"), False),
        "resource_update": (hide(resource, RESOURCE_NOT_FOUND), False),
        "resource_patch": (hide(resource), False),
        "resource_delete": (hide(resource), False),
        "resource_view_delete": (hide(lambda d: view_package(d.get("id"))), False),
        "resource_view_reorder": (hide(resource_by(key("resource_id")), RESOURCE_NOT_FOUND),
                                  False),
        "resource_view_list": (hide(resource), True),
        "resource_view_show": (_view_show, True),
        "package_create_default_resource_views": (hide(package_by(nested_id("package"))),
                                                  False),
        "resource_create_default_resource_views": (all_of(
            hide(package_by(nested_id("package"))),
            hide(resource_by(nested_id("resource")))), False),
        "package_relationships_list": (all_of(
            hide(dataset, "First package named in request was not found."),
            hide(package_by(key("id2")), "Second package named in address was not found.")),
            True),
        "package_collaborator_list": (_collaborators(
            "Package not found",
            "User %s not authorized to list collaborators from this dataset"), True),
        "package_collaborator_create": (_collaborators(
            "Dataset not found", "User %s not authorized to add collaborators to this dataset"),
            False),
        "package_collaborator_delete": (_collaborators(
            "Package not found",
            "User %s not authorized to remove collaborators from this dataset"), False),
        "member_create": (_member_object, False),
        "member_delete": (_member_object, False),
    }


@tk.chained_action
def resource_view_update(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    view = model.ResourceView.get(data_dict.get("id") or "") \
        if isinstance(data_dict.get("id"), str) else None
    if view is None:
        return next_action(context, data_dict)
    if unseen(context, resource_package(view.resource_id)):
        as_missing(next_action, context, data_dict, {"id": data_dict["id"]})
    # CKAN's auth reads resource_id, which the action does not ask for (a server error)
    return next_action(context, {"resource_id": view.resource_id, **data_dict})


def _relationship_refs(data_dict: DataDict) -> list[str]:
    return [name for name in ("subject", "object") if isinstance(data_dict.get(name), str)]


def absent_actions() -> dict[str, ChainedAction]:
    """Actions that validate before they ask: run as for an id that does not exist."""
    return {
        "resource_view_create": absent_chain(
            "resource_view_create",
            lambda d: ["resource_id"] if isinstance(d.get("resource_id"), str) else [],
            resource_package),
        "resource_view_update": resource_view_update,
        **{name: absent_chain(name, _relationship_refs, package)
           for name in ("package_relationship_create", "package_relationship_update",
                        "package_relationship_delete")},
    }


def chained_actions() -> dict[str, ChainedAction]:
    return {"package_show": package_show, "resource_show": resource_show,
            "resource_view_list": resource_view_list, "resource_view_show": resource_view_show,
            "package_create": package_create, "package_update": package_update}


def auth_functions() -> dict[str, ChainedAuthFunction]:
    return {"package_show": package_show_auth,
            "resource_search": sysadmin_only,  # a URL oracle across datasets
            **auth_chains(_checks())}
