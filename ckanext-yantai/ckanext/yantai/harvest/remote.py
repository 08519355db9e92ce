"""Harvesting other portals into the portal's schema: the base of the ``ckan`` and ``dcat_rdf``
harvesters (``remote_ckan.py``, ``remote_dcat.py``).

A district CKAN portal or a provincial DCAT catalogue knows nothing of the 政务信息资源目录: the
source's configuration says how its datasets become ours, under the key ``yantai``::

    {"yantai": {
        "open_type": "conditional",          # the most open tier this source's datasets get
        "share_type": "unconditional",       # likewise for sharing among departments
        "defaults": {"resource_category": "2-02-003", "domain": ["transport"], ...},
        "values": {"update_cycle": {"MONTHLY": "monthly"}, "domain": {"TRAN": "transport"}}
    }}

- **Department**: every dataset goes to the source's department (its organization).
- **Fields**: a remote dataset's own values of the schema's fields win (a county portal running
  this schema passes them through); ``defaults`` fill the rest. 所属领域 comes from the remote
  dataset's themes (DCAT ``dcat:theme``) or groups (CKAN), translated by ``values``; a
  ``defaults`` domain suits only a source whose datasets all share one domain (it would file every
  dataset the source does not theme under it). Remote vocabulary values are
  translated by ``values`` (matched whole, or by the last segment of a URI), then by the EU
  authority tables DCAT-AP uses, then as the portal's codes or Chinese labels; a value none of
  these knows is reported for the dataset, never guessed.
- **Tiers**: ``open_type`` and ``share_type`` are caps as well as defaults: a remote dataset may be
  stricter, never more open. Widening an existing dataset's tier goes through the tier guard
  (a proposal for review), as for every harvester.
- **Identity**: a remote dataset is its id (CKAN) or URI (DCAT), looked up among this source's own
  harvest objects only (ckanext-harvest's stock harvesters look guids and ids up across the whole
  portal and would take over another department's dataset); a remote 信息资源代码 is looked up in
  the department. Without one the portal numbers the dataset in its classification
  (``2-02-003/0001`` and on) once, and keeps that code.
- **Resources** are links to the remote files (http(s) only), matched by name.
- **Withdrawal**, **classified markings**, **unchanged runs**: as for ``yantai_release``.
"""
from __future__ import annotations

import copy
import json
import re
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, cast

import ckan.model as model
import sqlalchemy as sa
from ckanext.harvest.model import HarvestJob, HarvestObject

from ckanext.yantai import codes, quality_index, tiers, vocabularies
from ckanext.yantai.harvest import base, release
from ckanext.yantai.messages import message

# The schema's fields a remote dataset may give and defaults may fill.
SCHEMA_FIELDS = ("resource_category", "resource_code", "domain", "share_type", "share_condition",
                 "share_method", "open_type", "open_condition", "info_items", "region",
                 "temporal_start", "temporal_end", "update_cycle", "release_date",
                 "related_resource_codes", "contact_office", "contact_phone", "contact_email",
                 "security_class")
VOCABULARY_FIELDS = ("update_cycle", "share_type", "share_method", "open_type", "region",
                     "domain")
NOT_DEFAULTS = ("resource_code", "open_type", "share_type", "security_class")

# The EU authority tables DCAT-AP catalogues use, by a URI's last segment.
KNOWN_VALUES = {
    "update_cycle": {"CONT": "realtime", "UPDATE_CONT": "realtime", "DAILY": "daily",
                     "WEEKLY": "weekly", "MONTHLY": "monthly", "QUARTERLY": "quarterly",
                     "ANNUAL_2": "half_yearly", "ANNUAL": "yearly", "IRREG": "irregular"},
    "open_type": {"PUBLIC": "open", "RESTRICTED": "conditional", "NON_PUBLIC": "closed"},
    "domain": {"TRAN": "transport", "HEAL": "health", "ENVI": "environment", "ECON": "finance",
               "TECH": "science", "EDUC": "culture"},
}
_TAG_CHARACTERS = re.compile(r"[^\w \-.]")


class Record(NamedTuple):
    """A remote dataset as the subclass read it: its identity, a name for messages, the fields
    as the schema names them, and the whole remote dict (checked for classified markings)."""

    guid: str | None
    label: str
    fields: dict[str, Any]
    raw: Any


@dataclass
class Mapping:
    open_type: str
    share_type: str
    defaults: dict[str, Any] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)


