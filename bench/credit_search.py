"""Benchmark: 信用信息一站式查询 over 1,000,000 双公示 records.

Setup (not timed): a department with a 行政处罚 and a 行政许可 resource in an open dataset, and N
records stored as the intake stores them (their lookup keys by ``disclosure.parties``, their
results by the rules), about firms with realistic names: about one firm per five records, named
as firms here are (a place, a trade name of two characters, a trade, a legal form: 烟台恒瑞化工有限
公司, 莱山区老味道餐饮店), a fifth of them 个体工商户, and a tenth of the records about natural
persons. The database fills ``yantai_credit_party`` from the records, as it does for every write.

Timed: ``yantai_credit_search`` as the API runs it (an anonymous caller, the first page of 20),
for searches people make, drawn at random: trade-name fragments (恒瑞), trades (化工, 食品 — tens
of thousands of firms each), places (烟台, 芝罘 — most firms), whole names, two-word searches,
credit codes and document numbers. Goal: a name-fragment search under 300 ms at the 95th
percentile; every kind is reported.

Run on the test profile's services (scripts/stack.py test-env; `make bench` runs every benchmark):

    .venv/bin/python bench/credit_search.py --ini .run/etc/test/test.ini --records 1000000

The records are deleted afterwards unless --keep.
"""
from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import io
import json
import multiprocessing
import os
import random
import statistics
import sys
import time
import uuid
from typing import Any, NamedTuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHANGHAI_OFFSET = dt.timezone(dt.timedelta(hours=8))
DAY = dt.datetime(2026, 11, 26, 20, 0, tzinfo=SHANGHAI_OFFSET)
GOAL_MS = 300  # p95 of a name-fragment search
SEARCHES = 400

PLACES = ("烟台", "烟台市", "芝罘区", "莱山区", "福山区", "牟平区", "蓬莱区", "龙口市", "莱阳市",
          "莱州市", "招远市", "栖霞市", "海阳市", "长岛")
# trade names: two characters from this pool (a few thousand pairs)
TRADE_CHARS = ("恒瑞华泰鑫源盛丰隆兴昌达宏远德润嘉和永安祥福康宁海天金鼎佳信诚蓝鲸东方"
               "明辉晨光锦绣顺发广聚新元博通汇中万家百合春秋山水红日银河振华同创正阳")
TRADES = ("化工", "食品", "酒店", "餐饮", "建材", "物流", "科技", "机械", "果业", "水产", "海洋",
          "医药", "商贸", "建筑", "电子", "纺织", "印刷", "汽车维修", "农业", "葡萄酒", "黄金",
          "环保", "网络", "文化传媒", "教育咨询")
FORMS = ("有限公司", "有限公司", "有限公司", "有限责任公司", "股份有限公司", "专业合作社")
SOLE_FORMS = ("店", "商行", "经营部", "小吃店", "维修部", "超市")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ini", required=True, help="CKAN config, e.g. .run/etc/test/test.ini")
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--searches", type=int, default=SEARCHES)
    parser.add_argument("--keep", action="store_true", help="keep the records afterwards")
    args = parser.parse_args(argv)

    from ckan.cli import load_config
    from ckan.config.middleware import make_app

    app = make_app(load_config(args.ini))
    with app._wsgi_app.test_request_context():
        return run(args)


