"""Resource views of the portal's own uploads: a table of an uploaded CSV, TSV, XLSX or JSON file
(``yantai_table_view``; a DataStore table gets CKAN's ``datatables_view``) and an uploaded image
or PDF inline (``yantai_file_view``).

Only files in the portal's file store are read (never a remote URL: nothing is fetched), and
only for a viewer who may have the dataset's data; everyone else gets no rows and no file.
The views render inside the resource page (not iframed): one request, and the same checks.
"""
from __future__ import annotations

import logging
import os
from typing import Any, cast

import ckan.model as model
import ckan.plugins as p
import ckan.plugins.toolkit as tk
from ckan.lib import uploader
from ckan.types import Action, Context, DataDict

from ckanext.yantai import access, config, previews

log = logging.getLogger(__name__)

IMAGE_FORMATS = {"PNG", "JPG", "JPEG", "GIF", "WEBP", "BMP"}  # not SVG: it may carry scripts
PDF = "PDF"
DATATABLES = "datatables_view"


def _upload_path(resource: dict[str, Any]) -> str | None:
    """The stored file of an upload, if there is one."""
    if resource.get("url_type") != "upload" or not resource.get("id"):
        return None
    path = uploader.get_resource_uploader(resource).get_path(resource["id"])
    return path if path and os.path.isfile(path) else None


def _allowed(data_dict: dict[str, Any]) -> bool:
    """Whether the viewer of this request may have the resource's data. The resource page hands
    out no views of restricted data already (``resource_view_list``); this holds for any other
    way a view is rendered too (the view page, a preview of an unsaved view)."""
    resource = data_dict.get("resource") or {}
    if resource.get("yantai_restricted"):
        return False
    pkg = access.package_of_resource(resource.get("id") or "")
    viewer = access.request_viewer()
    return pkg is not None and access.may_see(viewer, pkg) and access.may_have_data(viewer, pkg)


def _file_name(resource: dict[str, Any]) -> str:
    return (resource.get("url") or "").rsplit("/", 1)[-1]


def _download_url(data_dict: dict[str, Any]) -> str:
    """The portal's own download route for the file (relative: same origin always)."""
    resource = data_dict["resource"]
    package = data_dict.get("package") or {}
    return tk.h.url_for(f"{package.get('type') or 'dataset'}_resource.download",
                        id=package.get("name") or resource["package_id"],
                        resource_id=resource["id"], filename=_file_name(resource) or None)


class TableView(p.SingletonPlugin):
    """The first rows of an uploaded table file, rendered on the server."""

    p.implements(p.IResourceView, inherit=True)
    p.implements(p.IActions)

    def info(self) -> dict[str, Any]:
        return {"name": "yantai_table_view", "title": tk._("Table preview"),
                "default_title": tk._("Table preview"), "icon": "table", "iframed": False,
                "always_available": False, "preview_enabled": True}

    def can_view(self, data_dict: DataDict) -> bool:
        resource = data_dict["resource"]
        # 双公示 records are published from their DataStore table (masked), never from a file.
        if resource.get("record_type") or resource.get("url_type") != "upload":
            return False
        return previews.format_of(resource.get("format"), _file_name(resource)) is not None

    def setup_template_variables(self, context: Context, data_dict: DataDict) -> dict[str, Any]:
        if not _allowed(data_dict):
            return {"yantai_allowed": False}
        resource = data_dict["resource"]
        fmt = previews.format_of(resource.get("format"), _file_name(resource))
        path = _upload_path(resource)
        limits = config.preview_limits()
        found: dict[str, Any] = {"yantai_allowed": True, "yantai_limits": limits,
                                 "yantai_download": _download_url(data_dict)}
        if fmt is None or path is None:
            return {**found, "yantai_problem": "missing"}
        try:
            with open(path, "rb") as fh:
                table = previews.table(fmt, fh.read, os.path.getsize(path), limits)
        except previews.Unpreviewable as problem:
            return {**found, "yantai_problem": problem.reason}
        except OSError:
            log.exception("preview of resource %s", resource.get("id"))
            return {**found, "yantai_problem": "missing"}
        return {**found, "yantai_table": table}

    def view_template(self, context: Context, data_dict: DataDict) -> str:
        return "yantai/previews/table.html"

    def form_template(self, context: Context, data_dict: DataDict) -> str:
        return "yantai/previews/form.html"

    # IActions

    def get_actions(self) -> dict[str, Action]:
        # IActions types its values as plain actions; CKAN tells a chained one by its flag.
        return {"datastore_create": cast(Action, datastore_create)}


