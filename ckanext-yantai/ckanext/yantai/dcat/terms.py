"""The catalogue's code lists as SKOS concept schemes at stable URIs, and how they meet the
vocabularies DCAT-AP 3 uses (EU authority tables, IANA media types, SPDX checksum algorithms).

Every code list of ``vocabularies`` is a concept scheme ``{base}{scheme}`` with a concept
``{base}{scheme}/{code}`` per value (``base``: ``ckanext.yantai.dcat.uri_base``, by default the
production host's ``/def/``; the portal serves them at ``/def/...``). The URIs do not change with
the host a copy of the portal runs on, so a partner's harvest keeps its links.
"""
from __future__ import annotations

import re
from typing import Any, NamedTuple

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, SKOS

from ckanext.yantai import config, vocabularies

DEFAULT_BASE = "https://data.yantai.gov.cn/def/"

# Scheme path segment of each code list.
SCHEMES = {
    "domain": "domain", "update_cycle": "update-cycle", "open_type": "open-type",
    "share_type": "share-type", "share_method": "share-method", "region": "region",
    "data_type": "data-type", "format_class": "format-class", "security_class": "security-class",
    "record_type": "record-type", "dept_type": "dept-type",
    "category_attribute": "category-attribute",
}
SCHEME_TITLES = {
    "domain": ("所属领域", "Policy domains"), "update_cycle": ("更新周期", "Update cycles"),
    "open_type": ("开放类型", "Open types"), "share_type": ("共享类型", "Share types"),
    "share_method": ("共享方式", "Share methods"),
    "region": ("空间范围（GB/T 2260 行政区划代码）", "Areas (GB/T 2260 division codes)"),
    "data_type": ("信息项数据类型", "Data types of information items"),
    "format_class": ("信息资源格式分类", "Format classes"),
    "security_class": ("涉密属性", "Security classifications"),
    "record_type": ("双公示记录类型", "Disclosure record types"),
    "dept_type": ("部门类型", "Department types"),
    "category_attribute": ("信息资源分类（类）", "Resource classes"),
}

EU = "http://publications.europa.eu/resource/authority/"
EU_FREQUENCY = Namespace(EU + "frequency/")
EU_ACCESS_RIGHT = Namespace(EU + "access-right/")
EU_THEME = Namespace(EU + "data-theme/")
EU_FILE_TYPE = Namespace(EU + "file-type/")
EU_LANGUAGE = Namespace(EU + "language/")
IANA = "https://www.iana.org/assignments/media-types/"
ADMS_PUBLISHER_TYPE = Namespace("http://purl.org/adms/publishertype/")
ADMS_LICENCE_TYPE = Namespace("http://purl.org/adms/licencetype/")
CSVW = Namespace("http://www.w3.org/ns/csvw#")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
SPDX_NS = "http://spdx.org/rdf/terms#"

LANGUAGE = EU_LANGUAGE["ZHO"]

# 更新周期 ↔ EU frequency; 开放类型 ↔ EU access right (both ways one to one).
FREQUENCIES = {"realtime": "UPDATE_CONT", "daily": "DAILY", "weekly": "WEEKLY",
               "monthly": "MONTHLY", "quarterly": "QUARTERLY", "half_yearly": "ANNUAL_2",
               "yearly": "ANNUAL", "irregular": "IRREG"}
ACCESS_RIGHTS = {"open": "PUBLIC", "conditional": "RESTRICTED", "closed": "NON_PUBLIC"}
# 所属领域 → the EU data theme it belongs to (skos:broadMatch: each EU theme is wider).
DATA_THEMES = {"credit": "ECON", "transport": "TRAN", "medical": "HEAL", "health": "HEAL",
               "employment": "SOCI", "social-security": "SOCI", "culture": "EDUC",
               "science": "TECH", "environment": "ENVI", "finance": "ECON",
               "enterprise": "ECON"}
# Department types → ADMS publisher types.
PUBLISHER_TYPES = {"city_department": "LocalAuthority", "district": "LocalAuthority",
                   "zone": "LocalAuthority", "central_unit": "NationalAuthority"}
# Licence ids of the register → ADMS licence type.
LICENCE_TYPES = {"cc-by": "Attribution", "cc-by-sa": "ViralEffect-ShareAlike",
                 "cc-zero": "PublicDomain"}
RESTRICTIVE_LICENCE_TYPE = "OtherRestrictiveClauses"

