"""The ``yantai`` DCAT profile: the 政务信息资源目录 on top of ckanext-dcat's ``euro_dcat_ap_3``.

A subclass of ckanext-dcat's ``EuropeanDCATAP3Profile`` (``ckanext.dcat.rdf.profiles = yantai``):
the stock profile writes and reads first, then this one replaces what it says too little or
wrongly for this schema and adds the rest. Both ways, one field to one statement:

============================  ==============================================================
our field                     DCAT (vocabulary)
============================  ==============================================================
resource_code                 dct:identifier, adms:identifier/skos:notation
title, notes, tags            dct:title, dct:description, dcat:keyword (@zh)
open_type                     dct:accessRights (EU access-right PUBLIC/RESTRICTED/NON_PUBLIC)
open_condition                yt:openCondition; dct:rights of each distribution (@zh)
domain                        dcat:theme (our domain scheme; each concept broadMatch an EU
                              data theme, also given as a theme)
update_cycle                  dct:accrualPeriodicity (EU frequency)
region                        dct:spatial (our region scheme: GB/T 2260 codes)
temporal_start/end            dct:temporal/dcat:startDate, dcat:endDate
release_date                  dct:issued
contact_office/phone/email    dcat:contactPoint (vcard:Organization fn, hasTelephone,
                              hasEmail)
owner_org, provider_code      dct:publisher (foaf:Agent, adms:identifier = the department's
                              unified social credit code; dct:type ADMS publisher type);
                              yt:providerCode when the dataset names another code
info_items                    csvw:tableSchema (csvw:column: csvw:name, csvw:datatype xsd:*,
                              csvw:maxLength, dct:description, schema:position) of each
                              distribution and yt:informationItems of the dataset
resource_category             yt:resourceCategory
share_type, share_method      yt:shareType, yt:shareMethod (our schemes)
share_condition               yt:shareCondition
related_resource_codes        yt:relatedResourceCode
security_class                yt:securityClass (always non_classified here)
license_id                    dct:license of each distribution (the register's URL,
                              typed with its ADMS licence type)
resource format, mimetype     dct:format (EU file type), dcat:mediaType (IANA)
resource hash                 spdx:checksum (spdx:algorithm, xsd:hexBinary value)
resource url                  dcat:accessURL (its page on the portal), dcat:downloadURL
                              (the file, only where the caller may have it)
============================  ==============================================================

Every IRI of a controlled vocabulary is typed with the class DCAT-AP expects of it, so the output
validates against the DCAT-AP 3 SHACL shapes on its own.
"""
from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Iterable
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckanext.dcat.profiles import (
    ADMS,
    DCAT,
    DCT,
    FOAF,
    RDFS,
    SCHEMA,
    SKOS,
    SPDX,
    VCARD,
    EuropeanDCATAP3Profile,
)
from ckanext.dcat.utils import resource_uri
from rdflib import BNode, Literal, Namespace, URIRef
from rdflib.namespace import RDF, XSD
from rdflib.term import Node

from ckanext.yantai import config, domains, vocabularies
from ckanext.yantai.dcat import terms

LANG = "zh"
# What the stock profile is given of a dataset and of a resource (see graph_from_dataset).
STOCK_DATASET_KEYS = frozenset({
    "id", "name", "title", "notes", "tags", "organization", "owner_org", "metadata_created",
    "metadata_modified", "license_id", "license_url", "license_title", "type", "state",
    "private", "yantai_restricted"})
STOCK_RESOURCE_KEYS = frozenset({
    "id", "package_id", "name", "description", "format", "mimetype", "url", "url_type", "size",
    "created", "metadata_modified", "last_modified", "position", "yantai_restricted"})
# Characters an IRI may not hold (RFC 3987) that URLs in the wild do: percent-encoded.
_NOT_IN_IRI = re.compile(r'[\x00-\x20<>"{}|\\^`\x7f]')
_MEDIA_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")


