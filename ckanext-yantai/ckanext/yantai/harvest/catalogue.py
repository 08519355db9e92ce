"""Harvester ``yantai_catalogue``: the 政务信息资源目录 spreadsheet (XLSX) with the guide's columns.

Each row is one catalogue entry; it becomes a dataset of the portal's schema, created or updated
by its 信息资源代码, in the department whose 信息资源提供方代码 it names (the source's own
department; the data authority's sources may list every department's entries). Rows are read
as the guide writes them: Chinese labels for the vocabularies (无条件共享, 每月, 字符型…),
信息项 as ``名称（字符型）；名称（数值型）``. A row that cannot be read is reported with its
row number and the others are imported; rows are then validated and imported as
``yantai_release`` entries are (same idempotence, tier and classified rules), their errors
carrying the row number too, except that a row updates only the fields it has: the dataset's
resources, other fields and state stay.

The catalogue describes resources; it has no files. Rows missing from a later spreadsheet are not
withdrawn (a spreadsheet may cover part of the catalogue).
"""
from __future__ import annotations

import datetime as dt
import io
import json
import re
from typing import Any, cast

import ckan.model as model
from ckanext.harvest.model import HarvestJob, HarvestObject, HarvestObjectExtra
from openpyxl import load_workbook

from ckanext.yantai import audit, config, feedsafety, vocabularies
from ckanext.yantai.harvest import base, release
from ckanext.yantai.messages import message

# Header (as the guide and local templates write it) → the schema's field.
COLUMNS = {
    "信息资源分类": "resource_category", "资源分类": "resource_category",
    "信息资源名称": "title", "资源名称": "title",
    "信息资源代码": "resource_code", "资源代码": "resource_code",
    "信息资源提供方": "provider", "提供方": "provider",
    "信息资源提供方代码": "provider_code", "提供方代码": "provider_code",
    "信息资源摘要": "notes", "摘要": "notes",
    "信息项": "info_items", "信息项信息": "info_items",
    "共享类型": "share_type", "共享条件": "share_condition", "共享方式": "share_method",
    "开放类型": "open_type", "开放属性": "open_type", "是否向社会开放": "open_type",
    "开放条件": "open_condition",
    "更新周期": "update_cycle", "发布日期": "release_date",
    "关联资源代码": "related_resource_codes",
    "所属领域": "domain", "领域": "domain",
    "空间范围": "region", "时间范围起": "temporal_start", "时间范围止": "temporal_end",
    "联系科室": "contact_office", "联系电话": "contact_phone", "联系邮箱": "contact_email",
    "标签": "tags", "关键词": "tags",
    "涉密属性": "security_class",
}
# Guide columns the portal's dataset does not hold (resource-level; the catalogue has no files).
NOT_IMPORTED = {"信息资源格式", "格式", "序号"}
VOCABULARY_FIELDS = {"share_type": "share_type", "share_method": "share_method",
                     "open_type": "open_type", "update_cycle": "update_cycle",
                     "region": "region", "security_class": "security_class"}
_SPLIT = re.compile(r"[;；、,，\n]+")
_ITEM = re.compile(r"^(?P<name>.+?)\s*(?:[（(](?P<type>[^）)]+)[）)]|[:：]\s*(?P<type2>\S+))?$")
_CODE = re.compile(r"^\s*(\d(?:-\d+)+)")


class CatalogueHarvester(release.ReleaseHarvester):
    SOURCE_TYPE = "yantai_catalogue"
    TITLE = "政务信息资源目录表"
    DESCRIPTION = ("按《政务信息资源目录编制指南》列名编制的目录表（XLSX），"
                   "按信息资源代码新建或更新数据集。")
    CONFIG: dict[str, tuple[type, str]] = {}
    OWNS_DATASET = False  # a row gives some of a dataset's fields; its files are the department's

    def gather(self, harvest_job: HarvestJob) -> list[str] | None:
        source = harvest_job.source
        try:
            content, _ = base.read(source.url, "catalogue.xlsx"
                                   if source.url.startswith(base.DROP_SCHEME) else None)
            feedsafety.check_archive(content, int(config.harvest_limits()["max_bytes"]))
            rows = read_rows(content)
        except base.SourceError as error:
            self._save_gather_error(str(error), harvest_job)
            return None
        except feedsafety.Unsafe as error:
            self._save_gather_error(base.refusal_message(error), harvest_job)
            return None
        except CatalogueError as error:
            self._save_gather_error(str(error), harvest_job)
            return None
        own = self.source_organization(harvest_job)
        authority = own is not None and own.name == config.access_authority_org()
        departments = {code.upper(): org_id for org_id, code in model.Session.query(
            model.GroupExtra.group_id, model.GroupExtra.value).filter(
            model.GroupExtra.key == "dept_code", model.GroupExtra.state == "active")}
        current = self.current_objects(source.id)
        ids: list[str] = []
        seen: set[str] = set()
        for number, fields in rows:
            # First the markings: the other problems' messages quote the row's words.
            hit = release.classified_findings({
                **fields, "security_class": _code("security_class",
                                                  str(fields.get("security_class") or ""))})
            if hit:
                audit.record("classified_refused", self._get_user_name(), None,
                             own.id if own else None, channel=f"harvest:{source.id}",
                             rule=sorted(hit.values())[0], row=number)
                self._save_gather_error(message("harvest_row_classified", row=str(number)),
                                        harvest_job)
                continue
            entry, problem = to_entry(fields, number)
            if problem is None:
                problem = release.entry_problem(entry, number, seen)
            department = own.id if own else None
            code = str(entry.get("provider_code") or "").strip().upper()
            if problem is None and code:
                department = departments.get(code)
                if department is None:
                    problem = message("harvest_row_provider_unknown", row=str(number), code=code)
                elif own is not None and department != own.id and not authority:
                    problem = message("harvest_row_provider_other", row=str(number), code=code)
            if problem is not None:
                self._save_gather_error(problem if problem.startswith("第") else
                                        message("harvest_row", row=str(number), reasons=problem),
                                        harvest_job)
                continue
            seen.add(entry["resource_code"])
            previous = current.get(entry["resource_code"])
            obj = HarvestObject(
                guid=entry["resource_code"], job=harvest_job,
                content=json.dumps(entry, ensure_ascii=False, sort_keys=True),
                package_id=previous.package_id if previous else None,
                extras=[HarvestObjectExtra(key="status", value="change" if previous else "new"),
                        HarvestObjectExtra(key="department", value=department),
                        HarvestObjectExtra(key="row", value=str(number))])
            obj.save()
            ids.append(cast(str, obj.id))
        return ids

    def target_organization(self, obj: HarvestObject) -> str:
        return self._extra(obj, "department") or super().target_organization(obj)

    def error_prefix(self, obj: HarvestObject) -> str:
        row = self._extra(obj, "row")
        return message("harvest_row", row=row, reasons="") if row else ""

    @staticmethod
    def _extra(obj: HarvestObject, key: str) -> str | None:
        return next((e.value for e in obj.extras if e.key == key), None)


