"""Lists, tags, formats, counts and follows, which CKAN answers from the database without the
permission labels: filtered through what the caller may find (the search index, labelled by
``access``), so that none of them names or counts a dataset the caller may not see."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.types import Action, ChainedAction, Context, DataDict

from ckanext.yantai import access
from ckanext.yantai.guards.absence import for_callers


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

    return for_callers("organization_list" if is_org else "group_list", around=around)


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
    if pkg is None or not access.may_see(access.context_viewer(context), pkg):
        raise tk.ValidationError({"id": [tk._("Not found") + ": " + tk._("Dataset")]})
    return data_dict


def _relationships_after(context: Context, data_dict: DataDict, rels: Any) -> Any:
    refs = [r.get("object") for r in rels] + [r.get("subject") for r in rels]
    visible = access.visible_packages(access.context_viewer(context), [r for r in refs if r])
    return [r for r in rels if r.get("object") in visible and r.get("subject") in visible]


def chained_actions() -> dict[str, ChainedAction]:
    return {
        "tag_list": for_callers("tag_list", _filter_tag_names),
        "tag_autocomplete": for_callers("tag_autocomplete", _filter_tag_names),
        "tag_search": for_callers("tag_search", _filter_tag_search),
        "tag_show": for_callers("tag_show", _tag_show_after, _tag_show_before),
        "format_autocomplete": for_callers("format_autocomplete", _filter_formats),
        "package_list": for_callers("package_list", _filter_package_refs),
        "member_list": for_callers("member_list", _filter_members),
        "group_list": _group_list(False),
        "organization_list": _group_list(True),
        "group_show": for_callers("group_show", _group_show_after),
        "organization_show": for_callers("organization_show", _group_show_after),
        "group_list_authz": for_callers("group_list_authz", _list_for_user_after(False)),
        "organization_list_for_user": for_callers("organization_list_for_user",
                                                  _list_for_user_after(True)),
        "followee_list": for_callers("followee_list", _followees_after),
        "dataset_followee_list": for_callers("dataset_followee_list",
                                             _followed_datasets_after),
        "follow_dataset": for_callers("follow_dataset", before=_dataset_first, read=False),
        "unfollow_dataset": for_callers("unfollow_dataset", before=_dataset_first,
                                        read=False),
        "am_following_dataset": for_callers("am_following_dataset", before=_dataset_first),
        "dataset_follower_count": for_callers("dataset_follower_count", before=_dataset_first),
        "dataset_follower_list": for_callers("dataset_follower_list", before=_dataset_first),
        "package_relationships_list": for_callers("package_relationships_list",
                                                  _relationships_after),
    }
