"""Issue 13, item 2: SSRF into the portal's own services through the harvest allow-list.

The attack: with the allow-list opening loopback (it used to say ``127.0.0.1`` for the demo feeds),
an editor pointed a 双公示 (``yantai_disclosure``) source at the test Solr's
``/solr/<core>/select?q=*:*&wt=csv&fl=validated_data_dict`` and read another department's
不予开放 dataset whole through ``yantai_compliance_records``. Now the portal's own services are
refused whatever the allow-list says (here it names Solr explicitly, in several spellings), on
every spelling of this machine, when the source is saved and at every download and redirect; link
checks likewise; and a bare host in an allow-list stops the portal at start-up.
"""
from __future__ import annotations

import json
import urllib.parse
import urllib.request
from typing import cast

import ckan.model as model
import ckan.plugins.toolkit as tk
import pytest
from ckan.config.environment import update_config
from ckan.exceptions import CkanConfigurationException
from ckan.tests import factories as ckan_factories
from ckan.tests.helpers import call_action
from ckanext.harvest.model import HarvestSource

from ckanext.yantai import config, netguard, quality_index
from ckanext.yantai.harvest import base, runner
from ckanext.yantai.model import DisclosureRecord
from tests import factories
from tests.yantai.feeds import HARVEST_ALLOWED, allow
from tests.yantai.harvest.test_harvest_release import errors_of

pytestmark = pytest.mark.usefixtures("with_request_context")

CANARY = "SSRF-CANARY-7f3a"  # ASCII: Solr's CSV escapes the rest as \\uXXXX
REFUSED = "平台自身的服务"  # the Chinese of harvest_protected_service
# This machine, spelled every way an attacker tried (and a few more).
HOSTS = ["127.0.0.1", "localhost", "LOCALHOST", "localhost.", "ＬＯＣＡＬＨＯＳＴ", "127.1",
         "2130706433", "0x7f000001", "0177.0.0.1", "127.0.0.2", "0.0.0.0", "[::1]",
         "[::ffff:127.0.0.1]", "[::ffff:7f00:1]"]


def solr() -> tuple[int, str]:
    parts = urllib.parse.urlsplit(tk.config["solr_url"])
    return parts.port or 8983, parts.path.rstrip("/").rsplit("/", 1)[-1]


def select_url(host: str) -> str:
    port, core = solr()
    return (f"http://{host}:{port}/solr/{core}/select?q=*:*&wt=csv&fl=validated_data_dict"
            "&rows=1000")


@pytest.fixture
def attack(monkeypatch, clean_db, clean_index, clean_datastore):
    """Another department's 不予开放 dataset with a canary; the attacker's department with its
    双公示 resource; an allow-list that names Solr's port explicitly, in several spellings."""
    port, _ = solr()
    allow(monkeypatch, f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}",
          f"127.0.0.2:{port}", f"http://127.0.0.1:{port}/solr/")
    sysadmin = ckan_factories.Sysadmin()
    victim = factories.Organization(title="烟台市公安局")
    factories.Dataset(owner_org=victim["id"], open_type="closed", share_type="none",
                      share_condition="不共享", title="重点人员名单", notes=CANARY,
                      resources=[{"name": "名单", "url": f"http://intranet.example/{CANARY}.csv"}])
    org = factories.Organization(title="烟台市市场监督管理局")
    dataset = factories.Dataset(owner_org=org["id"], title="双公示信息")
    penalty = call_action("resource_create", {"user": sysadmin["name"]},
                          package_id=dataset["id"], name="行政处罚决定", record_type="penalty",
                          url="")
    return {"sysadmin": sysadmin, "org": org, "penalty": penalty}


def create_source(attack, url: str, name: str) -> dict:
    return call_action("harvest_source_create", {"user": attack["sysadmin"]["name"]},
                       name=name, url=url, source_type="yantai_disclosure",
                       owner_org=attack["org"]["id"],
                       config=json.dumps({"record_type": "penalty"}))


def leaked(attack) -> list[str]:
    """Where the canary got to: the stored records, the department's compliance report and
    its public 双公示 table."""
    model.Session.expire_all()
    places = []
    for record in model.Session.query(DisclosureRecord).all():
        if CANARY in json.dumps(record.fields, ensure_ascii=False):
            places.append("yantai_disclosure_record")
    report = call_action("yantai_compliance_records", {"user": attack["sysadmin"]["name"]},
                         organization=attack["org"]["id"], limit=1000)
    if CANARY in json.dumps(report, ensure_ascii=False):
        places.append("yantai_compliance_records")
    try:
        rows = call_action("datastore_search", resource_id=attack["penalty"]["id"], limit=1000)
        if CANARY in json.dumps(rows, ensure_ascii=False):
            places.append("datastore")
    except tk.ObjectNotFound:
        pass
    return places


def test_solr_would_hand_over_the_closed_dataset(attack):
    """Without the guard the attack works: Solr answers the select with the canary in it."""
    with urllib.request.urlopen(select_url("127.0.0.1"), timeout=30) as answer:
        assert CANARY in answer.read().decode("utf-8")


