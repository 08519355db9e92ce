"""Shared fixtures: every test runs with the portal's plugins, against the real test services."""
from __future__ import annotations

import contextlib
import json
import os
import pathlib
import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import ckan.plugins
import ckan.plugins.toolkit as tk
import pytest

from ckanext.yantai import domains
from tests.api import sysadmin_api  # noqa: F401  (fixture)
from tests.stack.helpers import free_port, get_json, wait_until
from tests.yantai.feeds import feed_server, feeds_allowed  # noqa: F401  (fixtures)

ROOT = pathlib.Path(__file__).resolve().parents[1]
# Plugins with database tables of their own: CKAN's reset_db only recreates the core tables.
PLUGINS_WITH_MIGRATIONS = ("activity", "harvest", "yantai")


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist (``make test``), worker gw0 runs on the stack of ``--ckan-ini`` and each
    other worker on a test stack of its own, with the same names inside (scripts/stack.py
    test-env --workers N prepares them under RUN_DIR/workers/<worker id>): its test.ini, and its
    ports in the environment for the tests that start the stack's scripts."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    if worker == "gw0" or not config.option.ckan_ini:
        return
    run = pathlib.Path(config.option.ckan_ini).resolve().parents[2]  # RUN_DIR/etc/test/test.ini
    stack = run / "workers" / worker
    ini = stack / "etc" / "test" / "test.ini"
    if not ini.exists():
        raise pytest.UsageError(f"no test stack for worker {worker} ({ini}): run scripts/stack.py "
                                "test-env --workers N for N workers first, as make test does")
    config.option.ckan_ini = str(ini)
    os.environ.update(json.loads((stack / "ports.json").read_text()))


def pytest_make_parametrize_id(config: pytest.Config, val: object, argname: str) -> str | None:
    """A zip archive built by a test module (a .zip, .xlsx or .docx parameter) is named by its
    size, not by its bytes: they carry the moment it was written, and pytest-xdist's workers,
    which collect the suite each on its own, must find the same test ids."""
    if isinstance(val, bytes) and val.startswith(b"PK\x03\x04"):
        return f"zip of {len(val)} bytes"
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist, a module's tests run on one worker (its module-scoped fixtures are
    built once), and so do the browser journeys (one demo portal for the package). First among
    the hooks: xdist's own reads the groups to name the tests by them (``test@group``), and
    without them it spread a module's tests over both workers, each rebuilding the module's
    fixtures (a live portal on a fresh database) between two tests that share its state."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return
    for item in items:
        path = item.path.relative_to(ROOT).as_posix()
        group = "tests/browser" if path.startswith("tests/browser/") else path
        item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture
def clean_db():
    """An empty test database, its schema at the head of every migration. The first use in a
    run rebuilds the schema (as CKAN's clean_db does, then the plugins' migrations); later uses
    empty the tables that hold rows and restart the sequences, which is many times quicker than
    dropping and migrating."""
    empty_database()


def forget_usage_counts() -> None:
    """The usage statistics' day counters in Redis (usage.py): they count API calls about the
    datasets of the database being emptied."""
    from ckanext.yantai import usage

    redis = usage._redis()
    keys = list(redis.scan_iter(f"{usage.key_prefix()}*"))
    if keys:
        redis.delete(*keys)


def empty_database() -> None:
    import ckan.model as model
    import sqlalchemy as sa
    from ckan.tests import factories

    factories.fake.unique.clear()
    model.Session.close_all()
    forget_usage_counts()
    if not _schema_rebuilt:
        reset_database(index=False)
        return
    # A DELETE of the few tables a test filled, children before parents, instead of a TRUNCATE
    # of every table: TRUNCATE gives each of the ~50 tables and their indexes new files, which
    # cost about 0.3 s a test; the rows that remain are the same (none).
    with model.ensure_engine().begin() as conn:
        tables = _tables_children_first(conn)
        filled = conn.execute(sa.text(" UNION ALL ".join(
            f"SELECT {i} WHERE EXISTS (SELECT 1 FROM {name})"
            for i, name in enumerate(tables)))).scalars().all() if tables else []
        for i in sorted(filled):
            conn.execute(sa.text(f"DELETE FROM {tables[i]}"))
        # What TRUNCATE … RESTART IDENTITY did: sequences start again (those used since).
        for (sequence,) in conn.execute(sa.text(
                "SELECT format('%I.%I', schemaname, sequencename) FROM pg_sequences "
                "WHERE schemaname = 'public' AND last_value IS NOT NULL")):
            conn.execute(sa.text(f"ALTER SEQUENCE {sequence} RESTART"))


