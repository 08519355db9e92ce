"""Federation with plain CKAN sites: the catalogue in the form of CKAN's default schema.

The portal's datasets carry fields a stock CKAN does not know (``domain``, ``info_items``,
``related_resource_codes``...). A plain CKAN that copies them through the Action API would
refuse every dataset: its default schema takes unknown values only as ``extras`` (key and text).
So, as CKAN's own API has it, a caller asks for the default schema:

- ``package_show`` and ``package_search`` with ``use_default_schema=true``: every field of the
  portal's schema that CKAN's default schema lacks moves into ``extras``, lists and objects as
  JSON text (``default_form``). The dataset is the one the caller may see, as without the flag
  (the access rules have run on it: resource URLs of data the caller may not have stay out);
- the stock CKAN harvester (ckanext-harvest's ``ckan`` source type) cannot add a parameter to
  its requests, so it is given a base address of its own, ``/federation/ckan``: its
  ``/api/3/action/...`` calls are the portal's read actions with the default schema asked for
  (``package_search``, ``package_show``) and organizations and groups in the same form.

Only the form changes: a dataset a caller may not see is not in either form.
"""
from __future__ import annotations

import json
from typing import Any

import ckan.plugins.toolkit as tk
from ckan.logic import schema as ckan_schema
from ckan.types import Action, ChainedAction, Context, DataDict
from flask import Blueprint, current_app

from ckanext.yantai.guards import parameters
from ckanext.yantai.messages import message

# What CKAN shows of a dataset besides the fields its default schema takes.
SHOWN_PACKAGE_KEYS = frozenset({
    "creator_user_id", "metadata_created", "metadata_modified", "num_resources", "num_tags",
    "organization", "isopen", "license_title", "license_url", "tracking_summary"})
SHOWN_GROUP_KEYS = frozenset({
    "created", "display_name", "image_display_url", "is_organization", "package_count",
    "num_followers", "approval_status", "type", "state", "users", "packages", "groups", "tags",
    "extras", "id", "name", "title", "description", "image_url"})
# The index's copies of the dataset (``fl``): internal, and the whole dataset again.
INTERNAL_KEYS = frozenset({"data_dict", "validated_data_dict"})
# The read actions the stock CKAN harvester calls, and what a partner may browse besides.
FEDERATED_ACTIONS = ("package_search", "package_show", "package_list", "organization_show",
                     "organization_list", "group_show", "group_list", "license_list",
                     "status_show", "site_read")
FLAG = "yantai_default_schema"


def _package_core() -> frozenset[str]:
    return frozenset(k for k in ckan_schema.default_create_package_schema()
                     if not k.startswith("__")) | SHOWN_PACKAGE_KEYS


def _group_core() -> frozenset[str]:
    return frozenset(k for k in ckan_schema.default_group_schema()
                     if not k.startswith("__")) | SHOWN_GROUP_KEYS


def extra_text(value: Any) -> str:
    """A value as the text of an extra: text as it is, anything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _with_extras(entity: dict[str, Any], core: frozenset[str]) -> dict[str, Any]:
    """``entity`` with every key outside ``core`` moved into its ``extras`` (empty values left
    out, as CKAN does). The portal's value of a key wins over a stored extra of the same key:
    ``yantai_restricted`` or ``open_type`` as the access rules give them, not as an extra
    stored under that name says."""
    moved = {key: value for key, value in entity.items()
             if key not in core and key not in INTERNAL_KEYS}
    extras = [e for e in entity.get("extras") or []
              if isinstance(e, dict) and e.get("key") not in moved]
    extras += [{"key": key, "value": extra_text(value)} for key, value in moved.items()
               if value not in (None, "", [], {})]
    form = {key: value for key, value in entity.items() if key in core}
    form["extras"] = sorted(extras, key=lambda e: str(e.get("key")))
    return form


def default_form(pkg_dict: dict[str, Any]) -> dict[str, Any]:
    """A dataset in CKAN's default schema: the fields it lacks as extras; resources keep their
    own fields (CKAN stores a resource's unknown fields as they are)."""
    return _with_extras(pkg_dict, _package_core())


def default_group_form(group_dict: dict[str, Any]) -> dict[str, Any]:
    form = _with_extras(group_dict, _group_core())
    if isinstance(form.get("packages"), list):
        form["packages"] = [default_form(p) if isinstance(p, dict) else p
                            for p in form["packages"]]
    return form


def asked(action: str, data_dict: DataDict) -> bool:
    """Whether the caller asked for the default schema: CKAN's ``use_default_schema`` (read as
    a yes/no by guards.parameters before this), or the call of ``action`` through
    ``/federation/ckan`` (taken by the first, outermost, call of that action in the request:
    the calls the action makes in turn have the portal's form)."""
    try:
        through_base = tk.g.get(FLAG) == action
        if through_base:
            tk.g.pop(FLAG)
    except (RuntimeError, AttributeError):  # outside a request (CLI, workers)
        through_base = False
    return through_base or parameters.flag(data_dict.get("use_default_schema")) is True


def _without_flag(data_dict: DataDict) -> DataDict:
    # The portal's own form goes through the access rules; the default form is made from it.
    return {k: v for k, v in data_dict.items() if k != "use_default_schema"}


@tk.chained_action
@tk.side_effect_free
def package_show(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    if not asked("package_show", data_dict):
        return next_action(context, _without_flag(data_dict))
    return default_form(next_action(context, _without_flag(data_dict)))


@tk.chained_action
@tk.side_effect_free
def package_search(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    if not asked("package_search", data_dict):
        return next_action(context, _without_flag(data_dict))
    result = next_action(context, _without_flag(data_dict))
    result["results"] = [default_form(r) if isinstance(r, dict) and "resources" in r else r
                         for r in result.get("results") or []]
    return result


def _group_chain(name: str) -> ChainedAction:
    @tk.chained_action
    @tk.side_effect_free
    def show(next_action: Action, context: Context, data_dict: DataDict) -> Any:
        wanted = asked(name, data_dict)
        result = next_action(context, _without_flag(data_dict))
        return default_group_form(result) if wanted else result
    show.__name__ = name
    show.__doc__ = None
    return show


def chained_actions() -> dict[str, ChainedAction]:
    return {"package_show": package_show, "package_search": package_search,
            "organization_show": _group_chain("organization_show"),
            "group_show": _group_chain("group_show")}


# -- the base address for the stock CKAN harvester ---------------------------------------------

federation = Blueprint("yantai_federation", __name__)


def action(logic_function: str, ver: int = 3) -> Any:
    """CKAN's Action API view (as the portal wraps it: its errors, its 405 on writes) for the
    federated read actions, with the default schema asked for."""
    from ckanext.yantai.views import conventions

    if logic_function not in FEDERATED_ACTIONS:
        return conventions.error_response(404, "Not Found Error", message(
            "federation_unknown_action", name=logic_function[:100],
            names=", ".join(FEDERATED_ACTIONS)))
    setattr(tk.g, FLAG, logic_function)
    return current_app.view_functions["api.action"](logic_function, ver)


for rule in ("/federation/ckan/api/action/<logic_function>",
             "/federation/ckan/api/<int(min=3, max=3):ver>/action/<logic_function>"):
    federation.add_url_rule(rule, view_func=action, methods=["GET", "POST"])


def blueprints() -> list[Blueprint]:
    return [federation]
