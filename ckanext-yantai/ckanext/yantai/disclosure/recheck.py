"""The daily recheck of every stored 双公示 record, fast enough for millions of them.

Time moves (pending records become overdue, publicity periods end) and the calendar gains years
(records waiting for a year's holiday notice get their deadline), so every record is checked
again every day. The records are read in key ranges by worker processes, each with its own
database connection; the rules run there (``store.outcome``, pure) and only the rows whose
result changed are written back, in one COPY and one UPDATE per chunk. Records that reach or
leave the public are then synced to their DataStore tables and their pushes filed, in this
process, through the same code as the intake.
"""
from __future__ import annotations

import datetime as dt
import io
import itertools
import json
import logging
import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

import ckan.model as model
import orjson
import psycopg2
import psycopg2.extras
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from ckanext.yantai import config, workdays
from ckanext.yantai.disclosure import publish, push, store
from ckanext.yantai.model import DisclosureRecord

log = logging.getLogger(__name__)

TABLE = DisclosureRecord.__tablename__
# What a recheck reads: the rules' inputs and the digest of the stored result (not the result
# itself: comparing digests spares reading a dozen columns back). The fields are read as text
# and decoded with orjson, cheaper than psycopg2's JSON typecaster; the errors only when they
# hold a finding of the intake (two columns for one field), which a recheck cannot see again.
SELECT = ("id, record_type, fields::text, first_public_at, withdrawn_at, public, result_digest, "
          # %% for psycopg2
          "CASE WHEN errors::text LIKE '%%duplicate_field%%' THEN errors::text END")
# Written back when changed, with their PostgreSQL types for the staging table.
WRITE = (("valid", "boolean"), ("errors", "jsonb"), ("decision_date", "date"),
         ("deadline", "date"), ("timeliness", "text"), ("working_days_late", "integer"),
         ("publish", "text"), ("publicity_end", "date"), ("missing_year", "integer"),
         ("public", "boolean"), ("first_public_at", "timestamptz"),
         ("withdrawn_at", "timestamptz"), ("result_digest", "bigint"),
         ("checked_at", "timestamptz"))
CHUNKS_PER_WORKER = 16


def dsn() -> str:
    """The catalogue database as a libpq connection string, for the worker processes."""
    url = make_url(config.database_url())
    parts = {"host": url.host, "port": url.port, "dbname": url.database, "user": url.username,
             "password": url.password}
    return " ".join(f"{k}='{v}'" for k, v in parts.items() if v is not None)


def boundaries(connection: Any, chunks: int, organization_id: str | None) -> list[str | None]:
    """Record ids that cut the table into ``chunks`` ranges of about equal size."""
    where, params = _where(organization_id)
    with connection.cursor() as cur:
        cur.execute(f"SELECT percentile_disc(%s) WITHIN GROUP (ORDER BY id) FROM {TABLE}{where}",
                    ([i / chunks for i in range(1, chunks)], *params))
        cuts = cur.fetchone()[0] or []
    return [None, *dict.fromkeys(c for c in cuts if c is not None), None]


def _where(organization_id: str | None, extra: str = "") -> tuple[str, list[Any]]:
    clauses, params = [], []
    if organization_id:
        clauses.append("organization_id = %s")
        params.append(organization_id)
    if extra:
        clauses.append(extra)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def check_range(connection_string: str, low: str | None, high: str | None,
                organization_id: str | None, now: dt.datetime,
                calendar: workdays.Calendar) -> tuple[dict[str, int], list[str]]:
    """Check the records with ``low <= id < high``; write back the changed results.

    Returns:
        Counts (checked, changed) and the ids of records that reached or left the public.
    """
    bounds = []
    params: list[Any] = []
    if low is not None:
        bounds.append("id >= %s")
        params.append(low)
    if high is not None:
        bounds.append("id < %s")
        params.append(high)
    where, org_params = _where(organization_id, " AND ".join(bounds))
    counts = {"checked": 0, "changed": 0}
    moved: list[str] = []
    staged = io.StringIO()
    connection = psycopg2.connect(connection_string)
    loads, outcome = orjson.loads, store.outcome
    try:
        with connection, connection.cursor(name="yantai_recheck") as cur:
            cur.itersize = 5000
            cur.execute(f"SELECT {SELECT} FROM {TABLE}{where}", (*org_params, *params))
            for (record_id, record_type, fields, first_public_at, withdrawn_at, public,
                 stored_digest, errors) in cur:
                intake = store.intake_findings(loads(errors)) if errors else ()
                new = outcome(record_type, loads(fields), first_public_at=first_public_at,
                              was_public=public, withdrawn_at=withdrawn_at, warnings=(),
                              intake=intake, now=now, calendar=calendar)
                counts["checked"] += 1
                if new["result_digest"] != stored_digest:
                    counts["changed"] += 1
                    if new["public"] != public:
                        moved.append(record_id)
                    new["checked_at"] = now
                    staged.write(_copy_line(record_id, new))
        if counts["changed"]:
            _write_back(connection, staged)
    finally:
        connection.close()
    return counts, moved


