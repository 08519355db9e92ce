"""ckanext-harvest's pages that change state on a GET (re-harvest, clear, delete a source, stop a
job): a GET gets a confirmation page whose form POSTs (with CSRF protection) to the same address,
so that a link, an image tag or a prefetch on another site cannot trigger them. Stopping a job,
which ckanext-harvest serves on GET only, is given the POST route it lacks; deleting a source
POSTs to CKAN's own dataset delete view, which already serves that address.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import ckan.plugins.toolkit as tk
from flask import request

# endpoint: (what the page asks, the button)
MUTATING = {
    "harvester.refresh": ("Start a new harvest job for this source now?", "Reharvest"),
    "harvester.clear": ("Remove all datasets and job reports of this source?", "Clear"),
    "harvester.delete": ("Delete this harvest source? Its datasets and reports are kept.",
                         "Delete"),
    "harvester.job_abort": ("Stop this harvest job?", "Stop"),
}


def confirm_first(endpoint: str, view: Callable[..., Any]) -> Callable[..., Any]:
    question, button = MUTATING[endpoint]

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if request.method != "POST":
            return tk.render("yantai/harvest_confirm.html", {
                "question": tk._(question), "button": tk._(button),
                "target": request.full_path.rstrip("?")})
        return view(*args, **kwargs)

    return wrapped


def install(app: Any) -> None:
    """Called from the plugin's IMiddleware, once the blueprints are registered."""
    for endpoint in MUTATING:
        if endpoint in app.view_functions:
            app.view_functions[endpoint] = confirm_first(endpoint, app.view_functions[endpoint])
    if "harvester.job_abort" in app.view_functions:
        app.add_url_rule("/harvest/<source>/job/<id>/abort", endpoint="yantai_harvest_job_abort",
                         view_func=app.view_functions["harvester.job_abort"], methods=["POST"])
