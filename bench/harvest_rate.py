"""Benchmark: harvest rates of the portal's own harvesters, end to end over loopback HTTP.

- ``yantai_release``: a manifest of N datasets, each with one CSV file copied into the file store,
  harvested into an empty department (datasets per minute), then harvested again unchanged;
- ``ckan``: a district CKAN portal's N datasets (the tests' package_search stand-in, paged by 100)
  mapped into the schema, each with one link resource (datasets per minute), then again unchanged;
- ``yantai_disclosure``: a 双公示 penalty feed of M records (CSV, GB18030) through the compliance
  checker into the DataStore (records per second).

Each harvest runs as ``ckan yantai harvest run`` does (gather, fetch and import in one process,
through ckanext-harvest's stages); the queue consumers add their own scheduling on top. Run on the
test profile's services (scripts/stack.py test-env; `make bench` runs every benchmark):

    .venv/bin/python bench/harvest_rate.py --ini .run/etc/test/test.ini \
        --datasets 200 --records 20000

The department and its datasets are purged afterwards.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import sys
import time
import uuid
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ini", required=True)
    parser.add_argument("--datasets", type=int, default=200)
    parser.add_argument("--records", type=int, default=20_000)
    args = parser.parse_args(argv)

    from ckan.cli import load_config
    from ckan.config.middleware import make_app

    app = make_app(load_config(args.ini))
    with app._wsgi_app.test_request_context():
        return run(args)


def run(args: argparse.Namespace) -> int:
    import ckan.plugins.toolkit as tk

    from ckanext.yantai.harvest import runner

    server = _load("tests/yantai/feeds.py").FeedServer().__enter__()  # the tests' feed server
    tk.config["ckanext.yantai.harvest.allowed_hosts"] = [f"127.0.0.1:{server.port}"]
    base = f"http://127.0.0.1:{server.port}"
    context = {"ignore_auth": True,
               "user": tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]}
    suffix = uuid.uuid4().hex[:8]
    samples = _load("tests/yantai/disclosure_records.py")
    code = samples.make_uscc("11370600", f"B{suffix[:7].upper()}")
    org = tk.get_action("organization_create")(dict(context), {
        "name": f"bench-harvest-{suffix}", "title": "采集基准测试部门", "dept_code": code,
        "dept_type": "city_department", "region": "370600"})
    results: dict[str, Any] = {}
    try:
        server.files.update(release_feed(org, code, args.datasets))
        source = tk.get_action("harvest_source_create")(dict(context), {
            "name": f"bench-release-{suffix}", "url": f"{base}/release/manifest.json",
            "source_type": "yantai_release", "owner_org": org["id"]})
        results.update(twice(runner, source["id"], "release", args.datasets))

        feeds = _load("tests/yantai/feeds.py")
        feeds.ckan_api(server, remote_packages(args.datasets), prefix="/district")
        portal = tk.get_action("harvest_source_create")(dict(context), {
            "name": f"bench-ckan-{suffix}", "url": f"{base}/district", "source_type": "ckan",
            "owner_org": org["id"], "config": json.dumps({"yantai": {
                "open_type": "open", "share_type": "unconditional",
                "defaults": {"resource_category": "2-02-009", "domain": ["transport"],
                             "share_method": "file", "update_cycle": "monthly",
                             "contact_office": "数据管理科", "contact_phone": "0535-6788888",
                             "info_items": [{"name": "名称", "data_type": "string"}]}}})})
        results.update(twice(runner, portal["id"], "ckan", args.datasets))

        dataset = tk.get_action("package_create")(dict(context), {
            "name": f"bench-disclosure-{suffix}", "title": "行政处罚信息（采集基准）",
            "owner_org": org["id"], "notes": "基准测试。", "resource_category": "1-04-002",
            "resource_code": f"1-04-002/{int(suffix[:6], 16) % 10**7:07d}",
            "domain": ["credit"], "share_type": "unconditional", "share_method": "api",
            "open_type": "open", "update_cycle": "daily",
            "info_items": [{"name": "行政相对人名称", "data_type": "string"}],
            "contact_office": "数据管理科", "contact_phone": "0535-6788888"})
        tk.get_action("resource_create")(dict(context), {
            "package_id": dataset["id"], "name": "行政处罚决定", "record_type": "penalty",
            "url": ""})
        server.files["/credit/penalties.csv"] = disclosure_feed(samples, args.records)
        feed = tk.get_action("harvest_source_create")(dict(context), {
            "name": f"bench-feed-{suffix}", "url": f"{base}/credit/penalties.csv",
            "source_type": "yantai_disclosure", "owner_org": org["id"],
            "config": json.dumps({"record_type": "penalty"})})
        started = time.perf_counter()
        job = runner.run(feed["id"])
        elapsed = time.perf_counter() - started
        results["disclosure"] = {"seconds": round(elapsed, 1), "stats": job["stats"],
                                 "records_per_second": round(args.records / elapsed)}
        print(f"disclosure: {args.records} records in {elapsed:.1f} s "
              f"({args.records / elapsed:,.0f}/s) {job['stats']}", flush=True)
    finally:
        server.__exit__(None, None, None)
        purge(context, org["id"])
    print(json.dumps(results, ensure_ascii=False))
    return 0


def twice(runner: Any, source_id: str, name: str, datasets: int) -> dict[str, Any]:
    """A source harvested into an empty department, then again with nothing changed."""
    results = {}
    for label in (name, f"{name}_unchanged"):
        started = time.perf_counter()
        job = runner.run(source_id)
        elapsed = time.perf_counter() - started
        results[label] = {"seconds": round(elapsed, 1), "stats": job["stats"],
                          "datasets_per_minute": round(datasets / elapsed * 60)}
        print(f"{label}: {datasets} datasets in {elapsed:.1f} s "
              f"({datasets / elapsed * 60:,.0f}/min) {job['stats']}", flush=True)
    return results


def _load(relative: str) -> Any:
    """A module of the test suite, by path: a package named ``tests`` from site-packages may
    shadow the repository's."""
    import importlib.util

    path = os.path.join(ROOT, relative)
    spec = importlib.util.spec_from_file_location(
        "yantai_bench_" + os.path.basename(relative)[:-3], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def release_feed(org: dict[str, Any], code: str, count: int) -> dict[str, bytes]:
    files = {}
    entries = []
    for n in range(count):
        content = f"线路名称,站点序号,站点名称\n{n}路,1,站点{n}\n".encode()
        files[f"/release/files/{n}.csv"] = content
        entries.append({
            "resource_code": f"2-02-003/{n + 1:06d}", "title": f"公交线路 {n}",
            "notes": f"第 {n} 条线路的站点。", "resource_category": "2-02-003",
            "domain": ["transport"], "share_type": "unconditional", "share_method": "file",
            "open_type": "open", "update_cycle": "monthly",
            "info_items": [{"name": "线路名称", "data_type": "string"}],
            "contact_office": "数据管理科", "contact_phone": "0535-6788888", "tags": ["公交"],
            "resources": [{"name": "站点表", "file": f"files/{n}.csv", "format": "CSV",
                           "sha256": hashlib.sha256(content).hexdigest()}]})
    files["/release/manifest.json"] = json.dumps({
        "format": "yantai-release", "version": 1,
        "publisher": {"name": org["title"], "dept_code": code}, "datasets": entries},
        ensure_ascii=False).encode()
    return files


def remote_packages(count: int) -> list[dict[str, Any]]:
    return [{"id": f"remote-{n:06d}", "name": f"remote-{n}", "title": f"县区数据集 {n}",
             "notes": f"县区门户的第 {n} 个数据集。", "type": "dataset", "private": False,
             "tags": [{"name": "县区"}],
             "resources": [{"id": f"r-{n}", "name": "数据表", "format": "CSV",
                            "url": f"https://data.district.example/files/{n}.csv"}]}
            for n in range(count)]


def disclosure_feed(samples: Any, count: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    columns = list(samples.penalty())
    writer.writerow(columns)
    for n in range(count):
        record = samples.penalty(
            行政处罚决定书文号=f"烟市监罚〔2026〕{n}号",
            行政相对人代码_1=samples.make_uscc("91370602", f"MA{n % 10**6:06d}"))
        writer.writerow([record.get(c, "") for c in columns])
    return out.getvalue().encode("gb18030")


def purge(context: dict[str, Any], org_id: str) -> None:
    import ckan.model as model
    import ckan.plugins.toolkit as tk

    sources = [p.id for p in model.Session.query(model.Package).filter_by(
        owner_org=org_id, type="harvest")]
    from ckanext.harvest.logic.action.update import harvest_source_clear

    for source in sources:
        # ckanext-harvest's own clear: the portal's guard refuses it for 双公示 sources, whose
        # records are purged with the department's datasets below anyway.
        harvest_source_clear(dict(context), {"id": source})
        tk.get_action("dataset_purge")(dict(context), {"id": source})
    for package in model.Session.query(model.Package.id).filter_by(owner_org=org_id).all():
        tk.get_action("dataset_purge")(dict(context), {"id": package[0]})
    tk.get_action("organization_purge")(dict(context), {"id": org_id})


if __name__ == "__main__":
    sys.exit(main())