def parse_mapping(data: Any) -> Mapping:
    """The ``yantai`` key of a source's configuration.

    Raises:
        ValueError: What is missing or wrong (a message for users).
    """
    if not isinstance(data, dict):
        raise ValueError(message("harvest_mapping_missing"))
    unknown = set(data) - {"open_type", "share_type", "defaults", "values"}
    if unknown:
        raise ValueError(message("harvest_mapping_key", key=sorted(unknown)[0]))
    open_type, share_type = data.get("open_type"), data.get("share_type")
    if open_type not in tiers.OPEN_ORDER:
        raise ValueError(message("harvest_mapping_tier", key="open_type",
                                 choices="、".join(tiers.OPEN_ORDER)))
    if share_type not in tiers.SHARE_ORDER:
        raise ValueError(message("harvest_mapping_tier", key="share_type",
                                 choices="、".join(tiers.SHARE_ORDER)))
    defaults = data.get("defaults") or {}
    values = data.get("values") or {}
    if not isinstance(defaults, dict) or not isinstance(values, dict):
        raise ValueError(message("harvest_mapping_shape"))
    for key, value in defaults.items():
        if key not in SCHEMA_FIELDS or key in NOT_DEFAULTS:
            raise ValueError(message("harvest_mapping_default", key=key))
        if key in VOCABULARY_FIELDS:
            for item in value if isinstance(value, list) else [value]:
                if item not in vocabularies.values(key):
                    raise ValueError(message("harvest_mapping_value", key=key, value=str(item)))
    category = defaults.get("resource_category")
    if category is not None and codes.parse_category(str(category)) is None:
        raise ValueError(message("harvest_mapping_value", key="resource_category",
                                 value=str(category)))
    for key, table in values.items():
        if key not in VOCABULARY_FIELDS or not isinstance(table, dict):
            raise ValueError(message("harvest_mapping_values", key=str(key)))
        for ours in table.values():
            if ours not in vocabularies.values(key):
                raise ValueError(message("harvest_mapping_value", key=key, value=str(ours)))
    # A source capped below the top needs the condition its datasets will carry.
    if open_type == "conditional" and not defaults.get("open_condition"):
        raise ValueError(message("harvest_mapping_condition", key="open_condition"))
    if share_type != "unconditional" and not defaults.get("share_condition"):
        raise ValueError(message("harvest_mapping_condition", key="share_condition"))
    return Mapping(open_type, share_type, defaults, values)


def translate(key: str, value: Any, mapping: Mapping) -> str | None:
    """A remote vocabulary value as the portal's code; None when nothing knows it."""
    text = str(value).strip()
    if not text:
        return None
    segment = urllib.parse.urlsplit(text).path.rstrip("/").rsplit("/", 1)[-1] or text
    table = mapping.values.get(key, {})
    for candidate in (text, segment):
        if candidate in table:
            return table[candidate]
    known = KNOWN_VALUES.get(key, {})
    if segment in known and "://" in text:
        return known[segment]
    for term in vocabularies.VOCABULARIES[key]:
        if text in (term.value, term.zh):
            return term.value
    return None


def _stricter(order: dict[str, int], value: str | None, cap: str) -> str:
    return value if value is not None and order[value] < order[cap] else cap


def _listed(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, str) and value.startswith("["):
        try:
            loaded = json.loads(value)
        except ValueError:
            return [value]
        return loaded if isinstance(loaded, list) else [loaded]
    return [value] if value not in (None, "") else []