# Labels of the outside concepts the catalogue uses (SKOS concepts carry a label; the English is
# the authority's own).
_EU_LABELS = {
    "frequency": {"UPDATE_CONT": ("持续更新", "continuously updated"), "DAILY": ("每日", "daily"),
                  "WEEKLY": ("每周", "weekly"), "MONTHLY": ("每月", "monthly"),
                  "QUARTERLY": ("每季度", "quarterly"), "ANNUAL_2": ("每半年", "semiannual"),
                  "ANNUAL": ("每年", "annual"), "IRREG": ("不定期", "irregular")},
    "access-right": {"PUBLIC": ("公开", "public"), "RESTRICTED": ("受限", "restricted"),
                     "NON_PUBLIC": ("非公开", "non-public")},
    "data-theme": {"ECON": ("经济和金融", "Economy and finance"),
                   "TRAN": ("交通", "Transport"), "HEAL": ("卫生健康", "Health"),
                   "SOCI": ("人口和社会", "Population and society"),
                   "EDUC": ("教育、文化和体育", "Education, culture and sport"),
                   "TECH": ("科学技术", "Science and technology"),
                   "ENVI": ("环境", "Environment")},
}
_ADMS_LABELS = {
    "publishertype": {"LocalAuthority": ("地方政府部门", "Local Authority"),
                      "NationalAuthority": ("中央国家机关", "National authority")},
    "licencetype": {"Attribution": ("署名", "Attribution"),
                    "ViralEffect-ShareAlike": ("相同方式共享", "Viral effect (a.k.a. Share-alike)"),
                    "PublicDomain": ("公共领域", "Public domain"),
                    "OtherRestrictiveClauses": ("其他限制性条款", "Other restrictive clauses")},
}
LABELS: dict[str, tuple[str, str]] = {
    **{f"{EU}{table}/{code}": label for table, rows in _EU_LABELS.items()
       for code, label in rows.items()},
    **{f"http://purl.org/adms/{table}/{code}": label for table, rows in _ADMS_LABELS.items()
       for code, label in rows.items()},
}


def label_of(uri: object) -> tuple[str, str] | None:
    """(Chinese, English) label of a concept the catalogue uses: an outside one, or one of ours."""
    if (found := LABELS.get(str(uri))) is not None:
        return found
    for vocabulary in SCHEMES:
        if (code := code_of(vocabulary, uri)) is not None:
            return (vocabularies.label(vocabulary, code),
                    vocabularies.label(vocabulary, code, "en"))
    return None


# 信息项 data types ↔ XML Schema datatypes (CSVW column datatypes).
DATATYPES = {"string": XSD.string, "number": XSD.decimal, "date": XSD.date,
             "datetime": XSD.dateTime, "boolean": XSD.boolean, "binary": XSD.base64Binary}


class FileType(NamedTuple):
    eu: str  # EU file-type authority code
    media_type: str | None  # IANA media type


