"""How a refusal reads as absence: datasets, resources and harvest sources a caller may not know
of answer every channel exactly as ones that do not exist (same status, same error type, same
message). The channels' modules build their guards from these blocks.

CKAN's actions look an object up, then ask its auth function; a missing object fails the lookup
(with the action's own message), an existing one reaches the auth function, which refused with a
403 naming the object. The chained auth functions built here raise, for an object the caller may
not see, the NotFound the action raises for a missing one (``check_access`` passes it on). Where
an action validates its input before asking (so that a bad field answered differently for an
existing object), a chained action runs it as for an id that does not exist.

Who may see what is decided in ``tiers`` through ``access``.
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
Find = Callable[[DataDict], model.Package | None]


# -- finding what a call is about ------------------------------------------------------------------

def package(ref: Any) -> model.Package | None:
    return model.Package.get(ref) if isinstance(ref, str) and ref else None


def resource_package(ref: Any) -> model.Package | None:
    resource = model.Resource.get(ref) if isinstance(ref, str) and ref else None
    return resource.package if resource is not None else None


def view_package(ref: Any) -> model.Package | None:
    view = model.ResourceView.get(ref) if isinstance(ref, str) and ref else None
    return resource_package(view.resource_id) if view is not None else None


def key(name: str) -> Callable[[DataDict], Any]:
    return lambda data_dict: data_dict.get(name)


def nested_id(name: str) -> Callable[[DataDict], Any]:
    def get(data_dict: DataDict) -> Any:
        value = data_dict.get(name)
        return value.get("id") if isinstance(value, dict) else None

    return get


def package_by(ref: Callable[[DataDict], Any]) -> Find:
    return lambda data_dict: package(ref(data_dict))


def resource_by(ref: Callable[[DataDict], Any]) -> Find:
    return lambda data_dict: resource_package(ref(data_dict))


def unseen(context: Context, pkg: model.Package | None) -> bool:
    return pkg is not None and not access.may_see(access.context_viewer(context), pkg)


# -- checks run before CKAN's auth functions -------------------------------------------------------

def hide(find: Find, message: Callable[[DataDict], str | None] | str | None = None) -> Check:
    """A check: NotFound (CKAN's message for a missing object) when the caller may not see it."""
    def check(context: Context, data_dict: DataDict) -> None:
        if unseen(context, find(data_dict)):
            text = message(data_dict) if callable(message) else message
            raise tk.ObjectNotFound(text) if text else tk.ObjectNotFound()

    return check


def all_of(*checks: Check) -> Check:
    def check(context: Context, data_dict: DataDict) -> None:
        for one in checks:
            one(context, data_dict)

    return check


def auth_chain(name: str, check: Check, anonymous: bool = False) -> ChainedAuthFunction:
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


def auth_chains(checks: dict[str, tuple[Check, bool]]) -> dict[str, ChainedAuthFunction]:
    """auth function name: (check, whether the original lets anonymous callers through)."""
    return {name: auth_chain(name, check, anonymous)
            for name, (check, anonymous) in checks.items()}


@tk.chained_auth_function
def sysadmin_only(next_auth: AuthFunction, context: Context,
                  data_dict: DataDict | None) -> AuthResult:
    """For lists that span every department (sysadmins bypass auth functions anyway)."""
    return {"success": False, "msg": tk._("Only sysadmins may do this")}


# -- chained actions -------------------------------------------------------------------------------

def not_found_instead(next_action: Action, context: Context, data_dict: DataDict,
                      missing: Callable[[], Exception]) -> Any:
    """Run the action; refusal reads as absence."""
    try:
        return next_action(context, data_dict)
    except tk.NotAuthorized:
        raise missing() from None


def not_found_chain(name: str,
                    missing: Callable[[], Exception] = tk.ObjectNotFound) -> ChainedAction:
    @tk.chained_action
    @tk.side_effect_free
    def chained(next_action: Action, context: Context, data_dict: DataDict) -> Any:
        return not_found_instead(next_action, context, data_dict, missing)

    chained.__name__ = name
    return chained


def for_callers(name: str, after: Callable[[Context, DataDict, Any], Any] | None = None,
                before: Callable[[Context, DataDict], DataDict] | None = None,
                around: Callable[[Action, Context, DataDict], Any] | None = None,
                read: bool = True) -> ChainedAction:
    """A chained action that filters for the caller (not for internal calls nor sysadmins):
    ``before`` checks or adjusts the request, ``after`` filters the result, ``around`` replaces
    the call altogether. ``read``: the action only reads (CKAN lets a GET call it); False for
    one that changes data, which stays POST only."""
    @tk.chained_action
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
    if read:
        tk.side_effect_free(chained)
    return chained


def as_missing(next_action: Action, context: Context, data_dict: DataDict,
               swap: dict[str, str]) -> NoReturn:
    """Raise what the action answers when the objects named by ``swap``'s keys do not exist:
    it runs with fresh ids in their place, and its answer names the caller's own again."""
    fresh = {name: str(uuid.uuid4()) for name in swap}
    back = {fresh[name]: swap[name] for name in swap}
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


def absent_chain(name: str, refs: Callable[[DataDict], list[str]],
                 find: Callable[[Any], model.Package | None]) -> ChainedAction:
    """A chained action: for any named object the caller may not see, the missing answer."""
    @tk.chained_action
    def chained(next_action: Action, context: Context, data_dict: DataDict) -> Any:
        for ref in refs(data_dict):
            if unseen(context, find(data_dict.get(ref))):
                as_missing(next_action, context, data_dict, {ref: data_dict[ref]})
        return next_action(context, data_dict)

    chained.__name__ = name
    return chained


def both(name: str, first: ChainedAction, second: ChainedAction) -> ChainedAction:
    """Two chains of one action as one (a plugin registers one function per action): ``first``
    runs around ``second``."""
    @tk.chained_action
    def chained(next_action: Action, context: Context, data_dict: DataDict) -> Any:
        return first(lambda c, d: second(next_action, c, d), context, data_dict)

    chained.__name__ = name
    # What CKAN reads off a chained function (it copies the chain's attributes to the action):
    # a read (side_effect_free: GET allowed, and the API's 405 on GET of a write) stays one.
    for attribute in ("side_effect_free", "auth_audit_exempt"):
        if getattr(first, attribute, False) or getattr(second, attribute, False):
            setattr(chained, attribute, True)
    return chained


def joined(*layers: dict[str, ChainedAction]) -> dict[str, ChainedAction]:
    """The chains of several channels; where two guard the same action, the earlier layer runs
    first (around the later)."""
    actions: dict[str, ChainedAction] = {}
    for layer in layers:
        for name, chained in layer.items():
            earlier = actions.get(name)
            actions[name] = chained if earlier is None else both(name, earlier, chained)
    return actions


def distinct(*parts: dict[str, ChainedAuthFunction]) -> dict[str, ChainedAuthFunction]:
    """Auth chains of several channels: each auth function guarded in one place only."""
    functions: dict[str, ChainedAuthFunction] = {}
    for part in parts:
        twice = functions.keys() & part.keys()
        if twice:
            raise RuntimeError(f"auth functions guarded twice: {sorted(twice)}")
        functions.update(part)
    return functions
