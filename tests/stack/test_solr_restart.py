"""Issue 13 item 3: Solr died of OutOfMemoryError and every dataset write answered 500 until it
was restarted by hand. Now the stack's supervisor restarts a Solr that dies; while it is away a
write fails cleanly (a structured 503, nothing saved); once it is back, writes and searches work
with no manual step.

Kills the JVM of the test Solr (SIGKILL, as the kernel's OOM killer or -XX:+ExitOnOutOfMemoryError
would end it), never its supervisor; the fixture brings Solr back for later tests even when the
test fails.
"""
from __future__ import annotations

import os
import pathlib
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
import pytest
from ckan.tests import factories as ckan_factories

from tests import factories
from tests.conftest import ROOT
from tests.stack.helpers import get_json, solr_core_url

HAN = re.compile(r"[\u4e00-\u9fff]")


def run_dir() -> pathlib.Path:
    return pathlib.Path(tk.config["__file__"]).resolve().parents[2]  # RUN_DIR/etc/test/test.ini


def pid_of(name: str) -> int | None:
    try:
        pid = int((run_dir() / "pids" / f"{name}.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if pathlib.Path(f"/proc/{pid}").exists() else None


def solr_up() -> bool:
    try:
        return get_json(f"{solr_core_url()}/admin/ping?wt=json").get("status") == "OK"
    except OSError:
        return False


def wait(condition, timeout: float, what: str) -> float:
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout, f"{what}: not within {timeout:.0f} s"
        time.sleep(0.5)
    return time.monotonic() - started


@pytest.fixture
def supervised_solr() -> Iterator[dict[str, int]]:
    supervisor, java = pid_of("solr-console"), pid_of("solr")
    assert supervisor and java, (
        "the test Solr runs without its supervisor: start the stack with scripts/stack.py")
    pids = {"supervisor": supervisor, "java": java}
    assert solr_up()
    try:
        yield pids
    finally:
        os.kill(pids["supervisor"], signal.SIGCONT)  # (the test pauses it)
        # Later tests need Solr: wait for the supervisor, or start Solr again as make test does.
        deadline = time.monotonic() + 180
        while not solr_up() and time.monotonic() < deadline:
            time.sleep(1)
        if not solr_up():
            subprocess.run([sys.executable, str(ROOT / "scripts" / "stack.py"), "services"],
                           env={**os.environ, "RUN_DIR": str(run_dir())}, check=False,
                           timeout=300)


def post(app, action: str, token: str, **data: Any):
    return app.post(f"/api/3/action/{action}", json=data, headers={"Authorization": token},
                    status=None)


@pytest.mark.usefixtures("clean_db", "clean_index")
def test_solr_killed_comes_back_and_the_portal_writes_again(app, supervised_solr):
    token = ckan_factories.SysadminWithToken()["token"]
    org = factories.Organization()
    before = factories.Dataset(owner_org=org["id"], title="烟台市公交线路站点信息")

    # The supervisor is paused while the outage is examined, so that Solr cannot come back
    # half-way through (on a busy machine a write can take longer than a restart).
    os.kill(supervised_solr["supervisor"], signal.SIGSTOP)
    os.kill(supervised_solr["java"], signal.SIGKILL)
    wait(lambda: not solr_up(), 30, "Solr stops answering")

    # While Solr is away: a clear, structured refusal, and nothing half-written.
    resp = post(app, "package_create", token, name="written-during-outage", title="停机期间",
                owner_org=org["id"], **_required_fields(1))
    assert resp.status_code == 503, resp.body
    error = resp.json["error"]
    assert error["__type"] == "Search Index Error" and HAN.search(error["message"]), error
    assert error["search"] == [error["message"]]
    assert "solr" not in resp.body.lower() and "127.0.0.1" not in resp.body  # no internals
    assert resp.headers["Retry-After"]
    resp = post(app, "package_patch", token, id=before["id"], title="停机期间改的标题")
    assert resp.status_code == 503, resp.body
    resp = app.get("/api/3/action/package_search", query_string={"q": "公交"}, status=None)
    assert resp.status_code == 503 and HAN.search(resp.json["error"]["message"]), resp.body
    model.Session.remove()
    assert model.Package.get("written-during-outage") is None
    kept = model.Package.get(before["id"])
    assert kept is not None and kept.title == "烟台市公交线路站点信息"

    # The supervisor starts a new JVM on its own; no manual step.
    os.kill(supervised_solr["supervisor"], signal.SIGCONT)
    wait(solr_up, 180, "Solr restarted by its supervisor")
    assert pid_of("solr-console") == supervised_solr["supervisor"]
    assert pid_of("solr") not in (None, supervised_solr["java"])
    log = (run_dir() / "logs" / "solr-console.log").read_text(errors="replace")
    assert f"java (pid {supervised_solr['java']}) exited with status -9" in log

    created = post(app, "package_create", token, name="written-after-restart",
                   title="重启后写入", owner_org=org["id"], **_required_fields(2))
    assert created.status_code == 200, created.body
    patched = post(app, "package_patch", token, id=before["id"],
                   title="烟台市公交线路站点信息（更新）")
    assert patched.status_code == 200, patched.body
    found = app.get("/api/3/action/package_search", query_string={"q": "公交"}).json["result"]
    assert [d["id"] for d in found["results"]] == [before["id"]]
    found = app.get("/api/3/action/package_search", query_string={"q": "重启后写入"}).json
    assert [d["name"] for d in found["result"]["results"]] == ["written-after-restart"]


def _required_fields(n: int) -> dict[str, Any]:
    """What the catalogue schema requires of a new dataset (as tests/factories.py fills it in)."""
    return {"notes": "测试用数据集。", "resource_category": "2-02-003",
            "resource_code": f"2-02-003/{90000 + n}", "domain": ["transport"],
            "share_type": "unconditional", "share_method": "file", "open_type": "open",
            "update_cycle": "monthly", "info_items": [{"name": "线路名称", "data_type": "string"}],
            "contact_office": "数据管理科", "contact_phone": "0535-6788888"}
