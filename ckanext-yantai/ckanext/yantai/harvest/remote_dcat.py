"""Harvester ``dcat_rdf``: a DCAT catalogue (e.g. the province's, DCAT-AP) into the portal's schema.

It takes the place of ckanext-dcat's ``dcat_rdf_harvester`` under the same source type, and reads
the catalogue with that extension's own parser (``RDFParser`` with the portal's profiles, paged by
``hydra:next``) and its identity rule (``_get_guid``: the dataset's URI, else its identifier).
What it changes:

- downloads go through ``netguard``: http(s) only (the stock harvester reads a source URL or a
  ``hydra:next`` link that is not http as a local file), public addresses, timeouts, a size limit;
  at most ``MAX_PAGES`` pages, each page once;
- before rdflib sees a page: XML with a document type or entities is refused, and JSON-LD whose
  ``@context`` is fetched from elsewhere (rdflib would download it: a request into any network);
- the import is the portal's (``remote.RemoteHarvester``): the stock import looks the guid up
  across the whole portal, as an anonymous user, and would update another department's dataset;
- DCAT's terms map onto the schema: ``dct:accrualPeriodicity`` → 更新周期, ``dct:accessRights`` →
  开放类型 (capped by the source), ``dcat:theme`` → 所属领域, ``dct:issued`` → 发布日期, the
  temporal coverage → 时间范围, and a ``dct:identifier`` that is a 信息资源代码 → the code.

The ``IDCATRDFHarvester`` hooks of the stock harvester are not called: the source's mapping is
where a dataset's fields are decided.
"""
from __future__ import annotations

import logging
import urllib.parse
from typing import Any

from ckanext.dcat.harvesters.rdf import DCATRDFHarvester
from ckanext.dcat.processors import RDFParser, RDFParserException
from ckanext.harvest.model import HarvestJob

from ckanext.yantai import codes, feedsafety
from ckanext.yantai.harvest import base, remote
from ckanext.yantai.messages import message

# Content types and the rdflib parser for them (anything else: RDF/XML, as ckanext-dcat does).
CONTENT_TYPES = {
    "application/rdf+xml": "xml", "application/xml": "xml", "text/xml": "xml",
    "text/turtle": "turtle", "application/x-turtle": "turtle", "text/n3": "n3",
    "application/n-triples": "nt", "application/ld+json": "json-ld",
    "application/json": "json-ld", "application/trig": "trig", "application/n-quads": "nquads",
}
NOT_XML = frozenset({"turtle", "ttl", "n3", "nt", "nt11", "ntriples", "trig", "nquads",
                     "json-ld", "jsonld", "text/turtle", "application/ld+json"})
log = logging.getLogger(__name__)
JSON_LD = frozenset({"json-ld", "jsonld", "application/ld+json"})


