"""信用信息一站式查询: the public 双公示 records of a market entity, from every department.

What anyone may see, and nothing else, whoever asks: the records that are public now (valid,
publishable, within their publicity period; revoked and expired ones have left), in their
public, masked form, of 双公示 resources whose data the public may have (an active resource of
an active, open dataset). A department's own staff get the same answer here; their records in
full are on the compliance pages.

- A market entity (法人及非法人组织, 个体工商户) is found by a fragment of its name (two or more
  characters), by its unified social credit code, or by the number of one of its decisions; its
  profile gathers its licences and penalties, and the rows about it in the other credit tables
  of the DataStore (those with a 统一社会信用代码 column: 失信被执行人名单, 经营异常名录 …).
- A natural person is never listed or found by name: only the exact number of a decision finds
  the record, masked as everywhere, without a profile.

The entities and their names are kept by the database (``yantai_credit_party``, migration
``credit_parties``); a name is searched by its character pairs (``datastore/zh_text.sql``).
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any, NamedTuple

import ckan.model as model
import ckan.plugins.toolkit as tk
import sqlalchemy as sa

from ckanext.yantai import access, codes, tiers, workdays
from ckanext.yantai.disclosure import privacy, standard, store
from ckanext.yantai.messages import message
from ckanext.yantai.model import CreditParty, DisclosureRecord

NAME_MIN = 2  # characters of a name fragment
QUERY_MAX = 100
ROWS_MAX = 100
COUNTED_MAX = 1000  # entities counted for a search: "1000+" beyond
RECORDS_MAX = 500  # of one entity's records shown (the newest)
TABLE_ROWS_MAX = 50  # rows of one other credit table in a profile
CODE_COLUMN = "统一社会信用代码"
_USCC_SHAPE = re.compile(r"[0-9A-Z]{18}")
_MEANINGFUL = re.compile(r"[^\W_]", re.UNICODE)  # a letter, digit or CJK character


class Query(NamedTuple):
    """A search as read: the code it names, the document number it may be, the name fragment."""

    code: str | None
    document: str | None
    name: str | None


def read_query(text: str) -> Query:
    """What a search text asks for. An 18-character code (full-width, spaced, lower-case as
    people type it) is a code; a text with a digit may be a document number; a text with two
    or more letters or characters is a name fragment too.

    Raises:
        tk.ValidationError: The text is empty, too long, or too short to search by name.
    """
    if not isinstance(text, str) or not text.strip():
        raise tk.ValidationError({"q": [message("credit_query_missing")]})
    if len(text) > QUERY_MAX:
        raise tk.ValidationError({"q": [message("credit_query_long", max=str(QUERY_MAX))]})
    cleaned = codes.search_text(text)
    compact = codes.normalise_uscc(cleaned)
    if _USCC_SHAPE.fullmatch(compact):
        return Query(compact, None, None)
    document = codes.document_number(text) if any(c.isdigit() for c in cleaned) else None
    name = cleaned if len(_MEANINGFUL.findall(cleaned)) >= NAME_MIN else None
    if name is not None and not any(c.isalpha() for c in cleaned):
        name = None  # numbers alone name no firm
    if document is None and name is None:
        raise tk.ValidationError({"q": [message("credit_query_short", min=str(NAME_MIN))]})
    return Query(None, document, name)


# -- what the public may see ----------------------------------------------------------------------

def public_resources() -> list[str]:
    """The 双公示 resources whose records the public may see: active, in an active, public (not
    private) dataset whose data anyone may have (the tiers' rule for an anonymous viewer)."""
    package_ids = [row[0] for row in model.Session.execute(sa.text("""
        WITH RECURSIVE p AS (
          (SELECT package_id FROM yantai_disclosure_record ORDER BY package_id LIMIT 1)
          UNION ALL
          SELECT (SELECT package_id FROM yantai_disclosure_record
                  WHERE package_id > p.package_id ORDER BY package_id LIMIT 1)
          FROM p WHERE p.package_id IS NOT NULL)
        SELECT package_id FROM p WHERE package_id IS NOT NULL"""))]
    if not package_ids:
        return []
    packages = model.Session.query(model.Package).filter(
        model.Package.id.in_(package_ids), model.Package.state == "active",
        model.Package.private.is_(False)).all()
    open_ids = [p.id for p in packages if access.may_have_data(tiers.ANONYMOUS, p)]
    if not open_ids:
        return []
    return [r.id for r in model.Session.query(model.Resource.id).filter(
        model.Resource.package_id.in_(open_ids), model.Resource.state == "active")]


# -- searching ------------------------------------------------------------------------------------

# A record the public sees now: public, in a resource the public may have, and within its
# publicity period today (the daily recheck withdraws it; until then it is not shown either).
_PUBLIC = ("r.public AND r.resource_id = ANY(:resources) "
           "AND (r.publicity_end IS NULL OR r.publicity_end >= :today)")
_VISIBLE = ("EXISTS (SELECT 1 FROM yantai_disclosure_record r "
            f"WHERE r.party_code = p.code AND {_PUBLIC})")


def _today() -> dt.date:
    return workdays.local_date(dt.datetime.now(dt.UTC))


def search(query: Query, start: int = 0, rows: int = 20) -> dict[str, Any]:
    """Entities by code or name fragment (a page of them, by name, with their counts), and the
    records whose decision document number the text is.

    Returns:
        ``{"count", "count_capped", "results": [entity], "documents": [record]}``: an entity is
        ``{"code", "name", "license_count", "penalty_count"}``; ``count`` stops at
        ``COUNTED_MAX`` (``count_capped`` then).
    """
    resources = public_resources()
    params: dict[str, Any] = {"resources": resources, "rows": rows, "start": start,
                              "today": _today()}
    if query.code is not None:
        where, params["code"] = "p.code = :code", query.code
    elif query.name is not None:
        where, params["name"] = "p.search_vector @@ yantai_zh_tsquery(:name)", query.name
    else:
        where = "false"
    entities = [dict(row._mapping) for row in model.Session.execute(sa.text(
        f"SELECT p.code, p.name FROM yantai_credit_party p WHERE {where} AND {_VISIBLE} "
        "ORDER BY p.name, p.code LIMIT :rows OFFSET :start"), params)]
    counted = model.Session.execute(sa.text(
        f"SELECT count(*) FROM (SELECT 1 FROM yantai_credit_party p WHERE {where} AND {_VISIBLE} "
        f"LIMIT {COUNTED_MAX + 1}) AS found"), params).scalar() or 0
    counts = _counts([e["code"] for e in entities], params)
    for entity in entities:
        entity.update(counts.get(entity["code"], {"license_count": 0, "penalty_count": 0}))
    documents = _by_document(query.document, resources) if query.document else []
    return {"count": min(counted, COUNTED_MAX), "count_capped": counted > COUNTED_MAX,
            "results": entities, "documents": documents}


def _counts(entity_codes: Sequence[str], params: dict[str, Any]) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    if not entity_codes:
        return counts
    for code, record_type, count in model.Session.execute(sa.text(
            "SELECT r.party_code, r.record_type, count(*) FROM yantai_disclosure_record r "
            f"WHERE r.party_code = ANY(:codes) AND {_PUBLIC} GROUP BY 1, 2"),
            {**params, "codes": list(entity_codes)}):
        entry = counts.setdefault(code, {"license_count": 0, "penalty_count": 0})
        entry[f"{record_type}_count"] = count
    return counts


def _by_document(document: str, resources: Sequence[str]) -> list[dict[str, Any]]:
    rows = _public_rows(resources).filter(DisclosureRecord.document_number == document)
    return [public_record(row) for row in rows.limit(ROWS_MAX)]


def _public_rows(resources: Sequence[str]) -> Any:
    """The records the public sees now (``_PUBLIC``), newest decision first."""
    today = _today()
    return (model.Session.query(DisclosureRecord)
            # ``public`` itself, as the partial indexes on public records are declared
            # (``public IS true`` would not use them)
            .filter(DisclosureRecord.public,
                    DisclosureRecord.resource_id.in_(resources),
                    sa.or_(DisclosureRecord.publicity_end.is_(None),
                           DisclosureRecord.publicity_end >= today))
            .order_by(DisclosureRecord.decision_date.desc(), DisclosureRecord.id))


# -- an entity's profile --------------------------------------------------------------------------

def profile(code: str) -> dict[str, Any]:
    """A market entity's public credit information from every department.

    Raises:
        tk.ObjectNotFound: No entity with a public record has this code.
    """
    normalised = codes.normalise_uscc(codes.search_text(code)) if isinstance(code, str) else ""
    resources = public_resources()
    party = model.Session.get(CreditParty, normalised) if normalised else None
    rows = [] if party is None else _public_rows(resources).filter(
        DisclosureRecord.party_code == party.code).limit(RECORDS_MAX).all()
    if party is None or not rows:
        raise tk.ObjectNotFound(message("credit_not_found"))
    records = [public_record(row) for row in rows]
    return {"code": party.code, "name": party.name,
            "license_count": sum(1 for r in records if r["record_type"] == "license"),
            "penalty_count": sum(1 for r in records if r["record_type"] == "penalty"),
            "records": records, "tables": other_tables(party.code),
            "queried_at": dt.datetime.now(workdays.SHANGHAI).isoformat(timespec="seconds")}


def public_record(row: DisclosureRecord) -> dict[str, Any]:
    """A record as the public sees it, with where it is published."""
    resource = model.Session.get(model.Resource, row.resource_id)
    package = resource.package if resource is not None else None
    organization = model.Session.get(model.Group, row.organization_id)
    return {"record_type": row.record_type,
            "record_type_label": standard.RECORD_TYPE_LABELS[row.record_type][0],
            "record_key": row.record_key,
            "decision_date": standard.iso(row.decision_date),
            "publicity_end": standard.iso(row.publicity_end),
            "fields": privacy.mask(row.record_type, row.fields),
            "party_code": row.party_code,
            "dataset": {"name": package.name, "title": package.title} if package else None,
            "resource_id": row.resource_id,
            "organization": {"name": organization.name, "title": organization.title}
            if organization is not None else None}


def other_tables(code: str) -> list[dict[str, Any]]:
    """Rows about the entity in the DataStore tables with a 统一社会信用代码 column (other than
    the 双公示 tables), of the datasets whose data anyone may have, through ``datastore_search``
    as an anonymous visitor (so the tiers' guards decide)."""
    found: list[dict[str, Any]] = []
    for resource_id in _code_tables():
        resource = model.Session.get(model.Resource, resource_id)
        if resource is None or resource.state != "active" or store.record_type_of(resource):
            continue
        package = resource.package
        if package is None or package.state != "active":
            continue
        try:
            result = tk.get_action("datastore_search")({"user": ""}, {
                "resource_id": resource_id, "filters": {CODE_COLUMN: code},
                "limit": TABLE_ROWS_MAX})
        except (tk.ObjectNotFound, tk.NotAuthorized, tk.ValidationError):
            continue
        if not result.get("records"):
            continue
        organization = package.get_groups("organization")
        found.append({
            "dataset": {"name": package.name, "title": package.title},
            "resource": {"id": resource.id, "name": resource.name},
            "organization": {"name": organization[0].name, "title": organization[0].title}
            if organization else None,
            "fields": [f["id"] for f in result["fields"] if f["id"] != "_id"],
            "records": [{k: v for k, v in record.items() if k != "_id"}
                        for record in result["records"]],
            "total": result.get("total", len(result["records"]))})
    return sorted(found, key=lambda table: table["dataset"]["title"] or "")


def _code_tables() -> list[str]:
    """The DataStore tables that have a 统一社会信用代码 column."""
    from ckanext.datastore.backend.postgres import get_read_engine

    with get_read_engine().connect() as conn:
        return [row[0] for row in conn.execute(sa.text(
            "SELECT c.table_name FROM information_schema.columns c "
            "WHERE c.table_schema = 'public' AND c.column_name = :column "
            "AND c.table_name ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'"),
            {"column": CODE_COLUMN})]
