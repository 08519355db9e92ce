"""The multi-page dataset form (ckanext-scheming's pages), page by page.

Scheming renders a page that failed validation through CKAN's edit view, which makes a draft's
form post to ``/dataset/new`` (page 1): fixing the field and pressing 下一页 then starts a new
dataset. Here a draft's page always posts back to itself, and the last step (完成, which saves a
resource and publishes the draft) first checks the whole dataset: an error sends the editor to
the page it belongs to, and nothing is saved until the dataset can be published.
"""
from __future__ import annotations

import functools
import re
from typing import Any, cast

import ckan.lib.plugins as lib_plugins
import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.lib.navl.dictization_functions import DataError, unflatten
from ckan.logic import clean_dict, parse_params, tuplize_dict
from ckan.types import Context
from ckan.views.dataset import CreateView, EditView, _tag_string_to_list
from ckanext.scheming.views import (
    SchemingCreatePageView,
    SchemingCreateView,
    SchemingEditPageView,
    _clean_page,
)
from flask import Response

h = tk.h


def _context() -> Context:
    return {"model": model, "session": model.Session, "user": tk.current_user.name,
            "auth_user_obj": tk.current_user}


def _show(id: str) -> dict[str, Any] | None:
    try:
        return tk.get_action("package_show")(_context(), {"id": id})
    except (tk.NotAuthorized, tk.ObjectNotFound):
        return None


def render_page(package_type: str, pkg: dict[str, Any], page: int,
                data: dict[str, Any] | None = None, errors: dict[str, Any] | None = None,
                error_summary: dict[str, Any] | None = None) -> Any:
    """Page ``page`` of the form for ``pkg``, with what the editor submitted and its errors. A
    draft's page posts back to itself; a published dataset's edit page does already."""
    merged = {**pkg, **(data or {}), "_form_page": page}
    errors = displayable(package_type, errors or {})
    if not str(pkg.get("state", "")).startswith("draft"):
        return EditView().get(package_type, pkg["id"], merged, errors, error_summary)
    tk.g.form_action = h.url_for(f"{package_type}.scheming_new_page", id=pkg["name"], page=page)
    return CreateView().get(package_type, data=merged, errors=errors or {},
                            error_summary=error_summary or {})


def displayable(package_type: str, errors: dict[str, Any]) -> dict[str, Any]:
    """Errors as scheming's templates can show them. A repeating field (信息项) may have an
    error about the list as a whole ("list at least one"), a message where the templates expect
    one error dict per item: it is shown under the field's label instead."""
    shown = dict(errors)
    for field in h.scheming_get_dataset_schema(package_type)["dataset_fields"]:
        name = field["field_name"]
        if "repeating_subfields" in field and isinstance(shown.get(name), list):
            messages = [e for e in shown[name] if isinstance(e, str)]
            if messages:
                shown[name] = [e for e in shown[name] if not isinstance(e, str)]
                if not any(shown[name]):
                    del shown[name]
                shown[h.scheming_language_text(field["label"])] = messages
    return shown


def _form_data() -> dict[str, Any] | None:
    try:
        data = clean_dict(unflatten(tuplize_dict(parse_params(tk.request.form))))
    except DataError:
        return None
    if "tag_string" in data:
        data["tags"] = _tag_string_to_list(data["tag_string"])
    data.pop("pkg_name", None)
    data.pop("save", None)
    return data


def _page_and_dataset(package_type: str, id: str, page: Any) -> tuple[int, dict[str, Any]]:
    """The form page's number and the dataset, or the end of the request (404)."""
    try:
        number = _clean_page(package_type, page)
    except ValueError:
        tk.abort(404, tk._("Page not found"))
    pkg = _show(id)
    if pkg is None:
        tk.abort(404, tk._("Dataset not found"))
    return number, pkg  # type: ignore[return-value]


class YantaiCreatePageView(SchemingCreatePageView):
    """Pages 2.. of a new dataset (a draft)."""

    def get(self, package_type: str, id: str, page: Any) -> Any:  # type: ignore[override]
        page, pkg = _page_and_dataset(package_type, id, page)
        return render_page(package_type, pkg, page)

    def post(self, package_type: str, id: str, page: Any) -> Any:  # type: ignore[override]
        page, pkg = _page_and_dataset(package_type, id, page)
        data = _form_data()
        if data is None:
            return tk.abort(400, tk._("Integrity Error"))
        draft = str(pkg.get("state", "")).startswith("draft")
        patch = {**data, "id": pkg["id"]}
        if draft:
            patch["state"] = "draft"
        try:
            saved = tk.get_action("package_patch")(_context(), patch)
        except tk.ObjectNotFound:
            return tk.abort(404, tk._("Dataset not found"))
        except tk.NotAuthorized:
            return tk.abort(403, tk._("Unauthorized to update a dataset"))
        except tk.ValidationError as e:
            return render_page(package_type, pkg, page, data, e.error_dict, e.error_summary)
        if not draft:
            return h.redirect_to(f"{package_type}.read", id=saved["name"])
        if page == len(h.scheming_get_dataset_form_pages(package_type)):
            if "resource_fields" in h.scheming_get_dataset_schema(package_type):
                return h.redirect_to(f"{package_type}_resource.new", id=saved["name"])
            return h.redirect_to(f"{package_type}.read", id=saved["name"])
        return h.redirect_to(f"{package_type}.scheming_new_page", id=saved["name"],
                             page=page + 1)


