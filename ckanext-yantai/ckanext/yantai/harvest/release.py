"""Harvester ``yantai_release``: a department's release manifest (format in harvesters/README.md).

gather: read and check the manifest; refuse entries with classification markings before anything
        of them is stored; one harvest object per dataset (guid: its 信息资源代码), and one per
        dataset that left the manifest (to withdraw it).
fetch:  nothing; files are read at import, checked, and go straight to the file store.
import: create, update, withdraw or leave unchanged. Unchanged means the entry is the one the last
        harvest imported and every file's SHA-256 is the one its resource holds: no write, no
        activity, same resource ids. A dataset is found by its resource code in the department
        (also when withdrawn before, or created by a harvest that was killed before it finished),
        so a rerun never duplicates it.

Tiers: a new dataset takes the tier its entry gives, as from the form; on update, a tier that
would widen access becomes a proposal for review (the portal's tier guard), never a change.
"""
from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import urllib.parse
import uuid
from typing import Any, Literal, cast

import ckan.model as model
import ckan.plugins.toolkit as tk
import sqlalchemy as sa
from ckan.types import Context
from ckanext.harvest.model import HarvestJob, HarvestObject
from werkzeug.datastructures import FileStorage

from ckanext.yantai import audit, classified, config, feedsafety
from ckanext.yantai.harvest import base
from ckanext.yantai.messages import message

log = logging.getLogger(__name__)

FORMAT = "yantai-release"
VERSION = 1
# Fields of an entry that are the portal's to decide, not the feed's.
NOT_FROM_FEED = frozenset({"id", "owner_org", "state", "private", "type", "resources",
                           "organization", "groups", "extras"})
RESOURCE_FIELDS = ("name", "description", "format", "format_class", "record_type")


