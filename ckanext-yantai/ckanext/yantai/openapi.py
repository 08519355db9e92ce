"""The Action API as an OpenAPI 3.1 document (``/api/openapi.json``), built from the actions
this portal runs: every read action (CKAN's, the DataStore's, DCAT's, ours) and every ``yantai_*``
action. Parameters come from the actions' own docstrings (``:param name:``, ``:type name:``),
so the document follows the code; responses are CKAN's wrapper, errors included.
"""
from __future__ import annotations

import functools
import inspect
import re
from typing import Any

import ckan.logic as logic
import ckan.plugins.toolkit as tk

OPENAPI_VERSION = "3.1.0"
_PARAM = re.compile(r"^\s*:param\s+(?:[\w\[\]., ]+\s+)?(\w+):\s*(.*)$")
_TYPE = re.compile(r"^\s*:type\s+(\w+):\s*(.*)$")
_FIELD = re.compile(r"^\s*:(returns?|rtype|raises?)\b")
TYPES = {"string": "string", "str": "string", "int": "integer", "integer": "integer",
         "bool": "boolean", "boolean": "boolean", "float": "number", "dict": "object",
         "dictionary": "object", "list": "array", "iso date string": "string"}

ERRORS = {
    "400": ("Bad request: an unknown action, a body that is not a JSON object, a malformed "
            "parameter", "Bad Request Error", "请求无效：请在查询字符串中或以 JSON 对象提供参数"),
    "403": ("Not authorized (an action the caller may not use)", "Authorization Error",
            "无权执行此操作"),
    "404": ("Not found, or not visible to the caller (the portal does not say which)",
            "Not Found Error", "未找到"),
    "409": ("Validation error: the fields that are wrong, each with its messages",
            "Validation Error", "缺失值"),
    "429": ("Over the caller's quota; see Retry-After and the X-RateLimit-* headers",
            "Rate Limit Error", "请求过于频繁：本时段内最多 300 次；请 42 秒后再试"),
}


def _original(action: Any) -> Any:
    """The action CKAN's wrapper (holding it as ``_action``), a chain of chained actions
    (functools.partial of the chained function and the previous action) and decorators end in:
    where the docstring is."""
    for _ in range(50):
        inner = inspect.getclosurevars(action).nonlocals.get("_action") \
            if inspect.isfunction(action) else None
        if callable(inner):
            action = inner
        elif isinstance(action, functools.partial):
            action = action.args[0] if action.args and callable(action.args[0]) \
                else action.func
        elif (wrapped := getattr(action, "__wrapped__", None)) is not None:
            action = wrapped
        else:
            break
    return action


def _documented(action: Any) -> tuple[str, str, dict[str, dict[str, Any]]]:
    """(summary, description, {param: {"description", "type", "required"}}) of an action."""
    doc = inspect.getdoc(_original(action)) or ""
    summary_lines: list[str] = []
    params: dict[str, dict[str, Any]] = {}
    current: dict[str, Any] | None = None
    in_fields = False
    for line in doc.splitlines():
        if (found := _PARAM.match(line)) is not None:
            current = params.setdefault(found.group(1), {"description": ""})
            current["description"] = found.group(2).strip()
            in_fields = True
        elif (found := _TYPE.match(line)) is not None:
            params.setdefault(found.group(1), {"description": ""})["type"] = \
                found.group(2).strip().lower()
            current, in_fields = None, True
        elif _FIELD.match(line):
            current, in_fields = None, True
        elif current is not None and line.startswith((" ", "\t")) and line.strip():
            current["description"] += " " + line.strip()
        elif not in_fields:
            summary_lines.append(line)
            current = None
    text = " ".join(line.strip() for line in summary_lines).strip()
    summary = (text.split(". ")[0] if text else "")[:200]
    for param in params.values():
        description = param["description"]
        param["required"] = "(optional" not in description and "default" not in \
            description.lower() and "optional" not in description.lower()
    return summary, text, params


def _schema(type_text: str | None) -> dict[str, Any]:
    if not type_text:
        return {}
    words = type_text.replace(",", " ").split()
    kind = TYPES.get(type_text) or next((TYPES[w] for w in words if w in TYPES), None)
    if kind == "array":
        return {"type": "array", "items": {}}
    return {"type": kind} if kind else {}


def _response(description: str, kind: str, example: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Error"},
        "example": {"help": "…/api/3/action/help_show?name=…", "success": False,
                    "error": {"__type": kind, "message": example}}}}}


