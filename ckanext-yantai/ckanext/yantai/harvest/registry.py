"""The declarative registry of harvest sources (harvesters/registry.yaml), loaded idempotently.

Each entry becomes a ckanext-harvest source of the same name: created when missing, updated when
the registry says something else, left alone when it says the same. Sources created in the web
interface and not in the registry are left alone too. ``${NAME}`` in a URL is taken from the
environment (the demo's feed server runs on a configurable port).
"""
from __future__ import annotations

import json
import os
import re
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
import yaml
from ckan.types import Context

from ckanext.yantai.harvest.base import portal_language

FREQUENCIES = ("MANUAL", "ALWAYS", "DAILY", "WEEKLY", "BIWEEKLY", "MONTHLY")
FIELDS = {"name", "title", "department", "type", "url", "schedule", "config", "description"}
_VARIABLE = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")


class RegistryError(Exception):
    pass


def read(path: str) -> list[dict[str, Any]]:
    """The registry's sources, checked as a whole.

    Raises:
        RegistryError: Not YAML, or an entry with a missing, unknown or malformed key.
    """
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f) or {}
    except (OSError, yaml.YAMLError) as error:
        raise RegistryError(f"{path}: {error}") from None
    sources = data.get("sources") if isinstance(data, dict) else None
    if not isinstance(sources, list):
        raise RegistryError(f"{path}: a list of sources under 'sources' is expected")
    names: set[str] = set()
    out = []
    for index, entry in enumerate(sources, start=1):
        where = f"{path}: source {index}"
        if not isinstance(entry, dict):
            raise RegistryError(f"{where}: a mapping is expected")
        unknown = set(entry) - FIELDS
        if unknown:
            raise RegistryError(f"{where}: unknown keys {sorted(unknown)}")
        for key in ("name", "department", "type", "url"):
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                raise RegistryError(f"{where}: '{key}' is required")
        if entry["name"] in names:
            raise RegistryError(f"{where}: the name {entry['name']} is used twice")
        names.add(entry["name"])
        schedule = str(entry.get("schedule") or "MANUAL").upper()
        if schedule not in FREQUENCIES:
            raise RegistryError(f"{where}: schedule must be one of {', '.join(FREQUENCIES)}")
        config = entry.get("config") or {}
        if not isinstance(config, dict):
            raise RegistryError(f"{where}: 'config' must be a mapping")
        out.append({**entry, "schedule": schedule, "config": config,
                    "url": _expand(entry["url"], where)})
    return out


def _expand(url: str, where: str) -> str:
    def value(match: re.Match[str]) -> str:
        if match[1] not in os.environ:
            raise RegistryError(f"{where}: the environment has no {match[1]}")
        return os.environ[match[1]]
    return _VARIABLE.sub(value, url)


def load(path: str) -> list[tuple[str, str]]:
    """Create or update the registry's sources; (name, created / updated / unchanged / error …),
    errors in the portal's language."""
    with portal_language():
        return _load(path)


def _load(path: str) -> list[tuple[str, str]]:
    site_user = tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]
    outcome = []
    for entry in read(path):
        context: Context = {"model": model, "session": model.Session, "user": site_user}
        try:
            organization = tk.get_action("organization_show")(
                {"ignore_auth": True}, {"id": entry["department"]})
        except tk.ObjectNotFound:
            outcome.append((entry["name"], f"error: no department {entry['department']}"))
            continue
        wanted = {
            "name": entry["name"], "title": entry.get("title") or entry["name"],
            "notes": entry.get("description") or "", "url": entry["url"],
            "source_type": entry["type"], "frequency": entry["schedule"],
            "owner_org": organization["id"],
            "config": json.dumps(entry["config"], ensure_ascii=False, sort_keys=True)
            if entry["config"] else "",
        }
        try:
            current = tk.get_action("harvest_source_show")(context.copy(), {"id": entry["name"]})
        except tk.ObjectNotFound:
            current = None
        try:
            if current is None:
                tk.get_action("harvest_source_create")(context.copy(), wanted)
                outcome.append((entry["name"], "created"))
            elif any(_normal(current.get(k)) != _normal(v) for k, v in wanted.items()):
                tk.get_action("harvest_source_update")(context.copy(),
                                                       {**wanted, "id": current["id"]})
                outcome.append((entry["name"], "updated"))
            else:
                outcome.append((entry["name"], "unchanged"))
        except tk.ValidationError as error:
            model.Session.rollback()
            outcome.append((entry["name"], f"error: {error.error_dict}"))
    return outcome


def _normal(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith("{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
