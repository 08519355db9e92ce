"""The demo catalogue of the portal and its loader.

``catalogue.yaml`` describes departments, policy-domain groups and datasets with small tables; the
loader turns the tables into CSV, XLSX and JSON files and puts everything into a running portal
through the CKAN Action API. It is idempotent: what already matches is left alone, so a second run
changes nothing (no new activity, same resource ids).
"""
from __future__ import annotations

import collections
import hashlib
import io
import pathlib
from typing import Any, Iterable, Mapping

import yaml
from ckanapi import NotFound, RemoteCKAN

from ckanext.yantai.demo import files

CATALOGUE = pathlib.Path(__file__).with_name("catalogue.yaml")
Counts = collections.Counter


def read_catalogue(path: pathlib.Path = CATALOGUE) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _extras(item: Mapping[str, Any], keys: Iterable[str]) -> list[dict[str, str]]:
    return [{"key": k, "value": str(item[k])} for k in keys if item.get(k) not in (None, "")]


def _extras_dict(entity: Mapping[str, Any]) -> dict[str, str]:
    return {e["key"]: e["value"] for e in entity.get("extras") or []}


ORG_EXTRAS = ("dept_code", "dept_type", "region", "address", "phone")


def organization_dict(org: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": org["name"],
        "title": org["title"],
        "description": org.get("description", ""),
        "extras": _extras(org, ORG_EXTRAS),
    }


def group_dict(group: Mapping[str, Any]) -> dict[str, Any]:
    return {"name": group["name"], "title": group["title"],
            "description": group.get("description", "")}


def dataset_dict(ds: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": ds["name"],
        "title": ds["title"],
        "notes": ds.get("notes", ""),
        "owner_org": ds["owner_org"],
        "license_id": ds.get("license_id", "cc-by"),
        "tags": [{"name": t} for t in ds.get("tags", [])],
        "groups": [{"name": g} for g in ds.get("groups", [])],
    }


def _same_group_like(existing: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    if any(existing.get(k, "") != wanted[k] for k in ("title", "description")):
        return False
    return "extras" not in wanted or _extras_dict(existing) == _extras_dict(wanted)


def _same_dataset(existing: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    return (
        existing.get("title") == wanted["title"]
        and (existing.get("notes") or "") == wanted["notes"]
        and (existing.get("organization") or {}).get("name") == wanted["owner_org"]
        and existing.get("license_id") == wanted["license_id"]
        and sorted(t["name"] for t in existing.get("tags", [])) == sorted(t["name"] for t in wanted["tags"])
        and sorted(g["name"] for g in existing.get("groups", [])) == sorted(g["name"] for g in wanted["groups"])
    )


class Loader:
    """Puts the demo catalogue into a portal through its Action API."""

    def __init__(self, client: RemoteCKAN, log: Any = print) -> None:
        self.api = client.action
        self.log = log
        self.counts: Counts = collections.Counter()

    def _note(self, kind: str, name: str, what: str) -> None:
        self.counts[what] += 1
        if what != "unchanged":
            self.log(f"    {what:9} {kind} {name}")

    def upsert_group_like(self, kind: str, wanted: dict[str, Any]) -> None:
        show, create, patch = (getattr(self.api, f"{kind}_{verb}") for verb in ("show", "create", "patch"))
        try:
            existing = show(id=wanted["name"])
        except NotFound:
            create(**wanted)
            self._note(kind, wanted["name"], "created")
            return
        if existing.get("state") != "active" or not _same_group_like(existing, wanted):
            patch(id=existing["id"], state="active", **wanted)
            self._note(kind, wanted["name"], "updated")
        else:
            self._note(kind, wanted["name"], "unchanged")

    def upsert_dataset(self, ds: Mapping[str, Any]) -> None:
        wanted = dataset_dict(ds)
        try:
            existing = self.api.package_show(id=wanted["name"])
        except NotFound:
            existing = self.api.package_create(**wanted)
            self._note("dataset", wanted["name"], "created")
        else:
            if existing.get("state") != "active" or not _same_dataset(existing, wanted):
                existing = self.api.package_patch(id=existing["id"], state="active", **wanted)
                self._note("dataset", wanted["name"], "updated")
            else:
                self._note("dataset", wanted["name"], "unchanged")
        self.sync_resources(existing, ds.get("resources", []))

    def sync_resources(self, package: Mapping[str, Any], resources: list[Mapping[str, Any]]) -> None:
        current = {r["name"]: r for r in package.get("resources", [])}
        for index, res in enumerate(resources, start=1):
            data, ext = files.render(res["format"], res["columns"], res["rows"])
            digest = "sha256:" + hashlib.sha256(data).hexdigest()
            fields = {"name": res["name"], "description": res.get("description", ""),
                      "format": res["format"].upper(), "hash": digest}
            upload = (f"{package['name']}-{index}.{ext}", io.BytesIO(data))
            old = current.pop(res["name"], None)
            label = f"{package['name']} / {res['name']}"
            if old is None:
                self.api.resource_create(package_id=package["id"], upload=upload, **fields)
                self._note("resource", label, "created")
            elif any((old.get(k) or "") != v for k, v in fields.items()):
                self.api.resource_patch(id=old["id"], upload=upload, **fields)
                self._note("resource", label, "updated")
            else:
                self._note("resource", label, "unchanged")
        for stale in current.values():
            self.api.resource_delete(id=stale["id"])
            self._note("resource", f"{package['name']} / {stale['name']}", "deleted")

    def load(self, catalogue: Mapping[str, Any]) -> Counts:
        for org in catalogue["organizations"]:
            self.upsert_group_like("organization", organization_dict(org))
        for group in catalogue["groups"]:
            self.upsert_group_like("group", group_dict(group))
        for ds in catalogue["datasets"]:
            self.upsert_dataset(ds)
        return self.counts
