"""Shared fixtures: every test runs with the portal's plugins, against the real test services."""
from __future__ import annotations

import os
import pathlib
import subprocess
import sys
from typing import Iterator

import ckan.plugins
import ckan.plugins.toolkit as tk
import pytest

from ckanext.yantai import domains
from tests.api import sysadmin_api  # noqa: F401  (fixture)
from tests.yantai.feeds import feed_server, feeds_allowed  # noqa: F401  (fixtures)
from tests.stack.helpers import free_port, get_json, wait_until

ROOT = pathlib.Path(__file__).resolve().parents[1]
# Plugins with database tables of their own: CKAN's reset_db only recreates the core tables.
PLUGINS_WITH_MIGRATIONS = ("activity", "harvest", "yantai")


@pytest.fixture
def clean_db(reset_db, migrate_db_for):
    reset_db()
    for plugin in PLUGINS_WITH_MIGRATIONS:
        migrate_db_for(plugin)


@pytest.fixture
def clean_datastore(clean_db):
    """A clean test database and an empty DataStore (datastore_test). Opt-in: CKAN's reset_db
    leaves the DataStore's database alone, so its tables would pile up from test to test."""
    from ckanext.datastore.backend.postgres import get_write_engine
    from ckanext.datastore.tests.helpers import clear_db
    from sqlalchemy import orm

    clear_db(orm.scoped_session(orm.sessionmaker(bind=get_write_engine())))


@pytest.fixture(autouse=True)
def _portal_plugins(request):
    """Load ckan.plugins of the test ini for every test, as the portal runs them; tests of pure
    rules (marked ``pure``) skip the second it takes."""
    if request.node.get_closest_marker("pure") is None:
        request.getfixturevalue("with_plugins")


@pytest.fixture(scope="module")
def live_portal(reset_db, migrate_db_for, reset_index) -> Iterator[str]:
    """The portal served by gunicorn over HTTP on a free loopback port, on a clean test database.

    For tests that must go through the real Action API (as API users and the demo loader do).
    """
    ckan.plugins.load_all()  # module scope runs before the per-test plugin fixture
    reset_db()
    for plugin in PLUGINS_WITH_MIGRATIONS:
        migrate_db_for(plugin)
    reset_index()
    site_user = tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]
    domains.ensure_groups(site_user)
    port = free_port()
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    log = open(pathlib.Path(tk.config["__file__"]).parent / "live-portal.log", "ab")
    server = subprocess.Popen(
        [gunicorn, "--bind", f"127.0.0.1:{port}", "--workers", "1", "--timeout", "300",
         "wsgi:application"],
        cwd=ROOT / "config" / "ckan", env={**os.environ, "CKAN_INI": tk.config["__file__"]},
        stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: get_json(f"{url}/api/3/action/status_show")["success"], 120,
                   "test portal")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=60)
        log.close()
