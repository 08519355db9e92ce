"""Reachability of resources, for the metadata-quality score.

An uploaded file is reachable when the file store has it; a linked URL when it answers below 400.
Links are followed only to public addresses: loopback, private, link-local and other reserved
addresses are refused (no requests into the portal's own network), unless the host is allow-listed
in ``ckanext.yantai.linkcheck.allowed_hosts``. Redirects are followed by hand so that each hop is
checked the same way.
"""
from __future__ import annotations

import ipaddress
import os
import socket
import urllib.parse
from typing import Callable, Iterable, NamedTuple

import requests

MAX_REDIRECTS = 3
Resolver = Callable[[str], Iterable[str]]


class Result(NamedTuple):
    ok: bool
    status_code: int | None
    error: str | None


def resolve(host: str) -> list[str]:
    return sorted({info[4][0] for info in socket.getaddrinfo(host, None)})


def public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return ip.is_global and not ip.is_multicast


def _refusal(url: str, allowed_hosts: frozenset[str], resolver: Resolver) -> str | None:
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        return "not an http(s) URL"
    if parsed.hostname in allowed_hosts:
        return None
    try:
        addresses = list(resolver(parsed.hostname))
    except (OSError, UnicodeError):
        return "host not found"
    if not addresses or not all(public_address(a) for a in addresses):
        return "not a public address"
    return None


def check_url(url: str, *, allowed_hosts: frozenset[str] = frozenset(), timeout: float = 10,
              resolver: Resolver = resolve, session: requests.Session | None = None) -> Result:
    http = session or requests.Session()
    for _ in range(MAX_REDIRECTS + 1):
        refusal = _refusal(url, allowed_hosts, resolver)
        if refusal:
            return Result(False, None, refusal)
        try:
            resp = http.head(url, timeout=(min(timeout, 5), timeout), allow_redirects=False)
            if resp.status_code in (403, 405, 501):  # servers that refuse HEAD
                resp = http.get(url, timeout=(min(timeout, 5), timeout), allow_redirects=False,
                                stream=True)
                resp.close()
        except requests.RequestException as exc:
            return Result(False, None, type(exc).__name__)
        if resp.is_redirect and resp.headers.get("location"):
            url = urllib.parse.urljoin(url, resp.headers["location"])
            continue
        return Result(resp.status_code < 400, resp.status_code,
                      None if resp.status_code < 400 else f"HTTP {resp.status_code}")
    return Result(False, None, "too many redirects")


def check_upload(path: str) -> Result:
    return Result(True, None, None) if os.path.isfile(path) else Result(False, None,
                                                                         "file missing")