class ReleaseHarvester(base.FeedHarvester):
    SOURCE_TYPE = "yantai_release"
    TITLE = "部门数据发布清单"
    DESCRIPTION = ("部门以 JSON 清单（yantai-release）发布数据集及其文件，经 HTTP 或投递目录提供；"
                   "门户据此新建、更新和撤下数据集。")
    CONFIG = {
        "allow_empty": (bool, "an empty manifest withdraws every dataset of the source"),
    }
    # The feed describes the whole dataset (fields, resources, being online); a harvester whose
    # feed gives some fields only (the catalogue) sets False: it updates those and nothing else.
    OWNS_DATASET = True

    # -- gather --------------------------------------------------------------------------------

    def gather(self, harvest_job: HarvestJob) -> list[str] | None:
        source = harvest_job.source
        options = self.source_config(source)
        organization = self.source_organization(harvest_job)
        try:
            raw, _ = base.read(source.url)
        except base.SourceError as error:
            self._save_gather_error(str(error), harvest_job)
            return None
        try:
            manifest = parse_manifest(raw, organization)
        except ManifestError as error:
            self._save_gather_error(str(error), harvest_job)
            return None

        current = self.current_objects(source.id)
        ids: list[str] = []
        seen: set[str] = set()
        refused = 0
        for index, entry in enumerate(manifest["datasets"], start=1):
            # First the markings: the other problems' messages quote the entry's words.
            hit = classified_findings(entry)
            if hit:
                refused += 1
                self.refuse_classified(harvest_job, organization, hit, index)
                continue
            problem = entry_problem(entry, index, seen)
            if problem:
                self._save_gather_error(problem, harvest_job)
                refused += 1
                continue
            code = entry["resource_code"]
            seen.add(code)
            previous = current.get(code)
            ids.append(self.new_object(
                harvest_job, code, "change" if previous else "new",
                content=json.dumps(entry, ensure_ascii=False, sort_keys=True),
                package_id=previous.package_id if previous else None))  # pyright: ignore[reportArgumentType]  # untyped harvest model column

        gone = [obj for guid, obj in current.items() if guid not in seen]
        if gone and not manifest["datasets"] and not options.get("allow_empty"):
            self._save_gather_error(message("harvest_manifest_empty", count=str(len(gone))),
                                    harvest_job)
            return ids
        if refused:
            # An entry that could not be read is not a dataset that left: keep what it was.
            gone = []
        for obj in gone:
            ids.append(self.new_object(harvest_job, cast(str, obj.guid), "delete",
                                       package_id=cast("str | None", obj.package_id)))
        return ids

    def refuse_classified(self, harvest_job: HarvestJob, organization: model.Group | None,
                          hit: dict[str, str], index: int) -> None:
        """An entry with a classification marking: audited and reported by its number only;
        nothing of it is kept, not its content, not its words in the message."""
        audit.record("classified_refused", self._get_user_name(), None,
                     organization.id if organization else None, rule=sorted(hit.values())[0],
                     channel=f"harvest:{harvest_job.source.id}", entry=index)
        self._save_gather_error(message("harvest_entry_classified", index=str(index)),
                                harvest_job)

    # fetch: nothing (the base's); files are read at import

    # -- import --------------------------------------------------------------------------------

    def import_(self, harvest_object: HarvestObject) -> bool | str:
        status = self.status(harvest_object)
        if status == "delete":
            return self._withdraw(harvest_object)
        entry = json.loads(harvest_object.content)  # pyright: ignore[reportArgumentType]  # untyped harvest model column
        source_url = harvest_object.source.url
        organization = self.target_organization(harvest_object)
        existing = self._existing(harvest_object, entry, organization)
        if existing is False:
            return False
        entry = self.complete_entry(harvest_object, entry, existing)
        if entry is None:
            return False

        try:
            files = self._read_files(entry, source_url, harvest_object)
        except base.SourceError as error:
            self._save_object_error(str(error), harvest_object, "Import")
            return False
        if files is None:
            return False

        if existing is not None and self._unchanged(harvest_object, existing, entry, files):
            self.make_current(harvest_object, existing.id)
            return "unchanged"

        context = self.context()
        fields = {k: v for k, v in entry.items() if k not in NOT_FROM_FEED}
        fields.pop("tag_string", None)
        if self.OWNS_DATASET or "tags" in entry:
            fields["tags"] = [{"name": t} for t in entry.get("tags") or []]
        try:
            if existing is None:
                package_id = self.link_new_package(harvest_object)
                package = tk.get_action("package_create")(context.copy(), {
                    **fields, "id": package_id, "owner_org": organization, "resources": []})
                # Tracked from now on, also if adding its resources fails: the next harvest
                # sees them missing and completes it, and a later withdrawal finds it.
                self.make_current(harvest_object, package["id"])
            else:
                current = tk.get_action("package_show")(context.copy(), {"id": existing.id})
                if self.OWNS_DATASET:  # the entry is the whole dataset; it is back online
                    base_fields = {k: v for k, v in current.items() if k in NOT_FROM_FEED}
                    base_fields["state"] = "active"
                else:  # only the fields the feed has; resources and state as they are
                    base_fields = current
                package = tk.get_action("package_update")(context.copy(), {
                    **base_fields, **fields, "id": existing.id, "name": current["name"],
                    "owner_org": organization})
            if self.OWNS_DATASET:
                self._sync_resources(context, package, entry, files)
        except tk.ValidationError as error:
            model.Session.rollback()
            self._save_object_error(self.error_prefix(harvest_object)
                                    + base.validation_message(error), harvest_object, "Import")
            return False
        self.make_current(harvest_object, package["id"])
        return True

    def target_organization(self, obj: HarvestObject) -> str:
        """The department the dataset belongs to: the source's."""
        source = model.Package.get(obj.source.id)
        assert source is not None  # the source's own dataset, which its objects belong to
        return cast(str, source.owner_org)  # a source is created in a department

    def error_prefix(self, obj: HarvestObject) -> str:
        """What a dataset's errors start with (the report lists them under its code already)."""
        return ""

    def complete_entry(self, obj: HarvestObject, entry: dict[str, Any],
                       existing: model.Package | None) -> dict[str, Any] | None:
        """What the import saves of an entry, once it is known whether the dataset exists (None:
        the entry cannot be saved, error saved)."""
        return entry

    @staticmethod
    def link_new_package(obj: HarvestObject) -> str:
        """The id of the dataset about to be created, saved on the object in the same
        transaction (the constraint checked at commit): a harvest killed right after the
        dataset was created finds it through the object."""
        package_id = str(uuid.uuid4())
        obj.package_id = package_id  # pyright: ignore[reportAttributeAccessIssue]  # untyped harvest model
        obj.add()
        model.Session.execute(sa.text("SET CONSTRAINTS harvest_object_package_id_fkey DEFERRED"))
        model.Session.flush()
        return package_id

    def _existing(self, obj: HarvestObject, entry: dict[str, Any],
                  organization: str) -> model.Package | Literal[False] | None:
        """The dataset this entry is (None: none yet); False (error saved) when the code is
        another department's."""
        package = model.Package.get(obj.package_id) if obj.package_id else None  # pyright: ignore[reportArgumentType]  # untyped harvest model column
        if package is not None and package.type == "dataset":
            return package
        return self.dataset_by_code(obj, entry["resource_code"], organization)

    def dataset_by_code(self, obj: HarvestObject, code: str,
                        organization: str) -> model.Package | Literal[False] | None:
        """The department's dataset with this resource code; False (error saved) when the code
        is another department's."""
        rows = (model.Session.query(model.Package)
                .join(model.PackageExtra, model.PackageExtra.package_id == model.Package.id)
                .filter(model.PackageExtra.key == "resource_code")
                .filter(model.PackageExtra.value == code)
                .filter(model.Package.type == "dataset")
                .filter(model.Package.state != "draft")
                .all())
        for row in sorted(rows, key=lambda r: r.state != "active"):  # an active one first
            if row.owner_org == organization:
                return row
        if rows:
            self._save_object_error(message("harvest_code_elsewhere", resource_code=code), obj,
                                    "Import")
            return False
        return None

    def _read_files(self, entry: dict[str, Any], source_url: str,
                    obj: HarvestObject) -> dict[str, tuple[bytes, str]] | None:
        """The entry's files by resource name: (content, SHA-256); checked before anything is
        stored. None when one is refused (error saved)."""
        files: dict[str, tuple[bytes, str]] = {}
        max_bytes = int(config.harvest_limits()["max_bytes"])
        for resource in entry.get("resources") or []:
            name = resource.get("file")
            if not name:
                continue
            content, _ = base.read(source_url, name)
            digest = hashlib.sha256(content).hexdigest()
            declared = (resource.get("sha256") or "").lower()
            if declared and declared != digest:
                self._save_object_error(message("harvest_file_hash", file=name), obj, "Import")
                return None
            try:
                if content[:4] == b"PK\x03\x04":
                    feedsafety.check_archive(content, max_bytes)
                rule = classified.upload_rule(io.BytesIO(content), name)  # read whole
            except feedsafety.Unsafe as error:
                self._save_object_error(
                    message("harvest_file_refused", file=name,
                            reason=base.refusal_message(error)), obj, "Import")
                return None
            if rule:
                audit.record("classified_refused", self._get_user_name(),
                             cast("str | None", obj.package_id),
                             # the source's own dataset, which its objects belong to
                             cast(model.Package, model.Package.get(obj.source.id)).owner_org,
                             rule=rule,
                             channel=f"harvest:{obj.source.id}", file=os.path.basename(name))
                self._save_object_error(message("harvest_file_classified", file=name), obj,
                                        "Import")
                return None
            files[resource["name"]] = (content, digest)
        return files

    def _unchanged(self, obj: HarvestObject, package: model.Package, entry: dict[str, Any],
                   files: dict[str, tuple[bytes, str]]) -> bool:
        if self.OWNS_DATASET and package.state != "active":
            return False
        previous = self.previous_current(obj)
        if previous is None or previous.content != obj.content:
            return False
        if not self.OWNS_DATASET:
            return True
        resources = {r.name: r for r in package.resources}
        wanted = [r["name"] for r in entry.get("resources") or []]
        if sorted(resources) != sorted(wanted):
            return False
        return all(resources[name].hash == digest for name, (_, digest) in files.items())

    def _sync_resources(self, context: Context, package: dict[str, Any],
                        entry: dict[str, Any], files: dict[str, tuple[bytes, str]]) -> None:
        """The dataset's resources as the entry lists them: matched by name, so that ids stay;
        a file is uploaded again only when its content changed."""
        existing = {r["name"]: r for r in package.get("resources") or []}
        for resource in entry.get("resources") or []:
            name = resource["name"]
            fields = {k: resource[k] for k in RESOURCE_FIELDS if resource.get(k) is not None}
            old = existing.pop(name, None)
            data: dict[str, Any] = dict(fields)
            if name in files:
                content, digest = files[name]
                if old is None or old.get("hash") != digest or old.get("url_type") != "upload":
                    data["upload"] = FileStorage(io.BytesIO(content),
                                                 filename=os.path.basename(resource["file"]))
                data["hash"] = digest
            else:
                data["url"] = resource["url"]
                if old is not None and old.get("url_type"):  # was a file: a link now
                    data["url_type"] = ""
            if old is None:
                tk.get_action("resource_create")(context.copy(), {**data,
                                                                 "package_id": package["id"]})
            elif any(old.get(k) != v for k, v in data.items()) or "upload" in data:
                tk.get_action("resource_patch")(context.copy(), {**data, "id": old["id"]})
        for old in existing.values():
            tk.get_action("resource_delete")(context.copy(), {"id": old["id"]})

    def _withdraw(self, obj: HarvestObject) -> bool:
        package = model.Package.get(obj.package_id) if obj.package_id else None  # pyright: ignore[reportArgumentType]  # untyped harvest model column
        if package is not None and package.state == "active":
            tk.get_action("package_delete")(self.context(), {"id": package.id})
            log.info("withdrew dataset %s (left the manifest of source %s)", package.id,
                     obj.harvest_source_id)
        self.make_current(obj, cast("str | None", obj.package_id), current=False)
        return True


