"""The registry of harvest sources (harvesters/registry.yaml) and the `ckan yantai harvest`
commands: loading is idempotent, bad entries are named, a run shows its counts and errors."""
from __future__ import annotations

import json
import pathlib
import socket
import subprocess
import sys
import time

import ckan.model as model
import pytest
from ckan.cli.cli import ckan
from ckan.tests.helpers import call_action

from ckanext.yantai.harvest import registry
from tests import factories
from tests.conftest import ROOT
from tests.yantai.demo.test_catalogue import DCAT_DOMAINS
from tests.yantai.feeds import allow
from tests.yantai.harvest.test_harvest_release import entry, manifest

pytestmark = [pytest.mark.usefixtures("clean_db", "clean_index", "with_request_context"),
              pytest.mark.usefixtures("feeds_allowed"),
              pytest.mark.ckan_config("ckanext.yantai.harvest.allowed_hosts",
                                      "127.0.0.1:9 127.0.0.1:8999")]


def write(path: pathlib.Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def source(name: str) -> dict:
    return call_action("harvest_source_show", context={"ignore_auth": True}, id=name)


def test_loading_creates_updates_and_leaves_alone(tmp_path, monkeypatch):
    org = factories.Organization(name="ytjtysj")
    monkeypatch.setenv("FEEDS_PORT", "8999")
    text = f"""
sources:
  - name: jtj-release
    title: 交通运输局发布清单
    department: {org['name']}
    type: yantai_release
    url: http://127.0.0.1:${{FEEDS_PORT}}/release/manifest.json
    schedule: daily
"""
    path = write(tmp_path / "registry.yaml", text)
    assert registry.load(path) == [("jtj-release", "created")]
    created = source("jtj-release")
    assert created["url"] == "http://127.0.0.1:8999/release/manifest.json"
    assert (created["frequency"], created["owner_org"]) == ("DAILY", org["id"])
    assert registry.load(path) == [("jtj-release", "unchanged")]

    write(tmp_path / "registry.yaml", text + '    config: {"allow_empty": true}\n')
    assert registry.load(path) == [("jtj-release", "updated")]
    assert json.loads(source("jtj-release")["config"]) == {"allow_empty": True}
    assert source("jtj-release")["id"] == created["id"]
    assert registry.load(path) == [("jtj-release", "unchanged")]


def test_entries_that_cannot_be_loaded_are_named(tmp_path):
    factories.Organization(name="ytjtysj")
    path = write(tmp_path / "registry.yaml", """
sources:
  - name: no-department
    department: nowhere
    type: yantai_release
    url: http://127.0.0.1:9/m.json
  - name: private-address
    department: ytjtysj
    type: ckan
    url: http://192.168.1.10/
  - name: fine
    department: ytjtysj
    type: yantai_release
    url: http://127.0.0.1:9/m.json
""")
    outcome = dict(registry.load(path))
    assert outcome["no-department"] == "error: no department nowhere"
    assert outcome["private-address"].startswith("error:") and "内网" in outcome["private-address"]
    assert outcome["fine"] == "created"


@pytest.mark.parametrize("text, expected", [
    ("sources: {}", "a list of sources"),
    ("sources:\n  - name: x\n    department: d\n    type: t\n", "'url' is required"),
    ("sources:\n  - {name: x, department: d, type: t, url: u, schedule: hourly}\n",
     "schedule must be one of"),
    ("sources:\n  - {name: x, department: d, type: t, url: u, colour: red}\n", "unknown keys"),
    ("sources:\n  - {name: x, department: d, type: t, url: 'http://${NO_SUCH_VARIABLE}/'}\n",
     "NO_SUCH_VARIABLE"),
    ("sources: [\n", "registry.yaml"),
])
def test_malformed_registries_are_refused_whole(tmp_path, text, expected):
    path = write(tmp_path / "registry.yaml", text)
    with pytest.raises(registry.RegistryError) as error:
        registry.read(path)
    assert expected in str(error.value)


def test_the_shipped_registries_are_valid(monkeypatch):
    monkeypatch.setenv("DEMO_FEEDS_PORT", "8903")
    assert registry.read(str(ROOT / "harvesters" / "registry.yaml")) == []
    demo = registry.read(str(ROOT / "harvesters" / "demo" / "registry.yaml"))
    assert [s["type"] for s in demo] == ["yantai_release", "yantai_disclosure",
                                         "yantai_catalogue", "ckan", "dcat_rdf"]


@pytest.fixture
def demo_feeds(monkeypatch):
    """harvesters/demo/serve.py as make up runs it (the CKAN stand-in and the DCAT pages)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, str(ROOT / "harvesters" / "demo" / "serve.py"),
                               str(port)], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert time.monotonic() < deadline and server.poll() is None, "serve.py did not start"
            time.sleep(0.1)
    monkeypatch.setenv("DEMO_FEEDS_PORT", str(port))
    allow(monkeypatch, f"127.0.0.1:{port}")  # as make up allow-lists its feed server
    yield port
    server.terminate()
    server.wait(10)


def test_the_demos_ckan_and_dcat_sources_harvest_their_feeds(demo_feeds, tmp_path):
    import yaml

    from ckanext.yantai.harvest import runner

    demo = yaml.safe_load((ROOT / "harvesters" / "demo" / "registry.yaml").read_text("utf-8"))
    remote = [s for s in demo["sources"] if s["type"] in ("ckan", "dcat_rdf")]
    for entry_ in remote:
        factories.Organization(name=entry_["department"])
    path = write(tmp_path / "registry.yaml", yaml.safe_dump({"sources": remote},
                                                            allow_unicode=True))
    assert registry.load(path) == [("laishan-ckan", "created"), ("sd-dcat", "created")]

    laishan = runner.run("laishan-ckan")
    assert (laishan["stats"]["added"], laishan["stats"]["errored"]) == (3, 0), \
        runner.report(laishan["id"])
    assert runner.report(laishan["id"])["gather_errors"] == []
    sd = runner.run("sd-dcat")
    assert (sd["stats"]["added"], sd["stats"]["errored"]) == (len(DCAT_DOMAINS), 0), \
        runner.report(sd["id"])
    shown = call_action("package_search", context={"ignore_auth": True},
                        fq="organization:lsqrmzf OR organization:ytdsjj", rows=50,
                        include_private=True)["results"]
    codes = sorted(d["resource_code"] for d in shown)
    assert codes == [f"3-01-001/{n:04d}" for n in range(101, 101 + len(DCAT_DOMAINS))] + [
        "3-13-001/0001", "3-13-001/0002", "3-13-002/0001"]
    # Each dataset in its own policy domain: from its dcat:theme (the province's codes through
    # the source's values, EU themes through the harvester's table) or the district's groups.
    domains = {d["title"]: d["domain"] for d in shown}
    assert {t: domains[t] for t in DCAT_DOMAINS} == DCAT_DOMAINS
    assert {t: domains[t] for t in LAISHAN_DOMAINS} == LAISHAN_DOMAINS
    tiers = {d["title"]: (d["open_type"], d["license_id"], d["open_condition"]) for d in shown}
    condition = [s for s in remote if s["name"] == "sd-dcat"][0]["config"]["yantai"][
        "defaults"]["open_condition"]
    assert tiers["烟台市新设立市场主体名录"] == ("conditional", "yantai-conditional-1.0", condition)
    assert tiers["烟台市失信被执行人名单"] == ("open", "cc-by", "")  # no condition on open data
    firms = [d for d in shown if d["title"] == "烟台市新设立市场主体名录"][0]
    firms_dataset = model.Package.get(firms["id"])
    assert firms_dataset is not None
    assert firms_dataset.resources[0].url == \
        f"http://127.0.0.1:{demo_feeds}/sd-dcat/files/new-firms.csv"  # (hidden to anonymous)
    assert all(d["num_resources"] >= 1 for d in shown)
    assert runner.run("laishan-ckan")["stats"]["not modified"] == 3
    assert runner.run("sd-dcat")["stats"]["not modified"] == len(DCAT_DOMAINS)


LAISHAN_DOMAINS = {"莱山区公共自行车站点": ["transport"], "莱山区农贸市场名录": ["enterprise"],
                   "莱山区养老机构名录": ["social-security"]}


def test_the_run_command_shows_counts_and_errors(cli, feed_server, tmp_path):
    org = factories.Organization(title="烟台市交通运输局")
    path = write(tmp_path / "registry.yaml", f"""
sources:
  - name: jtj-release
    department: {org['name']}
    type: yantai_release
    url: {feed_server.url('/release/manifest.json')}
""")
    assert cli.invoke(ckan, ["yantai", "harvest", "load", path]).exit_code == 0
    feed_server.files["/release/manifest.json"] = manifest(
        org, entry("00001", "公交线路"), entry("00002", "出租车", contact_phone="13912345678"))
    result = cli.invoke(ckan, ["yantai", "harvest", "run", "jtj-release"])
    assert result.exit_code == 0, result.output
    assert "jtj-release: 1 added, 0 updated, 0 not modified, 0 withdrawn, 1 errors" in result.output
    assert "2-02-003/00002: " in result.output and "手机" in result.output
    strict = cli.invoke(ckan, ["yantai", "harvest", "run", "--strict", "jtj-release"])
    assert strict.exit_code != 0
    missing = cli.invoke(ckan, ["yantai", "harvest", "run", "no-such-source", "jtj-release"])
    assert missing.exit_code != 0 and "no harvest source no-such-source" in missing.output
    assert "jtj-release: 0 added" in missing.output  # the other source still ran
