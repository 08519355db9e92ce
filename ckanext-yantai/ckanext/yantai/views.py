"""Views that adjust ckanext-scheming's for the portal."""
from __future__ import annotations

import re
from typing import Any

import ckan.plugins.toolkit as tk
from ckan.views.dataset import CreateView
from ckanext.scheming.views import SchemingCreateView

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
        saved = SAVED.search(response.headers.get("Location", ""))
        if saved is None:
            return response
        return tk.redirect_to(f"{package_type}.scheming_new_page", id=saved["id"], page=2)


def install(app: Any) -> Any:
    """Put the view in place of scheming's for datasets (called from IMiddleware): CKAN's
    `dataset.new` and scheming's `dataset.scheming_new`, which serves the same URL."""
    for endpoint in ("dataset.new", "dataset.scheming_new"):
        if endpoint in app.view_functions:
            app.view_functions[endpoint] = YantaiCreateView.as_view("new")
    return app