class ManifestError(Exception):
    pass


def parse_manifest(raw: bytes, organization: model.Group | None) -> dict[str, Any]:
    """The manifest, checked as a whole (its entries are checked one by one later).

    Raises:
        ManifestError: Not JSON, not this format or version, or another department's.
    """
    try:
        manifest = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as error:
        raise ManifestError(message("harvest_manifest_json", error=str(error)[:200])) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ManifestError(message("harvest_manifest_format", format=FORMAT))
    if manifest.get("version") != VERSION:
        raise ManifestError(message("harvest_manifest_version",
                                    version=str(manifest.get("version")), supported=str(VERSION)))
    if not isinstance(manifest.get("datasets"), list):
        raise ManifestError(message("harvest_manifest_datasets"))
    publisher = manifest.get("publisher")
    if not isinstance(publisher, dict):
        publisher = {}
    expected = (organization.extras.get("dept_code") if organization is not None else None) or ""
    given = str(publisher.get("dept_code") or "").strip().upper()
    if not given or given != expected.upper():
        raise ManifestError(message("harvest_manifest_publisher", given=given or "-",
                                    expected=expected or "-"))
    return manifest


def classified_findings(entry: Any) -> dict[str, str]:
    """The marking rules an entry breaks, whatever its shape (checked before anything else)."""
    if not isinstance(entry, dict):
        return {}
    resources = entry.get("resources")
    texts = {k: v for k, v in entry.items() if k != "resources"}
    found = classified.dataset_findings({**texts, "resources": [
        r for r in resources if isinstance(r, dict)] if isinstance(resources, list) else []})
    for key, value in texts.items():  # any other text of the entry (codes, items, tags…)
        hit = classified.rule(value if isinstance(value, str) else json.dumps(
            value, ensure_ascii=False, default=str))
        if hit:
            found[key] = hit
    return found


