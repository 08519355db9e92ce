"""Background jobs run on a real RQ worker (`ckan jobs worker`) over the real Redis."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import uuid
from typing import cast

import ckan.plugins.toolkit as tk
import pytest
from ckan.lib.redis import connect_to_redis

from ckanext.yantai import jobs
from tests.conftest import ROOT

CKAN = os.path.join(os.path.dirname(sys.executable), "ckan")


def ckan_command(*args: str) -> list[str]:
    return [CKAN, "-c", tk.config["__file__"], *args]


def test_enqueued_job_runs_on_a_worker():
    token = uuid.uuid4().hex
    queue = f"test-{token[:8]}"
    job = tk.enqueue_job(jobs.yantai_heartbeat, [token], queue=queue)
    assert connect_to_redis().get(jobs.heartbeat_key(token)) is None

    worker = subprocess.run(ckan_command("jobs", "worker", "--burst", queue), cwd=ROOT,
                            capture_output=True, text=True, timeout=180)

    assert worker.returncode == 0, worker.stderr
    job.refresh()
    assert job.get_status() == "finished", job.exc_info
    done = cast("bytes | None", connect_to_redis().get(jobs.heartbeat_key(token)))
    assert done is not None and done.decode() == job.result


def test_check_worker_command_sees_a_running_worker():
    queue = f"test-{uuid.uuid4().hex[:8]}"
    worker = subprocess.Popen(ckan_command("jobs", "worker", queue), cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        check = subprocess.run(
            ckan_command("yantai", "check-worker", "--queue", queue, "--timeout", "120"),
            capture_output=True, text=True, timeout=180)
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    assert check.returncode == 0, check.stderr
    assert check.stdout.startswith("worker ran job ")


def test_check_worker_command_fails_without_a_worker():
    queue = f"test-{uuid.uuid4().hex[:8]}"
    check = subprocess.run(
        ckan_command("yantai", "check-worker", "--queue", queue, "--timeout", "2"),
        capture_output=True, text=True, timeout=120)
    assert check.returncode == 1
    assert "no worker ran a job" in check.stderr
    assert tk.get_action("job_list")({"ignore_auth": True}, {"queues": [queue]}) == []


@pytest.mark.usefixtures("clean_db", "clean_index")
@pytest.mark.ckan_config("ckanext.yantai.linkcheck.on_update", "true")
def test_a_saved_change_stays_a_success_when_the_queue_is_down(app, monkeypatch, caplog):
    """Redis unreachable: the dataset is saved (the commit happened), so the API says so; the
    resource check waits for the daily check-resources run instead of failing the request."""
    import ckan.lib.jobs as ckan_jobs
    import ckan.lib.redis as ckan_redis
    from ckan.tests import factories as ckan_factories

    from tests import factories
    from tests.api import Api
    from tests.stack.helpers import free_port

    editor = ckan_factories.UserWithToken()
    org = factories.Organization(users=[{"name": editor["name"], "capacity": "editor"}])
    dataset = factories.Dataset(owner_org=org["id"], user=editor,
                                resources=[{"name": "线路表", "url": "http://example.invalid/a.csv"}])
    monkeypatch.setitem(tk.config, "ckan.redis.url", f"redis://127.0.0.1:{free_port()}/0")
    monkeypatch.setattr(ckan_redis, "_connection_pool", None)
    monkeypatch.setattr(ckan_jobs, "_queues", {})  # queues keep the connection they were made with
    logger = logging.getLogger("ckanext.yantai.jobs")
    # A logging config loaded earlier in the run (CKAN's ini) may have disabled it.
    monkeypatch.setattr(logger, "disabled", False)
    monkeypatch.setattr(logger, "level", logging.WARNING)
    monkeypatch.setattr(logger, "handlers", [caplog.handler])  # ckanext loggers may not propagate
    body = Api(app, editor["token"]).call("package_patch", id=dataset["id"],
                                          notes="队列停止时的修改")
    assert body["success"] is True, body
    assert tk.get_action("package_show")({"ignore_auth": True},
                                         {"id": dataset["id"]})["notes"] == "队列停止时的修改"
    assert any("daily check-resources" in r.getMessage() for r in caplog.records)