def to_entry(record: Record, mapping: Mapping) -> tuple[dict[str, Any], str | None]:
    """A remote dataset as an entry of the schema (what the import saves), or the reason it
    cannot be one."""
    remote = record.fields
    entry: dict[str, Any] = copy.deepcopy(mapping.defaults)
    for key in SCHEMA_FIELDS:
        value = remote.get(key)
        if value in (None, "", []):
            continue
        if key == "domain":
            mapped = [translate(key, v, mapping) for v in _listed(value)]
            if any(mapped):
                entry[key] = sorted({m for m in mapped if m})
            elif "domain" not in entry:
                return entry, message("harvest_remote_value", field=key,
                                      value="、".join(str(v) for v in _listed(value)))
        elif key in VOCABULARY_FIELDS:
            mapped_value = translate(key, value, mapping)
            if mapped_value is None:
                return entry, message("harvest_remote_value", field=key, value=str(value))
            entry[key] = mapped_value
        elif key in ("temporal_start", "temporal_end", "release_date"):
            entry[key] = str(value)[:10]
        else:
            entry[key] = value
    entry["open_type"] = _stricter(tiers.OPEN_ORDER, entry.get("open_type"), mapping.open_type)
    entry["share_type"] = _stricter(tiers.SHARE_ORDER, entry.get("share_type"),
                                    mapping.share_type)
    # A condition belongs to a conditional tier only: the source's default one would otherwise
    # show on every open dataset of the source.
    if entry["open_type"] != "conditional":
        entry.pop("open_condition", None)
    if entry["share_type"] == "unconditional":
        entry.pop("share_condition", None)
    for key in ("title", "notes"):
        if remote.get(key):
            entry[key] = str(remote[key]).strip()
    # The remote licence when it agrees with the (capped) open type; otherwise the schema gives
    # the open type's own (an open licence would contradict the conditions of a capped dataset).
    if model.Package.get_license_register().get(str(remote.get("license_id") or "")) is not None \
            and vocabularies.licence_fits(entry["open_type"], remote["license_id"],
                                          quality_index.open_licences()):
        entry["license_id"] = remote["license_id"]
    tags = []
    for tag in remote.get("tags") or []:
        word = _TAG_CHARACTERS.sub("", str(tag)).strip()[:100]
        if len(word) >= 2 and word not in tags:
            tags.append(word)
    entry["tags"] = tags
    resources, names = [], set()
    for resource in remote.get("resources") or []:
        url = str(resource.get("url") or "").strip()
        name = str(resource.get("name") or "").strip() or _url_name(url)
        if urllib.parse.urlsplit(url).scheme.lower() not in ("http", "https"):
            return entry, message("harvest_remote_resource_url", name=name or "-",
                                  url=url[:200] or "-")
        unique, number = name, 2
        while unique in names:
            unique, number = f"{name} ({number})", number + 1
        names.add(unique)
        resources.append({"name": unique, "url": url, **{
            k: str(resource[k]).strip() for k in ("format", "description") if resource.get(k)}})
    entry["resources"] = resources
    return entry, None


def _url_name(url: str) -> str:
    return urllib.parse.unquote(urllib.parse.urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1])


def allocate_code(category: str) -> str:
    """The next free 信息资源代码 of a classification (``2-02-003/0007``). The lock serialises
    allocations of the category until the transaction that creates the dataset commits."""
    category = codes.normalise_code(category)
    model.Session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                          {"key": f"yantai.resource_code_next:{category}"})
    taken = model.Session.execute(sa.text(
        "SELECT value FROM package_extra WHERE key = 'resource_code' AND value LIKE :prefix"),
        {"prefix": category.replace("%", "") + "/%"}).scalars()
    numbers = [int(code.rsplit("/", 1)[1]) for code in taken
               if code.rsplit("/", 1)[1].isdigit()]
    return f"{category}/{max(numbers, default=0) + 1:04d}"


