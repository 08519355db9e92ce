"""Chained actions and auth functions that hold the access tiers and the classified firewall on
every channel CKAN, its DataStore, activity and harvest plugins offer.

- Reading: what a caller may not see answers exactly as if it did not exist; data of a dataset the
  caller may not have (resource URLs, DataStore rows, snapshots in activities) is left out.
- Writing: classified markings are refused before anything is stored (only an audit entry is
  written), a change that makes a dataset more open waits for a second person, and one that
  makes it less open reaches the search index and every old activity at once.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
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

from ckanext.yantai import (
    absence,
    access,
    access_requests,
    audit,
    classified,
    config,
    feedsafety,
    firewall_guards,
    tier_changes,
    tiers,
)
from ckanext.yantai.disclosure import tables as record_tables
from ckanext.yantai.harvest import jobs as harvest_jobs
from ckanext.yantai.harvest import sources as harvest_sources
from ckanext.yantai.messages import message

log = logging.getLogger(__name__)


# -- reading: datasets and resources ---------------------------------------------------------------

@tk.chained_auth_function
@tk.auth_allow_anonymous_access
def package_show_auth(next_auth: AuthFunction, context: Context,
                      data_dict: DataDict | None) -> AuthResult:
    result = next_auth(context, data_dict)  # pyright: ignore[reportArgumentType]  # passed on data_dict as given, None too
    if not result.get("success"):
        return result
    pkg = context.get("package") or model.Package.get((data_dict or {}).get("id") or "")
    if pkg is not None and pkg.state == "active" and not pkg.private \
            and not access.may_see(context, pkg):
        return {"success": False, "msg": tk._("Not found")}
    return result


def _not_found_instead(next_action: Action, context: Context, data_dict: DataDict,
                       missing: Callable[[], Exception]) -> Any:
    """Run the action; refusal reads as absence."""
    try:
        return next_action(context, data_dict)
    except tk.NotAuthorized:
        raise missing() from None


@tk.chained_action
@tk.side_effect_free
def package_show(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    # CKAN's own answer for a dataset that does not exist.
    return _not_found_instead(next_action, context, data_dict, tk.ObjectNotFound)


@tk.chained_action
@tk.side_effect_free
def resource_show(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    # CKAN's own answer for a resource id that does not exist.
    return _not_found_instead(next_action, context, data_dict, tk.ObjectNotFound)


# -- reading: activity streams ---------------------------------------------------------------------

def _guard_activities(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    activities = next_action(context, data_dict)
    viewer = access.context_viewer(context)
    guarded = (access.guard_activity(viewer, a) for a in activities)
    return [a for a in guarded if a is not None]


def _activity_chain(name: str) -> ChainedAction:
    @tk.chained_action
    @tk.side_effect_free
    def chained(next_action: Action, context: Context, data_dict: DataDict) -> Any:
        return _not_found_instead(
            lambda c, d: _guard_activities(next_action, c, d), context, data_dict,
            tk.ObjectNotFound)

    chained.__name__ = name
    return chained


ACTIVITY_LISTS = ("package_activity_list", "user_activity_list", "group_activity_list",
                  "organization_activity_list", "recently_changed_packages_activity_list",
                  "dashboard_activity_list")


@tk.chained_action
@tk.side_effect_free
def activity_show(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    # CKAN's auth reads include_data without a default (a KeyError, answered as a server error).
    data_dict = {"include_data": False, **data_dict}
    activity = _not_found_instead(next_action, context, data_dict, tk.ObjectNotFound)
    guarded = access.guard_activity(access.context_viewer(context), activity)
    if guarded is None:
        raise tk.ObjectNotFound()
    return guarded


@tk.chained_action
@tk.side_effect_free
def activity_data_show(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    data = _not_found_instead(next_action, context, data_dict, tk.ObjectNotFound)
    from ckanext.activity.model import Activity

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
    from ckanext.activity.model import Activity

    activity = model.Session.get(Activity, data_dict.get("id")) if data_dict.get("id") else None
    pkg = model.Package.get(activity.object_id) if activity is not None else None
    if pkg is not None and not access.may_have_data(access.context_viewer(context), pkg):
        raise tk.ObjectNotFound()
    return _not_found_instead(next_action, context, data_dict, tk.ObjectNotFound)


# -- reading: resource views (previews show the data) ----------------------------------------------

@tk.chained_action
@tk.side_effect_free
def resource_view_list(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    views = _not_found_instead(next_action, context, data_dict,
                               lambda: tk.ObjectNotFound(tk._("Resource was not found.")))
    pkg = access.package_of_resource(data_dict.get("id") or "")
    if pkg is not None and not access.may_have_data(access.context_viewer(context), pkg):
        return []
    return views


@tk.chained_action
@tk.side_effect_free
def resource_view_show(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    view = _not_found_instead(next_action, context, data_dict, tk.ObjectNotFound)
    pkg = access.package_of_resource(view.get("resource_id") or "")
    if pkg is not None and not access.may_have_data(access.context_viewer(context), pkg):
        raise tk.ObjectNotFound()
    return view


# -- reading: the DataStore ------------------------------------------------------------------------

# The DataStore's own words for a table that does not exist, per action.
DATASTORE_MISSING = {"datastore_search": 'Resource "{0}" was not found.',
                     "datastore_info": 'Resource/Alias "{0}" was not found.'}
# The DataStore's catalogue of every table and alias: sysadmins only.
TABLE_METADATA = "_table_metadata"


def _datastore_chain(name: str) -> ChainedAction:
    def missing(resource_id: Any) -> Exception:
        return tk.ObjectNotFound(tk._(DATASTORE_MISSING[name].format(resource_id)))

    @tk.chained_action
    @tk.side_effect_free
    def chained(next_action: Action, context: Context, data_dict: DataDict) -> Any:
        resource_id = data_dict.get("resource_id") or data_dict.get("id")
        viewer = access.context_viewer(context)
        if resource_id == TABLE_METADATA and viewer is not None and not viewer.sysadmin:
            raise missing(resource_id)
        pkg = None
        if isinstance(resource_id, str) and model.Resource.get(resource_id) is not None:
            try:
                pkg = access.check_data_access(context, resource_id)
            except tk.ObjectNotFound:
                raise missing(resource_id) from None
        result = _not_found_instead(next_action, context, data_dict,
                                    lambda: missing(resource_id))
        if pkg is not None:  # found for a string id only
            _audit_data(context, pkg, cast(str, resource_id), "datastore_read")
        return result

    chained.__name__ = name
    return chained


@tk.chained_auth_function
@tk.auth_allow_anonymous_access
def datastore_search_sql_auth(next_auth: AuthFunction, context: Context,
                              data_dict: DataDict | None) -> AuthResult:
    """Every table a query reads must be data the caller may have."""
    for name in context.get("table_names") or []:
        try:
            access.check_data_access(context, name)
        except tk.ObjectNotFound:
            if model.Resource.get(name) is not None:
                return {"success": False, "msg": "Not authorized to read resource."}
    return next_auth(context, data_dict)  # pyright: ignore[reportArgumentType]  # passed on data_dict as given, None too


def _audit_data(context: Context, pkg: model.Package, resource_id: str, event: str) -> None:
    if access.is_restricted(pkg) and not context.get("ignore_auth"):
        audit.record(event, context.get("user") or None, pkg.id, pkg.owner_org, resource_id)


# -- writing ---------------------------------------------------------------------------------------

def refuse_classified(context: Context, data_dict: dict[str, Any],
                      pkg: model.Package | None) -> None:
    """Refuse a dataset with classification markings in any of its texts (tags, extras,
    information items, resources' every field…): audit who, when, which department and which
    rule (not the content), and raise before anything is stored."""
    found = classified.dataset_findings(data_dict)
    if not found:
        return
    org = data_dict.get("owner_org") or (pkg.owner_org if pkg else None)
    org_obj = model.Group.get(org) if isinstance(org, str) and org else None
    firewall_guards.refuse(context, found, pkg.id if pkg else None,
                           org_obj.id if org_obj else None)


def _package(data_dict: DataDict) -> model.Package | None:
    ref = data_dict.get("id") or data_dict.get("name")
    return model.Package.get(ref) if isinstance(ref, str) and ref else None


@tk.chained_action
def package_create(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    if data_dict.get("type") == "harvest":
        harvest_sources.check(data_dict)
    refuse_classified(context, data_dict, None)
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
    if (pkg is not None and pkg.type == "harvest") or data_dict.get("type") == "harvest":
        harvest_sources.check(data_dict)
    refuse_classified(context, data_dict, pkg)
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
            result.update({key: published[key] for key in proposed})  # what was kept
            result["yantai_tier_change"] = announced
    return result


def refuse_classified_upload(context: Context, resource: dict[str, Any],
                             pkg: model.Package | None) -> None:
    """An uploaded file, read whole before the file store sees it: refused when it carries a
    marking, and when it cannot be read to its end (too large, a corrupt or encrypted
    archive, a decompression or cell bomb), since then it cannot be cleared."""
    upload = resource.get("upload")
    stream = getattr(upload, "stream", None)
    if stream is None or not hasattr(stream, "read"):
        return
    reason: dict[str, Any] = {}
    try:
        hit = classified.upload_rule(stream, getattr(upload, "filename", "") or "",
                                     config.upload_limits())
        error = message("classified_marking")
    except feedsafety.Unsafe as unsafe:
        hit, reason = "unreadable", {"reason": unsafe.code}
        error = message("upload_unreadable",
                        reason=message(f"harvest_{unsafe.code}", **unsafe.params))
    if hit is None:
        return
    audit.record("classified_refused", context.get("user") or None,
                 pkg.id if pkg else None, pkg.owner_org if pkg else None,
                 rule=hit, fields=["upload"], **reason)
    raise tk.ValidationError({"upload": [error]})


def chained_actions() -> dict[str, ChainedAction]:
    actions: dict[str, ChainedAction] = {
        "package_show": package_show, "resource_show": resource_show,
        "package_create": package_create,
        "package_update": package_update, "activity_show": activity_show,
        "activity_data_show": activity_data_show, "activity_diff": activity_diff,
        "resource_view_list": resource_view_list, "resource_view_show": resource_view_show,
    }
    actions.update({name: _activity_chain(name) for name in ACTIVITY_LISTS})
    actions.update(more_chained_actions())
    actions.update({name: _datastore_chain(name) for name in ("datastore_search",
                                                             "datastore_info")})
    actions.update(record_tables.chained_actions())
    actions["harvest_source_clear"] = harvest_sources.source_clear
    actions["harvest_abort_failed_jobs"] = harvest_sources.abort_failed_jobs
    actions["harvest_job_create"] = harvest_jobs.job_create
    actions["harvest_job_list"] = harvest_jobs.job_list
    actions.update(absence.chained_actions())
    firewall_guards.chain_into(actions)
    return actions


def chained_auth_functions() -> dict[str, ChainedAuthFunction]:
    return {"package_show": package_show_auth,
            "datastore_search_sql": datastore_search_sql_auth,
            "resource_search": sysadmin_only,
            # clearing hard-deletes (raw SQL, no activity) every dataset a source touched,
            # datasets it adopted by resource code included
            "harvest_source_clear": sysadmin_only,
            # what the caller may not see answers as missing on every write channel
            **absence.auth_functions()}


# -- reading: lists, tags, formats, counts ---------------------------------------------------------
# CKAN answers these from the database without the labels; filter them through what the caller
# may find.

def _chain(name: str, after: Callable[[Context, DataDict, Any], Any] | None = None,
           before: Callable[[Context, DataDict], DataDict] | None = None,
           around: Callable[[Action, Context, DataDict], Any] | None = None) -> ChainedAction:
    """A chained action that filters for the caller (not for internal calls nor sysadmins):
    ``before`` checks or adjusts the request, ``after`` filters the result, ``around`` replaces
    the call altogether."""
    @tk.chained_action
    @tk.side_effect_free
    def chained(next_action: Action, context: Context, data_dict: DataDict) -> Any:
        viewer = access.context_viewer(context)
        if viewer is None or viewer.sysadmin:
            return next_action(context, data_dict)
        if around is not None:
            return around(next_action, context, data_dict)
        if before is not None:
            data_dict = before(context, data_dict)
        result = next_action(context, data_dict)
        return after(context, data_dict, result) if after is not None else result

    chained.__name__ = name
    return chained


def _visible_tags(context: Context, data_dict: DataDict) -> set[str] | None:
    if data_dict.get("vocabulary_id"):
        return None  # vocabulary tags are a controlled list, not dataset content
    return set(access.search_facet(context, "tags"))


def _filter_tag_names(context: Context, data_dict: DataDict, tags: Any) -> Any:
    visible = _visible_tags(context, data_dict)
    if visible is None:
        return tags
    return [t for t in tags if (t["name"] if isinstance(t, dict) else t) in visible]


def _filter_tag_search(context: Context, data_dict: DataDict, result: Any) -> Any:
    visible = _visible_tags(context, data_dict)
    if visible is None:
        return result
    results = [t for t in result["results"] if t["name"] in visible]
    return {**result, "count": len(results), "results": results}


def _tag_show_before(context: Context, data_dict: DataDict) -> DataDict:
    name = data_dict.get("id") or data_dict.get("name")
    visible = _visible_tags(context, data_dict)
    tag = model.Tag.get(name) if isinstance(name, str) else None
    if visible is not None and (tag is None or tag.name not in visible):
        raise tk.ObjectNotFound(tk._("Could not find tag \"%s\"") % name)
    return {**data_dict, "include_datasets": False, "yantai_datasets":
            tk.asbool(data_dict.get("include_datasets", False))}


def _tag_show_after(context: Context, data_dict: DataDict, tag: Any) -> Any:
    if data_dict.get("yantai_datasets"):
        found = tk.get_action("package_search")(
            cast(Context, {"user": context.get("user"),
                           "auth_user_obj": context.get("auth_user_obj")}),
            {"fq": f'tags:"{tag["name"]}"', "rows": 1000})
        tag["packages"] = found["results"]
    return tag


def _filter_formats(context: Context, data_dict: DataDict, formats: Any) -> Any:
    visible = {f.lower() for f in access.search_facet(context, "res_format")}
    return [f for f in formats if str(f).lower() in visible]


def _filter_package_refs(context: Context, data_dict: DataDict, refs: Any) -> Any:
    visible = access.visible_packages(access.context_viewer(context), list(refs))
    return [r for r in refs if r in visible]


def _filter_members(context: Context, data_dict: DataDict, members: Any) -> Any:
    ids = [m[0] for m in members if m[1] == "package"]
    visible = access.visible_packages(access.context_viewer(context), ids)
    return [m for m in members if m[1] != "package" or m[0] in visible]


def _group_counts(context: Context, is_org: bool) -> dict[str, int]:
    return access.search_facet(context, "organization" if is_org else "groups")


def _recount(context: Context, groups: Any, is_org: bool) -> Any:
    counts = _group_counts(context, is_org)
    for group in groups:
        if isinstance(group, dict) and "package_count" in group:
            name = group.get("name")
            group["package_count"] = counts.get(name, 0) if isinstance(name, str) else 0
    return groups


def _group_list(is_org: bool) -> ChainedAction:
    """group_list / organization_list: counts of what the caller may find, and the order by
    count computed from those counts (CKAN's SQL order counts every dataset)."""

    def around(next_action: Action, context: Context, data_dict: DataDict) -> Any:
        sort = str(data_dict.get("sort") or "")
        if not sort.startswith("package_count"):
            return _recount(context, next_action(context, data_dict), is_org)
        counts = _group_counts(context, is_org)
        names = next_action(context.copy(), {**data_dict, "sort": "name", "all_fields": False,
                                            "limit": None, "offset": 0})
        names.sort(key=lambda n: counts.get(n, 0), reverse=not sort.endswith("asc"))
        offset = int(data_dict.get("offset") or 0)
        limit = data_dict.get("limit")
        page = names[offset:offset + int(limit)] if limit else names[offset:]
        if not tk.asbool(data_dict.get("all_fields", False)):
            return page
        rows = next_action(context.copy(), {**data_dict, "groups": page, "sort": "name",
                                           "limit": len(page) or 1, "offset": 0})
        order = {n: i for i, n in enumerate(page)}
        rows = [r for r in rows if r["name"] in order] if page else []
        rows.sort(key=lambda r: order[r["name"]])
        return _recount(context, rows, is_org)

    return _chain("organization_list" if is_org else "group_list", around=around)


def _group_show_after(context: Context, data_dict: DataDict, group: Any) -> Any:
    # Sub-groups' counts come from an unlabelled query in CKAN.
    _recount(context, group.get("groups") or [], False)
    return group


def _list_for_user_after(is_org: bool) -> Callable[[Context, DataDict, Any], Any]:
    def after(context: Context, data_dict: DataDict, groups: Any) -> Any:
        # Only when asked for: CKAN's own labels call this list for every search.
        if not tk.asbool(data_dict.get("include_dataset_count", False)):
            return groups
        return _recount(context, groups, is_org)

    return after


def _followees_after(context: Context, data_dict: DataDict, followees: Any) -> Any:
    # CKAN builds the followed groups' dataset lists with ignore_auth.
    for followee in followees:
        if isinstance(followee.get("dict"), dict):
            followee["dict"].pop("packages", None)
    return followees


def _followed_datasets_after(context: Context, data_dict: DataDict, datasets: Any) -> Any:
    return [access.guard_package(context, d) for d in datasets]


def _dataset_first(context: Context, data_dict: DataDict) -> DataDict:
    """Following and followers of a dataset: only of one the caller may see."""
    ref = data_dict.get("id")
    pkg = model.Package.get(ref) if isinstance(ref, str) else None
    if pkg is None or not access.may_see_pkg(access.context_viewer(context), pkg):
        raise tk.ValidationError({"id": [tk._("Not found") + ": " + tk._("Dataset")]})
    return data_dict


def _relationships_after(context: Context, data_dict: DataDict, rels: Any) -> Any:
    refs = [r.get("object") for r in rels] + [r.get("subject") for r in rels]
    visible = access.visible_packages(access.context_viewer(context), [r for r in refs if r])
    return [r for r in rels if r.get("object") in visible and r.get("subject") in visible]


def _harvest_object_after(context: Context, data_dict: DataDict, obj: Any) -> Any:
    """A harvest object's raw content is the dataset's data."""
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
    if not (access.may_see_pkg(viewer, pkg) and access.may_have_data(viewer, pkg)):
        if data_dict.get("dataset_id") and not data_dict.get("id"):
            raise tk.ObjectNotFound("Dataset not found")
        raise tk.ObjectNotFound("Harvest object not found")
    return obj


def _not_found_chain(name: str,
                     missing: Callable[[], Exception] = tk.ObjectNotFound) -> ChainedAction:
    @tk.chained_action
    @tk.side_effect_free
    def chained(next_action: Action, context: Context, data_dict: DataDict) -> Any:
        return _not_found_instead(next_action, context, data_dict, missing)

    chained.__name__ = name
    return chained


@tk.chained_auth_function
def sysadmin_only(next_auth: AuthFunction, context: Context,
                  data_dict: DataDict | None) -> AuthResult:
    """resource_search (a URL oracle across datasets) and the harvest source list (URLs and
    configs of every source): sysadmins only, who bypass auth functions anyway."""
    return {"success": False, "msg": tk._("Only sysadmins may do this")}


def more_chained_actions() -> dict[str, ChainedAction]:
    return {
        "tag_list": _chain("tag_list", _filter_tag_names),
        "tag_autocomplete": _chain("tag_autocomplete", _filter_tag_names),
        "tag_search": _chain("tag_search", _filter_tag_search),
        "tag_show": _chain("tag_show", _tag_show_after, _tag_show_before),
        "format_autocomplete": _chain("format_autocomplete", _filter_formats),
        "package_list": _chain("package_list", _filter_package_refs),
        "member_list": _chain("member_list", _filter_members),
        "group_list": _group_list(False),
        "organization_list": _group_list(True),
        "group_show": _chain("group_show", _group_show_after),
        "organization_show": _chain("organization_show", _group_show_after),
        "group_list_authz": _chain("group_list_authz", _list_for_user_after(False)),
        "organization_list_for_user": _chain("organization_list_for_user",
                                             _list_for_user_after(True)),
        "followee_list": _chain("followee_list", _followees_after),
        "dataset_followee_list": _chain("dataset_followee_list", _followed_datasets_after),
        "follow_dataset": _chain("follow_dataset", before=_dataset_first),
        "unfollow_dataset": _chain("unfollow_dataset", before=_dataset_first),
        "am_following_dataset": _chain("am_following_dataset", before=_dataset_first),
        "dataset_follower_count": _chain("dataset_follower_count", before=_dataset_first),
        "dataset_follower_list": _chain("dataset_follower_list", before=_dataset_first),
        "package_relationships_list": _chain("package_relationships_list",
                                             _relationships_after),
        "harvest_object_show": _chain("harvest_object_show", _harvest_object_after),
        "dcat_dataset_show": _not_found_chain("dcat_dataset_show"),
    }
