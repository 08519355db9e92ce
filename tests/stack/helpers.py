"""Small helpers for tests that talk to the real services of the stack."""
from __future__ import annotations

import json
import socket
import urllib.parse
import urllib.request
from typing import Any

import ckan.plugins.toolkit as tk


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as resp:
        return json.load(resp)


def solr_core_url() -> str:
    return tk.config["solr_url"].rstrip("/")


def solr_root_url() -> str:
    return solr_core_url().rsplit("/", 1)[0]


def port_of(url: str) -> int:
    parsed = urllib.parse.urlparse(url)
    assert parsed.port, url
    return parsed.port


def non_loopback_addresses() -> list[str]:
    """This machine's IPv4 addresses other than 127.0.0.0/8 (those a remote client would use)."""
    addresses = set()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        # No packet is sent: connect() on UDP only picks the outgoing interface.
        try:
            probe.connect(("192.0.2.1", 9))
            addresses.add(probe.getsockname()[0])
        except OSError:
            pass
    for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
        addresses.add(info[4][0])
    return sorted(a for a in addresses if not a.startswith("127."))


def accepts_connections(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, port)) == 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(ready, timeout: float, what: str) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if ready():
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{what} not ready within {timeout:.0f} s")
