"""The types of the common parameters of CKAN's own read actions, before CKAN reads them.

CKAN's read actions (``ckan.logic.action.get``) read several parameters with ``asbool`` or
``int`` and no validator: ``include_datasets=2``, ``include_private="maybe"``, ``limit=""``,
``rows=[1]`` or an ``id`` given as a number or a list answered 500 (a ValueError or TypeError
inside CKAN) on ``/api/3/action`` and the federation address. One chain around each of them
reads these parameters the way the portal reads its own (``params``), and passes CKAN clean
values:

- yes/no parameters (``FLAGS``): true or false, or one of CKAN's words for them in any case,
  width or spacing ("ＴＲＵＥ", " yes "), or 0 and 1; the parameter's default when empty;
- whole numbers (``WHOLES``): 0 or more, as a number or digits (full-width digits read as
  digits); the default when empty;
- texts (``TEXTS``): an identifier, a sort order or a search text is text.

Anything else is a validation error naming the parameter (409 in the API's wrapper), not a 500.
"""
from __future__ import annotations

import unicodedata
from typing import Any, cast

import ckan.logic.action.get as ckan_get
import ckan.plugins.toolkit as tk
from ckan import authz
from ckan.types import Action, ChainedAction, Context, DataDict, ErrorDict

from ckanext.yantai import params
from ckanext.yantai.messages import message

# Every parameter CKAN's read actions pass to asbool.
FLAGS = frozenset({
    "all_fields", "include_dataset_count", "include_datasets", "include_deleted",
    "include_drafts", "include_extras", "include_followers", "include_groups",
    "include_member_count", "include_num_followers", "include_password_hash",
    "include_plugin_data", "include_plugin_extras", "include_private", "include_site_user",
    "include_tags", "include_users", "use_default_schema"})
# Paging parameters CKAN passes to int() or straight to SQL's LIMIT and OFFSET.
WHOLES = frozenset({"limit", "offset", "start", "rows"})
# (order_by is CKAN's older name for sort; q, query and fq are search texts; the others name
# a type, vocabulary, capacity or relationship)
TEXTS = frozenset({"id", "sort", "order_by", "q", "query", "fq", "type", "vocabulary_id",
                   "object_type", "capacity", "id2", "rel"})
# CKAN's words for yes and no (ckan.common.asbool).
TRUE_WORDS = frozenset({"true", "yes", "on", "y", "t", "1"})
FALSE_WORDS = frozenset({"false", "no", "off", "n", "f", "0"})


def _text(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip().lower()


def flag(value: Any) -> bool | None:
    """A yes/no value as CKAN's asbool would take it (and full-width), or None."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = _text(value)
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    return None


def checked(data_dict: DataDict) -> DataDict:
    """``data_dict`` with its common parameters of known type as CKAN expects them.

    Raises:
        tk.ValidationError: A parameter that is not of its type, each named.
    """
    if not isinstance(data_dict, dict):
        return data_dict
    clean: dict[str, Any] = dict(data_dict)
    errors: dict[str, list[str]] = {}
    for key, value in data_dict.items():
        if value is None or (key not in FLAGS and key not in WHOLES and key not in TEXTS):
            continue  # None: CKAN's own views pass an unset sort order so
        if isinstance(value, str) and not _text(value) and key not in TEXTS:
            del clean[key]  # "?limit=": as if not given
        elif key in FLAGS:
            if (read := flag(value)) is None:
                errors[key] = [message("param_flag")]
            else:
                clean[key] = read
        elif key in WHOLES:
            number = params.whole(_text(value) if isinstance(value, str) else value)
            if number is None:
                errors[key] = [message("param_whole")]
            else:
                clean[key] = number
        elif not isinstance(value, str):
            errors[key] = [message("param_text")]
    if errors:
        raise tk.ValidationError(cast(ErrorDict, errors))
    return clean


def _chain(name: str, core: Action) -> ChainedAction:
    @tk.chained_action
    def chained(next_action: Action, context: Context, data_dict: DataDict) -> Any:
        return next_action(context, checked(data_dict))

    chained.__name__ = name
    chained.__doc__ = core.__doc__
    # CKAN marks its get module's actions reads when it loads them, and copies a chain's own
    # attributes to the action: the chain says the same.
    marks = {"side_effect_free": getattr(core, "side_effect_free", True),
             "auth_audit_exempt": getattr(core, "auth_audit_exempt", False)}
    for attribute, value in marks.items():
        if value:
            setattr(chained, attribute, True)
    return chained


def chained_actions() -> dict[str, ChainedAction]:
    """A chain around every read action of CKAN's core."""
    return {name: _chain(name, function)
            for name, function in authz.get_local_functions(ckan_get)}