def _recheck_bench() -> Any:
    """bench/compliance_recheck.py (its department setup and COPY helpers), by path."""
    path = os.path.join(ROOT, "bench", "compliance_recheck.py")
    spec = importlib.util.spec_from_file_location("yantai_bench_recheck", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(args: argparse.Namespace) -> int:
    import ckan.model as model
    import ckan.plugins.toolkit as tk

    bench = _recheck_bench()
    penalty_id, org_id, package_id = bench.setup_objects()
    license_id = tk.get_action("resource_create")(
        {"ignore_auth": True, "user": tk.get_action("get_site_user")({"ignore_auth": True},
                                                                      {})["name"]},
        {"package_id": package_id, "name": "行政许可决定", "record_type": "license",
         "url": ""})["id"]
    print(f"setup: storing {args.records:,} records …", flush=True)
    started = time.perf_counter()
    store_records(bench, {"penalty": penalty_id, "license": license_id}, package_id, org_id,
                  args.records, args.workers)
    parties = model.Session.execute(_sql("SELECT count(*) FROM yantai_credit_party")).scalar()
    print(f"setup: {time.perf_counter() - started:.1f} s, {parties:,} market entities",
          flush=True)
    results: dict[str, Any] = {"records": args.records, "entities": parties,
                               "cpus": os.cpu_count()}
    try:
        searches = sample_searches(random.Random(7), args.records, args.searches)
        timings: dict[str, list[float]] = {}
        action = tk.get_action("yantai_credit_search")
        for _kind, text in searches[:20]:  # warm the caches, as a running portal has them
            action({"user": ""}, {"q": text})
        found: dict[str, int] = {}
        for kind, text in searches:
            model.Session.remove()
            started = time.perf_counter()
            result = action({"user": ""}, {"q": text})
            timings.setdefault(kind, []).append((time.perf_counter() - started) * 1000)
            found[kind] = found.get(kind, 0) + int(bool(result["results"] or result["documents"]))
        names = [t for kind, values in timings.items() for t in values
                 if kind in ("trade name", "trade", "place", "whole name", "two words")]
        results["name_fragment"] = _figures(names)
        results["by_kind"] = {kind: {**_figures(values), "found": found[kind]}
                              for kind, values in timings.items()}
        for kind, figures in results["by_kind"].items():
            print(f"{kind:>12}: median {figures['median_ms']} ms, p95 {figures['p95_ms']} ms "
                  f"({figures['searches']} searches, {figures['found']} found something)")
        print(f"name fragments: median {results['name_fragment']['median_ms']} ms, "
              f"p95 {results['name_fragment']['p95_ms']} ms (goal < {GOAL_MS} ms)")
    finally:
        if not args.keep:
            tk.get_action("dataset_purge")({"ignore_auth": True}, {"id": package_id})
            tk.get_action("organization_purge")({"ignore_auth": True}, {"id": org_id})
    print(json.dumps(results, ensure_ascii=False))
    return 0 if results["name_fragment"]["p95_ms"] < GOAL_MS else 1


def _sql(text: str) -> Any:
    import sqlalchemy as sa

    return sa.text(text)


def _figures(values: list[float]) -> dict[str, Any]:
    ordered = sorted(values)
    return {"searches": len(values), "median_ms": round(statistics.median(ordered), 1),
            "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 1),
            "max_ms": round(ordered[-1], 1)}


# -- synthetic firms and records ------------------------------------------------------------------

class Firm(NamedTuple):
    name: str
    trade_name: str
    trade: str
    org: str  # its organisation code (8 characters)
    sole: bool  # a 个体工商户


def firm(number: int) -> Firm:
    rng = random.Random(number)
    trade_name = "".join(rng.sample(TRADE_CHARS, 2))
    sole = rng.random() < 0.2
    place = rng.choice(PLACES)
    trade = rng.choice(TRADES[:12] if sole else TRADES)
    form = rng.choice(SOLE_FORMS if sole else FORMS)
    return Firm(f"{place}{trade_name}{trade}{form}", trade_name, trade, f"MA{number:06d}", sole)


def document_number(kind: str, n: int) -> str:
    prefix = "烟审批许" if kind == "license" else "烟市监罚"
    return f"{prefix}〔{2024 + n % 3}〕{n}号"


def record(n: int, firms: int, rng: random.Random, samples: Any) -> tuple[str, dict[str, str]]:
    entity = firm(rng.randrange(firms))
    name, sole = entity.name, entity.sole
    code = samples.make_uscc("92370602" if sole else "91370602", entity.org)
    decided = dt.date(2024, 1, 2) + dt.timedelta(days=rng.randrange(1050))
    kind = "license" if rng.random() < 0.6 else "penalty"
    party = {"行政相对人名称": name, "行政相对人类别": "个体工商户" if sole else "法人及非法人组织",
             "行政相对人代码_1": code}
    if rng.random() < 0.1:  # a natural person
        party = {"行政相对人名称": rng.choice("张王李赵刘陈杨黄") + "某" * rng.choice((1, 2)),
                 "行政相对人类别": "自然人", "行政相对人代码_1": None, "法定代表人": None,
                 "法定代表人证件类型": None, "法定代表人证件号码": None, "证件类型": "身份证",
                 "证件号码": samples.make_ric(f"37060219{rng.randrange(60, 99)}0101{n % 1000:03d}")}
    if kind == "license":
        fields = samples.license(**party, 行政许可决定文书号=document_number(kind, n),
                                 许可决定日期=decided.isoformat(), 有效期自=decided.isoformat())
    else:
        fields = samples.penalty(**party, 行政处罚决定书文号=document_number(kind, n),
                                 处罚决定日期=decided.isoformat())
    return kind, fields


COLUMNS_EXTRA = ", party_code, party_name, party_search, document_number"


def _rows(job: tuple[int, int, dict[str, str], str, str, int, int]) -> str:
    """COPY lines for records start…stop-1, as the intake stores them."""
    from ckanext.yantai import workdays
    from ckanext.yantai.disclosure import intake, parties, store

    start, stop, resources, package_id, org_id, firms, seed = job
    bench = _recheck_bench()
    rng = random.Random(seed)
    calendar = workdays.Calendar.from_files(workdays.SHIPPED_TABLE)
    samples = bench._test_records()
    out = io.StringIO()
    for n in range(start, stop):
        kind, raw = record(n, firms, rng, samples)
        fields = intake.normalise(kind, raw).fields
        decided = dt.date.fromisoformat(fields[
            "许可决定日期" if kind == "license" else "处罚决定日期"])
        first_public = min(dt.datetime.combine(decided + dt.timedelta(days=rng.choice((1, 2, 5))),
                                               dt.time(10), SHANGHAI_OFFSET), DAY)
        columns = store.outcome(
            kind, fields, first_public_at=first_public, was_public=True, withdrawn_at=None,
            warnings=(), intake=(), now=DAY, calendar=calendar)
        keys = parties.keys(kind, fields)
        values = [str(uuid.uuid4()), resources[kind], package_id, org_id,
                  kind, intake.record_key(kind, fields),
                  json.dumps(fields, ensure_ascii=False), "{}", DAY.isoformat(), DAY.isoformat(),
                  bench._cell(columns["first_public_at"]), bench._cell(columns["public"]),
                  bench._cell(columns["withdrawn_at"]), DAY.isoformat(),
                  bench._cell(columns["valid"]),
                  json.dumps(columns["errors"], ensure_ascii=False), "[]",
                  bench._cell(columns["decision_date"]), bench._cell(columns["deadline"]),
                  bench._cell(columns["timeliness"]), str(columns["working_days_late"]),
                  columns["publish"], bench._cell(columns["publicity_end"]),
                  bench._cell(columns["missing_year"]), "none", str(columns["result_digest"]),
                  *(bench._cell(value) for value in keys)]
        out.write("\t".join(v if v == "\\N" else v.replace("\\", "\\\\")
                             for v in values) + "\n")
    return out.getvalue()


def store_records(bench: Any, resources: dict[str, str], package_id: str, org_id: str,
                  total: int, workers: int) -> None:
    import psycopg2

    from ckanext.yantai.disclosure import recheck

    firms = max(total // 5, 1)
    chunk = 20_000
    jobs = [(start, min(start + chunk, total), resources, package_id, org_id, firms, start)
            for start in range(0, total, chunk)]
    with (psycopg2.connect(recheck.dsn()) as connection, connection.cursor() as cur,
          multiprocessing.get_context("fork").Pool(workers) as pool):
        for text in pool.imap(_rows, jobs):
            cur.copy_expert(
                f"COPY yantai_disclosure_record ({bench.COLUMNS}{COLUMNS_EXTRA}) FROM STDIN",
                io.StringIO(text))
    connection.close()
    bench.vacuum()
    connection = psycopg2.connect(recheck.dsn())
    connection.autocommit = True
    try:
        with connection.cursor() as cur:
            cur.execute("VACUUM (ANALYZE) yantai_credit_party")
    finally:
        connection.close()


def sample_searches(rng: random.Random, records: int, count: int) -> list[tuple[str, str]]:
    """(kind, text) of searches as people make them."""
    firms = max(records // 5, 1)
    searches: list[tuple[str, str]] = []
    for _ in range(count):
        roll = rng.random()
        entity = firm(rng.randrange(firms))
        if roll < 0.35:
            trade = "".join(rng.sample(TRADE_CHARS, 2))
            searches.append(("trade name", trade))
        elif roll < 0.50:
            searches.append(("trade", rng.choice(TRADES)))
        elif roll < 0.60:
            searches.append(("place", rng.choice(("烟台", "芝罘", "莱山", "龙口", "蓬莱"))))
        elif roll < 0.75:
            searches.append(("whole name", entity.name))
        elif roll < 0.82:
            searches.append(("two words", f"{entity.trade_name} {entity.trade}"))
        elif roll < 0.92:
            searches.append(("code", _test_code(entity.org, entity.sole)))
        else:  # as people type it: other brackets
            number = document_number(rng.choice(("license", "penalty")), rng.randrange(records))
            searches.append(("document", number.replace("〔", "（").replace("〕", "）")))
    return searches


def _test_code(org: str, sole: bool) -> str:
    samples = _recheck_bench()._test_records()
    return samples.make_uscc("92370602" if sole else "91370602", org)


if __name__ == "__main__":
    sys.exit(main())