class CatalogueError(Exception):
    pass


def read_rows(content: bytes) -> list[tuple[int, dict[str, Any]]]:
    """(row number, {field: value}) of the first sheet whose header names the guide's columns.

    Raises:
        CatalogueError: Not a workbook, or no sheet with the guide's columns (message in Chinese).
    """
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:
        raise CatalogueError(message("harvest_catalogue_workbook")) from None
    try:
        for sheet in book.worksheets:
            rows = list(sheet.iter_rows(values_only=True))
            for index, row in enumerate(rows[:10]):  # a title row or two may come first
                header = [_header(c) for c in row]
                if "resource_code" in {COLUMNS.get(h) for h in header}:
                    return _records(header, rows[index + 1:], index + 2)
    finally:
        book.close()
    raise CatalogueError(message("harvest_catalogue_columns"))


def _header(cell: Any) -> str:
    text = re.sub(r"\s+", "", str(cell or ""))
    return re.sub(r"[（(].*?[）)]$", "", text)  # 信息资源代码（必填） → 信息资源代码


def _records(header: list[str], rows: list[tuple[Any, ...]],
             first: int) -> list[tuple[int, dict[str, Any]]]:
    out = []
    for number, row in enumerate(rows, start=first):
        if not any(c not in (None, "") and str(c).strip() for c in row):
            continue
        fields: dict[str, Any] = {}
        for name, cell in zip(header, row, strict=False):  # short rows end early
            field = COLUMNS.get(name)
            if field and cell not in (None, ""):
                fields[field] = cell
        out.append((number, fields))
    return out


def to_entry(fields: dict[str, Any], number: int) -> tuple[dict[str, Any], str | None]:
    """A row as a release entry (the schema's fields), or the reason it cannot be one."""
    entry: dict[str, Any] = {}
    for field, value in fields.items():
        if isinstance(value, (dt.datetime, dt.date)):
            value = (value.date() if isinstance(value, dt.datetime) else value).isoformat()
        text = str(value).strip()
        if field in VOCABULARY_FIELDS:
            entry[field] = _code(VOCABULARY_FIELDS[field], text)
        elif field == "domain":
            entry[field] = [_code("domain", p) for p in _parts(text)]
        elif field in ("related_resource_codes", "tags"):
            entry[field] = _parts(text)
        elif field == "resource_category":
            match = _CODE.match(text)
            entry[field] = match[1] if match else text
        elif field == "info_items":
            items = []
            for part in _parts(text):
                match = _ITEM.match(part)
                kind = (match["type"] or match["type2"]) if match else None
                if not match or not kind:
                    return entry, message("harvest_row_item", row=str(number), item=part)
                items.append({"name": match["name"].strip(), "data_type": _code("data_type",
                                                                                 kind.strip())})
            entry[field] = items
        else:
            entry[field] = text
    if entry.get("open_type") == "否":
        entry["open_type"] = "closed"
    entry.pop("provider", None)
    return entry, None


def _parts(text: str) -> list[str]:
    return [p.strip() for p in _SPLIT.split(text) if p.strip()]


def _code(vocabulary: str, text: str) -> str:
    """A vocabulary's code from its Chinese label or the code itself (else the text, which the
    schema's validation then reports)."""
    for term in vocabularies.VOCABULARIES[vocabulary]:
        if text in (term.value, term.zh):
            return term.value
    return text