# ckanext-dcat's fetch_stage is untyped, inferred as returning True only.
class DcatRdfHarvester(remote.RemoteHarvester, DCATRDFHarvester):  # pyright: ignore[reportIncompatibleMethodOverride]
    SOURCE_TYPE = "dcat_rdf"
    TITLE = "DCAT 目录（RDF）"
    DESCRIPTION = ("采集省级等 DCAT 目录（RDF/XML、Turtle、JSON-LD）中的数据集，"
                   "按来源配置映射为本平台的目录元数据。")
    CONFIG = {
        **remote.RemoteHarvester.CONFIG,
        "rdf_format": (str, "the catalogue's RDF format when its server does not say"),
    }

    def check_config(self, data: dict[str, Any]) -> None:
        super().check_config(data)
        rdf_format = data.get("rdf_format")
        if rdf_format is not None and rdf_format not in RDFParser().supported_formats():
            raise ValueError(message("harvest_rdf_format", value=rdf_format))

    def remote_records(self, harvest_job: HarvestJob) -> list[remote.Record]:
        source = harvest_job.source
        configured = self.source_config(source).get("rdf_format")
        url: str | None = source.url
        read: set[str] = set()
        records: list[remote.Record] = []
        while url and url not in read:
            if len(read) >= self.MAX_PAGES:
                raise base.SourceError(message("harvest_remote_pages",
                                               limit=str(self.MAX_PAGES)))
            read.add(url)
            # A next page the catalogue names elsewhere gets no allow-listed address: a public
            # catalogue must not lead the portal into a network an admin opened for another.
            same_host = urllib.parse.urlsplit(url).netloc == urllib.parse.urlsplit(
                source.url).netloc
            download = base.fetch(url, allow_list=None if same_host else ())
            kind = configured or CONTENT_TYPES.get(
                download.content_type.split(";", 1)[0].strip().lower())
            parser = _parse(download.content, kind)
            try:
                for dataset in parser.datasets():
                    records.append(remote.Record(
                        guid=self._get_guid(dataset, source_url=source.url),
                        label=str(dataset.get("title") or "-")[:100],
                        fields=_fields(self, dataset), raw=dataset))
                url = parser.next_page()
            except Exception as error:  # a profile that cannot read a dataset of the page
                log.exception("DCAT page %s of source %s", url, source.id)
                raise base.SourceError(message("harvest_rdf_dataset",
                                               error=type(error).__name__)) from None
        return records


def _parse(content: bytes, kind: str | None) -> RDFParser:
    """A page of the catalogue, checked and parsed.

    Raises:
        base.SourceError: Refused, or not RDF in that format.
    """
    try:
        if kind not in NOT_XML:
            feedsafety.check_xml(content)
        if kind in JSON_LD:
            feedsafety.check_jsonld(content)
    except feedsafety.Unsafe as error:
        raise base.SourceError(base.refusal_message(error)) from None
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise base.SourceError(message("harvest_rdf_parse", error="UTF-8")) from None
    parser = RDFParser()
    try:
        parser.parse(text, _format=kind)
    except RDFParserException as error:
        raise base.SourceError(message("harvest_rdf_parse",
                                       error=str(error).splitlines()[0][:300])) from None
    except Exception as error:  # rdflib's parsers raise their own kinds too
        raise base.SourceError(message("harvest_rdf_parse",
                                       error=type(error).__name__)) from None
    return parser


def _fields(harvester: DCATRDFHarvester, dataset: dict[str, Any]) -> dict[str, Any]:
    """A dataset as ckanext-dcat's profiles parse it, as the schema's fields."""
    value = harvester._get_dict_value
    fields: dict[str, Any] = {}
    for key in remote.SCHEMA_FIELDS:  # a catalogue that carries this schema's own fields
        found = value(dataset, key)
        if found not in (None, ""):
            fields[key] = found
    for ours, theirs in (("update_cycle", "frequency"), ("open_type", "access_rights"),
                         ("domain", "theme"), ("release_date", "issued"),
                         ("temporal_start", "temporal_start"),
                         ("temporal_end", "temporal_end")):
        found = value(dataset, theirs)
        if found not in (None, "") and ours not in fields:
            fields[ours] = found
    identifier = value(dataset, "identifier")
    if identifier and "resource_code" not in fields \
            and codes.resource_code_error(str(identifier), None) is None:
        fields["resource_code"] = str(identifier)
    if dataset.get("license_id"):  # a licence of the register, matched by its URL
        fields["license_id"] = dataset["license_id"]
    fields["title"] = dataset.get("title")
    fields["notes"] = dataset.get("notes")
    fields["tags"] = [t.get("name") for t in dataset.get("tags") or [] if isinstance(t, dict)]
    fields["resources"] = [{
        "name": r.get("name"), "description": r.get("description"), "format": r.get("format"),
        "url": r.get("download_url") or r.get("access_url") or r.get("url"),
    } for r in dataset.get("resources") or [] if isinstance(r, dict)]
    return fields