class FileView(p.SingletonPlugin):
    """An uploaded image (``<img>``) or PDF (``<iframe>``), from the portal's download route."""

    p.implements(p.IResourceView, inherit=True)

    def info(self) -> dict[str, Any]:
        return {"name": "yantai_file_view", "title": tk._("File preview"),
                "default_title": tk._("File preview"), "icon": "file", "iframed": False,
                "always_available": False, "preview_enabled": True}

    def can_view(self, data_dict: DataDict) -> bool:
        resource = data_dict["resource"]
        return resource.get("url_type") == "upload" and not resource.get("record_type") \
            and file_kind(resource) is not None

    def setup_template_variables(self, context: Context, data_dict: DataDict) -> dict[str, Any]:
        if not _allowed(data_dict):
            return {"yantai_allowed": False}
        return {"yantai_allowed": True, "yantai_kind": file_kind(data_dict["resource"]),
                "yantai_download": _download_url(data_dict)}

    def view_template(self, context: Context, data_dict: DataDict) -> str:
        return "yantai/previews/file.html"

    def form_template(self, context: Context, data_dict: DataDict) -> str:
        return "yantai/previews/form.html"


def file_kind(resource: dict[str, Any]) -> str | None:
    fmt = (resource.get("format") or "").strip().upper().lstrip(".")
    if not fmt and "." in _file_name(resource):
        fmt = _file_name(resource).rsplit(".", 1)[1].upper()
    if fmt in IMAGE_FORMATS:
        return "image"
    return "pdf" if fmt == PDF else None


def _in_site_language(text: str) -> str:
    """One of CKAN's own strings in the site's language, whoever stores it: a background job
    (the DataStore loader) has no visitor and no language of its own."""
    import ckan.i18n
    from babel.support import Translations

    catalogue = Translations.load(os.path.dirname(ckan.i18n.__file__),
                                  [tk.config.get("ckan.locale_default") or "en"], "ckan")
    return catalogue.gettext(text)


@tk.chained_action
def datastore_create(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    """A resource whose DataStore table is created gets the table views (CKAN's datatables view
    over the table, shown first), as a DataStore loader would make them."""
    result = next_action(context, data_dict)
    resource_id = result.get("resource_id") if isinstance(result, dict) else None
    resource = model.Resource.get(resource_id or "")
    if resource is None or not p.plugin_loaded(DATATABLES):
        return result
    existing = model.Session.query(model.ResourceView.id).filter(
        model.ResourceView.resource_id == resource.id,
        model.ResourceView.view_type == DATATABLES).first()
    if existing is None:
        # The DataStore has committed the session already (its active flag).
        # An internal caller may have no user account (a job, a script); the activity stream
        # records the view under one, so such a view is the site user's.
        user = context.get("user") or ""
        if model.User.get(user) is None:
            user = tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]
        internal: Context = {"ignore_auth": True, "user": user}
        created = tk.get_action("resource_view_create")(internal, {
            "resource_id": resource.id, "view_type": DATATABLES,
            "title": _in_site_language("Table")})
        # first: the whole table, searchable and sortable, where a file preview shows its start
        views = tk.get_action("resource_view_list")(internal, {"id": resource.id})
        tk.get_action("resource_view_reorder")(internal, {
            "id": resource.id,
            "order": [created["id"], *(v["id"] for v in views if v["id"] != created["id"])]})
    return result