def _copy_line(record_id: str, values: dict[str, Any]) -> str:
    cells = [record_id]
    for name, _ in WRITE:
        value = values[name]
        if value is None:
            cells.append("\\N")
        elif name == "errors":
            cells.append(json.dumps(value, ensure_ascii=False))
        elif isinstance(value, bool):
            cells.append("t" if value else "f")
        elif isinstance(value, (dt.date, dt.datetime)):
            cells.append(value.isoformat())
        else:
            cells.append(str(value))
    # COPY's text format: backslash, tab and newline escaped
    return "\t".join(c if c == "\\N" else c.replace("\\", "\\\\").replace("\t", "\\t")
                     .replace("\n", "\\n") for c in cells) + "\n"


def _write_back(connection: Any, staged: io.StringIO) -> None:
    columns = ", ".join(f"{name} {kind}" for name, kind in WRITE)
    assignments = ", ".join(f"{name} = s.{name}" for name, _ in WRITE)
    staged.seek(0)
    with connection, connection.cursor() as cur:
        cur.execute(f"CREATE TEMP TABLE recheck_stage (id text, {columns}) ON COMMIT DROP")
        cur.copy_expert("COPY recheck_stage FROM STDIN", staged)
        cur.execute(f"UPDATE {TABLE} t SET {assignments} FROM recheck_stage s WHERE t.id = s.id")


def _check_range_job(job: tuple[Any, ...]) -> tuple[dict[str, int], list[str]]:
    return check_range(*job)


def recheck(now: dt.datetime | None = None, organization_id: str | None = None,
            workers: int | None = None,
            progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Check every stored record again (or one department's); see the module's docstring.

    Args:
        now: The present moment (aware); default now.
        organization_id: Only this department's records.
        workers: Processes that check records (default: the CPUs, at most 8); 1 checks them
            in this process.
        progress: Called with the number of records checked, chunk by chunk.

    Returns:
        Counts: checked, changed (any result), published, withdrawn.
    """
    started = time.monotonic()
    now = now or store.utcnow()
    calendar = config.calendar()
    workers = workers or min(os.cpu_count() or 1, 8)
    connection_string = dsn()
    model.Session.commit()  # our own reads must see what the session wrote
    with psycopg2.connect(connection_string) as connection:
        cuts = boundaries(connection, workers * CHUNKS_PER_WORKER, organization_id)
    connection.close()
    jobs = [(connection_string, low, high, organization_id, now, calendar)
            for low, high in itertools.pairwise(cuts)]
    counts = {"checked": 0, "changed": 0, "published": 0, "withdrawn": 0}
    moved: list[str] = []

    def collect(result: tuple[dict[str, int], list[str]]) -> None:
        part, ids = result
        counts["checked"] += part["checked"]
        counts["changed"] += part["changed"]
        moved.extend(ids)
        if progress:
            progress(part["checked"])

    if workers == 1 or len(jobs) == 1:
        for job in jobs:
            collect(check_range(*job))
    else:
        # fork: the children inherit the loaded calendar and code, and open their own
        # connections (none of this process's is used in them).
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            for result in pool.imap_unordered(_check_range_job, jobs):
                collect(result)
    model.Session.expire_all()
    checked = time.monotonic()
    _publish_moves(moved, now, counts)
    _refresh_parties(moved)
    log.info("recheck: %s records checked in %.1f s, %s moves synced in %.1f s",
             counts["checked"], checked - started, len(moved), time.monotonic() - checked)
    return counts


def _refresh_parties(ids: Sequence[str]) -> None:
    """The credit lookup's entities of the records that reached or left the public, set again
    once every process is done (the database refreshes them as each writes, but two processes
    writing one entity's records at once may leave it a step behind)."""
    for start in range(0, len(ids), 10000):
        model.Session.execute(sa.text(
            "SELECT yantai_credit_party_refresh(ARRAY(SELECT DISTINCT party_code "
            "FROM yantai_disclosure_record WHERE id = ANY(:ids) AND party_code IS NOT NULL))"),
            {"ids": list(ids[start:start + 10000])})
    model.Session.commit()


def _publish_moves(ids: Sequence[str], now: dt.datetime, counts: dict[str, int]) -> None:
    """Sync the DataStore tables and file the pushes of records that reached or left the public."""
    for start in range(0, len(ids), 1000):
        rows = (model.Session.query(DisclosureRecord)
                .filter(DisclosureRecord.id.in_(ids[start:start + 1000])).all())
        by_resource: dict[str, list[DisclosureRecord]] = {}
        for row in rows:
            by_resource.setdefault(row.resource_id, []).append(row)
            counts["published" if row.public else "withdrawn"] += 1
        for resource_id, changed in by_resource.items():
            publish.sync_datastore(resource_id, changed[0].record_type, changed)
            push.plan_pushes(changed, now)
        model.Session.commit()
