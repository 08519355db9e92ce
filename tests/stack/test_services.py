"""The stack is real: Solr 9.10.1 with CKAN's schema, PostgreSQL, Redis, all on loopback only."""
from __future__ import annotations

from typing import cast

import ckan.lib.search as search
import ckan.model as model
import ckan.plugins.toolkit as tk
import pytest
import sqlalchemy as sa
from ckan.lib.redis import connect_to_redis

from tests.stack.helpers import (
    accepts_connections,
    get_json,
    non_loopback_addresses,
    port_of,
    solr_core_url,
    solr_root_url,
)


def test_solr_is_apache_solr_9_10_1():
    info = get_json(f"{solr_root_url()}/admin/info/system?wt=json")
    assert info["lucene"]["solr-spec-version"] == "9.10.1"


def test_tests_use_their_own_solr_core_and_database():
    assert solr_core_url().endswith("/solr/ckan_test")
    assert cast(sa.engine.Engine, model.Session.bind).url.database == "ckan_test"
    assert tk.config["ckan.redis.url"].endswith("/1")


def test_solr_schema_is_ckans_and_ckan_accepts_it():
    assert get_json(f"{solr_core_url()}/schema/name?wt=json")["name"] == "ckan-2.11"
    assert search.check_solr_schema_version() is True


def test_solr_text_type_is_the_chinese_chain():
    fieldtype = get_json(f"{solr_core_url()}/schema/fieldtypes/text?wt=json")["fieldType"]
    index_chain = [f["class"] for f in fieldtype["indexAnalyzer"]["filters"]]
    assert fieldtype["indexAnalyzer"]["tokenizer"]["class"] == "solr.StandardTokenizerFactory"
    assert "solr.CJKBigramFilterFactory" in index_chain
    assert "solr.CJKWidthFilterFactory" in index_chain


def test_postgresql_is_15():
    version = model.Session.execute(sa.text("SHOW server_version_num")).scalar()
    assert version is not None and 150000 <= int(version) < 160000


def test_redis_answers():
    assert connect_to_redis().ping() is True


@pytest.mark.parametrize("service", ["solr_url", "sqlalchemy.url", "ckan.redis.url"])
def test_service_listens_on_loopback_only(service):
    port = port_of(tk.config[service])
    assert accepts_connections("127.0.0.1", port)
    others = non_loopback_addresses()
    if not others:
        pytest.skip("this machine has no address other than loopback")
    for address in others:
        assert not accepts_connections(address, port), f"{service} answers on {address}:{port}"