# The formats a resource names (upper-cased) ↔ EU file type and IANA media type.
FILE_TYPES = {
    "CSV": FileType("CSV", "text/csv"),
    "TSV": FileType("TSV", "text/tab-separated-values"),
    "XLSX": FileType("XLSX",
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "XLS": FileType("XLS", "application/vnd.ms-excel"),
    "ODS": FileType("ODS", "application/vnd.oasis.opendocument.spreadsheet"),
    "JSON": FileType("JSON", "application/json"),
    "GEOJSON": FileType("GEOJSON", "application/geo+json"),
    "XML": FileType("XML", "application/xml"),
    "RDF": FileType("RDF_XML", "application/rdf+xml"),
    "TTL": FileType("RDF_TURTLE", "text/turtle"),
    "JSON-LD": FileType("JSON_LD", "application/ld+json"),
    "PDF": FileType("PDF", "application/pdf"),
    "DOC": FileType("DOC", "application/msword"),
    "DOCX": FileType("DOCX",
                     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "TXT": FileType("TXT", "text/plain"),
    "HTML": FileType("HTML", "text/html"),
    "ZIP": FileType("ZIP", "application/zip"),
    "KML": FileType("KML", "application/vnd.google-earth.kml+xml"),
    "KMZ": FileType("KMZ", "application/vnd.google-earth.kmz"),
    "SHP": FileType("SHP", None),
    "PNG": FileType("PNG", "image/png"),
    "JPEG": FileType("JPEG", "image/jpeg"),
    "JPG": FileType("JPEG", "image/jpeg"),
    "GIF": FileType("GIF", "image/gif"),
    "TIFF": FileType("TIFF", "image/tiff"),
    "MP4": FileType("MP4", "video/mp4"),
}
FORMAT_OF_EU = {ft.eu: name for name, ft in reversed(FILE_TYPES.items())}

# Checksums: a hash as CKAN stores it ("sha256:…", or bare hex) → SPDX algorithm.
HASH_ALGORITHMS = {"md5": 32, "sha1": 40, "sha224": 56, "sha256": 64, "sha384": 96,
                   "sha512": 128}
_HEX = re.compile(r"^[0-9a-fA-F]+$")


def base() -> str:
    value = config.dcat_uri_base() or DEFAULT_BASE
    return value if value.endswith("/") else value + "/"


def scheme_uri(vocabulary: str) -> URIRef:
    return URIRef(base() + SCHEMES[vocabulary])


def concept_uri(vocabulary: str, code: str) -> URIRef:
    return URIRef(f"{base()}{SCHEMES[vocabulary]}/{code}")


def code_of(vocabulary: str, uri: object) -> str | None:
    """The code a concept URI of a scheme names (None: not a concept of that scheme)."""
    prefix = f"{base()}{SCHEMES[vocabulary]}/"
    text = str(uri)
    if not text.startswith(prefix):
        return None
    code = text[len(prefix):]
    return code if code in vocabularies.values(vocabulary) else None


def checksum(value: str | None) -> tuple[str, str] | None:
    """A stored hash as (SPDX algorithm URI, hex value); None when it is not a known form."""
    text = (value or "").strip()
    algorithm, _, digest = text.rpartition(":")
    algorithm = algorithm.strip().lower().replace("-", "")
    if not digest or not _HEX.match(digest):
        return None
    if not algorithm:
        algorithm = next((a for a, n in HASH_ALGORITHMS.items() if n == len(digest)), "")
    if HASH_ALGORITHMS.get(algorithm) != len(digest):
        return None
    return f"{SPDX_NS}checksumAlgorithm_{algorithm}", digest.lower()


def hash_of(algorithm_uri: str, digest: str) -> str:
    """The inverse of ``checksum``: the form CKAN stores ("sha256:…")."""
    algorithm = str(algorithm_uri).rsplit("checksumAlgorithm_", 1)[-1]
    return f"{algorithm}:{digest}" if algorithm in HASH_ALGORITHMS else digest


def as_dict(vocabulary: str) -> dict[str, Any]:
    """One code list for the API (``yantai_vocabulary_list``)."""
    zh, en = SCHEME_TITLES[vocabulary]
    rows = []
    for term in vocabularies.VOCABULARIES[vocabulary]:
        row: dict[str, Any] = {"value": term.value, "zh": term.zh, "en": term.en,
                               "uri": str(concept_uri(vocabulary, term.value))}
        matches = _matches(vocabulary, term.value)
        if matches:
            row["eu"] = str(matches[0][1])
        rows.append(row)
    return {"title": {"zh": zh, "en": en}, "uri": str(scheme_uri(vocabulary)), "terms": rows}


def concept_scheme(vocabulary: str) -> Graph:
    """One code list as a SKOS concept scheme (Chinese and English labels, notations, and the
    EU concepts each maps to)."""
    g = Graph()
    g.bind("skos", SKOS)
    g.bind("dct", DCTERMS)
    scheme = scheme_uri(vocabulary)
    zh, en = SCHEME_TITLES[vocabulary]
    g.add((scheme, RDF.type, SKOS.ConceptScheme))
    g.add((scheme, DCTERMS.title, Literal(zh, lang="zh")))
    g.add((scheme, DCTERMS.title, Literal(en, lang="en")))
    g.add((scheme, SKOS.prefLabel, Literal(zh, lang="zh")))
    for term in vocabularies.VOCABULARIES[vocabulary]:
        concept = concept_uri(vocabulary, term.value)
        g.add((concept, RDF.type, SKOS.Concept))
        g.add((concept, SKOS.inScheme, scheme))
        g.add((concept, SKOS.topConceptOf, scheme))
        g.add((scheme, SKOS.hasTopConcept, concept))
        g.add((concept, SKOS.notation, Literal(term.value)))
        g.add((concept, SKOS.prefLabel, Literal(term.zh, lang="zh")))
        g.add((concept, SKOS.prefLabel, Literal(term.en, lang="en")))
        for match in _matches(vocabulary, term.value):
            g.add((concept, *match))
    return g


def _matches(vocabulary: str, code: str) -> list[tuple[URIRef, URIRef]]:
    if vocabulary == "domain":
        return [(SKOS.broadMatch, EU_THEME[DATA_THEMES[code]])]
    if vocabulary == "update_cycle":
        return [(SKOS.exactMatch, EU_FREQUENCY[FREQUENCIES[code]])]
    if vocabulary == "open_type":
        return [(SKOS.exactMatch, EU_ACCESS_RIGHT[ACCESS_RIGHTS[code]])]
    return []
