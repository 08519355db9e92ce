"""Harvester ``ckan``: a district's CKAN portal, into the portal's schema (see ``remote.py``).

It takes the place of ckanext-harvest's ``ckan_harvester`` under the same source type, and reads
the remote portal with that harvester's own search (``package_search`` paged by id, the
organization and group filters of its configuration). What it changes:

- downloads go through ``netguard`` (public addresses, timeouts, a size limit; the stock harvester
  sets no timeout) and a listing is read for at most ``MAX_PAGES`` pages;
- every run lists the whole remote portal, so that datasets deleted there are withdrawn here
  (the stock harvester asks for changes since its last run and never sees a deletion); unchanged
  datasets change nothing;
- the import is the portal's (``remote.RemoteHarvester``): the source's mapping into the schema,
  validation by the schema (the stock import validates against CKAN's default schema), identity
  among the source's own objects (the stock one updates any local dataset with the remote id);
- private remote datasets and remote harvest sources are not harvested; the stock options that
  would create organizations or groups, change users or keep remote extras are refused.
"""
from __future__ import annotations

import json
import urllib.parse
from typing import Any

from ckanext.harvest.harvesters.ckanharvester import CKANHarvester, ContentFetchError, SearchError
from ckanext.harvest.model import HarvestJob

from ckanext.yantai.harvest import base, remote
from ckanext.yantai.messages import message


# ckanext-harvest's methods are untyped: its fetch_stage is inferred as returning True only, and
# its validate_config names the (positional) argument config.
class CkanHarvester(remote.RemoteHarvester, CKANHarvester):  # pyright: ignore[reportIncompatibleMethodOverride]
    SOURCE_TYPE = "ckan"
    TITLE = "CKAN 门户（县市区数据开放平台）"
    DESCRIPTION = "采集县市区等 CKAN 门户公开的数据集，按来源配置映射为本平台的目录元数据。"
    CONFIG = {
        **remote.RemoteHarvester.CONFIG,
        "organizations_filter_include": (list, "remote organizations to harvest"),
        "organizations_filter_exclude": (list, "remote organizations not to harvest"),
        "groups_filter_include": (list, "remote groups to harvest"),
        "groups_filter_exclude": (list, "remote groups not to harvest"),
        "user_agent": (str, "the User-Agent header sent to the remote portal"),
    }

    _problem: str | None = None
    _status: int | None = None
    _pages = 0

    def check_config(self, data: dict[str, Any]) -> None:
        super().check_config(data)
        for kind in ("organizations", "groups"):
            if f"{kind}_filter_include" in data and f"{kind}_filter_exclude" in data:
                raise ValueError(message("harvest_ckan_filters", kind=kind))
            user_agent = data.get("user_agent", "")
            if any(ord(c) < 32 or ord(c) == 127 for c in user_agent):
                raise ValueError(message("harvest_ckan_user_agent"))
            for key in (f"{kind}_filter_include", f"{kind}_filter_exclude"):
                if not all(isinstance(v, str) and v.strip() and " " not in v
                           for v in data.get(key, [])):
                    raise ValueError(message("harvest_ckan_filter_names", key=key))

    def remote_records(self, harvest_job: HarvestJob) -> list[remote.Record]:
        self.config = self.source_config(harvest_job.source)
        self._problem, self._pages = None, 0
        fq_terms = []
        include = self.config.get("organizations_filter_include", [])
        exclude = self.config.get("organizations_filter_exclude", [])
        if include:
            fq_terms.append(" OR ".join(f"organization:{name}" for name in include))
        fq_terms.extend(f"-organization:{name}" for name in exclude)
        include = self.config.get("groups_filter_include", [])
        exclude = self.config.get("groups_filter_exclude", [])
        if include:
            fq_terms.append(" OR ".join(f"groups:{name}" for name in include))
        fq_terms.extend(f"-groups:{name}" for name in exclude)
        try:
            packages = self._search_for_datasets(harvest_job.source.url.rstrip("/"), fq_terms)
        except (SearchError, KeyError, AttributeError, TypeError, ValueError):
            # (the stock search's own errors quote the remote answer, in English)
            raise base.SourceError(self._problem or message("harvest_ckan_response")) from None
        records = []
        for package in packages:
            if not isinstance(package, dict) or package.get("private") \
                    or package.get("type", "dataset") != "dataset":
                continue
            records.append(remote.Record(
                guid=str(package.get("id") or "") or None,
                label=str(package.get("title") or package.get("name") or "-")[:100],
                fields=_fields(package), raw=package))
        return records

    def still_listed(self, harvest_job: HarvestJob, guids: list[str]) -> set[str]:
        """A dataset missing from a listing paged by offset may have been skipped (another one
        deleted meanwhile): package_show says whether the portal still publishes it."""
        self.config = self.source_config(harvest_job.source)
        self._problem, self._pages = None, 0
        base_url = harvest_job.source.url.rstrip("/") + self._get_action_api_offset()
        listed = set()
        for guid in guids:
            url = f"{base_url}/package_show?{urllib.parse.urlencode({'id': guid})}"
            try:
                answer = json.loads(self._get_content(url))
            except ContentFetchError:
                if self._status not in (403, 404):  # not gone (deleted, or private now)
                    listed.add(guid)  # or cannot tell: kept until a run can
                continue
            except ValueError:
                listed.add(guid)
                continue
            result = answer.get("result") if isinstance(answer, dict) else None
            if isinstance(result, dict) and result.get("state", "active") == "active" \
                    and not result.get("private"):
                listed.add(guid)
        return listed

    def _get_content(self, url: str) -> str:
        """A page of the remote API through netguard (the stock one uses requests, no timeout)."""
        self._pages += 1
        self._status = None
        if self._pages > self.MAX_PAGES:
            self._problem = message("harvest_remote_pages", limit=str(self.MAX_PAGES))
            raise ContentFetchError(self._problem)
        user_agent = (self.config or {}).get("user_agent")
        try:
            download = base.fetch(url, headers={"User-Agent": user_agent} if user_agent else None)
        except base.SourceError as error:
            self._problem, self._status = str(error), error.status
            raise ContentFetchError(self._problem) from None
        try:
            return download.content.decode("utf-8")
        except UnicodeDecodeError:
            self._problem = message("harvest_ckan_search", error="UTF-8")
            raise ContentFetchError(self._problem) from None


def _fields(package: dict[str, Any]) -> dict[str, Any]:
    """A remote package_show dict as the schema's fields (``remote.to_entry`` maps them)."""
    fields: dict[str, Any] = {key: package[key] for key in remote.SCHEMA_FIELDS if key in package}
    for extra in package.get("extras") or []:  # a remote without this schema keeps them here
        if isinstance(extra, dict) and extra.get("key") in remote.SCHEMA_FIELDS:
            fields.setdefault(extra["key"], _json_or_text(extra.get("value")))
    if "domain" not in fields:  # a portal without this schema files its datasets in groups
        fields["domain"] = [g.get(key) for g in package.get("groups") or [] if isinstance(g, dict)
                            for key in ("name", "title") if g.get(key)]
    fields["title"] = package.get("title") or package.get("name")
    fields["notes"] = package.get("notes")
    fields["license_id"] = package.get("license_id")
    fields["tags"] = [t.get("name") if isinstance(t, dict) else t
                      for t in package.get("tags") or []]
    fields["resources"] = [r for r in package.get("resources") or [] if isinstance(r, dict)]
    return fields


def _json_or_text(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            pass
    return value