class YantaiEditPageView(SchemingEditPageView):
    """A page of an existing dataset's form. A draft is still being created: its pages are
    the new dataset's (which post back to themselves and go on to the next page)."""

    def get(self, package_type: str, id: str, page: Any) -> Any:  # type: ignore[override]
        pkg = _show(id)
        if pkg is not None and str(pkg.get("state", "")).startswith("draft"):
            return YantaiCreatePageView().get(package_type, id, page)
        return super().get(package_type, id, page)

    def post(self, package_type: str, id: str, page: Any) -> Any:  # type: ignore[override]
        pkg = _show(id)
        if pkg is not None and str(pkg.get("state", "")).startswith("draft"):
            return YantaiCreatePageView().post(package_type, id, page)
        try:
            page_number = _clean_page(package_type, page)
        except ValueError:
            return tk.abort(404, tk._("Page not found"))
        data = _form_data()
        if pkg is None or data is None:
            return super().post(package_type, id, page)
        try:
            saved = tk.get_action("package_patch")(_context(), {**data, "id": pkg["id"]})
        except tk.ValidationError as e:
            return render_page(package_type, pkg, page_number, data, e.error_dict,
                               e.error_summary)
        except tk.NotAuthorized:
            return tk.abort(403, tk._("Unauthorized to update a dataset"))
        return h.redirect_to(f"{package_type}.read", id=saved["name"])


def publish_errors(package_type: str, pkg: dict[str, Any]) -> dict[str, Any]:
    """What stops ``pkg`` from being published (the errors ``package_update`` with state active
    would give), without saving anything."""
    plugin = lib_plugins.lookup_package_plugin(package_type)
    context: Context = {**_context(), "allow_state_change": True}
    schema = plugin.update_package_schema()
    _, errors = lib_plugins.plugin_validate(plugin, context, {**pkg, "state": "active"}, schema,
                                            "package_update")
    return errors


def page_of(package_type: str, errors: dict[str, Any]) -> int | None:
    """The first form page holding a field that has an error."""
    for number, page in enumerate(h.scheming_get_dataset_form_pages(package_type), start=1):
        if any(field["field_name"] in errors for field in page["fields"]):
            return number
    return None


def checked_completion(original: Any) -> Any:
    """The resource page of a new dataset: 完成 (save the resource, publish the draft) checks
    the dataset first. A dataset that cannot be published is not half-saved: the editor is
    sent to the page holding the first error, and the resource is not stored (a retry would
    add it again)."""

    @functools.wraps(original)
    def new(package_type: str, id: str) -> Any:
        if tk.request.method == "POST" and tk.request.form.get("save") == "go-metadata":
            pkg = _show(id)
            if pkg is not None and str(pkg.get("state", "")).startswith("draft"):
                errors = publish_errors(package_type, pkg)
                page = page_of(package_type, errors)
                if errors and page is not None:
                    h.flash_error(tk._("The dataset cannot be published yet: complete this "
                                       "page first. The data resource was not saved."))
                    summary = _summary(package_type, errors)
                    return render_page(package_type, pkg, page, None, errors, summary)
        return original(package_type=package_type, id=id)

    return new


def _summary(package_type: str, errors: dict[str, Any]) -> dict[str, Any]:
    fields = {f["field_name"]: f for f in h.scheming_get_dataset_schema(package_type)[
        "dataset_fields"]}
    summary = {}
    for key, messages in errors.items():
        field = fields.get(key)
        label = h.scheming_language_text(field["label"]) if field else key
        first = messages[0] if isinstance(messages, list) and messages else messages
        summary[label] = first if isinstance(first, str) else tk._("Missing value")
    return summary


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


def install(app: Any) -> None:
    """Our page 1 in place of CKAN's `dataset.new`, scheming's `dataset.scheming_new` and
    ckanext-dcat's `dcat.new` (same URL: dcat adds it with content negotiation), our later pages
    in place of scheming's, and the checked completion."""
    for endpoint in ("dataset.new", "dataset.scheming_new", "dcat.new"):
        if endpoint in app.view_functions:
            app.view_functions[endpoint] = YantaiCreateView.as_view("new")
    for endpoint, view in list(app.view_functions.items()):
        name = endpoint.rsplit(".", 1)[-1]
        if name == "scheming_new_page":
            app.view_functions[endpoint] = YantaiCreatePageView.as_view(name)
        elif name == "scheming_edit_page":
            app.view_functions[endpoint] = YantaiEditPageView.as_view(name)
        elif endpoint.endswith("_resource.new"):
            app.view_functions[endpoint] = checked_completion(view)
