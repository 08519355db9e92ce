"""The classified firewall on every write: datasets, uploaded files, departments (organizations) and
groups, resource views, users' names and descriptions, relationship comments. Their text is
shown on the portal as a dataset's is, so a marking there is refused the same way: every field
(keys and values, at any depth), checked on the normalised text, before anything is stored,
for everyone; only an audit entry stays, naming the fields and the rule, never the content.

Datasets are refused the same way (every text of the dataset and its resources), and an
uploaded file before the file store sees it; DataStore rows by the DataStore write chain
(``disclosure.tables``) with ``classified.records_rule``.
"""
from __future__ import annotations

from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.types import Action, ChainedAction, Context, DataDict

from ckanext.yantai import audit, classified, config, feedsafety
from ckanext.yantai.messages import message


def refuse(context: Context, found: dict[str, str], package_id: str | None = None,
           organization_id: str | None = None, **detail: Any) -> None:
    """Audit a refusal (who, when, which department, which rule and fields; not the content)
    and raise it as a ValidationError naming the fields. Nothing happens when nothing was
    found."""
    if not found:
        return
    audit.record("classified_refused", context.get("user") or None, package_id,
                 organization_id, rule=",".join(sorted(set(found.values()))),
                 fields=sorted(found), **detail)
    raise tk.ValidationError(errors_for(found))


# Lists whose errors CKAN gives (and its ValidationError expects) per item: [{}, {"name": [...]}]
_PER_ITEM = ("resources", "tags")


def errors_for(found: dict[str, str]) -> dict[str, Any]:
    """``{"title": [...], "resources": [{}, {"format": [...]}], "extras": [...]}`` from the
    findings' dotted paths: a field of a resource or tag under its index, any other field under
    its top-level name."""
    errors: dict[str, Any] = {}
    items: dict[str, dict[int, dict[str, list[str]]]] = {}
    for path in found:
        top, _, rest = path.partition(".")
        index, _, field = rest.partition(".")
        if top in _PER_ITEM and index.isdigit():
            items.setdefault(top, {}).setdefault(int(index), {})[
                field.partition(".")[0] or "name"] = [message("classified_marking")]
        else:
            errors[top] = [message("classified" if top == "security_class"
                                   else "classified_marking")]
    for top, by_index in items.items():
        errors[top] = [by_index.get(i, {}) for i in range(max(by_index) + 1)]
    return errors


# -- datasets and uploads ------------------------------------------------------------------------

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
    refuse(context, found, pkg.id if pkg else None,
                           org_obj.id if org_obj else None)


@tk.chained_action
def package_create(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    refuse_classified(context, data_dict, None)
    return next_action(context, data_dict)


@tk.chained_action
def package_update(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    ref = data_dict.get("id") or data_dict.get("name")
    refuse_classified(context, data_dict,
                      model.Package.get(ref) if isinstance(ref, str) and ref else None)
    return next_action(context, data_dict)


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


# -- other objects ---------------------------------------------------------------------------------

def _group_chain(name: str, is_org: bool) -> ChainedAction:
    @tk.chained_action
    def chained(next_action: Action, context: Context, data_dict: DataDict) -> Any:
        ref = data_dict.get("id") or data_dict.get("name")
        group = model.Group.get(ref) if isinstance(ref, str) and ref else None
        refuse(context, classified.findings(dict(data_dict)),
               organization_id=group.id if group is not None and group.is_organization
               else None, object="organization" if is_org else "group")
        return next_action(context, data_dict)

    chained.__name__ = name
    return chained


def _view_chain(name: str) -> ChainedAction:
    @tk.chained_action
    def chained(next_action: Action, context: Context, data_dict: DataDict) -> Any:
        found = classified.findings(dict(data_dict))
        if found:
            resource_id = data_dict.get("resource_id")
            view = (model.ResourceView.get(data_dict["id"])
                    if isinstance(data_dict.get("id"), str) else None)
            if view is not None:
                resource_id = view.resource_id
            resource = (model.Resource.get(resource_id)
                        if isinstance(resource_id, str) and resource_id else None)
            pkg = resource.package if resource is not None else None
            refuse(context, found, pkg.id if pkg else None, pkg.owner_org if pkg else None,
                   object="resource_view")
        return next_action(context, data_dict)

    chained.__name__ = name
    return chained


def _fields_chain(name: str, fields: tuple[str, ...], kind: str) -> ChainedAction:
    """Only the given fields: a user's name and description (not the password, the e-mail),
    a relationship's comment."""
    @tk.chained_action
    def chained(next_action: Action, context: Context, data_dict: DataDict) -> Any:
        refuse(context, classified.findings({k: data_dict.get(k) for k in fields}),
               object=kind)
        return next_action(context, data_dict)

    chained.__name__ = name
    return chained


def chained_actions() -> dict[str, ChainedAction]:
    """The chains above (the *_patch actions go through *_update)."""
    actions: dict[str, ChainedAction] = {"package_create": package_create,
                                         "package_update": package_update}
    for verb in ("create", "update"):
        actions[f"organization_{verb}"] = _group_chain(f"organization_{verb}", True)
        actions[f"group_{verb}"] = _group_chain(f"group_{verb}", False)
        actions[f"resource_view_{verb}"] = _view_chain(f"resource_view_{verb}")
        actions[f"user_{verb}"] = _fields_chain(f"user_{verb}", ("fullname", "about"), "user")
        actions[f"package_relationship_{verb}"] = _fields_chain(
            f"package_relationship_{verb}", ("comment",), "relationship")
    return actions
