"""The harvest plugin's channels: sources, jobs and objects of a department are its own and its
reviewers'; anyone else gets the answer for a missing one. ckanext-harvest leaves some actions
without an auth function, or lists every source to anyone: fixed here. A harvest object's raw
content is the dataset's data, so it follows the dataset's tier."""
from __future__ import annotations

from typing import Any, cast

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
from ckanext.harvest.model import HarvestJob, HarvestObject

from ckanext.yantai import access
from ckanext.yantai.guards.absence import (
    Check,
    auth_chains,
    for_callers,
    hide,
    key,
    package,
    package_by,
    sysadmin_only,
)
from ckanext.yantai.harvest import jobs as harvest_jobs
from ckanext.yantai.harvest import sources as harvest_sources

# -- sources are datasets of type "harvest" --------------------------------------------------------

def _is_source(data_dict: DataDict) -> bool:
    ref = data_dict.get("id") or data_dict.get("name")
    pkg = package(ref)
    return (pkg is not None and pkg.type == "harvest") or data_dict.get("type") == "harvest"


@tk.chained_action
def package_create(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    if data_dict.get("type") == "harvest":
        harvest_sources.check(data_dict)
    return next_action(context, data_dict)


@tk.chained_action
def package_update(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    if _is_source(data_dict):
        harvest_sources.check(data_dict)
    return next_action(context, data_dict)


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


# -- objects: their raw content is the dataset's data ---------------------------------------------

def _harvest_object_after(context: Context, data_dict: DataDict, obj: Any) -> Any:
    pkg = model.Package.get(obj.get("package_id") or "") if obj.get("package_id") else None
    viewer = access.context_viewer(context)
    if pkg is None:
        # Not imported (yet, or refused): only who may edit the source sees what it brought.
        source = obj.get("harvest_source_id") or obj.get("source")
        try:
            tk.check_access("package_update", cast(Context, {"user": context.get("user")}),
                            {"id": source or ""})
        except (tk.NotAuthorized, tk.ObjectNotFound):
            raise tk.ObjectNotFound("Harvest object not found") from None
        return obj
    if not (access.may_see(viewer, pkg) and access.may_have_data(viewer, pkg)):
        if data_dict.get("dataset_id") and not data_dict.get("id"):
            raise tk.ObjectNotFound("Dataset not found")
        raise tk.ObjectNotFound("Harvest object not found")
    return obj


# -- what the caller may not see answers as missing ------------------------------------------------

def _job_source(ref: Any) -> model.Package | None:
    job = model.Session.get(HarvestJob, ref) if isinstance(ref, str) and ref else None
    return package(job.source_id) if job is not None else None


def _object_source(ref: Any) -> model.Package | None:
    obj = model.Session.get(HarvestObject, ref) if isinstance(ref, str) and ref else None
    return package(obj.harvest_source_id) if obj is not None else None


def _harvest_object(context: Context, data_dict: DataDict) -> None:
    if data_dict.get("id"):
        hide(lambda d: _object_source(d.get("id")), "Harvest object not found")(context,
                                                                                 data_dict)
    elif data_dict.get("dataset_id"):
        hide(package_by(key("dataset_id")), "Dataset not found")(context, data_dict)


def _source_not_found(name: str = "id") -> Check:
    return hide(package_by(key(name)), lambda d: tk._("Harvest source not found"))


def _checks() -> dict[str, tuple[Check, bool]]:
    return {
        "harvest_source_show": (_source_not_found(), True),
        "harvest_source_show_status": (_source_not_found(), True),
        "harvest_source_update": (_source_not_found(), False),
        "harvest_source_reindex": (_source_not_found(), False),
        "harvest_source_delete": (_source_not_found(), False),
        "harvest_job_create": (_source_not_found("source_id"), False),
        "harvest_send_job_to_gather_queue": (_source_not_found("source_id"), False),
        "harvest_job_list": (_source_not_found("source_id"), False),
        "harvest_job_show": (hide(lambda d: _job_source(d.get("id"))), False),
        "harvest_object_show": (_harvest_object, True),
    }


@tk.chained_auth_function
def harvest_log_list(next_auth: AuthFunction, context: Context,
                     data_dict: DataDict | None) -> AuthResult:
    """ckanext-harvest defines no such auth function: its plugin registers the action itself as
    one (a mutable default argument shares the dict), which asks itself again. The log spans
    every source: sysadmins only."""
    return {"success": False, "msg": tk._("Only sysadmins may do this")}


def chained_actions() -> dict[str, ChainedAction]:
    return {
        "package_create": package_create,
        "package_update": package_update,
        "harvest_source_list": harvest_source_list,
        "harvest_source_reindex": harvest_source_reindex,
        "harvest_object_show": for_callers("harvest_object_show", _harvest_object_after),
        "harvest_source_clear": harvest_sources.source_clear,
        "harvest_abort_failed_jobs": harvest_sources.abort_failed_jobs,
        "harvest_job_create": harvest_jobs.job_create,
        "harvest_job_list": harvest_jobs.job_list,
    }


def auth_functions() -> dict[str, ChainedAuthFunction]:
    return {
        **auth_chains(_checks()),
        # clearing hard-deletes (raw SQL, no activity) every dataset a source touched,
        # datasets it adopted by resource code included
        "harvest_source_clear": sysadmin_only,
        # every source's object ids (marked for removal in ckanext-harvest)
        "harvest_object_list": sysadmin_only,
        "harvest_log_list": harvest_log_list,
    }