def test_a_source_pointing_at_solr_is_refused_when_saved(attack):
    for index, host in enumerate(HOSTS):
        with pytest.raises(tk.ValidationError) as error:
            create_source(attack, select_url(host), f"solr-{index}")
        messages = cast("list[str]", error.value.error_dict["url"])
        assert REFUSED in " ".join(messages), (host, error.value)
    assert not model.Session.query(HarvestSource).count()
    assert leaked(attack) == []


def test_a_source_pointing_at_solr_is_refused_at_fetch_and_nothing_reaches_the_records(
        attack, feeds_allowed):
    """The URL changes after it was checked (edited in the database, a name that resolves
    elsewhere later): the download is refused too, and also through an allowed server's
    redirect."""
    feeds_allowed.routes["/bounce"] = lambda handler: (
        handler.send_response(302), handler.send_header("Location", select_url("localhost")),
        handler.send_header("Content-Length", "0"), handler.end_headers())
    source = create_source(attack, feeds_allowed.url("/penalties.csv"), "scjg-penalty")
    for host in [*HOSTS, None]:
        url = select_url(host) if host else feeds_allowed.url("/bounce")
        row = model.Session.get(HarvestSource, source["id"])
        pkg = model.Package.get(source["id"])
        assert row is not None and pkg is not None
        row.url = url  # pyright: ignore[reportAttributeAccessIssue]  # untyped harvest model
        pkg.url = url
        model.Session.commit()
        job = runner.run(source["id"])
        errors = errors_of(job)
        assert any(REFUSED in m for m in errors), (host, errors)
        assert job["stats"]["added"] == 0
        assert leaked(attack) == [], host
    assert feeds_allowed.hits.count("/bounce") == 1


SERVICES = ["solr_url", "ckan.redis.url", "sqlalchemy.url", "ckan.datastore.write_url",
            "ckan.datastore.read_url", "ckan.site_url", "ckanext.yantai.credit.endpoint"]


@pytest.mark.ckan_config("ckanext.yantai.credit.endpoint", "http://127.0.0.1:8952")
def test_every_service_of_the_portal_is_refused_whatever_the_allow_list_says(monkeypatch):
    """Solr, Redis, PostgreSQL, the DataStore, the site and the credit receiver, each
    allow-listed by its host and port: refused when a source is saved, at download and by
    link checks."""
    for option in SERVICES:
        parts = urllib.parse.urlsplit(tk.config[option])
        host, port = parts.hostname, parts.port or 80  # (only the test site URL has no port)
        assert netguard.Endpoint(host, port) in config.protected_services(), option
        shown = f"[{host}]" if ":" in host else host
        allow(monkeypatch, f"{shown}:{port}")
        allow(monkeypatch, f"{shown}:{port}", key="ckanext.yantai.linkcheck.allowed_hosts")
        url = f"http://{shown}:{port}/"
        with pytest.raises(base.SourceError) as error:
            base.check_source_url(url)
        assert REFUSED in str(error.value), option
        with pytest.raises(base.SourceError) as error:
            base.fetch(url)
        assert REFUSED in str(error.value), option
        result = quality_index.check_resource({"url": url, "url_type": ""})
        assert result.error == "one of the portal's own services", option


def test_a_link_check_cannot_read_solr(attack, monkeypatch):
    port, _ = solr()
    allow(monkeypatch, f"127.0.0.1:{port}", key="ckanext.yantai.linkcheck.allowed_hosts")
    for host in HOSTS:
        result = quality_index.check_resource({"url": select_url(host), "url_type": ""})
        assert result.error == "one of the portal's own services", (host, result)


def test_a_bare_host_or_network_stops_the_portal_at_start_up(monkeypatch):
    cases = [("127.0.0.1", "未写端口", "names no port"),
             ("127.0.0.1:8903 10.20.0.0/16", "网段", "is a network"),
             ("::1", "方括号", "needs brackets"),
             ("http://127.0.0.1:8903/feeds/../", "URL 前缀", "URL prefix")]
    try:
        for value, chinese, english in cases:
            monkeypatch.setitem(tk.config, HARVEST_ALLOWED, value)
            with pytest.raises(CkanConfigurationException) as error:
                update_config()
            text = str(error.value)
            assert HARVEST_ALLOWED in text and chinese in text and english in text, text
    finally:
        monkeypatch.setitem(tk.config, HARVEST_ALLOWED, "")
        update_config()


def test_host_and_port_entries_pass_the_start_up_check(monkeypatch):
    monkeypatch.setitem(tk.config, HARVEST_ALLOWED,
                        "127.0.0.1:8903 [::1]:8903 http://127.0.0.1:8903/feeds/")
    update_config()
    assert [str(e) for e in config.harvest_policy().allow] == [
        "127.0.0.1:8903", "[::1]:8903", "http://127.0.0.1:8903/feeds/"]