def _operation(name: str, action: Any, method: str) -> dict[str, Any]:
    summary, description, params = _documented(action)
    operation: dict[str, Any] = {
        "operationId": f"{name}_{method}", "summary": summary or name,
        "description": description, "tags": [_tag(name)],
        "responses": {"200": {"description": "OK", "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Success"}}}},
            **{code: {"$ref": f"#/components/responses/{code}"} for code in ERRORS}},
    }
    if method == "get":
        operation["parameters"] = [
            {"name": key, "in": "query", "required": False,
             "description": value["description"],
             "schema": _schema(value.get("type")) or {"type": "string"}}
            for key, value in params.items()]
        operation["responses"]["304"] = {"description": "Not modified (If-None-Match)"}
    else:
        operation["requestBody"] = {"required": False, "content": {"application/json": {
            "schema": {"type": "object", "properties": {
                key: {"description": value["description"], **_schema(value.get("type"))}
                for key, value in params.items()},
                "required": sorted(k for k, v in params.items() if v["required"])}}}}
        if not operation["requestBody"]["content"]["application/json"]["schema"]["required"]:
            del operation["requestBody"]["content"]["application/json"]["schema"]["required"]
    return operation


def _tag(name: str) -> str:
    for prefix, tag in (("yantai_", "yantai"), ("datastore_", "datastore"), ("dcat_", "dcat"),
                        ("harvest", "harvest")):
        if name.startswith(prefix):
            return tag
    return "ckan"


def documented_actions() -> dict[str, Any]:
    """The actions in the document: the read actions and every yantai_* action."""
    logic.get_action("package_show")  # (CKAN registers the actions on first use)
    actions = logic._actions  # pyright: ignore[reportPrivateUsage]
    return {name: action for name, action in sorted(actions.items())
            if name.startswith("yantai_") or getattr(action, "side_effect_free", False)}


@functools.lru_cache(maxsize=4)
def document(site_url: str) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for name, action in documented_actions().items():
        item: dict[str, Any] = {"post": _operation(name, action, "post")}
        if getattr(action, "side_effect_free", False):
            item["get"] = _operation(name, action, "get")
        paths[f"/api/3/action/{name}"] = item
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "烟台市公共数据开放网 Action API",
            "version": "3",
            "summary": "CKAN 2.11 Action API of the Yantai public data portal",
            "description": (
                "烟台市公共数据开放网的 CKAN Action API：数据目录、数据表查询（DataStore）、DCAT "
                "目录和本平台的 yantai_* 操作。读取操作可用 GET（查询字符串）或 POST（JSON "
                "请求体）；修改数据的操作只接受 POST 并需 API 令牌（Authorization 请求头）。"
                "回答都采用 CKAN 的格式 {help, success, result | error}。开发者中心："
                f"{site_url}/developer"),
            "license": {"name": "CC0 1.0 (this description)",
                        "identifier": "CC0-1.0"},
        },
        "servers": [{"url": site_url}],
        "security": [{}, {"apiToken": []}],
        "tags": [{"name": "ckan", "description": "CKAN core"},
                 {"name": "datastore", "description": "数据表查询（DataStore）"},
                 {"name": "dcat", "description": "DCAT-AP 3 目录"},
                 {"name": "yantai", "description": "本平台的操作（代码表、双公示、申请、质量）"},
                 {"name": "harvest", "description": "采集"}],
        "paths": paths,
        "components": {
            "securitySchemes": {"apiToken": {"type": "apiKey", "in": "header",
                                             "name": "Authorization"}},
            "schemas": {
                "Success": {"type": "object", "required": ["success", "result"],
                            "properties": {"help": {"type": "string"},
                                           "success": {"const": True}, "result": {}}},
                "Error": {"type": "object", "required": ["success", "error"],
                          "properties": {
                              "help": {"type": "string"}, "success": {"const": False},
                              "error": {"type": "object", "required": ["__type"],
                                        "properties": {"__type": {"type": "string"},
                                                       "message": {"type": "string"}},
                                        "additionalProperties": {
                                            "type": "array", "items": {"type": "string"}}}}},
            },
            "responses": {code: _response(*spec) for code, spec in ERRORS.items()},
        },
    }


def openapi_document() -> dict[str, Any]:
    return document(str(tk.config.get("ckan.site_url")))