class RemoteHarvester(release.ReleaseHarvester):
    """Base of the harvesters of other portals; subclasses read the remote datasets
    (``remote_records``) with the stock harvesters' code, downloads going through ``netguard``."""

    CONFIG: dict[str, tuple[type, str]] = {
        "yantai": (dict, "how the source's datasets become the portal's (see remote.py)"),
        "allow_empty": (bool, "an empty source withdraws every dataset of the source"),
    }
    MAX_PAGES = 1000  # pages of a remote listing read in one harvest

    def validate_config(self, source_config: str | None) -> str | None:
        if not source_config or not source_config.strip():  # the mapping is not optional
            raise ValueError(message("harvest_mapping_missing"))
        return super().validate_config(source_config)

    def check_config(self, data: dict[str, Any]) -> None:
        parse_mapping(data.get("yantai"))

    def remote_records(self, harvest_job: HarvestJob) -> list[Record]:
        """Every dataset the source lists now.

        Raises:
            base.SourceError: The source cannot be read (nothing is withdrawn then).
        """
        raise NotImplementedError

    # -- gather --------------------------------------------------------------------------------

    def gather(self, harvest_job: HarvestJob) -> list[str] | None:
        source = harvest_job.source
        options = self.source_config(source)
        try:
            mapping = parse_mapping(options.get("yantai"))
        except ValueError as error:
            self._save_gather_error(str(error), harvest_job)
            return None
        try:
            records = self.remote_records(harvest_job)
        except base.SourceError as error:
            self._save_gather_error(str(error), harvest_job)
            return None
        organization = self.source_organization(harvest_job)
        current = self.current_objects(source.id)
        ids: list[str] = []
        seen: set[str] = set()
        codes_seen: set[str] = {""}  # (no code: numbered at import)
        refused = 0
        for index, record in enumerate(records, start=1):
            hit = release.classified_findings(record.fields) or release.classified_findings(
                {"remote": record.raw})
            if hit:
                refused += 1
                self.refuse_classified(harvest_job, organization, hit, index)
                continue
            if not record.guid:
                refused += 1
                self._save_gather_error(message("harvest_remote_no_id", index=str(index),
                                                label=record.label), harvest_job)
                continue
            if record.guid in seen:
                continue  # listed twice (a listing that changed while it was paged through)
            entry, problem = to_entry(record, mapping)
            if problem:
                refused += 1
                self._save_gather_error(message("harvest_remote_entry", index=str(index),
                                                label=record.label, reasons=problem),
                                        harvest_job)
                continue
            code = codes.normalise_code(str(entry.get("resource_code") or ""))
            if code in codes_seen and code:
                refused += 1
                self._save_gather_error(message("harvest_remote_entry", index=str(index),
                                                label=record.label, reasons=message(
                                                    "harvest_remote_code_twice", code=code)),
                                        harvest_job)
                continue
            codes_seen.add(code)
            seen.add(record.guid)
            previous = current.get(record.guid)
            ids.append(self.new_object(
                harvest_job, record.guid, "change" if previous else "new",
                content=json.dumps(entry, ensure_ascii=False, sort_keys=True),
                package_id=previous.package_id if previous else None))  # pyright: ignore[reportArgumentType]  # untyped harvest model column

        gone = [obj for guid, obj in current.items() if guid not in seen]
        if gone and not records and not options.get("allow_empty"):
            self._save_gather_error(message("harvest_remote_empty", count=str(len(gone))),
                                    harvest_job)
            return ids
        if refused:
            gone = []  # a dataset that could not be read has not left the source
        listed = self.still_listed(harvest_job, [cast(str, obj.guid) for obj in gone])
        for obj in gone:
            if obj.guid in listed:  # missed by a listing that changed while it was read
                continue
            ids.append(self.new_object(harvest_job, cast(str, obj.guid), "delete",
                                       package_id=cast("str | None", obj.package_id)))
        return ids

    def still_listed(self, harvest_job: HarvestJob, guids: list[str]) -> set[str]:
        """Of the datasets the listing no longer has, those the source still publishes (asked
        one by one before they are withdrawn; by default none)."""
        return set()

    # -- import (the release's, with the identity and codes of remote datasets) ---------------

    def _existing(self, obj: HarvestObject, entry: dict[str, Any],
                  organization: str) -> model.Package | Literal[False] | None:
        linked = [obj.package_id] if obj.package_id else []
        linked += [row.package_id for row in (
            model.Session.query(HarvestObject.package_id)
            .filter(HarvestObject.harvest_source_id == obj.harvest_source_id)
            .filter(HarvestObject.guid == obj.guid)
            .filter(HarvestObject.package_id.isnot(None))
            .order_by(HarvestObject.gathered.desc()))]
        for package_id in linked:  # this source's own, also one a killed harvest created
            package = model.Package.get(package_id)  # pyright: ignore[reportArgumentType]  # untyped harvest model column
            if package is None or package.type != "dataset":
                continue
            if package.owner_org != organization:  # the source moved to another department
                self._save_object_error(message("harvest_remote_moved", name=package.name),
                                        obj, "Import")
                return False
            return package
        if not entry.get("resource_code"):
            return None
        package = self.dataset_by_code(obj, entry["resource_code"], organization)
        if isinstance(package, model.Package):
            other = (model.Session.query(HarvestObject.harvest_source_id)
                     .filter(HarvestObject.package_id == package.id)
                     .filter(HarvestObject.current == True)  # noqa: E712 (SQL)
                     .filter(HarvestObject.harvest_source_id != obj.harvest_source_id)
                     .first())
            if other is not None:  # another source keeps it: the two would undo each other
                self._save_object_error(message("harvest_remote_code_harvested",
                                                resource_code=entry["resource_code"]),
                                        obj, "Import")
                return False
        return package

    def complete_entry(self, obj: HarvestObject, entry: dict[str, Any],
                       existing: model.Package | None) -> dict[str, Any] | None:
        if entry.get("resource_code"):
            return entry
        if existing is not None and existing.extras.get("resource_code"):
            return {**entry, "resource_code": existing.extras["resource_code"]}
        category = entry.get("resource_category")
        if not category or codes.parse_category(codes.normalise_code(str(category))) is None:
            self._save_object_error(message("harvest_remote_no_category"), obj, "Import")
            return None
        return {**entry, "resource_code": allocate_code(str(category))}
