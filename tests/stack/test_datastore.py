"""The DataStore (CKAN's `datastore` plugin) on its own PostgreSQL database, set up by
scripts/stack.py the way CKAN's docs describe: written by CKAN's role, read by datastore_ro."""
from __future__ import annotations

import os
import sys

import ckan.plugins
import ckan.plugins.toolkit as tk
import pytest
import sqlalchemy as sa
from ckanext.datastore.backend.postgres import get_write_engine
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

from ckanext.yantai.datastore import search as datastore_search
from tests import factories
from tests.conftest import ROOT

FIELDS = [{"id": "线路", "type": "text"}, {"id": "站点数", "type": "int"}]
RECORDS = [{"线路": "1路", "站点数": 24}, {"线路": "10路", "站点数": 31}]


@pytest.fixture
def table(clean_datastore, sysadmin_api) -> str:
    """A DataStore table with RECORDS, created through the API with its resource; its id."""
    dataset = factories.Dataset()
    result = sysadmin_api.ok("datastore_create", resource={
        "package_id": dataset["id"], "name": "公交线路站点数"}, fields=FIELDS, records=RECORDS)
    return result["resource_id"]


def read_only_engine(database: str | None = None) -> sa.engine.Engine:
    url = make_url(tk.config["ckan.datastore.read_url"])
    return sa.create_engine(url.set(database=database) if database else url)


def test_the_datastore_plugin_is_loaded(app):
    assert ckan.plugins.plugin_loaded("datastore")
    status = app.get("/api/3/action/status_show").json["result"]
    assert "datastore" in status["extensions"]


def test_datastore_urls_point_at_the_profiles_own_database():
    write = make_url(tk.config["ckan.datastore.write_url"])
    read = make_url(tk.config["ckan.datastore.read_url"])
    catalogue = make_url(tk.config["sqlalchemy.url"])
    assert write.database == read.database == "datastore_test"
    assert (write.host, write.port) == (read.host, read.port) == (catalogue.host, catalogue.port)
    assert write.username == catalogue.username == "ckan_default"
    assert read.username == "datastore_ro" and read.password != write.password
    assert tk.asbool(tk.config["ckan.datastore.sqlsearch.enabled"])


def test_created_records_are_found_by_datastore_search(table, sysadmin_api):
    found = sysadmin_api.ok("datastore_search", resource_id=table, sort="站点数")
    assert found["total"] == 2
    assert [(r["线路"], r["站点数"]) for r in found["records"]] == [("1路", 24), ("10路", 31)]
    assert sysadmin_api.ok("resource_show", id=table)["datastore_active"] is True


def test_datastore_search_sql_selects_from_the_resource_table(table, sysadmin_api):
    found = sysadmin_api.ok(
        "datastore_search_sql", sql=f'SELECT "线路" FROM "{table}" WHERE "站点数" > 30')
    assert [r["线路"] for r in found["records"]] == ["10路"]


def test_datastore_search_sql_refuses_to_write(table, sysadmin_api):
    error = sysadmin_api.errors("datastore_search_sql", sql=f'DELETE FROM "{table}"')
    assert error["__type"] == "Validation Error"
    assert sysadmin_api.ok("datastore_search", resource_id=table)["total"] == 2


def test_read_only_role_reads_but_cannot_write(table):
    engine = read_only_engine()
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text(f'SELECT count(*) FROM "{table}"')).scalar() == 2
        for statement in (f'INSERT INTO "{table}" ("线路", "站点数") VALUES (\'99路\', 1)',
                          f'UPDATE "{table}" SET "站点数" = 0',
                          f'DELETE FROM "{table}"',
                          'CREATE TABLE "yantai_probe" (id int)'):
            with engine.connect() as conn, pytest.raises(sa_exc.ProgrammingError) as failed:
                conn.execute(sa.text(statement))
            assert failed.value.orig.pgcode == "42501", statement  # insufficient_privilege
    finally:
        engine.dispose()


def test_read_only_role_cannot_log_in_to_the_catalogue_database():
    engine = read_only_engine(make_url(tk.config["sqlalchemy.url"]).database)
    try:
        with pytest.raises(sa_exc.OperationalError, match="permission denied for database"):
            engine.connect()
    finally:
        engine.dispose()


def test_production_entrypoint_applies_the_permissions_as_ckans_own_role(table, monkeypatch):
    """docker/ckan/entrypoint.sh runs `ckan datastore set-permissions` without psql or the
    superuser, as CKAN's role: here against the test databases, which that role owns as well."""
    text = (ROOT / "docker" / "ckan" / "entrypoint.sh").read_text()
    source = text.split("<<'PY'\n", 1)[1].split("\nPY\n", 1)[0]
    namespace: dict = {}
    exec(compile(source.split("\nconn = wait(", 1)[0], "entrypoint.sh", "exec"), namespace)
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    monkeypatch.setenv("CKAN_INI", tk.config["__file__"])
    monkeypatch.setenv("CKAN_DATASTORE_WRITE_URL", tk.config["ckan.datastore.write_url"])
    assert make_url(tk.config["ckan.datastore.write_url"]).username == "ckan_default"

    assert namespace["datastore_permissions"](make_url(tk.config["sqlalchemy.url"]).database) == 0
    assert datastore_search.installed(get_write_engine())  # its own trigger replaced again
    test_read_only_role_reads_but_cannot_write(table)
    test_read_only_role_cannot_log_in_to_the_catalogue_database()


def test_clean_datastore_leaves_only_the_tables_of_this_test(table):
    # The tests above created tables too; clean_datastore (through `table`) dropped them.
    from ckanext.datastore.backend import get_all_resources_ids_in_datastore

    assert get_all_resources_ids_in_datastore() == [table]
