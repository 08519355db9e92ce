"""Chinese full-text search over DataStore rows.

CKAN's DataStore searches ``q`` with PostgreSQL's text search, whose parser reads a run of
Chinese characters as a single word: 食品 found nothing in a row about 销售过期食品. The SQL of
``zh_search.sql`` (installed by ``ckan yantai datastore-init``) indexes each run by its character
pairs instead and fills ``_full_text`` with them; here the queries CKAN builds are turned to the
same functions, so ``datastore_search`` with ``q`` (a string, or a dict of columns) and
``full_text`` find rows by any Chinese word or fragment, through the GIN index on ``_full_text``.
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
import re
from typing import Any

import ckan.plugins.toolkit as tk
import sqlalchemy as sa

SQL_FUNCTIONS = ("yantai_zh_tsvector", "yantai_zh_tsquery")
# Any writer of the DataStore database takes this lock while installing the functions, so that two
# processes (two containers starting) do not replace them at once.
INSTALL_LOCK = 0x79616E74  # "yant"
TIMEZONE = "Asia/Shanghai"


def install_sql() -> str:
    return importlib.resources.files(__name__.rpartition(".")[0]).joinpath(
        "zh_search.sql").read_text("utf-8")


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
_TOKEN_LITERAL = re.compile(rf"yantai_zh_tsquery\('{_TOKEN_PREFIX}((?:[0-9a-f]{{2}})+)(:\*)?'\)")
_DATATABLES_KEEPS = re.compile(r"[0-9a-zA-Z\-]*")  # what the view keeps of a search text


def datatables_token(text: str) -> str:
    """A search text as the data table view passes it on unchanged."""
    if _DATATABLES_KEEPS.fullmatch(text):
        return text
    return _TOKEN_PREFIX + text.encode("utf-8").hex()


def _read_tokens(sql: str) -> str:
    def text(match: re.Match[str]) -> str:
        try:
            value = bytes.fromhex(match[1]).decode("utf-8")
        except ValueError:
            return match[0]
        return f"yantai_zh_tsquery({_literal(value + (match[2] or ''))})"
    return _TOKEN_LITERAL.sub(text, sql)


_RANK_ALIAS = re.compile(r' as "rank(?: (?:[^"]|"")*)?"$')


def _literal(value: str) -> str:
    # As CKAN's DataStore writes a literal (ckanext.datastore.helpers.literal_string).
    return "'" + value.replace("'", "''").replace("\0", "") + "'"


def rewrite_query(data_dict: dict[str, Any], query_dict: dict[str, Any]) -> dict[str, Any]:
    """The query CKAN's DataStore built for ``datastore_search``, searching with the Chinese
    functions: its ``plainto_tsquery(lang, …)`` / ``to_tsquery(lang, …)`` become
    ``yantai_zh_tsquery(…)`` and ``to_tsvector(lang, …)`` (searches of single columns)
    ``yantai_zh_tsvector(…)``.

    The patterns carry the language as CKAN quotes it; a quote inside any literal CKAN writes
    is doubled, so no user text can contain them.
    """
    if not (data_dict.get("q") or data_dict.get("full_text")):
        return query_dict
    lang = _literal(str(data_dict.get("language") or
                        tk.config.get("ckan.datastore.default_fts_lang")))
    query_patterns = (f"plainto_tsquery({lang}, ", f"to_tsquery({lang}, ")
    vector_pattern = f"to_tsvector({lang}, "

    def queries(sql: str) -> str:
        for pattern in query_patterns:
            sql = sql.replace(pattern, "yantai_zh_tsquery(")
        return _read_tokens(sql) if _TOKEN_PREFIX in sql else sql

    def vectors(sql: str) -> str:
        return sql.replace(vector_pattern, "yantai_zh_tsvector(")

    query_dict["ts_query"] = queries(query_dict.get("ts_query") or "")
    query_dict["where"] = [(vectors(clause[0]), *clause[1:]) if clause else clause
                           for clause in query_dict.get("where", [])]
    query_dict["select"] = [vectors(column) for column in query_dict.get("select", [])]
    if data_dict.get("records_format") == "lists":
        # CKAN names its rank columns ('… as "rank"') in every format, but a list row is
        # one concatenated expression where a name is a syntax error: q with
        # records_format=lists (the JSON dump) failed in stock CKAN 2.11.
        query_dict["select"] = [_RANK_ALIAS.sub("", column) for column in query_dict["select"]]
    query_dict["sort"] = [vectors(column) for column in query_dict.get("sort", [])]
    return query_dict


def allowed_functions_file() -> str:
    """The functions ``datastore_search_sql`` may call: CKAN's list and the search functions
    (``allowed_functions.txt`` here; a test keeps it in step with CKAN's own)."""
    return str(importlib.resources.files(__name__.rpartition(".")[0])
               .joinpath("allowed_functions.txt"))
