"""scripts/stack.py: process bookkeeping that must never touch a process that is not ours."""
from __future__ import annotations

import configparser
import importlib.util
import os
import pathlib
import subprocess
import sys

import pytest

from tests.conftest import ROOT


def load_script(monkeypatch):
    spec = importlib.util.spec_from_file_location("stack_script", ROOT / "scripts" / "stack.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "stack_script", module)  # dataclasses look it up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def stack(tmp_path, monkeypatch):
    monkeypatch.setenv("RUN_DIR", str(tmp_path / "run"))
    return load_script(monkeypatch).Stack()


def test_a_spawned_process_is_known_by_pid_and_start_time(stack):
    pid = stack.spawn("sleeper", ["sleep", "30"])
    try:
        assert stack.running_pid("sleeper") == pid
    finally:
        stack.stop("sleeper")
    assert stack.running_pid("sleeper") is None


def test_a_reused_pid_is_not_ours(stack):
    other = subprocess.Popen(["sleep", "30"])
    try:
        stack.pids.mkdir(parents=True)
        stack.pidfile("web").write_text(f"{other.pid} 1")  # started at another time
        assert stack.running_pid("web") is None
        stack.stop("web")  # must leave the other process alone
        assert other.poll() is None
    finally:
        other.kill()
        other.wait()


def test_pid_one_and_own_group_are_never_signalled(stack):
    stack.pids.mkdir(parents=True)
    stack.pidfile("x").write_text("1")
    assert stack.running_pid("x") is None
    stack.pidfile("x").write_text(f"{os.getpid()} 0")
    assert stack.running_pid("x") is None


@pytest.mark.parametrize("profile, database", [("development", "datastore_default"),
                                               ("test", "datastore_test")])
def test_each_profile_has_its_own_datastore_database(stack, profile, database):
    ini = stack.render_ini(stack.profile(profile))
    config = configparser.RawConfigParser()
    config.read(ini.parent / "common.ini", encoding="utf-8")
    secrets = stack.secrets()
    server = f"127.0.0.1:{stack.pg_port}"
    assert config.get("app:main", "ckan.datastore.write_url") == (
        f"postgresql://ckan_default:{secrets['PG_PASSWORD']}@{server}/{database}")
    assert config.get("app:main", "ckan.datastore.read_url") == (
        f"postgresql://datastore_ro:{secrets['DATASTORE_RO_PASSWORD']}@{server}/{database}")
    assert secrets["DATASTORE_RO_PASSWORD"] != secrets["PG_PASSWORD"]


@pytest.mark.skipif(os.geteuid() != 0, reason="PostgreSQL runs as user postgres only for root")
def test_a_checkout_postgres_cannot_enter_keeps_the_cluster_outside(tmp_path, monkeypatch):
    private = tmp_path / "home"
    private.mkdir(mode=0o700)
    monkeypatch.setenv("RUN_DIR", str(private / "run"))
    module = load_script(monkeypatch)
    stack = module.Stack()

    stack.prepare_pg_base()

    outside = stack.pg_outside_dir()
    assert stack.pg_base.is_symlink() and stack.pg_base.resolve() == outside
    assert str(stack.pg_data).startswith("/var/lib/yantai-portal/")
    assert module.reachable_by("postgres", outside.parent)
    stack.reset()
    assert not outside.parent.exists() and not stack.run.exists()


# -- Solr's supervisor (issue 13 item 3: a Solr that died stayed down until restarted by hand) ----

def _wait(condition, timeout: float = 30) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_the_supervisor_restarts_its_child_and_logs_it(stack, tmp_path):
    import signal

    stack.pids.mkdir(parents=True)
    child_pidfile = stack.pidfile("child")
    pid = stack.spawn("sup", [sys.executable, str(ROOT / "scripts" / "stack.py"), "supervise",
                              "--pidfile", str(child_pidfile), "--", "sleep", "60"])
    try:
        _wait(lambda: stack.running_pid("child") is not None)
        first = stack.running_pid("child")
        os.kill(first, signal.SIGKILL)
        _wait(lambda: stack.running_pid("child") not in (None, first))
        assert stack.running_pid("sup") == pid  # the supervisor itself goes on
        log = (stack.logs / "sup.log").read_text()
        assert f"sleep (pid {first}) exited with status -9" in log and "restart 1 in 1 s" in log
        second = stack.running_pid("child")
    finally:
        stack.stop("sup")
    # Stopping the supervisor stops its child, which is not restarted.
    _wait(lambda: process_gone(second))
    assert stack.running_pid("sup") is None and not child_pidfile.exists()


def process_gone(pid: int) -> bool:
    try:
        stat = pathlib.Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def test_a_child_that_fails_to_start_is_reported_not_restarted(stack):
    stack.pids.mkdir(parents=True)
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "stack.py"), "supervise",
                             "--pidfile", str(stack.pidfile("child")), "--", "sh", "-c", "exit 1"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert "not restarting it" in result.stdout


def test_solr_is_started_supervised_and_exits_when_out_of_memory(stack, monkeypatch):
    spawned = {}
    monkeypatch.setattr(stack, "prepare_solr_home", lambda: False)
    monkeypatch.setattr(stack, "running_pid", lambda name: None)
    monkeypatch.setattr(stack, "spawn", lambda name, argv, **kw: spawned.setdefault(name, argv))
    monkeypatch.setattr(stack, "solr_ready", lambda: True)
    monkeypatch.setattr(stack, "solr_port", free_port())
    stack.start_solr()
    argv = spawned["solr-console"]
    assert argv[1:4] == [str(ROOT / "scripts" / "stack.py"), "supervise", "--pidfile"]
    java = argv[argv.index("--") + 1:]
    assert java[0] == "java" and "-XX:+ExitOnOutOfMemoryError" in java


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
