"""The registry of harvest sources (harvesters/registry.yaml) and the `ckan yantai harvest`
commands: loading is idempotent, bad entries are named, a run shows its counts and errors."""
from __future__ import annotations

import json
import pathlib

import pytest
from ckan.cli.cli import ckan
from ckan.tests.helpers import call_action

from ckanext.yantai.harvest import registry
from tests import factories
from tests.conftest import ROOT
from tests.yantai.test_harvest_release import entry, manifest

pytestmark = [pytest.mark.usefixtures("clean_db", "clean_index", "with_request_context"),
              pytest.mark.ckan_config("ckanext.yantai.harvest.allowed_hosts", "127.0.0.1")]


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
                                         "yantai_catalogue"]


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