# The test database's tables (quoted) in an order where every table comes before the tables it
# references; computed again whenever the tables differ.
_table_order: list[str] = []


def _tables_children_first(conn) -> list[str]:
    """Every table but the migrations' version tables (alembic_version,
    <plugin>_alembic_version), each one before any table its foreign keys point to."""
    import sqlalchemy as sa

    tables = conn.execute(sa.text(
        "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = 'public' "
        "AND tablename NOT LIKE '%alembic_version' ORDER BY 1")).scalars().all()
    if set(_table_order) == set(tables):
        return _table_order
    references: dict[str, set[str]] = {name: set() for name in tables}
    for child, parent in conn.execute(sa.text(
            "SELECT quote_ident(c.relname), quote_ident(p.relname) FROM pg_constraint f "
            "JOIN pg_class c ON c.oid = f.conrelid JOIN pg_class p ON p.oid = f.confrelid "
            "WHERE f.contype = 'f' AND f.connamespace = 'public'::regnamespace")):
        if child != parent and child in references and parent in references:
            references[child].add(parent)
    referenced_by: dict[str, set[str]] = {name: set() for name in tables}
    for child, parents in references.items():
        for parent in parents:
            referenced_by[parent].add(child)
    order: list[str] = []
    placed: set[str] = set()
    while len(order) < len(tables):
        ready = [name for name in tables if name not in placed and referenced_by[name] <= placed]
        if not ready:
            raise RuntimeError(f"foreign keys in a cycle among {set(tables) - placed}")
        order.extend(ready)
        placed.update(ready)
    _table_order[:] = order
    return _table_order


@pytest.fixture
def clean_datastore(clean_db):
    """A clean test database and an empty DataStore (datastore_test). Opt-in: CKAN's reset_db
    leaves the DataStore's database alone, so its tables would pile up from test to test."""
    from ckanext.datastore.backend.postgres import get_write_engine
    from ckanext.datastore.tests.helpers import clear_db
    from sqlalchemy import orm

    clear_db(orm.scoped_session(orm.sessionmaker(bind=get_write_engine())))


# What the plugins were last loaded under by the fixture below: the ``ckan_config`` marks (none
# for the test ini's own configuration), and the database engine that load made. Every load or
# unload of plugins makes a new engine, so a load since (a live portal's) shows.
_loaded: dict[str, Any] = {}


def _config_marks(node: pytest.Item) -> tuple[tuple[Any, ...], ...]:
    return tuple(tuple(mark.args) for mark in node.iter_markers("ckan_config"))


def _plugins_loaded_under(marks: tuple[tuple[Any, ...], ...]) -> bool:
    import ckan.model as model

    return _loaded.get("marks") == marks and _loaded.get("engine") is model.meta.engine


def _load_plugins(marks: tuple[tuple[Any, ...], ...]) -> None:
    import ckan.model as model

    ckan.plugins.load_all()
    _loaded.update(marks=marks, engine=model.meta.engine)
    _shared_app.clear()


@pytest.fixture(autouse=True)
def _portal_plugins(request):
    """Every test runs with the test ini's ckan.plugins, as the portal runs them. Loading them
    costs about a second, so they are loaded once and kept from test to test; a test with
    ``ckan_config`` marks gets them loaded afresh under its configuration (as CKAN's
    ``with_plugins`` does), kept for the next tests with the same marks (a module's marks).
    Tests of pure rules (marked ``pure``) skip them."""
    if request.node.get_closest_marker("pure") is not None:
        yield
        return
    marks = _config_marks(request.node)
    if marks:
        request.getfixturevalue("ckan_config")  # the marks first, then the plugins under them
        if _plugins_loaded_under(marks):
            # What a load does to the marks' values: each normalised to its declared type.
            from ckan.common import config_declaration

            config_declaration.normalize(tk.config)
        else:
            _load_plugins(marks)
        yield
        return
    if not _plugins_loaded_under(()):
        # Before ckan_config takes its copy of the configuration, so that the plugins' additions
        # to it (template paths, public folders…) are in the copy it restores after the test.
        _load_plugins(())
    request.getfixturevalue("ckan_config")
    yield


