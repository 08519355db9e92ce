"""`make up` on a fresh runtime folder serves the portal with its demo; a second run keeps it.

Runs the real command in an isolated RUN_DIR with its own free ports, so it never touches the
developer's portal or the test services, and stops everything with `make down` at the end.
"""
from __future__ import annotations

import configparser
import json
import os
import pathlib
import re
import shutil
import stat
import subprocess
import time
import urllib.parse
import urllib.request

import pytest

from tests.conftest import ROOT
from tests.stack.helpers import accepts_connections, free_port, get_json


@pytest.fixture(scope="module")
def stack_env():
    run_dir = ROOT / ".run" / "test-make-up"
    shutil.rmtree(run_dir, ignore_errors=True)
    ports = {name: str(free_port()) for name in ("PG_PORT", "REDIS_PORT", "SOLR_PORT", "CKAN_PORT",
                                                 "CREDIT_RECEIVER_PORT", "DEMO_FEEDS_PORT")}
    env = {**os.environ, **ports, "RUN_DIR": str(run_dir)}
    for inherited in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS"):
        env.pop(inherited, None)
    yield env
    subprocess.run(["make", "down"], cwd=ROOT, env=env, capture_output=True, timeout=300)
    for name, port in ports.items():
        assert not accepts_connections("127.0.0.1", int(port)), f"{name} still open after make down"
    shutil.rmtree(run_dir, ignore_errors=True)


def make_up(env) -> str:
    result = subprocess.run(["make", "up"], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=900)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return result.stdout


def indexed(url: str) -> set[tuple[str, str, str]]:
    """Every dataset and harvest source an anonymous visitor finds, with its state and type."""
    found = get_json(f"{url}/api/3/action/package_search?rows=1000")["result"]
    assert found["count"] == len(found["results"])
    return {(d["name"], d["state"], d["type"]) for d in found["results"]}


