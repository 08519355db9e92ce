"""A harvest run by ckanext-harvest's real queue consumers (``ckan harvester gather-consumer`` and
``fetch-consumer`` processes on the test Redis): the fetch consumer is killed with SIGKILL in the
middle of an import, and ``ckan harvester run`` (what the scheduler calls) hands the object to a
new consumer. The harvest then finishes with every dataset once and every file in place."""
from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import cast

import ckan.model as model
import ckan.plugins.toolkit as tk
import pytest
from ckan.tests.helpers import call_action
from ckanext.harvest import queue
from ckanext.harvest.model import HarvestJob, HarvestObject
from redis import Redis

from tests.yantai.harvest.test_harvest_release import (
    CSV_A,
    CSV_B,
    datasets,
    entry,
    publish,
    stored_file,
    world,  # noqa: F401  (fixture)
)

pytestmark = [pytest.mark.usefixtures("clean_db", "clean_index", "with_request_context"),
              pytest.mark.usefixtures("feeds_allowed")]

CKAN = os.path.join(os.path.dirname(sys.executable), "ckan")


@pytest.fixture
def consumer_ini(tmp_path, feed_server) -> str:
    """The test configuration, with the loopback feed server allowed (as the tests' own)."""
    path = tmp_path / "consumers.ini"
    path.write_text(f"""[app:main]
use = config:{tk.config['__file__']}
ckanext.yantai.harvest.allowed_hosts = 127.0.0.1:{feed_server.port}

[loggers]
keys = root

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = INFO
handlers = console

[handler_console]
class = StreamHandler
args = (sys.stderr,)
formatter = generic

[formatter_generic]
format = %(asctime)s %(levelname)s [%(name)s] %(message)s
""", encoding="utf-8")
    return str(path)


@pytest.fixture
def spawn(consumer_ini, tmp_path) -> Iterator[Callable[[str], subprocess.Popen]]:
    started: list[subprocess.Popen] = []
    queue.purge_queues()

    def start(command: str) -> subprocess.Popen:
        with open(tmp_path / f"{command}-{len(started)}.log", "wb") as log:
            process = subprocess.Popen([CKAN, "-c", consumer_ini, "harvester", command],
                                       stdout=log, stderr=subprocess.STDOUT)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(30)
    queue.purge_queues()


def harvester_run(consumer_ini: str) -> None:
    subprocess.run([CKAN, "-c", consumer_ini, "harvester", "run"], check=True,
                   capture_output=True, timeout=120)


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_a_fetch_consumer_killed_mid_import_is_resumed_by_harvester_run(
        world, spawn, consumer_ini):  # noqa: F811 (the fixture imported above)
    server = world["server"]
    opened = threading.Event()
    go_on = threading.Event()

    def slow_file(handler):  # the consumer is importing this dataset while it waits here
        opened.set()
        go_on.wait(60)
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(CSV_B)))
        handler.end_headers()
        handler.wfile.write(CSV_B)

    publish(world,
            entry("00001", "公交线路", resources=[{"name": "线路表", "file": "files/a.csv"}]),
            entry("00002", "公交站点", resources=[{"name": "站点表", "file": "files/b.csv"}]),
            files={"files/a.csv": CSV_A})
    server.routes["/release/files/b.csv"] = slow_file

    spawn("gather-consumer")
    fetch = spawn("fetch-consumer")
    job_id = call_action("harvest_job_create", context={"user": world["sysadmin"]["name"]},
                         source_id=world["source"]["id"], run=True)["id"]
    wait_for(lambda: opened.is_set() or fetch.poll() is not None, 90, "the slow file's download")
    assert opened.is_set(), "the fetch consumer ended before it reached the slow file"
    fetch.send_signal(signal.SIGKILL)
    fetch.wait(30)

    model.Session.expire_all()
    objects = {o.guid: o for o in model.Session.query(HarvestObject).filter_by(
        harvest_job_id=job_id)}
    interrupted = objects["2-02-003/00002"]
    assert interrupted.state == "IMPORT"  # killed inside import_stage
    job = model.Session.get(HarvestJob, job_id)
    assert job is not None and job.status == "Running"

    # The dead consumer's message is remembered in Redis with the time it was taken;
    # ``harvester run`` hands back those older than three minutes. Age it instead of waiting.
    redis = cast(Redis, queue.get_connection())  # the portal runs the Redis backend
    marker = f"{queue.get_fetch_routing_key()}:{interrupted.id}"
    assert redis.get(marker) is not None
    redis.set(marker, str(dt.datetime.now() - dt.timedelta(minutes=10)))
    go_on.set()
    spawn("fetch-consumer")
    harvester_run(consumer_ini)

    def finished() -> bool:
        harvester_run(consumer_ini)  # marks the job finished once every object is done
        model.Session.expire_all()
        job = model.Session.get(HarvestJob, job_id)
        return job is not None and bool(job.status == "Finished")

    wait_for(finished, 120, "the job to finish")
    job = call_action("harvest_job_show", id=job_id)
    assert (job["stats"]["added"], job["stats"]["errored"]) == (2, 0), job["stats"]
    found = datasets(world["org"]["id"], state=None)
    assert set(found) == {"2-02-003/00001", "2-02-003/00002"}  # once each
    assert stored_file(found["2-02-003/00002"]["resources"][0]) == CSV_B
    assert stored_file(found["2-02-003/00001"]["resources"][0]) == CSV_A
    assert model.Session.query(model.Package).filter_by(type="dataset").count() == 2
