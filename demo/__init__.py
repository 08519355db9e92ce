"""The demo catalogue of the portal and its loader.

``catalogue.yaml`` describes departments, policy-domain groups and datasets with small tables; the
loader turns the tables into CSV, XLSX and JSON files and puts everything into a running portal
through the CKAN Action API. It is idempotent: what already matches is left alone, so a second run
changes nothing (no new activity, same resource ids).
"""
from __future__ import annotations

import collections
import datetime as dt
import hashlib
import io
import pathlib
import random
import secrets
from collections.abc import Mapping
from typing import Any

import yaml
from ckanapi import NotFound, RemoteCKAN

from ckanext.yantai import vocabularies
from demo import files

CATALOGUE = pathlib.Path(__file__).with_name("catalogue.yaml")
Counts = collections.Counter


def read_catalogue(path: pathlib.Path = CATALOGUE) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


ORG_FIELDS = ("name", "title", "description", "dept_code", "dept_type", "region", "address",
              "phone")
DATASET_SKIP = ("resources", "tags")
RESOURCE_FIELDS = ("name", "description", "record_type")
APPLICATION_FIELDS = ("title", "kind", "developer", "url", "description", "datasets")
APPLICATION_STATUSES = ("published", "pending", "rejected")


def organization_dict(org: Mapping[str, Any]) -> dict[str, Any]:
    return {k: org[k] for k in ORG_FIELDS if k in org}


def dataset_dict(ds: Mapping[str, Any]) -> dict[str, Any]:
    wanted = {k: v for k, v in ds.items() if k not in DATASET_SKIP}
    # the portal's rule (what the schema fills in an empty licence with), so a re-run compares equal
    wanted.setdefault("license_id", vocabularies.default_licence(ds.get("open_type")) or "")
    wanted["tags"] = [{"name": t} for t in ds.get("tags", [])]
    return wanted


def matches(existing: Any, wanted: Any) -> bool:
    """Whether what the portal returns already says what the catalogue wants (keys the portal
    adds, like an item's empty length, do not count)."""
    if isinstance(wanted, Mapping):
        return isinstance(existing, Mapping) and all(
            matches(existing.get(k), v) for k, v in wanted.items())
    if isinstance(wanted, list):
        return isinstance(existing, list) and len(existing) == len(wanted) and all(
            matches(e, w) for e, w in zip(existing, wanted, strict=True))
    return ("" if existing is None else str(existing)) == ("" if wanted is None else str(wanted))


