"""Chinese full-text search over DataStore rows.

CKAN's DataStore searches ``q`` with PostgreSQL's text search, whose parser reads a run of
Chinese characters as a single word: 食品 found nothing in a row about 销售过期食品. The SQL of
``zh_text.sql`` and ``zh_search.sql`` (installed by ``ckan yantai datastore-init``) indexes each
run by its character pairs instead and fills ``_full_text`` with them; here the queries CKAN
builds are turned to the same functions, so ``datastore_search`` with ``q`` (a string, or a dict
of columns) and ``full_text`` find rows by any Chinese word or fragment, through the GIN index on
``_full_text``.
``datastore_search_sql`` may call ``yantai_zh_tsquery`` and ``yantai_zh_tsvector`` as well.

CKAN's ``language`` parameter names a PostgreSQL text-search configuration; none reads Chinese,
so it is not used for the search (the 'simple' configuration reads other words). A word followed
by ``:*`` (``to_tsquery``'s prefix, which the data table's search box adds) matches as a prefix.

The data table preview (CKAN's ``datatables_view``) turns every character but ASCII letters,
digits and ``-`` of its search box into ``_`` before it asks the DataStore: its Chinese searches
found nothing. ``wrap_datatables`` carries such a text through as a token of those characters
(``datatables_token``), which the query rewrite reads back.
"""
from __future__ import annotations

import importlib.resources
import logging
import re
from typing import Any

import sqlalchemy as sa

log = logging.getLogger(__name__)

SQL_FUNCTIONS = ("yantai_zh_tsvector", "yantai_zh_tsquery")
# Any writer of the DataStore database takes this lock while installing the functions, so that two
# processes (two containers starting) do not replace them at once.
INSTALL_LOCK = 0x79616E74  # "yant"
TIMEZONE = "Asia/Shanghai"


def text_sql() -> str:
    """The search functions (``yantai_zh_tsvector``, ``yantai_zh_tsquery``), also installed in
    CKAN's own database for the credit lookup."""
    return _sql("zh_text.sql")


def install_sql() -> str:
    """The search functions and CKAN's full-text trigger function that uses them."""
    return text_sql() + "\n" + _sql("zh_search.sql")


def _sql(name: str) -> str:
    return importlib.resources.files(__name__.rpartition(".")[0]).joinpath(name).read_text(
        "utf-8")


def install(engine: sa.engine.Engine) -> None:
    """Create or replace the search functions and CKAN's full-text trigger function in the
    DataStore database. Run after ``ckan datastore set-permissions``, which recreates that
    trigger function with CKAN's own.

    Also: the database's sessions answer in Asia/Shanghai, so that a ``timestamptz`` column
    reads as 2026-12-04T11:23:00+08:00 in every channel (search, SQL, dumps)."""
    with engine.begin() as conn:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": INSTALL_LOCK})
        database = conn.execute(sa.text("SELECT current_database()")).scalar()
        conn.execute(sa.text(f'ALTER DATABASE "{database}" SET timezone TO \'{TIMEZONE}\''))
        cursor = conn.connection.cursor()  # the script as it is: no parameters, no % escapes
        try:
            cursor.execute(install_sql())
        finally:
            cursor.close()


def installed(engine: sa.engine.Engine) -> bool:
    """Whether the trigger function fills _full_text with the functions above."""
    with engine.connect() as conn:
        source = conn.execute(sa.text(
            "SELECT prosrc FROM pg_proc WHERE proname = 'populate_full_text_trigger'")).scalar()
    return bool(source) and "yantai_zh_tsvector" in source


# a search text through the data table's view: its UTF-8 in hex, behind a marker
_TOKEN_PREFIX = "yantaizh"
_TOKEN = re.compile(rf"{_TOKEN_PREFIX}((?:[0-9a-f]{{2}})+)(:\*)?")
_DATATABLES_KEEPS = re.compile(r"[0-9a-zA-Z\-]*")  # what the view keeps of a search text


def datatables_token(text: str) -> str:
    """A search text as the data table view passes it on unchanged."""
    if _DATATABLES_KEEPS.fullmatch(text):
        return text
    return _TOKEN_PREFIX + text.encode("utf-8").hex()


def _search_text(value: Any) -> Any:
    """A searched value, a data table view's token read back."""
    match = _TOKEN.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return value
    try:
        return bytes.fromhex(match[1]).decode("utf-8") + (match[2] or "")
    except ValueError:
        return value


