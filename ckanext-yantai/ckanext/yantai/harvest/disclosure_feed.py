"""Harvester ``yantai_disclosure``: a department's 双公示 feed (licensing or penalty decisions).

The feed is one file at the source's URL (or ``drop:<folder>``, file ``records.*``): CSV, XLSX
or JSON (a list of objects, or ``{"records": [...]}``), in UTF-8 with or without BOM, GBK or
GB18030 (detected), under the standard's field names or the older ones. The record type comes from
the source's config (``record_type``) or is recognised from the headers. Every row goes through
the compliance checker (``disclosure.submission.submit``, as ``yantai_disclosure_submit``): valid
rows are stored and published, masked, in the department's 双公示 resource; every invalid row is
reported on the harvest job with its row number and reasons, in Chinese, and kept (the
department's compliance page lists it too). Nothing is dropped silently.

Personal data stays out of the harvest tables: a harvest object holds the feed's SHA-256 and size,
never its rows, and the errors name fields and rules, not values. A feed whose content did not
change since the last harvest is not read again.
"""
from __future__ import annotations

import hashlib
import io
import json
import logging
from typing import Any, cast

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckanext.harvest.model import HarvestJob, HarvestObject, HarvestObjectError

from ckanext.yantai import classified, feedsafety
from ckanext.yantai.disclosure import files, standard, store, submission
from ckanext.yantai.harvest import base
from ckanext.yantai.messages import message

log = logging.getLogger(__name__)

DROP_NAMES = ("records.csv", "records.xlsx", "records.json")


class DisclosureHarvester(base.FeedHarvester):
    SOURCE_TYPE = "yantai_disclosure"
    TITLE = "双公示信息"
    DESCRIPTION = ("部门的行政许可、行政处罚信息（CSV、XLSX 或 JSON）：每条经合规检查后公示，"
                   "不合规的逐条报告原因。")
    CONFIG = {
        "record_type": (str, "license or penalty (default: recognised from the headers)"),
        "resource_id": (str, "the 双公示 resource the records go to (default: the department's "
                             "only one of the record type)"),
    }

    def check_config(self, data: dict[str, Any]) -> None:
        if "record_type" in data and data["record_type"] not in standard.RECORD_TYPES:
            raise ValueError(message("harvest_record_type", value=str(data["record_type"])))

    def gather(self, harvest_job: HarvestJob) -> list[str] | None:
        source = harvest_job.source
        try:
            content, where = self._read_feed(source.url)
        except base.SourceError as error:
            self._save_gather_error(str(error), harvest_job)
            return None
        digest = hashlib.sha256(content).hexdigest()
        summary = json.dumps({"sha256": digest, "bytes": len(content), "file": where})
        return [self.new_object(harvest_job, source.id, "change", content=summary)]

    @staticmethod
    def _read_feed(url: str) -> tuple[bytes, str]:
        if not url.startswith(base.DROP_SCHEME):
            return base.read(url)
        for name in DROP_NAMES:
            try:
                return base.read(url, name)
            except base.SourceError:
                continue
        return base.read(url, DROP_NAMES[0])  # the error of the usual name

    def import_(self, harvest_object: HarvestObject) -> bool | str:
        source = harvest_object.source
        options = self.source_config(source)
        summary = json.loads(harvest_object.content)  # pyright: ignore[reportArgumentType]  # untyped harvest model column
        previous = self.previous_current(harvest_object)
        done = json.loads(previous.content) if previous is not None and previous.content else {}  # pyright: ignore[reportArgumentType]  # untyped harvest model column
        if previous is not None and "totals" in done \
                and done.get("sha256") == summary["sha256"]:  # imported whole
            harvest_object.content = previous.content
            self.make_current(harvest_object, cast("str | None", previous.package_id))
            return "unchanged"
        try:
            content, where = self._read_feed(source.url)
        except base.SourceError as error:
            self._save_object_error(str(error), harvest_object, "Import")
            return False
        try:
            records = parse(content, where)
        except FeedError as error:
            self._save_object_error(str(error), harvest_object, "Import")
            return False
        record_type = options.get("record_type") or recognise(records)
        if record_type is None:
            self._save_object_error(message("harvest_record_type_unknown"), harvest_object,
                                    "Import")
            return False
        # the source's own dataset, created in a department
        organization = cast(str, cast(model.Package, model.Package.get(source.id)).owner_org)
        resource = self._resource(options, record_type, organization)
        if isinstance(resource, str):
            self._save_object_error(resource, harvest_object, "Import")
            return False

        try:  # the whole feed, before any part of it is taken
            store.refuse_bad_shapes(records, key="upload", header_row=True)
        except tk.ValidationError as error:
            self._save_object_error("；".join(cast("list[str]", error.error_dict["upload"])),
                                    harvest_object,
                                    "Import")
            return False
        context = {**self.context(), "user": self._get_user_name()}
        totals = {"received": 0, "public": 0, "invalid": 0}
        for start in range(0, len(records), submission.MAX_RECORDS):
            part = records[start:start + submission.MAX_RECORDS]
            result = submission.submit(context, resource.id, part)
            for key in totals:
                totals[key] += result[key]
            for answer in result["records"]:
                if answer["errors"]:
                    row = start + answer["index"] + 2  # 1-based, after the header row
                    reasons = "；".join(f"{e['field']}：{e['message']}" for e in answer["errors"])
                    model.Session.add(HarvestObjectError(
                        object=harvest_object, stage="Import", line=row,
                        message=message("harvest_row", row=str(row), reasons=reasons)))
        log.info("source %s: %s 双公示 records, %s public, %s failing the rules", source.id,
                 totals["received"], totals["public"], totals["invalid"])
        summary["totals"] = totals
        harvest_object.content = json.dumps(summary)  # pyright: ignore[reportAttributeAccessIssue]  # untyped harvest model
        self.make_current(harvest_object, resource.package_id)
        return True

    @staticmethod
    def _resource(options: dict[str, Any], record_type: str,
                  organization: str) -> model.Resource | str:
        """The department's 双公示 resource for the records, or why there is none (a message)."""
        if options.get("resource_id"):
            resource = model.Resource.get(options["resource_id"])
            if resource is None or resource.state != "active" \
                    or resource.package.owner_org != organization \
                    or store.record_type_of(resource) != record_type:
                return message("harvest_resource_wrong", resource=options["resource_id"],
                               kind=_kind(record_type))
            return resource
        candidates = [
            r for r in model.Session.query(model.Resource)
            .join(model.Package, model.Package.id == model.Resource.package_id)
            .filter(model.Package.owner_org == organization, model.Package.state == "active",
                    model.Package.type == "dataset", model.Resource.state == "active")
            if store.record_type_of(r) == record_type]
        if len(candidates) != 1:
            return message("harvest_resource_count", count=str(len(candidates)),
                           kind=_kind(record_type))
        return candidates[0]


