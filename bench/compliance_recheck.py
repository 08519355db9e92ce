"""Benchmark: the daily recheck of 1,000,000 stored 双公示 records, end to end.

End to end means what `ckan yantai compliance recheck` does: read every record from PostgreSQL,
apply the rules (working-day deadlines, timeliness by the portal's clock, publicity periods,
code checks), write back the results that changed, and sync to the DataStore and file pushes
for the records that left or reached the public. Goal: under 60 s on this 2-core machine.

Setup (not timed): a department, a dataset and a 行政处罚 resource, and N synthetic records
stored as the intake stores them (results as of the day before, computed by the same rules),
with a realistic mix: decision dates over three years, natural persons, records published late
or not yet, credit codes that fail their check, missing fields, revoked decisions. Two timed
runs:

- ``daily``: the next day's recheck (records turn overdue, publicity periods end): the goal;
- ``rewrite``: every stored result differs (as after a rule change), so every row is written;
  reported for planning (a rule change is a release, not a daily event), not held to the goal.

Run on the test profile's services (scripts/stack.py test-env; `make bench` does both):

    .venv/bin/python bench/compliance_recheck.py --ini .run/etc/test/test.ini --records 1000000

The records are deleted afterwards unless --keep.
"""
from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import multiprocessing
import os
import random
import sys
import time
import uuid
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHANGHAI_OFFSET = dt.timezone(dt.timedelta(hours=8))
DAY = dt.datetime(2026, 11, 26, 20, 0, tzinfo=SHANGHAI_OFFSET)  # the results' "yesterday"
NEXT_DAY = DAY + dt.timedelta(days=1, hours=-18)  # 02:00 the next night
GOAL_SECONDS = 60  # for the daily recheck of 1,000,000 records on a 2-core machine


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ini", required=True, help="CKAN config, e.g. .run/etc/test/test.ini")
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--keep", action="store_true", help="keep the records afterwards")
    args = parser.parse_args(argv)

    from ckan.cli import load_config
    from ckan.config.middleware import make_app

    app = make_app(load_config(args.ini))
    with app._wsgi_app.test_request_context():
        return run(args)


def run(args: argparse.Namespace) -> int:
    import ckan.model as model
    import ckan.plugins.toolkit as tk

    from ckanext.yantai.disclosure import recheck

    resource_id, org_id, package_id = setup_objects()
    print(f"setup: storing {args.records:,} records …", flush=True)
    started = time.perf_counter()
    store_records(resource_id, package_id, org_id, args.records, args.workers)
    print(f"setup: {time.perf_counter() - started:.1f} s", flush=True)
    results: dict[str, Any] = {"records": args.records, "workers": args.workers,
                               "cpus": os.cpu_count()}
    try:
        for name in ("daily", "rewrite"):
            if name == "rewrite":
                forget_results(org_id)
            model.Session.remove()
            started = time.perf_counter()
            counts = recheck.recheck(now=NEXT_DAY, organization_id=org_id,
                                     workers=args.workers)
            elapsed = time.perf_counter() - started
            results[name] = {"seconds": round(elapsed, 1), **counts,
                             "records_per_second": round(counts["checked"] / elapsed)}
            print(f"{name}: {elapsed:.1f} s for {counts['checked']:,} records "
                  f"({counts['checked'] / elapsed:,.0f}/s); {counts['changed']:,} changed, "
                  f"{counts['withdrawn']:,} withdrawn, {counts['published']:,} went online",
                  flush=True)
    finally:
        if not args.keep:
            tk.get_action("dataset_purge")({"ignore_auth": True}, {"id": package_id})
            tk.get_action("organization_purge")({"ignore_auth": True}, {"id": org_id})
    print(json.dumps(results, ensure_ascii=False))
    return 0 if results["daily"]["seconds"] < GOAL_SECONDS else 1


def setup_objects() -> tuple[str, str, str]:
    import ckan.plugins.toolkit as tk

    context = {"ignore_auth": True,
               "user": tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]}
    suffix = uuid.uuid4().hex[:8]
    org = tk.get_action("organization_create")(dict(context), {
        "name": f"bench-{suffix}", "title": "基准测试部门", "dept_code": "11370600MB28A1C3XP",
        "dept_type": "city_department", "region": "370600"})
    dataset = tk.get_action("package_create")(dict(context), {
        "name": f"bench-{suffix}", "title": "行政处罚信息（基准测试）", "owner_org": org["id"],
        "notes": "基准测试数据。", "resource_category": "2-02-003",
        "resource_code": f"2-02-003/{random.randrange(10**7):07d}", "domain": ["credit"],
        "share_type": "unconditional", "share_method": "file", "open_type": "open",
        "update_cycle": "daily", "info_items": [{"name": "行政相对人名称", "data_type": "string"}],
        "contact_office": "数据管理科", "contact_phone": "0535-6788888"})
    resource = tk.get_action("resource_create")(dict(context), {
        "package_id": dataset["id"], "name": "行政处罚决定", "record_type": "penalty", "url": ""})
    return resource["id"], org["id"], dataset["id"]


# -- synthetic records ----------------------------------------------------------------------------

