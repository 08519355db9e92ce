"""scripts/stack.py: process bookkeeping that must never touch a process that is not ours."""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.fixture
def stack(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("stack_script", ROOT / "scripts" / "stack.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "stack_script", module)  # dataclasses look it up there
    spec.loader.exec_module(module)
    monkeypatch.setenv("RUN_DIR", str(tmp_path / "run"))
    return module.Stack()


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
