"""The developer centre (开发者中心, ``/developer``) and the OpenAPI document of the Action API
(``/api/openapi.json``). The page's examples use this portal's own address and datasets (an
open dataset with a table, as the visitor may see them), so they run as written."""
from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk
from flask import Blueprint, Response, jsonify
from limits import parse

from ckanext.yantai import config, openapi

developer = Blueprint("yantai_developer", __name__)
UNITS = {"second": "quota period: second", "minute": "quota period: minute",
         "hour": "quota period: hour", "day": "quota period: day"}


def openapi_json() -> Response:
    response = jsonify(openapi.openapi_document())
    response.headers["Content-Type"] = "application/json; charset=utf-8"
    return response


def _example() -> dict[str, Any]:
    """An open dataset with a table in the DataStore, and a word of its title to search for."""
    found = tk.get_action("package_search")(
        {"user": tk.current_user.name if tk.current_user.is_authenticated else ""},
        {"fq": "open_type:open", "rows": 50, "sort": "metadata_modified desc"})
    for dataset in found["results"]:
        for resource in dataset.get("resources") or []:
            if resource.get("datastore_active"):
                return {"dataset": dataset, "resource": resource}
    datasets = found["results"]
    return {"dataset": datasets[0] if datasets else None, "resource": None}


def _per(quota: str) -> str:
    """A quota in words: "300/minute" → 每分钟 300 次."""
    item = parse(quota)
    name = item.GRANULARITY.name
    unit = tk._(UNITS[name]) if name in UNITS else name
    every = f"{unit} × {item.multiples}" if item.multiples > 1 else unit
    return tk._("{amount} per {period}").format(amount=item.amount, period=every)


def page() -> str:
    return tk.render("yantai/developer/index.html", {
        "example": _example(), "site_url": tk.config.get("ckan.site_url"),
        "quota": {kind: {who: _per(config.quota(kind, who == "user"))
                         for who in ("anonymous", "user")}
                  for kind in ("api", "sql", "export")}})


developer.add_url_rule("/api/openapi.json", view_func=openapi_json, endpoint="openapi")
developer.add_url_rule("/developer", view_func=page, endpoint="index")


def blueprints() -> list[Blueprint]:
    return [developer]
