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
# a quota in words, by its period: once, and in multiples ("10/2 hours")
PERIODS = {"second": ("{amount} per second", "{amount} per {count} seconds"),
           "minute": ("{amount} per minute", "{amount} per {count} minutes"),
           "hour": ("{amount} per hour", "{amount} per {count} hours"),
           "day": ("{amount} per day", "{amount} per {count} days"),
           "month": ("{amount} per month", "{amount} per {count} months"),
           "year": ("{amount} per year", "{amount} per {count} years")}


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
    once, many = PERIODS[item.GRANULARITY.name]
    if item.multiples > 1:
        return tk._(many).format(amount=item.amount, count=item.multiples)
    return tk._(once).format(amount=item.amount)


def page() -> str:
    return tk.render("yantai/developer/index.html", {
        "example": _example(), "site_url": tk.config.get("ckan.site_url"),
        "quota": {kind: {who: _per(config.quota(kind, who == "user"))
                         for who in ("anonymous", "user")}
                  for kind in ("api", "sql", "export")},
        "export_rows": config.quota_export_rows()})


developer.add_url_rule("/api/openapi.json", view_func=openapi_json, endpoint="openapi")
developer.add_url_rule("/developer", view_func=page, endpoint="index")


def blueprints() -> list[Blueprint]:
    return [developer]