def _same_dataset(existing: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    plain = {k: v for k, v in wanted.items() if k not in ("tags", "owner_org")}
    return (
        matches(existing, plain)
        and (existing.get("organization") or {}).get("name") == wanted["owner_org"]
        and sorted(t["name"] for t in existing.get("tags", []))
        == sorted(t["name"] for t in wanted["tags"])
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

    def upsert_organization(self, wanted: dict[str, Any]) -> None:
        try:
            existing = self.api.organization_show(id=wanted["name"])
        except NotFound:
            self.api.organization_create(**wanted)
            self._note("organization", wanted["name"], "created")
            return
        if existing.get("state") != "active" or not matches(existing, wanted):
            self.api.organization_patch(id=existing["id"], state="active", **wanted)
            self._note("organization", wanted["name"], "updated")
        else:
            self._note("organization", wanted["name"], "unchanged")

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

    def sync_resources(self, package: Mapping[str, Any],
                       resources: list[Mapping[str, Any]]) -> None:
        current = {r["name"]: r for r in package.get("resources", [])}
        for index, res in enumerate(resources, start=1):
            data, ext = files.render(res["format"], res["columns"], res["rows"])
            digest = "sha256:" + hashlib.sha256(data).hexdigest()
            fields = {k: res[k] for k in RESOURCE_FIELDS if k in res}
            # a 双公示 record file becomes its masked table, which downloads as CSV
            fields.update(format="CSV" if res.get("record_type") else res["format"].upper(),
                          hash=digest)
            upload = (f"{package['name']}-{index}.{ext}", io.BytesIO(data))
            old = current.pop(res["name"], None)
            label = f"{package['name']} / {res['name']}"
            if old is None:
                self.api.resource_create(package_id=package["id"], upload=upload, **fields)
                self._note("resource", label, "created")
            elif not matches(old, fields):
                self.api.resource_patch(id=old["id"], upload=upload, **fields)
                self._note("resource", label, "updated")
            else:
                self._note("resource", label, "unchanged")
        for stale in current.values():
            self.api.resource_delete(id=stale["id"])
            self._note("resource", f"{package['name']} / {stale['name']}", "deleted")

    def ensure_user(self, user: Mapping[str, Any]) -> None:
        """A demo account (a random password nobody is told: it only owns its requests)."""
        try:
            self.api.user_show(id=user["name"])
        except NotFound:
            self.api.user_create(name=user["name"], fullname=user["fullname"],
                                 email=user["email"], password=secrets.token_urlsafe(24))
            self._note("user", user["name"], "created")
        else:
            self._note("user", user["name"], "unchanged")

    def add_data_request(self, wanted: Mapping[str, Any], now: dt.datetime) -> None:
        """A 数据需求 or 纠错 filed ``filed_days_ago`` (imported as a sysadmin imports requests
        of an earlier system), and its answer; one with the same title is left alone."""
        found = self.api.yantai_data_request_list(q=wanted["title"], limit=100)["results"]
        if any(r["title"] == wanted["title"] for r in found):
            self._note("data request", wanted["title"], "unchanged")
            return
        filed = (now - dt.timedelta(days=wanted["filed_days_ago"])).replace(
            hour=9, minute=30, second=0, microsecond=0)
        fields = {"kind": wanted["kind"], "title": wanted["title"],
                  "description": wanted["description"], "requester": wanted["requester"],
                  "created": filed.isoformat()}
        for key, field in (("purpose", "purpose"), ("organization", "organization"),
                           ("dataset", "package_id")):
            if wanted.get(key):
                fields[field] = wanted[key]
        request = self.api.yantai_data_request_create(**fields)
        answer = wanted.get("answer")
        if answer:
            self.api.yantai_data_request_answer(
                id=request["id"], outcome=answer["outcome"], answer=answer["text"],
                **({"answer_package_id": answer["dataset"]} if answer.get("dataset") else {}))
        self._note("data request", wanted["title"], "created")

    def add_usage(self, catalogue: Mapping[str, Any], today: dt.date, days: int = 180) -> None:
        """Half a year of usage figures up to yesterday, as a portal moving from an earlier
        system imports its statistics (``yantai_usage_import``); left alone once the portal has
        figures. Made up, but shaped like a city portal's: credit, transport and enterprise data
        most used, weekdays busier than weekends, API calls where a dataset is offered by API,
        and nothing for the datasets the public cannot find."""
        if any(m["views"] for m in self.api.yantai_usage_statistics()["trend"]):
            self._note("usage figures", f"{days} days", "unchanged")
            return
        busy = {"credit": 5.0, "transport": 4.0, "enterprise": 3.0, "medical": 2.5,
                "social-security": 2.5, "employment": 2.0, "health": 1.5}
        rng = random.Random(20261206)
        rows = []
        for ds in catalogue["datasets"]:
            if ds.get("open_type") == "closed" or ds.get("private"):
                continue
            base = max(busy.get(d, 1.0) for d in ds.get("domain") or ["other"]) * rng.uniform(
                0.6, 1.6)
            for back in range(days, 0, -1):
                day = today - dt.timedelta(days=back)
                views = int(rng.gammavariate(2.0, base * (1.0 if day.weekday() < 5 else 0.4)))
                downloads = int(views * rng.uniform(0.1, 0.35))
                calls = int(rng.gammavariate(2.0, base * 3)) if ds.get("share_method") == "api" \
                    else int(views * rng.uniform(0.0, 0.2))
                if views or downloads or calls:
                    rows.append({"day": day.isoformat(), "dataset": ds["name"], "views": views,
                                 "downloads": downloads, "api_calls": calls})
        for start in range(0, len(rows), 5000):
            self.api.yantai_usage_import(rows=rows[start:start + 5000])
        self._note("usage figures", f"{days} days", "created")

    def add_application(self, wanted: Mapping[str, Any], now: dt.datetime) -> None:
        """A 数据应用 submitted ``submitted_days_ago`` by a demo user (imported as a sysadmin
        imports applications of an earlier system), and its review; one with the same title, in
        any status, is left alone."""
        for status in APPLICATION_STATUSES:
            found = self.api.yantai_application_list(q=wanted["title"], status=status,
                                                     limit=100)["results"]
            if any(a["title"] == wanted["title"] for a in found):
                self._note("application", wanted["title"], "unchanged")
                return
        submitted = (now - dt.timedelta(days=wanted["submitted_days_ago"])).replace(
            hour=10, minute=0, second=0, microsecond=0)
        application = self.api.yantai_application_create(
            **{key: wanted[key] for key in APPLICATION_FIELDS},
            submitter=wanted["submitter"], created=submitted.isoformat())
        review = wanted.get("review")
        if review:
            self.api.yantai_application_review(id=application["id"], **review)
        self._note("application", wanted["title"], "created")

    def load(self, catalogue: Mapping[str, Any]) -> Counts:
        """Departments, then datasets with their files, then the residents' data requests and
        applications. The policy-domain groups are the portal's own (``ckan yantai
        init-domains``); datasets join them through their ``domain``."""
        for org in catalogue["organizations"]:
            self.upsert_organization(organization_dict(org))
        for ds in catalogue["datasets"]:
            self.upsert_dataset(ds)
        for user in catalogue.get("demo_users", []):
            self.ensure_user(user)
        now = dt.datetime.now(dt.timezone(dt.timedelta(hours=8)))
        for request in catalogue.get("data_requests", []):
            self.add_data_request(request, now)
        for application in catalogue.get("applications", []):
            self.add_application(application, now)
        self.add_usage(catalogue, now.date())
        return self.counts