def entry_problem(entry: Any, index: int, seen: set[str]) -> str | None:
    """What makes an entry unreadable as a dataset (its fields are validated at import)."""
    if not isinstance(entry, dict):
        return message("harvest_entry_not_object", index=str(index))
    code = entry.get("resource_code")
    if not isinstance(code, str) or not code.strip():
        return message("harvest_entry_no_code", index=str(index))
    if code in seen:
        return message("harvest_entry_duplicate", index=str(index), resource_code=code)
    resources = entry.get("resources", [])
    if not isinstance(resources, list):
        return message("harvest_entry_resources", index=str(index), resource_code=code)
    names: set[str] = set()
    for resource in resources:
        if not isinstance(resource, dict) or not isinstance(resource.get("name"), str) \
                or not resource["name"].strip():
            return message("harvest_entry_resources", index=str(index), resource_code=code)
        if resource["name"] in names:
            return message("harvest_entry_resource_twice", index=str(index), resource_code=code,
                           name=resource["name"])
        names.add(resource["name"])
        if bool(resource.get("file")) == bool(resource.get("url")):
            return message("harvest_entry_file_or_url", index=str(index), resource_code=code,
                           name=resource["name"])
        if resource.get("file") and (urllib.parse.urlsplit(resource["file"]).scheme
                                     or resource["file"].startswith("/")):
            return message("harvest_entry_file_relative", index=str(index), resource_code=code,
                           name=resource["name"])
    tags = entry.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        return message("harvest_entry_tags", index=str(index), resource_code=code)
    return None
