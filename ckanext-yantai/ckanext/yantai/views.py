"""Views that adjust CKAN's and ckanext-scheming's for the portal."""
from __future__ import annotations

import functools
import re
from typing import Any, cast

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.types import Context
from ckan.views.dataset import CreateView
from ckanext.scheming.views import SchemingCreateView
from flask import Response
from flask.json.provider import DefaultJSONProvider

from ckanext.yantai import access, audit, form_views, params
from ckanext.yantai.harvest import views as harvest_views

# /dataset/<name>/resource/new or /dataset/<id>, with or without a locale prefix.
SAVED = re.compile(r"/dataset/(?P<id>[^/?#]+)")


class YantaiCreateView(SchemingCreateView):
    """Page 1 of the multi-page dataset form.

    Scheming sends the user on to page 2 under the *submitted* URL name; when it was left empty
    (the portal makes one from the title's pinyin) that URL would not exist. Go on under the
    name the dataset was saved with instead.
    """

    def post(self, package_type: str) -> Any:
        response = CreateView.post(self, package_type)
        if getattr(response, "status_code", None) != 302:
            return response
        saved = SAVED.search(cast(Response, response).headers.get("Location", ""))
        if saved is None:
            return response
        return tk.redirect_to(f"{package_type}.scheming_new_page", id=saved["id"], page=2)


def guarded_download(original: Any) -> Any:
    """CKAN's resource download (file store or redirect), for those who may have the data only;
    others get the page of a resource that does not exist. Handing out conditional or closed
    data is audited."""

    @functools.wraps(original)
    def download(package_type: str, id: str, resource_id: str, filename: str | None = None) -> Any:
        context: Context = {"user": tk.current_user.name, "auth_user_obj": tk.current_user}
        try:
            pkg = access.check_data_access(context, resource_id)
        except tk.ObjectNotFound:
            return tk.abort(404, tk._("Resource not found"))
        response = original(package_type, id, resource_id, filename)
        if access.is_restricted(pkg) and getattr(response, "status_code", 500) < 400:
            audit.record("download", tk.current_user.name or None, pkg.id, pkg.owner_org,
                         resource_id)
        return response

    return download


def guarded_resource_history(original: Any) -> Any:
    """The activity plugin's old version of a resource reads any activity by id, unchecked: only
    one of this dataset, and only for those who may have its data (it shows the old URL)."""

    @functools.wraps(original)
    def resource_history(id: str, resource_id: str, activity_id: str) -> Any:
        from ckanext.activity.model import Activity

        pkg = model.Package.get(id)
        activity = model.Session.get(Activity, activity_id)
        viewer = access.viewer_for(tk.current_user if tk.current_user.is_authenticated else None)
        if pkg is None or activity is None or activity.object_id != pkg.id \
                or not (access.may_see_pkg(viewer, pkg) and access.may_have_data(viewer, pkg)):
            return tk.abort(404, tk._("Dataset not found"))
        return original(id, resource_id, activity_id)

    return resource_history


ACTIVITY_ID = re.compile(r"[0-9a-fA-F-]{1,64}")
CHANGES_MULTIPLE = ("activity.package_changes_multiple", "activity.group_changes_multiple",
                    "activity.organization_changes_multiple")


def guarded_changes_multiple(original: Any) -> Any:
    """The activity plugin's changes between two versions reads ``new_id`` and ``old_id``
    unchecked (missing, unknown or another object's: 500, or a walk through every version):
    two versions of one object, else the page of versions that do not exist."""

    @functools.wraps(original)
    def changes_multiple(*args: Any, **kwargs: Any) -> Any:
        from ckanext.activity.model import Activity

        found = []
        for key in ("new_id", "old_id"):
            value = tk.request.args.get(key, "")
            found.append(model.Session.get(Activity, value)
                         if ACTIVITY_ID.fullmatch(value) else None)
        new, old = found
        if new is None or old is None or new.object_id != old.object_id:
            return tk.abort(404, tk._("Activity not found"))
        if new.timestamp <= old.timestamp and not ACTIVITY_ID.fullmatch(
                tk.request.args.get("current_new_id", "")):
            return tk.abort(404, tk._("Activity not found"))
        try:
            return original(*args, **kwargs)
        except (tk.ObjectNotFound, tk.ValidationError):
            return tk.abort(404, tk._("Activity not found"))
        except tk.NotAuthorized:
            return tk.abort(403, tk._("Unauthorized to view activity data"))

    return changes_multiple


def locale_tagged(original: Any) -> Any:
    """CKAN's JS translations for the page's locale. CKAN writes the locale into the page as a
    BCP-47 tag (``zh-Hans-CN``) and its JS client turns back only the first hyphen, so it asks
    for ``zh_Hans-CN``, which the route does not know (400, and no JS module starts). Any
    spelling of a configured locale (hyphens or underscores) is served as that locale."""

    @functools.wraps(original)
    def i18n_js_translations(lang: str, *args: Any, **kwargs: Any) -> Any:
        from ckan.lib.i18n import get_locales_from_config

        wanted = lang.replace("-", "_").casefold()
        for locale in get_locales_from_config():
            if locale.casefold() == wanted:
                lang = locale
                break
        return original(lang, *args, **kwargs)

    return i18n_js_translations


class BoundedJSON(DefaultJSONProvider):
    """Request bodies nested too deep are bad JSON (CKAN answers 400), not a RecursionError in
    the parser or in whatever walks the value later (500)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            value = super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None
        if params.too_deep(value):
            raise ValueError(f"JSON nested more than {params.MAX_DEPTH} levels deep")
        return value


def install(app: Any) -> Any:
    """Adjust CKAN's and scheming's views (called from IMiddleware): our dataset form page 1 in
    place of CKAN's `dataset.new` and scheming's `dataset.scheming_new` (same URL), and the
    resource download behind the access tiers, under every blueprint that serves it."""
    app.json = BoundedJSON(app)
    for endpoint, view in list(app.view_functions.items()):
        if endpoint.startswith("api.") and getattr(view, "__name__", None) == \
                "i18n_js_translations":
            app.view_functions[endpoint] = locale_tagged(view)
    for endpoint in ("dataset.new", "dataset.scheming_new"):
        if endpoint in app.view_functions:
            app.view_functions[endpoint] = YantaiCreateView.as_view("new")
    for endpoint, view in list(app.view_functions.items()):
        # By name: CKAN executes its view modules afresh when it registers their blueprints.
        if (getattr(view, "__module__", None), getattr(view, "__name__", None)) == (
                "ckan.views.resource", "download"):
            app.view_functions[endpoint] = guarded_download(view)
    if "activity.resource_history" in app.view_functions:
        app.view_functions["activity.resource_history"] = guarded_resource_history(
            app.view_functions["activity.resource_history"])
    for endpoint in CHANGES_MULTIPLE:
        if endpoint in app.view_functions:
            app.view_functions[endpoint] = guarded_changes_multiple(app.view_functions[endpoint])
    form_views.install(app)
    harvest_views.install(app)
    return app