def test_make_up_twice(stack_env):
    url = f"http://127.0.0.1:{stack_env['CKAN_PORT']}"

    first = make_up(stack_env)
    assert "The portal is up" in first and url in first

    status = get_json(f"{url}/api/3/action/status_show")["result"]
    assert {"yantai", "datastore", "scheming_datasets", "dcat", "harvest"} <= set(
        status["extensions"])
    common = configparser.RawConfigParser()
    common.read(pathlib.Path(stack_env["RUN_DIR"]) / "etc" / "development" / "common.ini")
    for key in ("ckan.datastore.write_url", "ckan.datastore.read_url"):
        assert urllib.parse.urlparse(common.get("app:main", key)).path == "/datastore_default"
    assert status["locale_default"] == "zh_Hans_CN"
    found = get_json(f"{url}/api/3/action/package_search?q=" + urllib.parse.quote("公交"))
    assert "烟台市公交线路站点信息" in [d["title"] for d in found["result"]["results"]]
    with urllib.request.urlopen(url + "/") as resp:
        assert '<html lang="zh-Hans-CN"' in resp.read().decode("utf-8")
    # The demo's release feed is harvested over loopback HTTP into the department's datasets.
    assert "jtj-release: 2 added, 0 updated, 0 not modified, 0 withdrawn, 0 errors" in first
    taxi = get_json(f"{url}/api/3/action/package_search?q=" + urllib.parse.quote("机动车维修企业"))
    harvested = [d for d in taxi["result"]["results"] if d["resource_code"] == "2-02-003/0101"]
    assert harvested and harvested[0]["organization"]["name"] == "ytjtysj"
    assert harvested[0]["resources"][0]["url_type"] == "upload"
    # The demo's 双公示 feed (GB18030, 2016 headers): three records published, one reported.
    assert "credit-penalties: 1 added, 0 updated, 0 not modified, 0 withdrawn, 1 errors" in first
    assert "第 5 行：" in first
    # The demo's catalogue spreadsheet: two rows (new to the source) give the catalogue fields of
    # the department's datasets, whose files stay; one is reported by row.
    assert "wsjkw-catalogue: 2 added, 0 updated, 0 not modified, 0 withdrawn, 1 errors" in first
    # A district's CKAN portal and the province's DCAT catalogue, mapped into the schema.
    assert "laishan-ckan: 3 added, 0 updated, 0 not modified, 0 withdrawn, 0 errors" in first
    assert "sd-dcat: 7 added, 0 updated, 0 not modified, 0 withdrawn, 0 errors" in first
    air = get_json(f"{url}/api/3/action/package_search?q="
                   + urllib.parse.quote("国控站点空气质量日均值"))
    assert {d["resource_code"]: d["organization"]["name"] for d in air["result"]["results"]
            if d["title"] == "烟台市国控站点空气质量日均值"} == {"3-01-001/0101": "ytdsjj"}

    admin_file = pathlib.Path(stack_env["RUN_DIR"]) / "admin.json"
    assert stat.S_IMODE(admin_file.stat().st_mode) == 0o600
    admin = json.loads(admin_file.read_text())
    assert set(admin) == {"name", "password", "api_token"}
    request = urllib.request.Request(f"{url}/api/3/action/api_token_list?user_id=admin",
                                     headers={"Authorization": admin["api_token"]})
    with urllib.request.urlopen(request) as resp:
        assert json.load(resp)["success"] is True
    datasets = indexed(url)

    # Every table file of the demo, uploaded or harvested, is in the DataStore (make up waits
    # for the worker), its rows searchable through the API.
    # (as the admin: the tables of conditional and closed data are withheld from the public)
    search = urllib.request.Request(f"{url}/api/3/action/package_search?rows=1000",
                                    headers={"Authorization": admin["api_token"]})
    with urllib.request.urlopen(search) as resp:
        everything = json.load(resp)["result"]["results"]
    tables = [(d["name"], r) for d in everything for r in d["resources"]
              if str(r.get("format") or "").upper() in ("CSV", "TSV", "XLSX", "XLS", "JSON")
              and not r.get("record_type") and r.get("url_type") in ("upload", "", None)]
    assert len(tables) >= 50
    def load_status(name: str, resource: dict) -> str:
        with urllib.request.urlopen(f"{url}/dataset/{name}/resource/{resource['id']}") as resp:
            page = resp.read().decode("utf-8")
        found = re.search(r'yantai-datastore-status[^>]*>(.*?)</div>', page, re.S)
        return re.sub(r"<[^>]+>|\s+", " ", found[1]).strip() if found else "no status"

    assert [(name, r["name"], r["format"], load_status(name, r)) for name, r in tables
            if not r.get("datastore_active")] == []
    stops = get_json(f"{url}/api/3/action/datastore_search?q="
                     + urllib.parse.quote("毓璜顶") + "&resource_id="
                     + next(r["id"] for _, r in tables if r["name"] == "公交线路站点表"))
    assert stops["result"]["total"] == 1

    # The demo's 双公示 records are published (masked) in the DataStore and pushed to the
    # loopback stand-in for 信用烟台 by the background worker.
    penalty = get_json(f"{url}/api/3/action/package_show?id=administrative-penalty-disclosure")
    resource = penalty["result"]["resources"][0]
    assert resource["url_type"] == "datastore"
    rows = get_json(f"{url}/api/3/action/datastore_search?resource_id={resource['id']}")
    assert rows["result"]["total"] == 10  # 7 loaded by the demo, 3 harvested
    secrets_file = pathlib.Path(stack_env["RUN_DIR"]) / "secrets.json"
    receiver = urllib.request.Request(
        f"http://127.0.0.1:{stack_env['CREDIT_RECEIVER_PORT']}/disclosures",
        headers={"Authorization": "Bearer " + json.loads(secrets_file.read_text())["CREDIT_TOKEN"]})
    deadline = time.monotonic() + 120
    while True:
        with urllib.request.urlopen(receiver) as resp:
            received = json.load(resp)
        if len(received) >= 19 or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert len(received) == 19, "9 licences and 10 penalties pushed"

    second = make_up(stack_env)
    summary = [line.strip() for line in second.splitlines() if "demo catalogue:" in line]
    assert len(summary) == 1 and summary[0].startswith("demo catalogue: unchanged "), summary
    assert "," not in summary[0], summary  # nothing created, updated or deleted
    assert "jtj-release: 0 added, 0 updated, 2 not modified, 0 withdrawn, 0 errors" in second
    assert "credit-penalties: 0 added, 0 updated, 1 not modified, 0 withdrawn, 0 errors" in second
    assert "wsjkw-catalogue: 0 added, 0 updated, 2 not modified, 0 withdrawn, 1 errors" in second
    assert "laishan-ckan: 0 added, 0 updated, 3 not modified, 0 withdrawn, 0 errors" in second
    assert "sd-dcat: 0 added, 0 updated, 7 not modified, 0 withdrawn, 0 errors" in second
    again = indexed(url)
    # By name, state and type, so that a difference says which dataset the second run brought.
    assert again == datasets, (sorted(again - datasets), sorted(datasets - again))
    assert json.loads(admin_file.read_text())["api_token"] == admin["api_token"]