# The web application built for the plugins loaded above, kept while they stay loaded.
_shared_app: list = []


@pytest.fixture
def app(request, make_app):
    """CKAN's ``app`` fixture, with the application built once for the tests that run under the
    same configuration and plugins (building it takes most of a second); a test of pure rules
    gets its own."""
    import ckan.model as model

    if request.node.get_closest_marker("pure") is not None:
        return make_app()
    if not _shared_app:
        _shared_app.append(make_app())
        # Building it loads the plugins again, under the same configuration: still theirs.
        _loaded["engine"] = model.meta.engine
    return _shared_app[0]


@contextlib.contextmanager
def serve_portal(workers: int = 1, own_site_url: bool = False,
                 settings: dict[str, str] | None = None) -> Iterator[str]:
    """The portal served by gunicorn over HTTP on a free loopback port, on a clean test database
    (the policy-domain groups created). Yields its address. With ``own_site_url`` the portal
    knows that address as its ``ckan.site_url`` (a browser follows the links it writes);
    ``settings`` change the test profile's for the served portal."""
    ckan.plugins.load_all()  # wider scopes run before the per-test plugin fixture
    reset_database()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "CKAN_INI": portal_ini(settings or {})}
    site_user = tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]
    if own_site_url:
        env["CKAN_SITE_URL"] = url
        with patch_config("ckan.site_url", url):  # the groups' icons are under the site URL
            domains.ensure_groups(site_user)
    else:
        domains.ensure_groups(site_user)
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    with open(pathlib.Path(tk.config["__file__"]).parent / "live-portal.log", "ab") as log:
        server = subprocess.Popen(
            [gunicorn, "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--timeout",
             "300", "wsgi:application"],
            cwd=ROOT / "config" / "ckan", env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            wait_until(lambda: get_json(f"{url}/api/3/action/status_show")["success"], 120,
                       "test portal")
            yield url
        finally:
            server.terminate()
            server.wait(timeout=60)


def portal_ini(settings: dict[str, str]) -> str:
    """The test profile's ini, or a copy beside it (its includes are relative) with ``settings``
    in place of the profile's values."""
    ini = pathlib.Path(tk.config["__file__"])
    if not settings:
        return str(ini)
    text = ini.read_text(encoding="utf-8")
    for key, value in settings.items():
        line = re.compile(rf"^{re.escape(key)}\s*=.*$", re.M)
        text = line.sub(f"{key} = {value}", text) if line.search(text) else text.replace(
            "[app:main]\n", f"[app:main]\n{key} = {value}\n", 1)
    served = ini.with_name("live-portal.ini")
    served.write_text(text, encoding="utf-8")
    return str(served)


@contextlib.contextmanager
def patch_config(key: str, value: str) -> Iterator[None]:
    old = tk.config[key]
    tk.config[key] = value
    try:
        yield
    finally:
        tk.config[key] = old


# Whether this run has rebuilt the test database's schema once (see clean_db).
_schema_rebuilt = False


def reset_database(index: bool = True) -> None:
    """The test database rebuilt from its migrations (and, with ``index``, the search index
    emptied): CKAN's reset_db, then the migrations of the plugins with tables of their own."""
    global _schema_rebuilt
    from ckan.cli.db import _run_migrations
    from ckan.lib.search import clear_all
    from ckan.tests import factories
    from ckan.tests.helpers import reset_db

    factories.fake.unique.clear()
    _table_order.clear()
    forget_usage_counts()
    reset_db()
    for plugin in PLUGINS_WITH_MIGRATIONS:
        _run_migrations(plugin)
    _schema_rebuilt = True
    if index:
        clear_all()


@pytest.fixture(scope="module")
def live_portal() -> Iterator[str]:
    """The portal over HTTP on a clean test database, for tests that must go through the real
    Action API (as API users and the demo loader do)."""
    with serve_portal() as url:
        yield url