def _searches(data_dict: dict[str, Any]) -> list[tuple[str | None, Any]]:
    """The (column or None for the whole row, text) searches, in the order CKAN's
    ``_textsearch_query`` writes them."""
    q, full_text = data_dict.get("q"), data_dict.get("full_text")
    searches: list[tuple[str | None, Any]] = [(None, full_text)] if full_text else []
    if isinstance(q, dict):
        searches += list(q.items())
    elif q and not full_text:
        searches.append((None, q))
    return searches


def rewrite_query(data_dict: dict[str, Any], query_dict: dict[str, Any]) -> dict[str, Any]:
    """The query CKAN's DataStore built for ``datastore_search``, searching with the Chinese
    functions.

    Nothing is edited inside CKAN's SQL: CKAN's own statement builder is run again on the same
    request, and each statement it wrote whole (the ``tsquery`` list, a rank expression, a
    column's ``to_tsvector`` condition) is swapped, where it is found whole, for the same
    statement written here with ``yantai_zh_tsquery`` / ``yantai_zh_tsvector``, its text and
    column quoted by CKAN's own ``literal_string`` and ``identifier``. If CKAN's query is not
    what its builder writes, it is left as it is.
    """
    searches = _searches(data_dict)
    if not searches:
        return query_dict
    from ckanext.datastore.backend import postgres as backend
    from ckanext.datastore.backend.postgres import identifier, literal_string

    lang = backend._fts_lang(data_dict.get("language"))  # noqa: SLF001 (CKAN 2.11.6, pinned)
    plain = data_dict.get("plain", True)
    theirs, ours, ranks, rank_names = [], [], {}, {}
    for field, text in searches:
        statement, rank = backend._build_query_and_rank_statements(  # noqa: SLF001
            lang, text, plain, field)
        alias = backend._ts_query_alias(field)  # noqa: SLF001
        theirs.append(statement)
        ours.append(f"yantai_zh_tsquery({literal_string(str(_search_text(text)))}) {alias}")
        vector = "_full_text" if field is None else \
            f"yantai_zh_tsvector(cast({identifier(field)} as text))"
        ranks[rank] = f"ts_rank({vector}, {alias}, 32)"
        rank_names["rank" if field is None else f"rank {field}"] = rank
    if query_dict.get("ts_query") != ", " + ", ".join(theirs):
        log.warning("datastore_search: a query not as CKAN writes it; searched unchanged")
        return query_dict
    query_dict["ts_query"] = ", " + ", ".join(ours)

    conditions = {}
    if isinstance(data_dict.get("q"), dict):
        for field in data_dict["q"]:
            alias = backend._ts_query_alias(field)  # noqa: SLF001
            column = f"cast({identifier(field)} as text)"
            conditions[f"to_tsvector({literal_string(lang)}, {column}) @@ {alias}"] = \
                f"yantai_zh_tsvector({column}) @@ {alias}"
    query_dict["where"] = [(conditions[c[0]],) if len(c) == 1 and c[0] in conditions else c
                           for c in query_dict.get("where", [])]

    lists = data_dict.get("records_format") == "lists"
    select = {}
    for name, rank in rank_names.items():
        theirs_rank, ours_rank = rank, ranks[rank]
        if lists:
            # CKAN names its rank columns in a list row too, one concatenated expression where
            # a name is a syntax error: q with records_format=lists (the JSON dump) failed in
            # stock CKAN 2.11. The name is dropped there.
            select[f"coalesce(to_json({theirs_rank}),'null') as {identifier(name)}"] = \
                f"coalesce(to_json({ours_rank}),'null')"
        else:
            select[f"{theirs_rank} as {identifier(name)}"] = f"{ours_rank} as {identifier(name)}"
    query_dict["select"] = [select.get(c, c) for c in query_dict.get("select", [])]
    query_dict["sort"] = [f"{ranks[c[:-5]]} DESC" if c.endswith(" DESC") and c[:-5] in ranks
                          else c for c in query_dict.get("sort", [])]
    return query_dict


def allowed_functions_file() -> str:
    """The functions ``datastore_search_sql`` may call: CKAN's list and the search functions
    (``allowed_functions.txt`` here; a test keeps it in step with CKAN's own)."""
    return str(importlib.resources.files(__name__.rpartition(".")[0])
               .joinpath("allowed_functions.txt"))
