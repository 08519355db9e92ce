"""Datasets, resources and harvest sources a caller may not know of answer every channel exactly as
ones that do not exist: same status, same error type, same message.

CKAN's actions look an object up, then ask its auth function; a missing object fails the lookup
(with the action's own message), an existing one reaches the auth function, which refused with a
403 naming the object. The chained auth functions here raise, for an object the caller may not
see, the NotFound the action raises for a missing one (``check_access`` passes it on). Where an
action validates its input before asking (so that a bad field answered differently for an
existing object), a chained action runs it as for an id that does not exist.

Who may see what is decided in ``access`` (the tiers for datasets; the department and sysadmins
for harvest sources).
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, NoReturn

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

from ckanext.yantai import access

Check = Callable[[Context, DataDict], None]


# -- finding what a call is about ------------------------------------------------------------------

def _package(ref: Any) -> model.Package | None:
    return model.Package.get(ref) if isinstance(ref, str) and ref else None


def _resource_package(ref: Any) -> model.Package | None:
    resource = model.Resource.get(ref) if isinstance(ref, str) and ref else None
    return resource.package if resource is not None else None


def _view_package(ref: Any) -> model.Package | None:
    view = model.ResourceView.get(ref) if isinstance(ref, str) and ref else None
    return _resource_package(view.resource_id) if view is not None else None


def _job_source(ref: Any) -> model.Package | None:
    from ckanext.harvest.model import HarvestJob  # (the harvest plugin's model)

    job = model.Session.get(HarvestJob, ref) if isinstance(ref, str) and ref else None
    return _package(job.source_id) if job is not None else None


def _object_source(ref: Any) -> model.Package | None:
    from ckanext.harvest.model import HarvestObject

    obj = model.Session.get(HarvestObject, ref) if isinstance(ref, str) and ref else None
    return _package(obj.harvest_source_id) if obj is not None else None


def _unseen(context: Context, pkg: model.Package | None) -> bool:
    return pkg is not None and not access.may_see_pkg(access.context_viewer(context), pkg)


def _not_found(message: str | None) -> tk.ObjectNotFound:
    return tk.ObjectNotFound(message) if message else tk.ObjectNotFound()


def _hide(find: Callable[[DataDict], model.Package | None],
          message: Callable[[DataDict], str | None] | str | None = None) -> Check:
    """A check: NotFound (CKAN's message for a missing object) when the caller may not see it."""
    def check(context: Context, data_dict: DataDict) -> None:
        if _unseen(context, find(data_dict)):
            raise _not_found(message(data_dict) if callable(message) else message)

    return check


def _all(*checks: Check) -> Check:
    def check(context: Context, data_dict: DataDict) -> None:
        for one in checks:
            one(context, data_dict)

    return check


# -- the auth functions ---------------------------------------------------------------------------

def _auth(name: str, check: Check, anonymous: bool = False) -> ChainedAuthFunction:
    """A chained auth function running ``check`` first. CKAN gives a chain its own flags and
    names its refusal of anonymous callers by the chain's name: both as the original's."""
    @tk.chained_auth_function
    def chained(next_auth: AuthFunction, context: Context,
                data_dict: DataDict | None) -> AuthResult:
        check(context, data_dict if data_dict is not None else {})
        return next_auth(context, data_dict)  # pyright: ignore[reportArgumentType]  # passed on data_dict as given, None too

    chained.__name__ = name
    if anonymous:
        chained.auth_allow_anonymous_access = True  # type: ignore[attr-defined]
    return chained


def _id(key: str) -> Callable[[DataDict], Any]:
    return lambda data_dict: data_dict.get(key)


def _nested_id(key: str) -> Callable[[DataDict], Any]:
    def get(data_dict: DataDict) -> Any:
        value = data_dict.get(key)
        return value.get("id") if isinstance(value, dict) else None

    return get


def _package_by(key: Callable[[DataDict], Any]) -> Callable[[DataDict], model.Package | None]:
    return lambda data_dict: _package(key(data_dict))


def _resource_by(key: Callable[[DataDict], Any]) -> Callable[[DataDict], model.Package | None]:
    return lambda data_dict: _resource_package(key(data_dict))


def _member_object(context: Context, data_dict: DataDict) -> None:
    # member_create / member_delete: "%s was not found." % obj_type.title(), untranslated
    obj_type = data_dict.get("object_type")
    if isinstance(obj_type, str) and obj_type.lower() == "package" \
            and _unseen(context, _package(data_dict.get("object"))):
        raise tk.ObjectNotFound(f"{obj_type.title()} was not found.")


def _collaborators(message: str, refusal: str) -> Check:
    """package_collaborator_*: a missing dataset or an anonymous caller made CKAN's auth fail
    an assertion (a server error); the action's own answers instead."""
    def check(context: Context, data_dict: DataDict) -> None:
        pkg = _package(data_dict.get("id"))
        if pkg is None or _unseen(context, pkg):
            raise tk.ObjectNotFound(tk._(message))
        if not model.User.get(context.get("user") or ""):
            raise tk.NotAuthorized(tk._(refusal) % (context.get("user") or ""))

    return check


def _datastore_create(context: Context, data_dict: DataDict) -> None:
    resource = data_dict.get("resource")
    if isinstance(resource, dict) and resource.get("package_id"):
        _hide(lambda d: _package(resource.get("package_id")))(context, data_dict)
    elif _unseen(context, _resource_package(data_dict.get("resource_id"))):
        # what resource_id_exists, in the action's schema, says of a missing table
        raise tk.ValidationError({"resource_id": [f"{tk._('Not found')}: {tk._('Resource')}"]})


def _view_show(context: Context, data_dict: DataDict) -> None:
    """A view shows the data: absent for those who may not have it, too."""
    pkg = _view_package(data_dict.get("id"))
    viewer = access.context_viewer(context)
    if pkg is not None and not (access.may_see_pkg(viewer, pkg)
                                and access.may_have_data(viewer, pkg)):
        raise tk.ObjectNotFound(tk._("Resource view not found, cannot check auth."))


def _harvest_object(context: Context, data_dict: DataDict) -> None:
    if data_dict.get("id"):
        _hide(lambda d: _object_source(d.get("id")), "Harvest object not found")(context,
                                                                                  data_dict)
    elif data_dict.get("dataset_id"):
        _hide(_package_by(_id("dataset_id")), "Dataset not found")(context, data_dict)


def _source_not_found(key: str = "id") -> Check:
    return _hide(_package_by(_id(key)), lambda d: tk._("Harvest source not found"))


RESOURCE_NOT_FOUND = "Resource was not found."  # untranslated where CKAN raises it


def _checks() -> dict[str, tuple[Check, bool]]:
    """auth function: (check, whether the original lets anonymous callers through)."""
    dataset = _package_by(_id("id"))
    resource = _resource_by(_id("id"))
    return {
        "package_patch": (_hide(dataset), False),
        "package_update": (_hide(
            _package_by(lambda d: d.get("id") or d.get("name")),
            lambda d: tk._("Package was not found.")), False),
        "package_delete": (_hide(dataset), False),
        "dataset_purge": (_hide(dataset, "Dataset was not found"), False),
        "resource_update": (_hide(resource, RESOURCE_NOT_FOUND), False),
        "resource_patch": (_hide(resource), False),
        "resource_delete": (_hide(resource), False),
        "resource_view_delete": (_hide(lambda d: _view_package(d.get("id"))), False),
        "resource_view_reorder": (_hide(_resource_by(_id("resource_id")), RESOURCE_NOT_FOUND),
                                  False),
        "resource_view_list": (_hide(resource), True),
        "resource_view_show": (_view_show, True),
        "package_create_default_resource_views": (_hide(_package_by(_nested_id("package"))),
                                                  False),
        "resource_create_default_resource_views": (_all(
            _hide(_package_by(_nested_id("package"))),
            _hide(_resource_by(_nested_id("resource")))), False),
        "package_relationships_list": (_all(
            _hide(dataset, "First package named in request was not found."),
            _hide(_package_by(_id("id2")), "Second package named in address was not found.")),
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
        "datastore_create": (_datastore_create, False),
        **{name: (_hide(_resource_by(lambda d: d.get("resource_id") or d.get("id"))), False)
           for name in ("datastore_upsert", "datastore_delete", "datastore_records_delete")},
        # harvest sources, their jobs and objects
        "harvest_source_show": (_source_not_found(), True),
        "harvest_source_show_status": (_source_not_found(), True),
        "harvest_source_update": (_source_not_found(), False),
        "harvest_source_reindex": (_source_not_found(), False),
        "harvest_source_delete": (_source_not_found(), False),
        "harvest_job_create": (_source_not_found("source_id"), False),
        "harvest_send_job_to_gather_queue": (_source_not_found("source_id"), False),
        "harvest_job_list": (_source_not_found("source_id"), False),
        "harvest_job_show": (_hide(lambda d: _job_source(d.get("id"))), False),
        "harvest_object_show": (_harvest_object, True),
    }


@tk.chained_auth_function
def harvest_object_list(next_auth: AuthFunction, context: Context,
                        data_dict: DataDict | None) -> AuthResult:
    """Every source's object ids (marked for removal in ckanext-harvest): sysadmins only."""
    return {"success": False, "msg": tk._("Only sysadmins may do this")}


@tk.chained_auth_function
def harvest_log_list(next_auth: AuthFunction, context: Context,
                     data_dict: DataDict | None) -> AuthResult:
    """ckanext-harvest defines no such auth function: its plugin registers the action itself as
    one (a mutable default argument shares the dict), which asks itself again. The log spans
    every source: sysadmins only."""
    return {"success": False, "msg": tk._("Only sysadmins may do this")}


def auth_functions() -> dict[str, ChainedAuthFunction]:
    functions = {name: _auth(name, check, anonymous)
                 for name, (check, anonymous) in _checks().items()}
    functions["harvest_object_list"] = harvest_object_list
    functions["harvest_log_list"] = harvest_log_list
    return functions


# -- actions that validate before they ask ---------------------------------------------------------

def _as_missing(next_action: Action, context: Context, data_dict: DataDict,
                swap: dict[str, str]) -> NoReturn:
    """Raise what the action answers when the objects named by ``swap``'s keys do not exist:
    it runs with fresh ids in their place, and its answer names the caller's own again."""
    fresh = {key: str(uuid.uuid4()) for key in swap}
    back = {fresh[key]: swap[key] for key in swap}
    try:
        next_action(context, {**data_dict, **fresh})
    except (tk.ObjectNotFound, tk.ValidationError, tk.NotAuthorized) as error:
        raise _renamed(error, back) from None
    raise tk.ObjectNotFound()  # (a missing object never gets this far)


def _renamed(error: Exception, back: dict[str, str]) -> Exception:
    def put_back(value: Any) -> Any:
        if isinstance(value, str):
            for fresh, ref in back.items():
                value = value.replace(fresh, ref)
            return value
        if isinstance(value, list):
            return [put_back(v) for v in value]
        if isinstance(value, dict):
            return {k: put_back(v) for k, v in value.items()}
        return value

    if isinstance(error, tk.ValidationError):
        return tk.ValidationError(put_back(error.error_dict))
    return type(error)(put_back(str(error)) or "")


def _absent_chain(name: str, refs: Callable[[DataDict], list[str]],
                  find: Callable[[Any], model.Package | None]) -> ChainedAction:
    """A chained action: for any named object the caller may not see, the missing answer."""
    @tk.chained_action
    def chained(next_action: Action, context: Context, data_dict: DataDict) -> Any:
        for key in refs(data_dict):
            if _unseen(context, find(data_dict.get(key))):
                _as_missing(next_action, context, data_dict, {key: data_dict[key]})
        return next_action(context, data_dict)

    chained.__name__ = name
    return chained


@tk.chained_action
def resource_view_update(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    view = model.ResourceView.get(data_dict.get("id") or "") \
        if isinstance(data_dict.get("id"), str) else None
    if view is None:
        return next_action(context, data_dict)
    if _unseen(context, _resource_package(view.resource_id)):
        _as_missing(next_action, context, data_dict, {"id": data_dict["id"]})
    # CKAN's auth reads resource_id, which the action does not ask for (a server error)
    return next_action(context, {"resource_id": view.resource_id, **data_dict})


def _relationship_refs(data_dict: DataDict) -> list[str]:
    return [key for key in ("subject", "object") if isinstance(data_dict.get(key), str)]


@tk.chained_action
@tk.side_effect_free
def harvest_source_list(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    """ckanext-harvest lists every source to anonymous callers (and none to department users)
    and asks no auth function: the caller's departments' sources, for everyone but sysadmins."""
    tk.check_access("harvest_source_list", context, data_dict)
    viewer = access.context_viewer(context)
    if viewer is None or viewer.sysadmin:
        return next_action(context, data_dict)
    wanted = data_dict.get("organization_id")
    org = model.Group.get(wanted) if isinstance(wanted, str) and wanted else None
    orgs = ([org.id] if org is not None and org.id in viewer.orgs else []) if wanted \
        else sorted(viewer.orgs)
    site_user = tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]
    sources: list[dict[str, Any]] = []
    for org_id in orgs:
        sources += next_action({"model": model, "session": model.Session, "user": site_user,
                                "ignore_auth": True}, {**data_dict, "organization_id": org_id})
    return sorted(sources, key=lambda s: str(s.get("created") or ""), reverse=True)


@tk.chained_action
def harvest_source_reindex(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    """ckanext-harvest's action asks no auth function (it sets ignore_auth itself): anyone could
    reindex any source. Its own auth function: the source's editors."""
    if data_dict.get("id"):
        tk.check_access("harvest_source_reindex", context, data_dict)
    return next_action(context, data_dict)


def chained_actions() -> dict[str, ChainedAction]:
    return {
        "resource_view_create": _absent_chain(
            "resource_view_create",
            lambda d: ["resource_id"] if isinstance(d.get("resource_id"), str) else [],
            _resource_package),
        "resource_view_update": resource_view_update,
        **{name: _absent_chain(name, _relationship_refs, _package)
           for name in ("package_relationship_create", "package_relationship_update",
                        "package_relationship_delete")},
        "harvest_source_list": harvest_source_list,
        "harvest_source_reindex": harvest_source_reindex,
    }