def _test_records() -> Any:
    """The test suite's sample records (tests/yantai/disclosure_records.py), by path: a package
    named ``tests`` from site-packages may shadow the repository's."""
    import importlib.util

    path = os.path.join(ROOT, "tests", "yantai", "disclosure_records.py")
    spec = importlib.util.spec_from_file_location("yantai_disclosure_records", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def synthetic(n: int, rng: random.Random, samples: Any) -> dict[str, str]:
    make_ric, make_uscc, penalty = samples.make_ric, samples.make_uscc, samples.penalty
    decided = dt.date(2023, 12, 1) + dt.timedelta(days=rng.randrange(1090))
    record = penalty(
        行政处罚决定书文号=f"烟罚〔{decided.year}〕{n}号",
        行政相对人代码_1=make_uscc("91370602", f"MA{n % 10**6:06d}"),
        处罚决定日期=decided.isoformat())
    roll = rng.random()
    if roll < 0.10:  # natural persons
        for key in ("行政相对人代码_1", "法定代表人", "法定代表人证件类型", "法定代表人证件号码"):
            record.pop(key, None)
        born = dt.date(1960, 1, 1) + dt.timedelta(days=rng.randrange(16000))
        record.update({"行政相对人名称": "张某", "行政相对人类别": "自然人", "证件类型": "身份证",
                       "证件号码": make_ric(f"370602{born:%Y%m%d}{n % 1000:03d}")})
    elif roll < 0.13:
        code = record["行政相对人代码_1"]
        record["行政相对人代码_1"] = code[:-1] + ("0" if code[-1] != "0" else "1")
    elif roll < 0.15:
        record.pop("处罚依据")
    elif roll < 0.16:
        record["处罚决定日期"] = f"{decided.year}-02-30"
    elif roll < 0.17:
        record["当前状态"] = "撤销"
    elif roll < 0.20:
        record.update({"处罚类别": "吊销许可证件", "暂扣或吊销证照名称及编号": "食品经营许可证"})
    return record


def _rows(job: tuple[int, int, str, str, str, int]) -> str:
    """COPY lines for records start…stop-1, with their results as of DAY (intake's state)."""
    from ckanext.yantai import workdays
    from ckanext.yantai.disclosure import intake, store

    start, stop, resource_id, package_id, org_id, seed = job
    rng = random.Random(seed)
    calendar = workdays.Calendar.from_files(workdays.SHIPPED_TABLE)
    samples = _test_records()
    out = io.StringIO()
    for n in range(start, stop):
        fields = intake.normalise("penalty", synthetic(n, rng, samples)).fields
        decided = fields["处罚决定日期"]
        first_public = None
        if rng.random() < 0.97 and not decided.endswith("-02-30"):
            day = dt.date.fromisoformat(decided) + dt.timedelta(days=rng.choice(
                (1, 2, 3, 5, 8, 9, 12, 20)))
            first_public = dt.datetime.combine(day, dt.time(10), SHANGHAI_OFFSET)
            if first_public > DAY:
                first_public = None
        columns = store.outcome(
            "penalty", fields, first_public_at=first_public, was_public=first_public is not None,
            withdrawn_at=None, warnings=(), intake=(), now=DAY, calendar=calendar)
        values = [str(uuid.uuid4()), resource_id, package_id, org_id,
                  "penalty", intake.record_key("penalty", fields),
                  json.dumps(fields, ensure_ascii=False), "{}", DAY.isoformat(), DAY.isoformat(),
                  _cell(columns["first_public_at"]), _cell(columns["public"]),
                  _cell(columns["withdrawn_at"]), DAY.isoformat(), _cell(columns["valid"]),
                  json.dumps(columns["errors"], ensure_ascii=False), "[]",
                  _cell(columns["decision_date"]), _cell(columns["deadline"]),
                  _cell(columns["timeliness"]), str(columns["working_days_late"]),
                  columns["publish"], _cell(columns["publicity_end"]),
                  _cell(columns["missing_year"]), "none", str(columns["result_digest"])]
        out.write("\t".join(v if v == "\\N" else v.replace("\\", "\\\\")
                             for v in values) + "\n")
    return out.getvalue()


COLUMNS = ("id, resource_id, package_id, organization_id, record_type, record_key, fields, "
           "extra, received_at, updated_at, first_public_at, public, withdrawn_at, checked_at, "
           "valid, errors, warnings, decision_date, deadline, timeliness, working_days_late, "
           "publish, publicity_end, missing_year, push_status, result_digest")


def _cell(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def store_records(resource_id: str, package_id: str, org_id: str, total: int,
                  workers: int) -> None:
    import psycopg2

    from ckanext.yantai.disclosure import recheck

    chunk = 20_000
    jobs = [(start, min(start + chunk, total), resource_id, package_id, org_id, start)
            for start in range(0, total, chunk)]
    with (psycopg2.connect(recheck.dsn()) as connection, connection.cursor() as cur,
          multiprocessing.get_context("fork").Pool(workers) as pool):
        for text in pool.imap(_rows, jobs):
            cur.copy_expert(f"COPY yantai_disclosure_record ({COLUMNS}) FROM STDIN",
                            io.StringIO(text))
    connection.close()
    vacuum()


def vacuum() -> None:
    """What autovacuum does to a table after a bulk load (hint bits, visibility map, statistics):
    without it, the first read of freshly loaded rows also writes every page."""
    import psycopg2

    from ckanext.yantai.disclosure import recheck

    connection = psycopg2.connect(recheck.dsn())
    connection.autocommit = True
    try:
        with connection.cursor() as cur:
            cur.execute("VACUUM (ANALYZE) yantai_disclosure_record")
    finally:
        connection.close()


def forget_results(org_id: str) -> None:
    """Make every stored result differ from what the rules give (as after a rule change), with
    the public state kept, so that the next recheck writes every row; vacuumed afterwards, as
    the autovacuum would have, so that the recheck's updates find room in the pages."""
    import psycopg2

    from ckanext.yantai.disclosure import recheck

    connection = psycopg2.connect(recheck.dsn())
    connection.autocommit = True
    try:
        with connection.cursor() as cur:
            cur.execute("UPDATE yantai_disclosure_record SET result_digest = 0 "
                        "WHERE organization_id = %s", (org_id,))
    finally:
        connection.close()
    vacuum()


if __name__ == "__main__":
    sys.exit(main())
