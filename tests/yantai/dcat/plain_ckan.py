"""A plain CKAN 2.11 beside the test portal: stock CKAN with ckanext-harvest and its stock CKAN
harvester, none of the portal's plugins (config/ckan/plain.ini.in, rendered by
``stack.py test-env`` beside the test profile, with a database and Solr core of its own).

``PlainCkan`` empties it, makes a sysadmin with an API token, serves it over HTTP as its operator
would (gunicorn) and runs its ``ckan`` command line; the federation test harvests the portal
into it as a partner site would.
"""
from __future__ import annotations

import os
import pathlib
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import ckan.plugins.toolkit as tk
from ckanapi import RemoteCKAN

from tests.stack.helpers import free_port, get_json, wait_until

ROOT = pathlib.Path(__file__).resolve().parents[3]
BIN = pathlib.Path(sys.executable).parent


def plain_ini() -> pathlib.Path:
    """Beside the test profile's ini: <run>/etc/test/test.ini → <run>/etc/plain/plain.ini."""
    ini = pathlib.Path(tk.config["__file__"]).resolve().parents[1] / "plain" / "plain.ini"
    assert ini.exists(), f"{ini} is missing: `scripts/stack.py test-env` writes it"
    return ini


class PlainCkan:
    def __init__(self, ini: pathlib.Path, url: str, token: str) -> None:
        self.ini, self.url, self.token = ini, url, token
        self.client = RemoteCKAN(url, apikey=token)

    def ckan(self, *args: str) -> str:
        """``ckan -c plain.ini ARGS``; its output (a failure fails the test with it)."""
        result = subprocess.run([str(BIN / "ckan"), "-c", str(self.ini), *args], text=True,
                                capture_output=True, stdin=subprocess.DEVNULL, timeout=600)
        assert result.returncode == 0, (args, result.stdout, result.stderr)
        return result.stdout

    def action(self, action: str, /, **data: Any) -> Any:
        return self.client.call_action(action, data)


@contextmanager
def plain_ckan() -> Iterator[PlainCkan]:
    """The plain CKAN, empty, served on a free port until the block ends."""
    ini = plain_ini()
    setup = PlainCkan(ini, "", "")
    setup.ckan("db", "clean", "--yes")
    setup.ckan("db", "upgrade")
    setup.ckan("search-index", "clear")
    setup.ckan("user", "add", "partner-admin", "email=admin@partner.example.org",
               "password=Partner-admin-2026")
    setup.ckan("sysadmin", "add", "partner-admin")
    token = setup.ckan("user", "token", "add", "partner-admin", "federation").split()[-1]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = ini.with_name("plain-portal.log")
    with open(log_path, "ab") as log:
        server = subprocess.Popen(
            [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "1",
             "--timeout", "300", "wsgi:application"],
            cwd=ROOT / "config" / "ckan", env={**os.environ, "CKAN_INI": str(ini)},
            stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until(lambda: get_json(f"{url}/api/3/action/status_show")["success"], 120,
                       "plain CKAN")
            yield PlainCkan(ini, url, token)
        finally:
            server.terminate()
            server.wait(timeout=60)