def _kind(record_type: str) -> str:
    return standard.RECORD_TYPE_LABELS[record_type][0]


class FeedError(Exception):
    pass


def parse(content: bytes, name: str) -> list[dict[str, Any]]:
    """The feed's records (CSV, XLSX or JSON), each a mapping of header to value.

    Raises:
        FeedError: Not readable as any of them, or without records (message in Chinese).
    """
    lowered = name.lower().split("?", 1)[0]
    if content[:4] == b"PK\x03\x04":
        try:
            feedsafety.check_archive(content, files.MAX_BYTES)
        except feedsafety.Unsafe as error:
            raise FeedError(base.refusal_message(error)) from None
    stripped = content.lstrip(b"\xef\xbb\xbf \t\r\n")
    if lowered.endswith(".json") or stripped[:1] in (b"[", b"{"):
        return _json_records(content)
    try:
        return files.read_records(io.BytesIO(content),
                                  name if lowered.endswith((".csv", ".xlsx"))
                                  else ("feed.xlsx" if content[:4] == b"PK\x03\x04"
                                        else "feed.csv"))
    except tk.ValidationError as error:
        messages = cast("list[str]", error.error_dict.get("upload", []))
        raise FeedError("；".join(str(m) for m in messages)) from None


def _json_records(content: bytes) -> list[dict[str, Any]]:
    try:
        data = json.loads(classified.decode_text(content))
    except ValueError as error:
        raise FeedError(message("harvest_feed_json", error=str(error)[:200])) from None
    records = data.get("records") if isinstance(data, dict) else data
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise FeedError(message("harvest_feed_json_shape"))
    if not records:
        raise FeedError(message("harvest_feed_empty"))
    return [{str(k): "" if v is None else v for k, v in r.items()} for r in records]


def recognise(records: list[dict[str, Any]]) -> str | None:
    """license or penalty from the columns the records have (None when they do not tell)."""
    headers = {h for record in records[:50] for h in record}
    scores: dict[str, int] = {}
    for record_type in standard.RECORD_TYPES:
        other = "penalty" if record_type == "license" else "license"
        own = set(standard.FIELDS[record_type]) - set(standard.FIELDS[other])
        scores[record_type] = sum(standard.canonical_field(record_type, h) in own
                                  for h in headers)
    best = max(scores, key=lambda record_type: scores[record_type])
    if scores[best] == 0 or scores["license"] == scores["penalty"]:
        return None
    return best