def iri(url: str) -> URIRef | None:
    """An http(s) URL as an IRI that every RDF syntax can write (None: not one)."""
    text = url.strip()
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname \
            or _NOT_IN_IRI.search(parts.netloc):
        return None
    return URIRef(_NOT_IN_IRI.sub(lambda m: urllib.parse.quote(m.group(0)), text))


def yt() -> Namespace:
    """Our catalogue's own properties, for the guide's metadata DCAT has no term for."""
    return Namespace(terms.base() + "catalogue#")


class YantaiDCATAPProfile(EuropeanDCATAP3Profile):
    """The catalogue metadata in DCAT-AP 3: ``euro_dcat_ap_3``, then this schema's fields."""

    # -- output --------------------------------------------------------------------------------

    def graph_from_dataset(self, dataset_dict: dict[str, Any], dataset_ref: Node) -> None:
        # The stock profile sees the schema's fields only: any other key a caller stored (CKAN
        # keeps unknown keys as extras) would become a DCAT statement of its own, e.g. an
        # access_rights of PUBLIC or an endpoint URL on restricted data. Not the hash either:
        # it would type CKAN's "sha256:…" as xsd:hexBinary (and rdflib logs a traceback for
        # each); the checksum is written below, from the parsed hash.
        stock = {k: v for k, v in dataset_dict.items() if k in STOCK_DATASET_KEYS}
        stock["resources"] = [{k: v for k, v in r.items() if k in STOCK_RESOURCE_KEYS}
                              for r in dataset_dict.get("resources") or []]
        super().graph_from_dataset(stock, dataset_ref)
        g, ns = self.g, yt()
        g.bind("yt", ns)
        g.bind("csvw", terms.CSVW)
        g.bind("skos", SKOS)
        g.bind("adms", ADMS)
        g.bind("spdx", SPDX)
        value = dataset_dict.get
        self._yt_tag_language(dataset_ref, (DCT.title, DCT.description, DCAT.keyword))

        # identifiers: the 信息资源代码, not the database's UUID
        g.remove((dataset_ref, DCT.identifier, None))
        g.remove((dataset_ref, ADMS.identifier, None))
        if code := value("resource_code"):
            g.add((dataset_ref, DCT.identifier, Literal(code)))
            identifier = BNode()
            g.add((dataset_ref, ADMS.identifier, identifier))
            g.add((identifier, RDF.type, ADMS.Identifier))
            g.add((identifier, SKOS.notation, Literal(code)))
            g.add((identifier, DCT.type, URIRef(terms.base() + "catalogue#ResourceCode")))

        g.remove((dataset_ref, DCAT.landingPage, None))
        landing = URIRef(self._yt_page_url(dataset_dict))
        g.add((dataset_ref, DCAT.landingPage, landing))
        g.add((landing, RDF.type, FOAF.Document))

        g.remove((dataset_ref, DCT.language, None))
        g.add((dataset_ref, DCT.language, terms.LANGUAGE))
        g.add((terms.LANGUAGE, RDF.type, DCT.LinguisticSystem))

        self._yt_access_rights(dataset_ref, value("open_type"), value("open_condition"))
        self._yt_replace_concept(dataset_ref, DCT.accrualPeriodicity, DCT.Frequency,
                              terms.EU_FREQUENCY, terms.FREQUENCIES.get(value("update_cycle")
                                                                        or ""))
        self._yt_themes(dataset_ref, domains.parse_domains(value("domain")))
        self._yt_spatial(dataset_ref, value("region"))
        self._yt_temporal(dataset_ref, value("temporal_start"), value("temporal_end"))
        if release := value("release_date"):
            g.remove((dataset_ref, DCT.issued, None))
            g.add((dataset_ref, DCT.issued, Literal(str(release)[:10], datatype=XSD.date)))
        self._yt_contact(dataset_ref, dataset_dict)
        self._yt_publisher(dataset_ref, dataset_dict)

        # the guide's metadata without a DCAT term
        for key, prop in (("resource_category", ns.resourceCategory),
                          ("share_condition", ns.shareCondition),
                          ("open_condition", ns.openCondition)):
            g.remove((dataset_ref, prop, None))
            if text := value(key):
                g.add((dataset_ref, prop, Literal(text, lang=LANG if key != "resource_category"
                                                  else None)))
        for key, prop in (("share_type", ns.shareType), ("share_method", ns.shareMethod),
                          ("security_class", ns.securityClass)):
            g.remove((dataset_ref, prop, None))
            if (code := value(key)) in vocabularies.values(key):
                concept = terms.concept_uri(key, code)
                g.add((dataset_ref, prop, concept))
                g.add((concept, RDF.type, SKOS.Concept))
        for code in _as_list(value("related_resource_codes")):
            g.add((dataset_ref, ns.relatedResourceCode, Literal(code)))

        schema = self._yt_table_schema(_as_list(value("info_items")))
        if schema is not None:
            g.add((dataset_ref, ns.informationItems, schema))
        for resource in dataset_dict.get("resources") or []:
            self._yt_distribution(dataset_dict, resource, schema)
        self._yt_label_concepts()

    def graph_from_catalog(self, catalog_dict: dict[str, Any] | None, catalog_ref: Node) -> None:
        super().graph_from_catalog(catalog_dict, catalog_ref)
        g = self.g
        g.bind("yt", yt())
        self._yt_tag_language(catalog_ref, (DCT.title, DCT.description))
        g.remove((catalog_ref, DCT.language, None))
        g.add((catalog_ref, DCT.language, terms.LANGUAGE))
        g.add((terms.LANGUAGE, RDF.type, DCT.LinguisticSystem))
        for homepage in g.objects(catalog_ref, FOAF.homepage):
            g.add((homepage, RDF.type, FOAF.Document))
        if not any(g.objects(catalog_ref, DCT.publisher)):
            g.add((catalog_ref, DCT.publisher, self._yt_catalogue_publisher()))
        licence = model.Package.get_license_register().get(config.dcat_catalogue_licence())
        if licence is not None and licence.url and not any(g.objects(catalog_ref, DCT.license)):
            self._yt_licence(catalog_ref, licence.id, licence.url)
        scheme = terms.scheme_uri("domain")
        g.add((catalog_ref, DCAT.themeTaxonomy, scheme))
        g.add((scheme, RDF.type, SKOS.ConceptScheme))
        zh, en = terms.SCHEME_TITLES["domain"]
        g.add((scheme, DCT.title, Literal(zh, lang=LANG)))
        g.add((scheme, DCT.title, Literal(en, lang="en")))
        self._yt_label_concepts()

    def _last_catalog_modification(self) -> str | None:
        """The newest change among the datasets the caller may see (the stock one searches
        with ignore_auth: a closed dataset's edit would show in the public catalogue)."""
        try:
            user = tk.current_user
            name = user.name if user is not None and user.is_authenticated else ""
        except (AttributeError, RuntimeError):  # outside a request: as anonymous
            name = ""
        result = tk.get_action("package_search")(
            {"user": name},
            {"sort": "metadata_modified desc", "rows": 1, "fl": "metadata_modified"})
        found = result.get("results") or []
        return found[0].get("metadata_modified") if found else None

    # -- input ---------------------------------------------------------------------------------

    def parse_dataset(self, dataset_dict: dict[str, Any], dataset_ref: Node) -> dict[str, Any]:
        dataset_dict = super().parse_dataset(dataset_dict, dataset_ref)
        g, ns = self.g, yt()
        found: dict[str, Any] = {}
        notation = next((str(o) for i in g.objects(dataset_ref, ADMS.identifier)
                         for o in g.objects(i, SKOS.notation)), None)
        if code := notation or _literal(g.value(dataset_ref, DCT.identifier)):
            found["resource_code"] = code
        for key, prop in (("resource_category", ns.resourceCategory),
                          ("share_condition", ns.shareCondition),
                          ("open_condition", ns.openCondition),
                          ("provider_code", ns.providerCode)):
            if (text := _literal(g.value(dataset_ref, prop))) is not None:
                found[key] = text
        for key, prop in (("share_type", ns.shareType), ("share_method", ns.shareMethod),
                          ("security_class", ns.securityClass)):
            if (code := terms.code_of(key, g.value(dataset_ref, prop))) is not None:
                found[key] = code
        related = sorted(str(o) for o in g.objects(dataset_ref, ns.relatedResourceCode))
        if related:
            found["related_resource_codes"] = related
        rights = g.value(dataset_ref, DCT.accessRights)
        for code, eu in terms.ACCESS_RIGHTS.items():
            if rights == terms.EU_ACCESS_RIGHT[eu]:
                found["open_type"] = code
        frequency = g.value(dataset_ref, DCT.accrualPeriodicity)
        for code, eu in terms.FREQUENCIES.items():
            if frequency == terms.EU_FREQUENCY[eu]:
                found["update_cycle"] = code
        themes = [c for c in (terms.code_of("domain", t) for t in
                              g.objects(dataset_ref, DCAT.theme)) if c]
        if themes:
            found["domain"] = [t.value for t in vocabularies.DOMAINS if t.value in themes]
        for place in g.objects(dataset_ref, DCT.spatial):
            if (code := terms.code_of("region", place)) is not None:
                found["region"] = code
        for period in g.objects(dataset_ref, DCT.temporal):
            for key, props in (("temporal_start", (DCAT.startDate, SCHEMA.startDate)),
                               ("temporal_end", (DCAT.endDate, SCHEMA.endDate))):
                if (day := next((_literal(g.value(period, p)) for p in props
                                 if g.value(period, p) is not None), None)):
                    found[key] = day[:10]
        issued = _literal(g.value(dataset_ref, DCT.issued))
        if issued and len(issued) == 10:  # a date: the 发布日期
            found["release_date"] = issued
        elif "resource_code" in found and (dataset_ref, ns.resourceCategory, None) in g:
            # a catalogue of this schema: a time is when the record was made, not a 发布日期
            dataset_dict.pop("issued", None)
        if (contact := g.value(dataset_ref, DCAT.contactPoint)) is not None:
            if office := _literal(g.value(contact, VCARD.fn)):
                found["contact_office"] = office
            phone = g.value(contact, VCARD.hasTelephone)
            if phone is not None and not isinstance(phone, URIRef):
                phone = g.value(phone, VCARD.hasValue)
            if phone is not None and str(phone).startswith("tel:"):
                found["contact_phone"] = str(phone)[len("tel:"):]
            email = g.value(contact, VCARD.hasEmail)
            if email is not None:
                found["contact_email"] = str(email).removeprefix("mailto:")
        if "provider_code" not in found:
            publisher = g.value(dataset_ref, DCT.publisher)
            if publisher is not None:
                code = next((str(o) for i in g.objects(publisher, ADMS.identifier)
                             for o in g.objects(i, SKOS.notation)), None)
                if code:
                    found["provider_code"] = code
        items = self._yt_read_table_schema(g.value(dataset_ref, ns.informationItems))
        if not items:
            for distribution in g.objects(dataset_ref, DCAT.distribution):
                items = self._yt_read_table_schema(g.value(distribution, terms.CSVW.tableSchema))
                if items:
                    break
        if items:
            found["info_items"] = items
        licence = self._yt_parsed_licence(dataset_ref)
        if licence:
            found["license_id"] = licence
        dataset_dict.update(found)
        # the stock parse put some as extras too: the fields above are the schema's own
        dataset_dict["extras"] = [e for e in dataset_dict.get("extras") or []
                                  if e.get("key") not in found]
        for resource in dataset_dict.get("resources") or []:
            self._yt_parse_resource(resource)
        return dataset_dict

    # -- pieces --------------------------------------------------------------------------------

    def _yt_tag_language(self, subject: Node, predicates: Iterable[URIRef]) -> None:
        """Plain text literals as Chinese (text in English carries its own tag already)."""
        for predicate in predicates:
            for obj in list(self.g.objects(subject, predicate)):
                if isinstance(obj, Literal) and obj.language is None and obj.datatype is None:
                    self.g.remove((subject, predicate, obj))
                    self.g.add((subject, predicate, Literal(str(obj), lang=LANG)))

    def _yt_label_concepts(self) -> None:
        """Every concept with its labels (DCAT-AP: a skos:Concept has a skos:prefLabel)."""
        g = self.g
        for concept in set(g.subjects(RDF.type, SKOS.Concept)):
            if g.value(concept, SKOS.prefLabel) is None and (
                    labels := terms.label_of(concept)) is not None:
                g.add((concept, SKOS.prefLabel, Literal(labels[0], lang=LANG)))
                g.add((concept, SKOS.prefLabel, Literal(labels[1], lang="en")))

    def _yt_replace_concept(self, subject: Node, predicate: URIRef, rdf_class: URIRef,
                         namespace: Namespace, code: str | None) -> None:
        self.g.remove((subject, predicate, None))
        if code:
            concept = namespace[code]
            self.g.add((subject, predicate, concept))
            self.g.add((concept, RDF.type, rdf_class))
            self.g.add((concept, RDF.type, SKOS.Concept))

    def _yt_access_rights(self, dataset_ref: Node, open_type: str | None,
                       condition: str | None) -> None:
        self._yt_replace_concept(dataset_ref, DCT.accessRights, DCT.RightsStatement,
                              terms.EU_ACCESS_RIGHT, terms.ACCESS_RIGHTS.get(open_type or ""))

    def _yt_themes(self, dataset_ref: Node, codes: list[str]) -> None:
        g = self.g
        g.remove((dataset_ref, DCAT.theme, None))
        for code in codes:
            if code not in terms.DATA_THEMES:
                continue
            concept = terms.concept_uri("domain", code)
            eu = terms.EU_THEME[terms.DATA_THEMES[code]]
            g.add((dataset_ref, DCAT.theme, concept))
            g.add((dataset_ref, DCAT.theme, eu))
            g.add((concept, RDF.type, SKOS.Concept))
            g.add((concept, SKOS.inScheme, terms.scheme_uri("domain")))
            g.add((concept, SKOS.broadMatch, eu))
            g.add((eu, RDF.type, SKOS.Concept))

    def _yt_spatial(self, dataset_ref: Node, region: str | None) -> None:
        g = self.g
        if region not in vocabularies.values("region"):
            return
        g.remove((dataset_ref, DCT.spatial, None))
        place = terms.concept_uri("region", region)
        g.add((dataset_ref, DCT.spatial, place))
        g.add((place, RDF.type, DCT.Location))
        g.add((place, RDF.type, SKOS.Concept))
        g.add((place, SKOS.inScheme, terms.scheme_uri("region")))
        g.add((place, SKOS.notation, Literal(region)))

    def _yt_temporal(self, dataset_ref: Node, start: Any, end: Any) -> None:
        g = self.g
        for period in list(g.objects(dataset_ref, DCT.temporal)):
            g.remove((period, None, None))
        g.remove((dataset_ref, DCT.temporal, None))
        if not (start or end):
            return
        period = BNode()
        g.add((dataset_ref, DCT.temporal, period))
        g.add((period, RDF.type, DCT.PeriodOfTime))
        if start:
            g.add((period, DCAT.startDate, Literal(str(start)[:10], datatype=XSD.date)))
        if end:
            g.add((period, DCAT.endDate, Literal(str(end)[:10], datatype=XSD.date)))

    def _yt_contact(self, dataset_ref: Node, dataset_dict: dict[str, Any]) -> None:
        g = self.g
        for old in list(g.objects(dataset_ref, DCAT.contactPoint)):
            g.remove((old, None, None))
        g.remove((dataset_ref, DCAT.contactPoint, None))
        office, phone, email = (dataset_dict.get(k) for k in
                                ("contact_office", "contact_phone", "contact_email"))
        if not (office or phone or email):
            return
        contact = BNode()
        g.add((dataset_ref, DCAT.contactPoint, contact))
        g.add((contact, RDF.type, VCARD.Organization))
        g.add((contact, RDF.type, VCARD.Kind))
        if office:
            g.add((contact, VCARD.fn, Literal(office, lang=LANG)))
        if org := (dataset_dict.get("organization") or {}).get("title"):
            g.add((contact, VCARD["organization-name"], Literal(org, lang=LANG)))
        if phone:
            number = BNode()
            g.add((contact, VCARD.hasTelephone, number))
            g.add((number, RDF.type, VCARD.Voice))
            g.add((number, VCARD.hasValue, URIRef("tel:" + str(phone).replace(" ", ""))))
        if email:
            g.add((contact, VCARD.hasEmail, URIRef("mailto:" + str(email))))

    def _yt_publisher(self, dataset_ref: Node, dataset_dict: dict[str, Any]) -> None:
        g, ns = self.g, yt()
        org = (dataset_dict.get("organization") or {}).get("id") or dataset_dict.get("owner_org")
        group = model.Group.get(org) if org else None
        for old in list(g.objects(dataset_ref, DCT.publisher)):
            g.remove((old, None, None))
        g.remove((dataset_ref, DCT.publisher, None))
        g.remove((dataset_ref, ns.providerCode, None))
        if group is None:
            return
        agent = self._yt_agent(group)
        g.add((dataset_ref, DCT.publisher, agent))
        provider = dataset_dict.get("provider_code")
        if provider and provider != group.extras.get("dept_code"):
            g.add((dataset_ref, ns.providerCode, Literal(provider)))

    def _yt_agent(self, group: model.Group) -> URIRef:
        g = self.g
        agent = URIRef(f"{tk.config.get('ckan.site_url')}/organization/{group.id}")
        g.add((agent, RDF.type, FOAF.Agent))
        g.add((agent, RDF.type, FOAF.Organization))
        g.set((agent, FOAF.name, Literal(group.title or group.name, lang=LANG)))
        page = URIRef(f"{tk.config.get('ckan.site_url')}/organization/{group.name}")
        g.set((agent, FOAF.homepage, page))
        g.add((page, RDF.type, FOAF.Document))
        for prop in (DCT.identifier, ADMS.identifier, DCT.type):
            g.remove((agent, prop, None))
        if code := group.extras.get("dept_code"):
            identifier = URIRef(f"{agent}#uscc")
            g.add((agent, ADMS.identifier, identifier))
            g.add((identifier, RDF.type, ADMS.Identifier))
            g.add((identifier, SKOS.notation, Literal(code)))
            g.add((identifier, ADMS.schemaAgency, Literal("统一社会信用代码（GB 32100）",
                                                          lang=LANG)))
        kind = terms.PUBLISHER_TYPES.get(group.extras.get("dept_type") or "", "LocalAuthority")
        g.add((agent, DCT.type, terms.ADMS_PUBLISHER_TYPE[kind]))
        g.add((terms.ADMS_PUBLISHER_TYPE[kind], RDF.type, SKOS.Concept))
        return agent

    def _yt_catalogue_publisher(self) -> Node:
        name = config.access_authority_org()  # the data authority publishes the catalogue
        group = model.Group.get(name) if name else None
        if group is not None and group.is_organization and group.state == "active":
            return self._yt_agent(group)
        agent = BNode()
        self.g.add((agent, RDF.type, FOAF.Agent))
        self.g.add((agent, FOAF.name, Literal(str(tk.config.get("ckan.site_title")), lang=LANG)))
        return agent

    def _yt_licence(self, subject: Node, licence_id: str, url: str) -> None:
        g = self.g
        document = URIRef(url)
        g.add((subject, DCT.license, document))
        g.add((document, RDF.type, DCT.LicenseDocument))
        g.remove((document, DCT.type, None))
        kind = terms.ADMS_LICENCE_TYPE[terms.LICENCE_TYPES.get(
            licence_id, terms.RESTRICTIVE_LICENCE_TYPE)]
        g.add((document, DCT.type, kind))
        g.add((kind, RDF.type, SKOS.Concept))

    def _yt_table_schema(self, items: list[Any]) -> BNode | None:
        """The 信息项 as a CSVW table schema. Columns carry their order (schema:position) instead
        of sitting in an rdf:List: rdflib's Turtle writer mixes up the cells of lists that
        several subjects share, so the order would not survive a catalogue page."""
        g = self.g
        schema = BNode()
        position = 0
        for item in items:
            if not isinstance(item, dict) or not item.get("name"):
                continue
            position += 1
            column = BNode()
            g.add((schema, terms.CSVW.column, column))
            g.add((column, RDF.type, terms.CSVW.Column))
            g.add((column, SCHEMA.position, Literal(position)))
            g.add((column, terms.CSVW.name, Literal(item["name"])))
            g.add((column, terms.CSVW.title, Literal(item["name"], lang=LANG)))
            datatype = terms.DATATYPES.get(item.get("data_type") or "")
            if datatype is not None:
                g.add((column, terms.CSVW.datatype, datatype))
            if str(item.get("length") or "").isdigit():
                g.add((column, terms.CSVW.maxLength,
                       Literal(int(item["length"]), datatype=XSD.nonNegativeInteger)))
            if item.get("description"):
                g.add((column, DCT.description, Literal(item["description"], lang=LANG)))
        if not position:
            return None
        g.add((schema, RDF.type, terms.CSVW.Schema))
        return schema

    def _yt_read_table_schema(self, schema: Node | None) -> list[dict[str, Any]]:
        g = self.g
        if schema is None:
            return []
        datatypes = {v: k for k, v in terms.DATATYPES.items()}
        columns = []
        for column in g.objects(schema, terms.CSVW.column):
            name = _literal(g.value(column, terms.CSVW.name))
            if not name:
                continue
            position = g.value(column, SCHEMA.position)
            item: dict[str, Any] = {"name": name}
            if kind := datatypes.get(g.value(column, terms.CSVW.datatype)):  # type: ignore[arg-type]
                item["data_type"] = kind
            if (length := g.value(column, terms.CSVW.maxLength)) is not None:
                item["length"] = int(length)
            if description := _literal(g.value(column, DCT.description)):
                item["description"] = description
            columns.append((int(position) if position is not None else 0, name, item))
        return [item for _, _, item in sorted(columns, key=lambda c: c[:2])]

    def _yt_distribution(self, dataset_dict: dict[str, Any], resource: dict[str, Any],
                      schema: BNode | None) -> None:
        g = self.g
        distribution = URIRef(resource_uri(resource))
        self._yt_tag_language(distribution, (DCT.title, DCT.description))
        restricted = bool(resource.get("yantai_restricted") or dataset_dict.get(
            "yantai_restricted"))

        # where: the resource's page (where access is applied for), and the file itself
        # only where the caller may have it
        g.remove((distribution, DCAT.accessURL, None))
        g.remove((distribution, DCAT.downloadURL, None))
        page = URIRef(f"{self._yt_page_url(dataset_dict)}/resource/{resource['id']}")
        g.add((distribution, DCAT.accessURL, page))
        g.add((page, RDF.type, RDFS.Resource))
        download = iri(str(resource.get("url") or ""))
        if not restricted and download is not None:
            g.add((distribution, DCAT.downloadURL, download))
            g.add((download, RDF.type, RDFS.Resource))

        # format and media type as IRIs (a format no authority names: described in place)
        g.remove((distribution, DCT["format"], None))
        g.remove((distribution, DCAT.mediaType, None))
        name = str(resource.get("format") or "").strip().upper().lstrip(".")
        file_type = terms.FILE_TYPES.get(name)
        if file_type is not None:
            fmt = terms.EU_FILE_TYPE[file_type.eu]
            g.add((distribution, DCT["format"], fmt))
            g.add((fmt, RDF.type, DCT.MediaTypeOrExtent))
        elif name:
            fmt = BNode()
            g.add((distribution, DCT["format"], fmt))
            g.add((fmt, RDF.type, DCT.MediaTypeOrExtent))
            g.add((fmt, RDFS.label, Literal(name)))
        media_type = str((file_type.media_type if file_type else None)
                         or resource.get("mimetype") or "").strip().lower()
        if _MEDIA_TYPE.match(media_type):
            media = URIRef(terms.IANA + media_type)
            g.add((distribution, DCAT.mediaType, media))
            g.add((media, RDF.type, DCT.MediaType))

        # checksum: SPDX algorithm and the bare hex value
        for old in list(g.objects(distribution, SPDX.checksum)):
            g.remove((old, None, None))
        g.remove((distribution, SPDX.checksum, None))
        if (found := terms.checksum(resource.get("hash"))) is not None:
            algorithm, digest = found
            node = BNode()
            g.add((distribution, SPDX.checksum, node))
            g.add((node, RDF.type, SPDX.Checksum))
            g.add((node, SPDX.algorithm, URIRef(algorithm)))
            g.add((URIRef(algorithm), RDF.type, SPDX.ChecksumAlgorithm))
            g.add((node, SPDX.checksumValue, Literal(digest, datatype=XSD.hexBinary)))

        # licence and conditions
        for old in list(g.objects(distribution, DCT.license)):
            g.remove((distribution, DCT.license, old))
        if dataset_dict.get("license_url") and dataset_dict.get("license_id"):
            self._yt_licence(distribution, dataset_dict["license_id"], dataset_dict["license_url"])
        for old in list(g.objects(distribution, DCT.rights)):
            g.remove((old, None, None))
        g.remove((distribution, DCT.rights, None))
        if dataset_dict.get("open_type") == "conditional" and dataset_dict.get("open_condition"):
            rights = BNode()
            g.add((distribution, DCT.rights, rights))
            g.add((rights, RDF.type, DCT.RightsStatement))
            g.add((rights, RDFS.label, Literal(dataset_dict["open_condition"], lang=LANG)))

        if schema is not None:
            g.add((distribution, terms.CSVW.tableSchema, schema))

    def _yt_parse_resource(self, resource: dict[str, Any]) -> None:
        uri = resource.get("uri")
        if not uri:
            return
        distribution = URIRef(uri)
        fmt = self.g.value(distribution, DCT["format"])
        if isinstance(fmt, URIRef) and str(fmt).startswith(str(terms.EU_FILE_TYPE)):
            code = str(fmt)[len(str(terms.EU_FILE_TYPE)):]
            resource["format"] = terms.FORMAT_OF_EU.get(code, code)
        elif fmt is not None and (label := self.g.value(fmt, RDFS.label)) is not None:
            resource["format"] = str(label)
        media_type = self.g.value(distribution, DCAT.mediaType)
        if media_type is not None and str(media_type).startswith(terms.IANA):
            resource["mimetype"] = str(media_type)[len(terms.IANA):]
        checksum = self.g.value(distribution, SPDX.checksum)
        if checksum is not None:
            algorithm = self.g.value(checksum, SPDX.algorithm)
            digest = self.g.value(checksum, SPDX.checksumValue)
            if algorithm is not None and digest is not None:
                resource["hash"] = terms.hash_of(str(algorithm), str(digest))
                resource.pop("hash_algorithm", None)

    def _yt_parsed_licence(self, dataset_ref: Node) -> str | None:
        urls = {str(o) for d in self.g.objects(dataset_ref, DCAT.distribution)
                for o in self.g.objects(d, DCT.license)}
        for licence_id, licence in model.Package.get_license_register().items():
            if licence.url and licence.url in urls:
                return licence_id
        return None

    def _yt_page_url(self, dataset_dict: dict[str, Any]) -> str:
        name = dataset_dict.get("name") or dataset_dict["id"]
        return f"{tk.config.get('ckan.site_url')}/dataset/{name}"


def _literal(node: Node | None) -> str | None:
    return None if node is None else str(node)


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return [value] if value else []
    return list(value) if isinstance(value, list) else []

