"""Background jobs run on a real RQ worker (`ckan jobs worker`) over the real Redis."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid

import ckan.plugins.toolkit as tk
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
    assert connect_to_redis().get(jobs.heartbeat_key(token)).decode() == job.result


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
